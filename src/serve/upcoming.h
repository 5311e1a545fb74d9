/* The next episodes to air, for the HTML page. */
#ifndef EPCAL_SERVE_UPCOMING_H
#define EPCAL_SERVE_UPCOMING_H

#include "source.h"

#include "epcal/epcal.h"

#include <stddef.h>

typedef struct serve_upcoming_item {
  char *show;  /* owned */
  char *title; /* owned; NULL when the episode has none */
  long season, number;
  epcal_date date;
} serve_upcoming_item;

typedef struct serve_upcoming {
  serve_upcoming_item *items; /* by date, then input order */
  size_t n;
  /* What the list was made for, so it is remade only when these change. */
  unsigned long generation;
  epcal_date today;
} serve_upcoming;

/* Fills *out with at most `max` scheduled episodes of `src` dated `today`
 * or later, the soonest first, in memory that does not grow with the data.
 * Frees what *out held before. Returns 0, or -1 when out of memory (*out is
 * then empty). */
int serve_upcoming_collect(const serve_data *src, epcal_date today,
                           size_t max, serve_upcoming *out);

void serve_upcoming_free(serve_upcoming *u);

#endif
