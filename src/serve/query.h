/*
 * Query parameters of feed URLs, Sonarr-style: `past_days`, `future_days`,
 * `premieres_only`, `specials`, `all_day`, `alarm`, and `token`; `shows`
 * (several shows in /calendar.ics); `q` and `page` for the page at "/".
 * Sonarr's own spellings (pastDays, futureDays, premieresOnly, asAllDay) are
 * accepted too, so a subscription moved from Sonarr keeps working.
 *
 * Parsing is strict: an unknown or repeated parameter or a bad value is an
 * error that names the parameter (the server answers 400), because a typo
 * silently ignored would serve the wrong calendar for years.
 */
#ifndef EPCAL_SERVE_QUERY_H
#define EPCAL_SERVE_QUERY_H

#include "buf.h"

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stddef.h>

/* The most days `past_days`/`future_days` accept (a hundred years). */
#define SERVE_MAX_DAYS 36500L
/* The most minutes `alarm` accepts (four weeks). */
#define SERVE_MAX_ALARM 40320L
/* The longest search text `q` the page accepts. */
#define SERVE_MAX_SEARCH 100

typedef struct serve_param {
  const char *key;
  const char *value; /* NULL for "?key" without '=' */
} serve_param;

typedef struct serve_query {
  long past_days;   /* -1: no lower bound */
  long future_days; /* -1: no upper bound */
  bool premieres_only;
  bool specials;      /* default true */
  int all_day;        /* -1 unset, else 0/1 (accepted, see README) */
  long alarm;         /* -1 unset/none, else minutes before (see README) */
  const char *token;  /* borrowed from params; NULL when absent */
  const char *shows;  /* shows=a,b: several shows in one feed; NULL: absent */
  const char *search; /* q=: the page's search; NULL when absent */
  long page;          /* page=N of the page's list; 0 when absent */
} serve_query;

/* Parses `params` into *out. Returns 0, or -1 with a one-line message that
 * names the offending parameter in msg. */
int serve_query_parse(const serve_param *params, size_t n, serve_query *out,
                      char *msg, size_t cap);

/* Adds the date window (relative to `today`) and the premiere and specials
 * filters of `q` to *sel. */
void serve_query_select(const serve_query *q, epcal_date today,
                        epcal_selection *sel);

/* Appends the canonical form of `q`'s filters ("past_days=7&specials=0"),
 * without the token: the same feed always gets the same text. Empty when
 * every parameter has its default. */
int serve_query_format(const serve_query *q, serve_buf *out);

#endif
