/*
 * The parts of render that go beyond an all-day event: start and end
 * (all-day, timed in a zone, or UTC), templates, categories, status,
 * reminders and feed metadata. render.c calls these at fixed points of the
 * calendar and of each VEVENT.
 */
#ifndef EPCAL_RENDER_EXT_H
#define EPCAL_RENDER_EXT_H

#include "ical_tz.h"
#include "icsout.h"
#include "template.h"

typedef struct epcal__render_ext epcal__render_ext;

/* When an event happens, worked out before any of it is written. */
typedef struct epcal__when {
  bool timed;
  const epcal__zone *zone; /* NULL: UTC (written with Z), also for a start
                              that its zone skips or repeats that day */
  int64_t start_wall;      /* wall-clock start in zone (UTC when no zone) */
  int64_t start_utc;
  int64_t end_utc;
  int64_t end_wall;
  bool end_in_utc; /* DTEND in UTC: no zone, or its wall-clock time repeats */
} epcal__when;

/* Checks and copies what it needs of `opts`. EPCAL_EUSAGE names the
 * invalid option. */
epcal_status epcal__render_ext_new(epcal__render_ext **out,
                                   const epcal_render_options *opts,
                                   epcal_error *err);
void epcal__render_ext_free(epcal__render_ext *x);

/* Calendar properties after the name: description, URL, refresh, colour. */
void epcal__render_ext_header(epcal__render_ext *x, epcal__icsout *o);

/* Works out ep's start and end. EPCAL_EDATA (with ep's file and line) for a
 * timed row without a zone or with an unknown one. */
epcal_status epcal__render_ext_when(epcal__render_ext *x,
                                    const epcal_episode *ep, epcal__when *w,
                                    epcal_error *err);

/* Writes DTSTART and DTEND and records the zone for its VTIMEZONE. Returns
 * false when out of memory. */
bool epcal__render_ext_write_when(epcal__render_ext *x, epcal__icsout *o,
                                  const epcal_episode *ep,
                                  const epcal__when *w);

/* The SUMMARY text for ep (the template's or the default), valid until the
 * next call; NULL when out of memory. */
const char *epcal__render_ext_summary(epcal__render_ext *x,
                                      const epcal_episode *ep);

/* The DESCRIPTION text for ep (the template's, else the column), or NULL. */
const char *epcal__render_ext_description(epcal__render_ext *x,
                                          const epcal_episode *ep);

/* CATEGORIES (the network, then the --category values) and STATUS. */
void epcal__render_ext_categories(epcal__render_ext *x, epcal__icsout *o,
                                  const epcal_episode *ep);

/* One VALARM per reminder, described by the last summary. */
void epcal__render_ext_alarms(epcal__render_ext *x, epcal__icsout *o);

/* The VTIMEZONEs of the zones used. Returns false when out of memory. */
bool epcal__render_ext_zones(epcal__render_ext *x, epcal__icsout *o);

/* Swaps the time zones used so far with *z (split output keeps one set per
 * feed: a feed names only the zones its own events use). */
void epcal__render_ext_swap_zones(epcal__render_ext *x, epcal__zoneset *z);

#endif
