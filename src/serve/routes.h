/*
 * URL paths to feeds:
 *
 *   /                       the HTML page
 *   /calendar.ics           every episode
 *   /SHOW-SLUG.ics          one show
 *   /SHOW-SLUG/season-N.ics one season (N may be zero-padded, as in the
 *                           static layout: season-02.ics)
 *
 * Anything else, and a show or season the data does not have, is no route.
 */
#ifndef EPCAL_SERVE_ROUTES_H
#define EPCAL_SERVE_ROUTES_H

#include "buf.h"
#include "catalog.h"

#include "epcal/epcal.h"

typedef enum serve_route_kind {
  SERVE_ROUTE_NONE,
  SERVE_ROUTE_INDEX,
  SERVE_ROUTE_ALL,
  SERVE_ROUTE_SHOW,
  SERVE_ROUTE_SEASON,
} serve_route_kind;

typedef struct serve_route {
  serve_route_kind kind;
  const serve_show *show; /* SHOW, SEASON: borrowed from the catalog */
  long season;            /* SEASON */
  /* Storage for the selection serve_route_select() fills. */
  const char *show_names[1];
  epcal_season_range range;
} serve_route;

/* Matches `path` (already percent-decoded) against the catalog. The route
 * borrows from `cat`, which must outlive it. */
serve_route serve_route_match(const char *path, const serve_catalog *cat);

/* Restricts *sel to the route's show and season. `r` must outlive *sel. */
void serve_route_select(serve_route *r, epcal_selection *sel);

/* Appends the route's canonical path ("/slug/season-2.ics"): the same feed
 * always gets the same text, for cache keys and links. */
int serve_route_path(const serve_route *r, serve_buf *out);

/* Appends the file name for Content-Disposition ("slug-season-2.ics"). */
int serve_route_filename(const serve_route *r, serve_buf *out);

/* Appends the calendar's name: `all_name` for everything, else the show's
 * name, and ", Season N" (or ", Specials") for a season. */
int serve_route_calendar_name(const serve_route *r, const char *all_name,
                              serve_buf *out);

#endif
