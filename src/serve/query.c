#include "query.h"

#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum param_id {
  P_PAST,
  P_FUTURE,
  P_PREMIERES,
  P_SPECIALS,
  P_ALL_DAY,
  P_ALARM,
  P_TOKEN,
  P_SHOWS,
  P_SEARCH,
  P_PAGE,
  P_COUNT
};

static const struct {
  const char *name;
  const char *alias; /* Sonarr's spelling, or NULL */
} names[P_COUNT] = {
    [P_PAST] = {"past_days", "pastDays"},
    [P_FUTURE] = {"future_days", "futureDays"},
    [P_PREMIERES] = {"premieres_only", "premieresOnly"},
    [P_SPECIALS] = {"specials", NULL},
    [P_ALL_DAY] = {"all_day", "asAllDay"},
    [P_ALARM] = {"alarm", NULL},
    [P_TOKEN] = {"token", NULL},
    [P_SHOWS] = {"shows", NULL},
    [P_SEARCH] = {"q", NULL},
    [P_PAGE] = {"page", NULL},
};

/* A parameter name or value quoted in a message: printable ASCII only and
 * short, since it goes back to whoever sent it and into logs. */
static void quote(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (; *s != '\0' && n + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    out[n++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    if (n >= 40) {
      out[n++] = '.';
      out[n++] = '.';
      out[n++] = '.';
      break;
    }
  }
  out[n] = '\0';
}

static int parse_bool(const char *v, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  if (v == NULL || *v == '\0') {
    *out = true; /* "?premieres_only" reads as switched on */
    return 0;
  }
  for (size_t i = 0; i < 4; i++) {
    if (strcmp(v, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcmp(v, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -1;
}

/* A whole number 0..max, digits only (no sign, no spaces, no "1e3"). */
static int parse_count(const char *v, long max, long *out) {
  if (v == NULL || *v == '\0' || strlen(v) > 9) {
    return -1;
  }
  for (const char *p = v; *p != '\0'; p++) {
    if (!isdigit((unsigned char)*p)) {
      return -1;
    }
  }
  long n = strtol(v, NULL, 10);
  if (n > max) {
    return -1;
  }
  *out = n;
  return 0;
}

int serve_query_parse(const serve_param *params, size_t n, serve_query *out,
                      char *msg, size_t cap) {
  serve_query q = {-1, -1, false, true, -1, -1, NULL, NULL, NULL, 0};
  bool seen[P_COUNT] = {false};
  for (size_t i = 0; i < n; i++) {
    const char *key = params[i].key;
    const char *v = params[i].value;
    int id = -1;
    for (int k = 0; k < P_COUNT && id < 0; k++) {
      if (strcmp(key, names[k].name) == 0 ||
          (names[k].alias != NULL && strcmp(key, names[k].alias) == 0)) {
        id = k;
      }
    }
    char qk[64], qv[64];
    quote(key, qk, sizeof qk);
    quote(v != NULL ? v : "", qv, sizeof qv);
    if (id < 0) {
      snprintf(msg, cap,
               "unknown parameter '%s' (known: past_days, future_days, "
               "premieres_only, specials, all_day, alarm, shows, token; "
               "on the page: q, page)",
               qk);
      return -1;
    }
    if (seen[id]) {
      snprintf(msg, cap, "parameter '%s' given more than once", qk);
      return -1;
    }
    seen[id] = true;
    bool flag = false;
    int rc = 0;
    switch (id) {
    case P_PAST:
      rc = parse_count(v, SERVE_MAX_DAYS, &q.past_days);
      break;
    case P_FUTURE:
      rc = parse_count(v, SERVE_MAX_DAYS, &q.future_days);
      break;
    case P_PREMIERES:
      rc = parse_bool(v, &q.premieres_only);
      break;
    case P_SPECIALS:
      rc = parse_bool(v, &q.specials);
      break;
    case P_ALL_DAY:
      rc = parse_bool(v, &flag);
      q.all_day = flag;
      break;
    case P_ALARM:
      if (v != NULL && (strcmp(v, "none") == 0 || strcmp(v, "off") == 0)) {
        q.alarm = -1;
      } else {
        rc = parse_count(v, SERVE_MAX_ALARM, &q.alarm);
      }
      break;
    case P_TOKEN:
      q.token = v != NULL ? v : "";
      break;
    case P_SHOWS:
      q.shows = v != NULL ? v : "";
      break;
    case P_SEARCH:
      q.search = v != NULL ? v : "";
      if (strlen(q.search) > SERVE_MAX_SEARCH) {
        snprintf(msg, cap, "search text longer than %d bytes",
                 SERVE_MAX_SEARCH);
        return -1;
      }
      break;
    case P_PAGE:
      rc = parse_count(v, 1000000, &q.page);
      if (rc == 0 && q.page == 0) {
        rc = -1;
      }
      if (rc != 0) {
        snprintf(msg, cap, "invalid page \"%s\": expected 1 or more", qv);
        return -1;
      }
      break;
    }
    if (rc != 0 && (id == P_PAST || id == P_FUTURE)) {
      snprintf(msg, cap,
               "invalid %s \"%s\": expected a whole number of days, 0 to %ld",
               names[id].name, qv, SERVE_MAX_DAYS);
      return -1;
    }
    if (rc != 0 && id == P_ALARM) {
      snprintf(msg, cap,
               "invalid alarm \"%s\": expected minutes before the event, 0 "
               "to %ld, or none",
               qv, SERVE_MAX_ALARM);
      return -1;
    }
    if (rc != 0) {
      snprintf(msg, cap, "invalid %s \"%s\": expected true or false",
               names[id].name, qv);
      return -1;
    }
  }
  *out = q;
  return 0;
}

void serve_query_select(const serve_query *q, epcal_date today,
                        epcal_selection *sel) {
  int64_t day = epcal_date_to_days(today);
  if (q->past_days >= 0) {
    sel->has_from = true;
    sel->from = epcal_date_from_days(day - q->past_days);
  }
  if (q->future_days >= 0) {
    sel->has_to = true;
    sel->to = epcal_date_from_days(day + q->future_days);
  }
  sel->premieres_only = q->premieres_only;
  sel->no_specials = !q->specials;
}

static int add(serve_buf *out, bool *first, const char *fmt, long v) {
  if (!*first && serve_buf_puts(out, "&") != 0) {
    return -1;
  }
  *first = false;
  return serve_buf_printf(out, fmt, v);
}

int serve_query_format(const serve_query *q, serve_buf *out) {
  bool first = true;
  int rc = 0;
  if (q->past_days >= 0) {
    rc |= add(out, &first, "past_days=%ld", q->past_days);
  }
  if (q->future_days >= 0) {
    rc |= add(out, &first, "future_days=%ld", q->future_days);
  }
  if (q->premieres_only) {
    rc |= add(out, &first, "premieres_only=%ld", 1);
  }
  if (!q->specials) {
    rc |= add(out, &first, "specials=%ld", 0);
  }
  if (q->all_day >= 0) {
    rc |= add(out, &first, "all_day=%ld", (long)q->all_day);
  }
  if (q->alarm >= 0) {
    rc |= add(out, &first, "alarm=%ld", q->alarm);
  }
  return rc != 0 ? -1 : 0;
}
