/*
 * check: TZID -> zone, through the feed's VTIMEZONEs, then the system's
 * zoneinfo. See check_zones.h.
 */
#include "check_zones.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool starts_with_ci(const char *text, size_t len, const char *word) {
  size_t n = strlen(word);
  return len >= n && strncasecmp(text, word, n) == 0;
}

static bool vtz_append(epcal__zones *z, const char *text, size_t len) {
  if (z->vtz_overflow || z->vtz_len + len + 3 > EPCAL__VTIMEZONE_CAP) {
    z->vtz_overflow = true;
    return true;
  }
  if (z->vtz_cap - z->vtz_len < len + 3) {
    size_t cap = (z->vtz_len + len + 3) * 2;
    char *p = realloc(z->vtz, cap);
    if (p == NULL) {
      return false;
    }
    z->vtz = p;
    z->vtz_cap = cap;
  }
  memcpy(z->vtz + z->vtz_len, text, len);
  memcpy(z->vtz + z->vtz_len + len, "\r\n", 3);
  z->vtz_len += len + 2;
  return true;
}

static bool find_feed(const epcal__zones *z, const char *tzid, size_t *at) {
  for (size_t i = 0; i < z->n_feed; i++) {
    if (strcmp(z->feed[i].tzid, tzid) == 0) {
      *at = i;
      return true;
    }
  }
  return false;
}

bool epcal__zones_in_feed(const epcal__zones *z, const char *tzid) {
  size_t at;
  return find_feed(z, tzid, &at);
}

/* Real zones change yearly. libical expands a VTIMEZONE's rules up to
 * the year of the time it converts, so a rule that repeats every minute
 * would keep it busy for hours: such a zone is not used. */
static bool yearly_rules_only(icalcomponent *vtz) {
  for (icalcomponent *k =
           icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
       k != NULL;
       k = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
    for (icalproperty *p =
             icalcomponent_get_first_property(k, ICAL_RRULE_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property(k, ICAL_RRULE_PROPERTY)) {
      struct icalrecurrencetype r = icalproperty_get_rrule(p);
      if (r.freq != ICAL_YEARLY_RECURRENCE || r.interval < 1) {
        return false;
      }
    }
  }
  return true;
}

/* Parses the collected VTIMEZONE with libical and keeps the zone. A
 * VTIMEZONE libical cannot make a zone of is left out: its lines have been
 * judged on their own, and its TZID resolves as if it were absent. */
static bool vtz_finish(epcal__zones *z) {
  if (z->vtz_overflow || z->vtz_len == 0 || z->n_feed >= EPCAL__ZONES_MAX) {
    return true;
  }
  icalcomponent *comp = icalparser_parse_string(z->vtz);
  if (comp == NULL) {
    return true;
  }
  if (icalcomponent_isa(comp) != ICAL_VTIMEZONE_COMPONENT) {
    icalcomponent_free(comp);
    return true;
  }
  icalproperty *p = icalcomponent_get_first_property(comp, ICAL_TZID_PROPERTY);
  const char *tzid = p != NULL ? icalproperty_get_tzid(p) : NULL;
  size_t at;
  if (tzid == NULL || find_feed(z, tzid, &at)) {
    icalcomponent_free(comp);
    return true;
  }
  char *name = strdup(tzid);
  epcal__feed_zone *grown = realloc(z->feed, (z->n_feed + 1) * sizeof *z->feed);
  icaltimezone *zone = icaltimezone_new();
  if (name == NULL || grown == NULL || zone == NULL) {
    free(name);
    if (grown != NULL) {
      z->feed = grown;
    }
    if (zone != NULL) {
      icaltimezone_free(zone, 1);
    }
    icalcomponent_free(comp);
    return false;
  }
  z->feed = grown;
  if (!yearly_rules_only(comp) || !icaltimezone_set_component(zone, comp)) {
    /* Defined, but not usable: its TZID is not reported as missing, and
     * times in it are not compared. */
    icalcomponent_free(comp);
    icaltimezone_free(zone, 1);
    zone = NULL;
  }
  z->feed[z->n_feed++] = (epcal__feed_zone){name, zone};
  return true;
}

bool epcal__zones_collect(epcal__zones *z, const char *text, size_t len) {
  bool begin = starts_with_ci(text, len, "BEGIN:");
  bool end = starts_with_ci(text, len, "END:");
  if (z->vtz_depth == 0) {
    if (!begin || len != 15 || strncasecmp(text + 6, "VTIMEZONE", 9) != 0) {
      return true;
    }
    z->vtz_len = 0;
    z->vtz_overflow = false;
  }
  if (!vtz_append(z, text, len)) {
    return false;
  }
  if (begin) {
    z->vtz_depth++;
  } else if (end && --z->vtz_depth == 0) {
    return vtz_finish(z);
  }
  return true;
}

icaltimezone *epcal__zones_find(epcal__zones *z, const char *tzid) {
  size_t at;
  if (find_feed(z, tzid, &at)) {
    return z->feed[at].zone;
  }
  /* libical searches its table of zones name by name: a TZID used before
   * keeps what that search found. */
  if (z->last_use < z->n_uses && z->uses[z->last_use].looked_up &&
      strcmp(z->uses[z->last_use].tzid, tzid) == 0) {
    return z->uses[z->last_use].system;
  }
  return icaltimezone_get_builtin_timezone(tzid);
}

icaltimezone *epcal__zones_use(epcal__zones *z, const char *tzid,
                               unsigned long line, bool *in_feed, bool *nomem) {
  epcal__tzid_use *u = NULL;
  if (z->last_use < z->n_uses && strcmp(z->uses[z->last_use].tzid, tzid) == 0) {
    u = &z->uses[z->last_use];
  }
  for (size_t i = 0; u == NULL && i < z->n_uses; i++) {
    if (strcmp(z->uses[i].tzid, tzid) == 0) {
      u = &z->uses[i];
      z->last_use = i;
    }
  }
  if (u == NULL && z->n_uses < EPCAL__ZONES_MAX) {
    char *name = strdup(tzid);
    epcal__tzid_use *grown =
        name == NULL ? NULL
                     : realloc(z->uses, (z->n_uses + 1) * sizeof *z->uses);
    if (grown == NULL) {
      free(name);
      *nomem = true;
      return NULL;
    }
    z->uses = grown;
    z->last_use = z->n_uses;
    u = &z->uses[z->n_uses++];
    *u = (epcal__tzid_use){name, line, 0, false, NULL};
  }
  size_t at;
  bool feed = find_feed(z, tzid, &at);
  if (in_feed != NULL) {
    *in_feed = feed;
  }
  if (u != NULL) {
    u->uses++;
  }
  if (feed) {
    return z->feed[at].zone;
  }
  if (u == NULL) {
    return icaltimezone_get_builtin_timezone(tzid);
  }
  if (!u->looked_up) {
    u->system = icaltimezone_get_builtin_timezone(tzid);
    u->looked_up = true;
  }
  return u->system;
}

void epcal__zones_free(epcal__zones *z) {
  for (size_t i = 0; i < z->n_feed; i++) {
    free(z->feed[i].tzid);
    if (z->feed[i].zone != NULL) {
      icaltimezone_free(z->feed[i].zone, 1);
    }
  }
  free(z->feed);
  for (size_t i = 0; i < z->n_uses; i++) {
    free(z->uses[i].tzid);
  }
  free(z->uses);
  free(z->vtz);
  memset(z, 0, sizeof *z);
}

/* The UTC offset in effect at instant `utc` in z. */
static int64_t offset_at(icaltimezone *z, int64_t utc) {
  struct icaltimetype u = icaltime_from_timet_with_zone(
      (time_t)utc, 0, icaltimezone_get_utc_timezone());
  return icaltimezone_get_utc_offset_of_utc_time(z, &u, NULL);
}

int64_t epcal__zones_to_utc(icaltimezone *z, struct icaltimetype t) {
  /* Wall-clock fields read as if UTC; no zone has two changes within a
   * day and a half of each other, so the offsets either side of one are
   * those in effect 36 hours before and after. */
  struct icaltimetype wall = t;
  wall.zone = icaltimezone_get_utc_timezone();
  int64_t local = (int64_t)icaltime_as_timet(wall);
  int64_t before = offset_at(z, local - 36 * 3600);
  int64_t after = offset_at(z, local + 36 * 3600);
  int64_t u1 = local - before, u2 = local - after;
  bool ok1 = offset_at(z, u1) == before, ok2 = offset_at(z, u2) == after;
  if (ok1 && ok2) {
    return u1 < u2 ? u1 : u2; /* repeated: the first occurrence */
  }
  if (ok2) {
    return u2;
  }
  return u1; /* valid, or skipped: the offset before the gap */
}
