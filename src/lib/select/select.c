/* select: pure predicates over episodes. No I/O. */
#include "read/date.h"
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool epcal_selection_matches(const epcal_selection *sel,
                             const epcal_episode *ep) {
  if (!ep->scheduled) {
    return false;
  }
  if (sel == NULL) {
    return true;
  }
  if (sel->no_specials && ep->season == 0) {
    return false;
  }
  if (sel->premieres_only && ep->number != 1) {
    return false;
  }
  if (sel->has_from && epcal__date_cmp(ep->date, sel->from) < 0) {
    return false;
  }
  if (sel->has_to && epcal__date_cmp(ep->date, sel->to) > 0) {
    return false;
  }
  if (sel->n_shows > 0) {
    bool found = false;
    for (size_t i = 0; i < sel->n_shows && !found; i++) {
      found = strcasecmp(sel->shows[i], ep->show) == 0;
    }
    if (!found) {
      return false;
    }
  }
  if (sel->n_seasons > 0) {
    bool found = false;
    for (size_t i = 0; i < sel->n_seasons && !found; i++) {
      found = ep->season >= sel->seasons[i].first &&
              ep->season <= sel->seasons[i].last;
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

/* Reads a non-negative decimal number; returns the end, or NULL. */
static const char *read_season(const char *s, long *out) {
  if (!isdigit((unsigned char)*s)) {
    return NULL;
  }
  errno = 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (errno != 0 || v > 999999) {
    return NULL;
  }
  *out = v;
  return end;
}

epcal_status epcal_season_range_parse(const char *text,
                                      epcal_season_range *out,
                                      epcal_error *err) {
  epcal_season_range r;
  const char *p = read_season(text, &r.first);
  if (p != NULL && *p == '\0') {
    r.last = r.first;
  } else if (p != NULL && *p == '-' && (p = read_season(p + 1, &r.last)) &&
             *p == '\0' && r.last >= r.first) {
    /* a range */
  } else {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "invalid season \"%s\" (expected N or N-M, N <= M)",
                       text);
  }
  *out = r;
  return EPCAL_OK;
}
