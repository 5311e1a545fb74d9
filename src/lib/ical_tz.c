#include "ical_tz.h"

#include "read/date.h"
#include "render/icsout.h"

#include <libical/ical.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* libical's time zones are shared, lazily filled state (the builtin zone
 * list, each zone's table of changes), and the read-ahead thread looks zones
 * up while the renderer converts times: every libical call here holds this
 * lock. */
static pthread_mutex_t ical_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t utc_once = PTHREAD_ONCE_INIT;
static icaltimezone *utc_zone;

static void find_utc(void) { utc_zone = icaltimezone_get_utc_timezone(); }

static icaltimezone *utc_tz(void) {
  pthread_once(&utc_once, find_utc);
  return utc_zone;
}

/* epcal__zone is icaltimezone: the cast keeps libical out of the header. */
static icaltimezone *ical(const epcal__zone *z) {
  return (icaltimezone *)(void *)z;
}

/* Characters of tz database names; anything else (a path, blanks) is
 * refused before libical turns the name into a file name. */
static bool plausible_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64 || name[0] == '/' || strstr(name, "..") != NULL) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
          c == '+')) {
      return false;
    }
  }
  return true;
}

/* Rows usually name a few zones over and over, and libical finds a zone by
 * a linear search of some 600 names: remember the last few answers, per
 * thread. */
#define ZONE_CACHE 8

const epcal__zone *epcal__zone_find(const char *name) {
  static _Thread_local char cached_name[ZONE_CACHE][65];
  static _Thread_local const epcal__zone *cached_zone[ZONE_CACHE];
  static _Thread_local unsigned next;
  for (unsigned i = 0; i < ZONE_CACHE; i++) {
    if (cached_zone[i] != NULL && strcmp(name, cached_name[i]) == 0) {
      return cached_zone[i];
    }
  }
  if (!plausible_name(name)) {
    return NULL;
  }
  pthread_mutex_lock(&ical_lock);
  icaltimezone *z = icaltimezone_get_builtin_timezone(name);
  /* libical answers UTC (no VTIMEZONE) for "UTC" and "GMT"; any other zone
   * without a component cannot be written. */
  if (z != NULL && z != utc_tz() && icaltimezone_get_component(z) == NULL) {
    z = NULL;
  }
  pthread_mutex_unlock(&ical_lock);
  if (z == NULL) {
    return NULL;
  }
  unsigned slot = next++ % ZONE_CACHE;
  strcpy(cached_name[slot], name);
  cached_zone[slot] = (const epcal__zone *)(void *)z;
  return cached_zone[slot];
}

bool epcal__zone_is_utc(const epcal__zone *z) { return ical(z) == utc_tz(); }

const char *epcal__zone_name(const epcal__zone *z) {
  /* The location is the plain IANA name; the TZID carries libical's
   * prefix. */
  pthread_mutex_lock(&ical_lock);
  const char *loc = icaltimezone_get_location(ical(z));
  pthread_mutex_unlock(&ical_lock);
  return loc != NULL ? loc : "UTC";
}

/* The zone's UTC offset (seconds east) at a UTC instant. */
static int offset_at(const epcal__zone *z, int64_t utc) {
  if (epcal__zone_is_utc(z)) {
    return 0;
  }
  int secs;
  epcal_date d = epcal__date_from_days(epcal__time_split(utc, &secs));
  struct icaltimetype tt = icaltime_null_time();
  tt.year = d.year;
  tt.month = d.month;
  tt.day = d.day;
  tt.hour = secs / 3600;
  tt.minute = secs / 60 % 60;
  tt.second = secs % 60;
  tt.zone = utc_tz();
  int dst = 0;
  pthread_mutex_lock(&ical_lock);
  int offset = icaltimezone_get_utc_offset_of_utc_time(ical(z), &tt, &dst);
  pthread_mutex_unlock(&ical_lock);
  return offset;
}

int64_t epcal__zone_to_utc(const epcal__zone *z, int64_t local, bool *once) {
  /* The offsets a day before and after: at most one change lies between
   * them in any real zone. An offset o fits when the instant local - o
   * really has offset o. */
  int before = offset_at(z, local - 86400);
  int after = offset_at(z, local + 86400);
  if (before == after && offset_at(z, local - before) == before) {
    /* No change near this time: the common case, and the fast one. */
    if (once != NULL) {
      *once = true;
    }
    return local - before;
  }
  bool fits_before = offset_at(z, local - before) == before;
  bool fits_after = offset_at(z, local - after) == after;
  if (once != NULL) {
    /* Both fit: repeated by a backward change; neither: in a gap. */
    *once = fits_before != fits_after;
  }
  if (fits_before) {
    return local - before; /* also the first of two occurrences */
  }
  if (fits_after) {
    return local - after;
  }
  return local - before; /* in a gap: the offset before it */
}

int64_t epcal__zone_to_local(const epcal__zone *z, int64_t utc) {
  return utc + offset_at(z, utc);
}

void epcal__zone_span(const epcal__zone *z, int64_t local, int64_t seconds,
                      epcal__span *out) {
  epcal__span s;
  if (z == NULL || epcal__zone_is_utc(z)) {
    s.start_utc = s.start_wall = local;
    s.end_utc = s.end_wall = local + seconds;
    s.start_once = s.end_once = true;
  } else {
    s.start_utc = epcal__zone_to_utc(z, local, &s.start_once);
    s.start_wall = local;
    s.end_utc = s.start_utc + seconds;
    s.end_wall = epcal__zone_to_local(z, s.end_utc);
    epcal__zone_to_utc(z, s.end_wall, &s.end_once);
  }
  *out = s;
}

bool epcal__span_in_years(const epcal__span *s) {
  /* 0001-01-01T00:00:00 and 9999-12-31T23:59:59, in seconds since 1970. */
  const int64_t lo = epcal__date_to_days((epcal_date){1, 1, 1}) * 86400;
  const int64_t hi =
      epcal__date_to_days((epcal_date){9999, 12, 31}) * 86400 + 86399;
  const int64_t t[] = {s->start_utc, s->end_utc, s->start_wall, s->end_wall};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    if (t[i] < lo || t[i] > hi) {
      return false;
    }
  }
  return true;
}

struct epcal__zone_use {
  const epcal__zone *zone;
  int64_t from;
  int64_t to;
};

bool epcal__zoneset_add(epcal__zoneset *s, const epcal__zone *z, int64_t from,
                        int64_t to) {
  if (epcal__zone_is_utc(z)) {
    return true;
  }
  for (size_t i = 0; i < s->n; i++) {
    struct epcal__zone_use *u = &s->use[i];
    if (u->zone == z) {
      u->from = from < u->from ? from : u->from;
      u->to = to > u->to ? to : u->to;
      return true;
    }
  }
  if (s->n == s->cap) {
    size_t cap = s->cap == 0 ? 4 : s->cap * 2;
    struct epcal__zone_use *p = realloc(s->use, cap * sizeof *p);
    if (p == NULL) {
      return false;
    }
    s->use = p;
    s->cap = cap;
  }
  s->use[s->n++] = (struct epcal__zone_use){z, from, to};
  return true;
}

/* Midnight UTC of January 1 of `year` plus `days`, as a libical UTC time. */
static struct icaltimetype year_start(int year, int days) {
  epcal_date d = {year, 1, 1};
  d = epcal__date_from_days(epcal__date_to_days(d) + days);
  struct icaltimetype tt = icaltime_null_time();
  tt.year = d.year;
  tt.month = d.month;
  tt.day = d.day;
  tt.zone = utc_tz();
  return tt;
}

static int year_of(int64_t utc) {
  int secs;
  return epcal__date_from_days(epcal__time_split(utc, &secs)).year;
}

/* Writes libical's serialisation line by line: continuation lines (a
 * leading blank) are joined first, then icsout folds again. */
static void write_unfolded(epcal__icsout *o, const char *text) {
  bool open = false;
  const char *p = text;
  while (*p != '\0') {
    const char *nl = strchr(p, '\n');
    size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
    size_t m = n;
    if (m > 0 && p[m - 1] == '\r') {
      m--;
    }
    if (p[0] == ' ' || p[0] == '\t') {
      if (m > 1) {
        epcal__icsout_raw(o, p + 1, m - 1);
      }
    } else if (m > 0) {
      if (open) {
        epcal__icsout_end(o);
      }
      o->col = 0;
      epcal__icsout_raw(o, p, m);
      open = true;
    }
    p += nl != NULL ? n + 1 : n;
  }
  if (open) {
    epcal__icsout_end(o);
  }
}

/* One zone's VTIMEZONE, truncated to the years used, as libical writes it
 * (caller frees), or NULL. */
static char *vtimezone_text(const struct epcal__zone_use *u) {
  const char *name = epcal__zone_name(u->zone);
  /* Whole years, with a day to spare on each side so that every zone's
   * local midnight of January 1 (up to 14 hours from UTC) is covered. */
  int first = year_of(u->from);
  int last = year_of(u->to);
  /* Nothing cut past 2037, where the zone's last rules run on for ever
   * anyway: libical's truncation far in the future loses them, and from
   * about the year 4000 leaves an observance dated 00000000. */
  if (first > 2037) {
    first = 2037;
  }
  struct icaltimetype from = year_start(first, first > 1 ? -1 : 0);
  struct icaltimetype to =
      last < 2037 ? year_start(last + 1, 1) : icaltime_null_time();
  char *text = NULL;
  pthread_mutex_lock(&ical_lock);
  icalcomponent *vtz =
      icalcomponent_new_clone(icaltimezone_get_component(ical(u->zone)));
  if (vtz != NULL) {
    icalproperty *tzid =
        icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
    if (tzid != NULL) {
      icalproperty_set_tzid(tzid, name);
    }
    icaltimezone_truncate_vtimezone(vtz, from, to, 0);
    /* Truncation adds TZUNTIL (RFC 7808), which RFC 5545 parsers do not
     * know; the observances themselves say enough. */
    icalproperty *until =
        icalcomponent_get_first_property(vtz, ICAL_TZUNTIL_PROPERTY);
    if (until != NULL) {
      icalcomponent_remove_property(vtz, until);
      icalproperty_free(until);
    }
    text = icalcomponent_as_ical_string_r(vtz);
    icalcomponent_free(vtz);
  }
  pthread_mutex_unlock(&ical_lock);
  return text;
}

bool epcal__zoneset_write(const epcal__zoneset *s, epcal__icsout *o) {
  for (size_t i = 0; i < s->n; i++) {
    char *text = vtimezone_text(&s->use[i]);
    if (text == NULL) {
      return false;
    }
    write_unfolded(o, text);
    free(text);
  }
  return true;
}

void epcal__zoneset_free(epcal__zoneset *s) {
  free(s->use);
  s->use = NULL;
  s->n = s->cap = 0;
}
