/*
 * The input CSV files, as the server last read them successfully.
 *
 * Every (re)load reads each file once, copying its bytes into a private
 * snapshot file as it validates every row, and builds the catalogue (an
 * index of where each row is in the snapshot); feeds are then rendered
 * from the snapshot, not from the files, and the bytes are not kept in
 * memory. So a file that is being rewritten, or that was edited into
 * something invalid, never reaches a subscriber: the last good data stays
 * in service until a valid edit replaces it.
 *
 * Not thread-safe: the server calls it under its lock.
 */
#ifndef EPCAL_SERVE_SOURCE_H
#define EPCAL_SERVE_SOURCE_H

#include "catalog.h"

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct serve_source_options {
  const char *const *paths; /* borrowed; must outlive the source */
  size_t n_paths;
  epcal_read_options read;
  /* The command line's --show / --season: only these are served. */
  const char *const *shows;
  size_t n_shows;
  const epcal_season_range *seasons;
  size_t n_seasons;
  bool skip_invalid; /* skip invalid rows (logged once per load) */
  size_t max_bytes;  /* cap on all inputs together */
  /* --state: DIR/index.json, where the shows' stems are kept (split's
   * format), read before and written after every load; NULL: none. */
  const char *stems_index;
} serve_source_options;

typedef struct serve_source serve_source;

/* Loads every input. `opts` is copied (its arrays are borrowed). Returns
 * EPCAL_OK, or the first error with its file, line and column. */
epcal_status serve_source_open(serve_source **out,
                               const serve_source_options *opts,
                               epcal_error *err);

/* At most once a second (`now_ms` is a monotonic clock), stats the inputs;
 * when one changed (mtime, size or inode), reloads them all. A failed reload
 * is logged on standard error, once per change, and the previous data stays
 * in service. Returns true when new data was loaded. */
bool serve_source_refresh(serve_source *s, int64_t now_ms);

const serve_catalog *serve_source_catalog(const serve_source *s);

/* The options the data is read with (to read rows back). */
const epcal_read_options *serve_source_read_options(const serve_source *s);

/* Counts successful loads: 1 after open, +1 per reload. */
unsigned long serve_source_generation(const serve_source *s);

/* The newest modification time of the inputs, in seconds since the epoch,
 * never smaller than it was at an earlier load. */
int64_t serve_source_time(const serve_source *s);

void serve_source_free(serve_source *s);

/* "epcal: FILE:LINE:COLUMN: message" plus `suffix` on standard error, for
 * an input that could not be loaded (at start-up, or on a reload). */
void serve_report_load_error(const epcal_error *err, const char *suffix);

#endif
