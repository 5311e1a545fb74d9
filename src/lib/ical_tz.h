/*
 * Time zones, from libical's builtin zones (the system's zoneinfo): lookup
 * by IANA name, wall-clock <-> UTC conversion with RFC 5545's rules for
 * skipped and repeated local times, and the VTIMEZONE components a feed
 * needs. The only module that includes <libical/ical.h> for zones; its
 * interface uses plain C types.
 */
#ifndef EPCAL_ICAL_TZ_H
#define EPCAL_ICAL_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The renderer's content-line writer (render/icsout.h), only pointed to
 * here: the read stage looks zones up without seeing the render stage. */
struct epcal__icsout;

/* A zone: borrowed from libical's table, valid for the process's life. */
typedef struct epcal__zone epcal__zone;

/*
 * Finds the zone with the IANA name `name` ("America/New_York"), or NULL
 * when there is none. Names are case-sensitive, as in the tz database.
 * "UTC" and "GMT" give the UTC zone. Safe to call from several threads.
 */
const epcal__zone *epcal__zone_find(const char *name);

/* True for the UTC zone: its times are written with Z, no VTIMEZONE. */
bool epcal__zone_is_utc(const epcal__zone *z);

/* The zone's name as it is written in TZID (the plain IANA name). */
const char *epcal__zone_name(const epcal__zone *z);

/*
 * Converts a wall-clock time in z (seconds since 1970-01-01T00:00 as if it
 * were UTC) to UTC. RFC 5545 3.3.5: a time skipped by a forward change is
 * read with the offset before the gap; a repeated time is the first
 * occurrence. *once (optional) is set to whether the wall-clock time occurs
 * exactly once that day: clients disagree on the other two cases, so such a
 * time is written in UTC.
 */
int64_t epcal__zone_to_utc(const epcal__zone *z, int64_t local, bool *once);

/* Converts UTC (seconds since the epoch) to wall-clock time in z. */
int64_t epcal__zone_to_local(const epcal__zone *z, int64_t utc);

/*
 * When a timed event happens: it starts at wall-clock time `local` in z
 * (NULL: UTC) and lasts `seconds`. Each end is known as a UTC instant and
 * as the wall-clock time in z, and whether that wall-clock time occurs
 * exactly once that day (always true in UTC).
 */
typedef struct epcal__span {
  int64_t start_utc;
  int64_t end_utc;
  int64_t start_wall;
  int64_t end_wall;
  bool start_once;
  bool end_once;
} epcal__span;

void epcal__zone_span(const epcal__zone *z, int64_t local, int64_t seconds,
                      epcal__span *out);

/*
 * True when every time of the span, wall-clock and UTC, lies in the years
 * 0001 to 9999: an iCalendar DATE-TIME has four digits of year, and clients
 * convert to UTC.
 */
bool epcal__span_in_years(const epcal__span *s);

/* The zones a feed uses, each with the span of wall-clock times it covers
 * (seconds since 1970-01-01T00:00 as if UTC). */
typedef struct epcal__zoneset {
  struct epcal__zone_use *use;
  size_t n;
  size_t cap;
} epcal__zoneset;

/* Records that z is used from `from` to `to` (wall-clock seconds). Returns
 * false when out of memory. UTC needs no VTIMEZONE and is not recorded. */
bool epcal__zoneset_add(epcal__zoneset *s, const epcal__zone *z, int64_t from,
                        int64_t to);

/*
 * Writes one VTIMEZONE per recorded zone, in the order of first use, with
 * TZID set to the plain IANA name and truncated to the whole years its
 * events cover. libical builds each; its serialisation is unfolded and
 * folded again through `o` (libical 3.0's folding can corrupt CRLF).
 * Returns false when out of memory.
 */
bool epcal__zoneset_write(const epcal__zoneset *s, struct epcal__icsout *o);

void epcal__zoneset_free(epcal__zoneset *s);

#endif
