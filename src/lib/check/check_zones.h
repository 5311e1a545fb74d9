/*
 * check: the time zones a feed's TZIDs name. A TZID resolves through the
 * feed's own VTIMEZONEs first (RFC 5545 3.2.19: every TZID needs one), then
 * through the system's zoneinfo (libical's builtin zones), so that DTSTART
 * and DTEND are compared as instants. Every TZID used is remembered once
 * (where it was first used, how often), so that the TZIDs without a
 * VTIMEZONE, or known nowhere, are each reported once at the end.
 */
#ifndef EPCAL_CHECK_ZONES_H
#define EPCAL_CHECK_ZONES_H

#include <libical/ical.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most VTIMEZONEs, and distinct TZIDs, kept: more is not a feed anyone
 * wrote on purpose, and memory stays bounded. */
#define EPCAL__ZONES_MAX 1024
/* The longest VTIMEZONE kept (unfolded text). */
#define EPCAL__VTIMEZONE_CAP ((size_t)1 << 20)

typedef struct epcal__tzid_use {
  char *tzid; /* owned */
  unsigned long first_line;
  unsigned long uses;
  bool looked_up;       /* `system` is known */
  icaltimezone *system; /* borrowed from libical, or NULL */
} epcal__tzid_use;

typedef struct epcal__feed_zone {
  char *tzid;         /* owned */
  icaltimezone *zone; /* owned; NULL when libical could not use it */
} epcal__feed_zone;

typedef struct epcal__zones {
  epcal__feed_zone *feed;
  size_t n_feed;
  epcal__tzid_use *uses;
  size_t n_uses;
  size_t last_use; /* the entry found last: TZIDs come in runs */
  /* The VTIMEZONE being collected: its content lines, CRLF after each. */
  char *vtz;
  size_t vtz_len;
  size_t vtz_cap;
  unsigned vtz_depth; /* 0: not in a VTIMEZONE */
  bool vtz_overflow;
} epcal__zones;

/* Looks at one content line: collects the lines of a VTIMEZONE and, at its
 * END, adds the zone it defines (the first VTIMEZONE of a TZID wins).
 * Returns false only when out of memory. */
bool epcal__zones_collect(epcal__zones *z, const char *text, size_t len);

/*
 * Records a use of `tzid` on `line` and returns the zone it names: the
 * feed's VTIMEZONE when one was collected, else the system's zone, else
 * NULL. *in_feed (optional) tells which. Returns NULL too when out of
 * memory (then *nomem is set).
 */
icaltimezone *epcal__zones_use(epcal__zones *z, const char *tzid,
                               unsigned long line, bool *in_feed, bool *nomem);

/* The zone `tzid` names now (feed, then system), without recording a use. */
icaltimezone *epcal__zones_find(epcal__zones *z, const char *tzid);

/* True when the feed defines `tzid` in a VTIMEZONE. */
bool epcal__zones_in_feed(const epcal__zones *z, const char *tzid);

/*
 * The instant (seconds since the epoch) of wall-clock time t in zone z,
 * by RFC 5545 3.3.5: a time repeated by a backward change is its first
 * occurrence, a time skipped by a forward change is read with the offset
 * before the gap. (libical's own conversion picks the second occurrence.)
 */
int64_t epcal__zones_to_utc(icaltimezone *z, struct icaltimetype t);

void epcal__zones_free(epcal__zones *z);

#endif
