/*
 * The catalogue: an index of the loaded data, built once per (re)load, so
 * that a feed is rendered from its own rows only.
 *
 * The inputs' bytes are not kept in memory. The loader copies them, as it
 * reads them, into one private snapshot file (unlinked: nobody else can
 * change it, so an input edited in place never reaches a subscriber before
 * it is valid) and tells the catalogue where each dated row lies in it.
 * Per row the catalogue keeps 20 bytes: its place and length in the
 * snapshot (which is at most 4 GiB: the loader caps the inputs at 1 GiB),
 * its date, its place in its season's list and in the date index (a
 * million rows: 20 MB). Per show: its name, stem and seasons; per
 * season: counts, dates and where its rows are listed. A feed reads back
 * (pread) and parses only the rows it shows.
 *
 * Shows are told apart by their exact name, as split output does, and named
 * with split's stems (epcal_stem_choose): a show's path is its slug, or its
 * slug and a hash of its name when another show has that slug; shows that
 * an earlier index lists keep their stems.
 *
 * Built by one thread, then read-only: any number of threads may read it.
 * Reference-counted, so that a response still being sent (or rendered off
 * a lock) keeps the catalogue it reads from, and its snapshot, after a
 * reload replaced it.
 */
#ifndef EPCAL_SERVE_CATALOG_H
#define EPCAL_SERVE_CATALOG_H

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVE_SLUG_MAX EPCAL_STEM_MAX

typedef struct serve_season {
  int32_t number;      /* 0: specials (the reader allows 6 digits) */
  uint32_t events;     /* scheduled episodes */
  uint32_t pending;    /* episodes without a date yet */
  int32_t first, last; /* days since 1970 (epcal_date_to_days), events > 0 */
  uint32_t row0;       /* its rows: the catalogue's group list from here */
} serve_season;

typedef struct serve_show {
  char *name; /* as in the input */
  char slug[SERVE_SLUG_MAX];
  uint32_t *seasons; /* indexes of its seasons, sorted by number */
  size_t n_seasons, cap_seasons;
  unsigned long events;
  int32_t first, last; /* valid when events > 0 */
} serve_show;

typedef struct serve_catalog serve_catalog;

/* An empty catalogue, holding one reference, reading rows from
 * `snapshot_fd` (owned from now on: closed with the catalogue; -1 for
 * none), or NULL when out of memory. */
serve_catalog *serve_catalog_new(int snapshot_fd);

/* Starts input `name` (copied), whose header is the `header_len` bytes of
 * the snapshot at `base`. Rows added after this belong to it. Returns 0, or
 * -1 when out of memory. */
int serve_catalog_add_input(serve_catalog *c, const char *name, uint64_t base,
                            size_t header_len);

/* Counts `ep` (scheduled or not) under its show and season; a scheduled one
 * is indexed as the `len` bytes of the snapshot at `pos`. Rows must come in
 * snapshot order. Returns 0, or -1 when out of memory (or past 4G rows). */
int serve_catalog_add(serve_catalog *c, const epcal_episode *ep, uint64_t pos,
                      size_t len);

/* Called for each show an earlier index named, with its stem. */
typedef bool (*serve_stems_fn)(void *ctx, const char *show, const char *stem);

/*
 * Sorts and indexes, and gives every show its stem. `previous` (may be
 * NULL) lists the stems of an earlier run: previous(ctx, fn, fnctx) calls
 * fn for each. Call once after the last add. Returns 0, or -1 when out of
 * memory.
 */
int serve_catalog_finish(serve_catalog *c,
                         bool (*previous)(void *ctx, serve_stems_fn fn,
                                          void *fnctx),
                         void *ctx);

size_t serve_catalog_count(const serve_catalog *c);

/* The i-th show in name order (case-insensitive, then bytewise). */
const serve_show *serve_catalog_at(const serve_catalog *c, size_t i);

/* The i-th show in the order shows were first met (stems were given in
 * this order after the previous index's). */
const serve_show *serve_catalog_show(const serve_catalog *c, size_t i);

/* The show whose slug is `slug`, or NULL. */
const serve_show *serve_catalog_find(const serve_catalog *c, const char *slug);

/* Season `k` (0 ... n_seasons-1, by number) of `show`. */
const serve_season *serve_show_season_at(const serve_catalog *c,
                                         const serve_show *show, size_t k);

/* The season numbered `n` of `show`, or NULL. */
const serve_season *serve_show_season(const serve_catalog *c,
                                      const serve_show *show, long n);

/* Dated rows (row numbers are 0 ... this - 1, in input order). */
size_t serve_catalog_rows(const serve_catalog *c);

/* The date of row `id`, in days since 1970. */
int32_t serve_catalog_row_day(const serve_catalog *c, uint32_t id);

/* A digest of every byte of the inputs (set by the loader): the same data
 * gives the same digest on every instance. */
uint64_t serve_catalog_digest(const serve_catalog *c);
void serve_catalog_set_digest(serve_catalog *c, uint64_t digest);

/* Dated events in every show. */
unsigned long serve_catalog_events(const serve_catalog *c);

/* Dates of the first and last event of all shows; false when none. */
bool serve_catalog_span(const serve_catalog *c, int32_t *first, int32_t *last);

/* ------------------------------------------------------- rows of a feed */

/* A list of rows (catalogue row numbers) in input order. */
typedef struct serve_rows {
  uint32_t *ids;
  size_t n, cap;
} serve_rows;

void serve_rows_free(serve_rows *r);

/* Appends the rows of `show` (season `season`, or every season when
 * `all_seasons`) dated in [from, to] (days; INT32_MIN/INT32_MAX: open),
 * unsorted. Returns 0, or -1 when out of memory or `max` would be passed
 * (*over is then set). */
int serve_rows_add_show(const serve_catalog *c, const serve_show *show,
                        bool all_seasons, long season, int32_t from, int32_t to,
                        size_t max, serve_rows *out, bool *over);

/* Appends every row dated in [from, to], from the date index. Same return
 * as serve_rows_add_show. */
int serve_rows_add_window(const serve_catalog *c, int32_t from, int32_t to,
                          size_t max, serve_rows *out, bool *over);

/* Sorts the rows into input order and drops repeats. */
void serve_rows_sort(serve_rows *r);

/* How many dated rows lie in [from, to] (binary search: O(log rows)). */
size_t serve_catalog_count_window(const serve_catalog *c, int32_t from,
                                  int32_t to);

/* Up to `max` rows dated `from` or later, soonest first (then input
 * order). Returns 0 or -1 when out of memory. */
int serve_rows_upcoming(const serve_catalog *c, int32_t from, size_t max,
                        serve_rows *out);

/* Called for each episode read back; returns 0 to go on, non-zero to stop. */
typedef int (*serve_episode_fn)(void *ctx, const epcal_episode *ep);

/*
 * Reads `rows` (in the order given; runs of one input share a reader) back
 * from the snapshot and calls fn for each episode, parsed with `read` (the
 * options the data was loaded with). When `hash` is non-NULL, first reads
 * every row into memory and sets *hash to a 64-bit hash of the bytes (the
 * rows and their inputs' headers), before fn is first called: a digest of
 * exactly what the feed shows.
 * Returns EPCAL_OK, or an I/O or memory error.
 */
epcal_status serve_catalog_read(const serve_catalog *c, const uint32_t *rows,
                                size_t n, const epcal_read_options *read,
                                uint64_t *hash, serve_episode_fn fn, void *ctx,
                                epcal_error *err);

/* Takes a reference (thread-safe). */
void serve_catalog_retain(serve_catalog *c);

/* Drops a reference; the last one frees the catalogue and closes its
 * snapshot (thread-safe). NULL is a no-op. */
void serve_catalog_free(serve_catalog *c);

#endif
