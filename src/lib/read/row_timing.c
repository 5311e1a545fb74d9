/* The optional columns of a timed release: air_time, timezone, runtime,
 * and status. */
#include "row.h"

#include "date.h"
#include "ical_tz.h"
#include "place.h"
#include "timeparse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Runtime in minutes: 1..100000, digits with an optional "min" or "m". */
static bool parse_runtime(const char *s, long *out) {
  long v = 0;
  int digits = 0;
  while (isdigit((unsigned char)*s)) {
    if (++digits > 6) {
      return false;
    }
    v = v * 10 + (*s++ - '0');
  }
  while (*s == ' ') {
    s++;
  }
  if (*s != '\0' && strcasecmp(s, "min") != 0 && strcasecmp(s, "m") != 0 &&
      strcasecmp(s, "minutes") != 0) {
    return false;
  }
  if (digits == 0 || v < 1 || v > 100000) {
    return false;
  }
  *out = v;
  return true;
}

static const struct {
  const char *name;
  epcal_event_status status;
} statuses[] = {
    {"confirmed", EPCAL_EVENT_STATUS_CONFIRMED},
    {"tentative", EPCAL_EVENT_STATUS_TENTATIVE},
    {"cancelled", EPCAL_EVENT_STATUS_CANCELLED},
    {"canceled", EPCAL_EVENT_STATUS_CANCELLED},
};

/* Whether the timed event of `e` stays inside the years 0001..9999, as the
 * renderer will place it. Only days near either end need the zone. */
static bool event_in_years(const epcal__event_rules *rules,
                           const epcal_episode *e) {
  int64_t day = epcal__date_to_days(e->date);
  /* A runtime is at most 100000 minutes (70 days), an offset under a day. */
  if (day > epcal__date_to_days((epcal_date){1, 1, 2}) &&
      day < epcal__date_to_days((epcal_date){9999, 10, 1})) {
    return true;
  }
  const epcal__zone *z = NULL;
  if (!e->utc) {
    z = e->timezone != NULL ? epcal__zone_find(e->timezone) : rules->zone;
    if (z == NULL) {
      return true; /* the renderer refuses a time without a zone */
    }
  }
  long runtime = e->runtime > 0 ? e->runtime : rules->runtime;
  epcal__span span;
  epcal__zone_span(z, day * 86400 + e->time, (int64_t)runtime * 60, &span);
  return epcal__span_in_years(&span);
}

epcal_status epcal__row_timing(const epcal__place *place,
                               const epcal__header *h, char *const *cell,
                               const epcal__event_rules *rules,
                               epcal_episode *e, epcal_error *err) {
  const char *t = cell[EPCAL__F_AIR_TIME];
  if (t != NULL) {
    switch (epcal__time_parse(t, &e->time, &e->utc)) {
    case EPCAL__TIME_OK:
      e->timed = true;
      break;
    case EPCAL__TIME_SYNTAX:
      return epcal__place_fail(
          place, err, (size_t)h->col[EPCAL__F_AIR_TIME], 0,
          "air_time \"%s\" is not a 24-hour time like 21:00 or 21:00:30 "
          "(Z at the end for UTC)",
          t);
    case EPCAL__TIME_RANGE:
      return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_AIR_TIME], 0,
                               "air_time \"%s\" is not a time of day", t);
    }
  }
  const char *z = cell[EPCAL__F_TIMEZONE];
  if (z != NULL) {
    if (epcal__zone_find(z) == NULL) {
      return epcal__place_fail(
          place, err, (size_t)h->col[EPCAL__F_TIMEZONE], 0,
          "unknown time zone \"%s\" (use an IANA name such as "
          "America/New_York)",
          z);
    }
    e->timezone = z;
  }
  const char *rt = cell[EPCAL__F_RUNTIME];
  if (rt != NULL && !parse_runtime(rt, &e->runtime)) {
    return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_RUNTIME], 0,
                             "runtime \"%s\" is not a number of minutes "
                             "from 1 to 100000",
                             rt);
  }
  const char *st = cell[EPCAL__F_STATUS];
  if (st != NULL) {
    size_t i = 0;
    size_t n = sizeof statuses / sizeof statuses[0];
    while (i < n && strcasecmp(st, statuses[i].name) != 0) {
      i++;
    }
    if (i == n) {
      return epcal__place_fail(
          place, err, (size_t)h->col[EPCAL__F_STATUS], 0,
          "status \"%s\" is not confirmed, tentative or cancelled", st);
    }
    e->status = statuses[i].status;
  }
  if (rules != NULL && !rules->all_day && e->timed && e->scheduled &&
      !event_in_years(rules, e)) {
    return epcal__place_fail(
        place, err, (size_t)h->col[EPCAL__F_AIR_TIME], 0,
        "the event at %s would reach outside the years 0001 to 9999 (in "
        "its time zone or in UTC)",
        t);
  }
  return EPCAL_OK;
}
