/*
 * The index behind the routes and the HTML page: every show with its slug,
 * its seasons, how many events each has and the dates they span. Built once
 * per (re)load from the episodes; read-only afterwards.
 */
#ifndef EPCAL_SERVE_CATALOG_H
#define EPCAL_SERVE_CATALOG_H

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stddef.h>

/* 40 characters from epcal_slug(), "-" and a collision counter, NUL. */
#define SERVE_SLUG_MAX 56

typedef struct serve_season {
  long number;            /* 0: specials */
  unsigned long events;   /* scheduled episodes */
  unsigned long pending;  /* episodes without a date yet */
  epcal_date first, last; /* valid when events > 0 */
} serve_season;

typedef struct serve_show {
  char *name; /* as first seen in the input */
  char slug[SERVE_SLUG_MAX];
  serve_season *seasons; /* sorted by number */
  size_t n_seasons, cap_seasons;
  unsigned long events;
  epcal_date first, last; /* valid when events > 0 */
} serve_show;

typedef struct serve_catalog serve_catalog;

/* An empty catalog, or NULL when out of memory. */
serve_catalog *serve_catalog_new(void);

/* Counts `ep` (scheduled or not) under its show and season. Shows are told
 * apart as epcal_selection does: by name, ignoring ASCII case. Returns 0, or
 * -1 when out of memory. */
int serve_catalog_add(serve_catalog *c, const epcal_episode *ep);

/* Sorts shows by name and seasons by number and gives every show a unique
 * slug: epcal_slug() of its name, with "-2", "-3"... for later names that
 * would collide (and never "calendar", which /calendar.ics owns). Call once
 * after the last add. Returns 0, or -1 when out of memory. */
int serve_catalog_finish(serve_catalog *c);

size_t serve_catalog_count(const serve_catalog *c);

/* The i-th show in name order. */
const serve_show *serve_catalog_at(const serve_catalog *c, size_t i);

/* The show whose slug is `slug`, or NULL. */
const serve_show *serve_catalog_find(const serve_catalog *c, const char *slug);

/* The season numbered `n` of `show`, or NULL. */
const serve_season *serve_show_season(const serve_show *show, long n);

/* Events in every show. */
unsigned long serve_catalog_events(const serve_catalog *c);

void serve_catalog_free(serve_catalog *c);

#endif
