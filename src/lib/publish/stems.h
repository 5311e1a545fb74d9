/*
 * Path stems of split output. A feed's path is STEM/season-NN.ics (or
 * STEM.ics), and a show's stem is its slug, unless another show has that
 * slug: then the slug and a hash of the name ("Café" and "Cafe!" both slug
 * as "cafe"). Which of two such shows keeps the plain slug must not depend
 * on the order of rows, or a subscriber's URL could turn into another
 * show's calendar from one run to the next: a show keeps the stem the
 * previous run's index.json gave it, and a stem in that index stays its
 * show's. Without an index (the first run), the first show seen keeps the
 * plain slug. Split output interns the previous index's shows, with their
 * stems, before it reads a row: no table of its own.
 */
#ifndef EPCAL_STEMS_H
#define EPCAL_STEMS_H

#include "epcal/epcal.h"

#include <stdbool.h>

/* Room for a stem: slug (40), "-%08x", "-%u", NUL. */
#define EPCAL__STEM_MAX EPCAL_STEM_MAX

/*
 * Calls fn(ctx, show, stem) for every feed the index at `index_path` lists
 * (nothing when it is missing or unreadable; lines that do not parse, and
 * paths epcal does not make, are passed over). Stops early, returning
 * false, when fn does.
 */
bool epcal__stems_each(const char *index_path,
                       bool (*fn)(void *ctx, const char *show,
                                  const char *stem),
                       void *ctx);

/*
 * Calls fn(ctx, show, path) for every feed path the index at `index_path`
 * lists, in "feeds" and in "kept" (show NULL when the line names none);
 * only paths epcal makes (epcal__feed_path_ok()) are passed on. Nothing
 * when the index is missing. Stops early, returning false, when fn does.
 */
bool epcal__index_paths_each(const char *index_path,
                             bool (*fn)(void *ctx, const char *show,
                                        const char *path),
                             void *ctx);

/*
 * Whether `path` has the shape of a feed path split output makes, and no
 * other: "STEM.ics" or "STEM/season-NN.ics" (2 to 6 digits), a stem being
 * a-z, 0-9 and '-'. No "..", no leading '/', no dot file: a path from a
 * file in the published tree is trusted only in this shape.
 */
bool epcal__feed_path_ok(const char *path);

/*
 * Chooses the stem of a show the previous index did not list (or whose
 * stem another show has now) into out: its slug unless taken, else the
 * slug and a hash of the name (and a number, should even that be taken).
 * taken(ctx, stem) tells whether a show has `stem` already, the previous
 * index's shows included.
 */
void epcal__stems_choose(const char *name,
                         bool (*taken)(void *ctx, const char *stem),
                         void *ctx, char out[EPCAL__STEM_MAX]);

#endif
