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
 * A load is an immutable, reference-counted serve_data. Requests take a
 * reference to the current one and work from it without any lock; a reload
 * reads and parses with no lock held and then swaps the new data in under
 * a short one, so a request never waits for a reload, and a reload never
 * frees data a request is still using.
 *
 * Inputs are opened so that no file can stall the server: only regular
 * files are read (a FIFO, a device or a directory at an input path is
 * refused and logged, never opened for reading), the open does not block,
 * and all inputs together are capped in size.
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
   * format), read before every load and written after every accepted one;
   * NULL: none. */
  const char *stems_index;
  /* A reload that would remove more events than this allows is refused
   * (generate's rule and flags); a reload to no events at all is refused
   * too, unless `allow`. */
  epcal_shrink_policy shrink;
} serve_source_options;

typedef struct serve_source serve_source;

/* One successful load: immutable, reference-counted. */
typedef struct serve_data serve_data;

/* Loads every input. `opts` is copied (its arrays are borrowed). Returns
 * EPCAL_OK, or the first error with its file, line and column. */
epcal_status serve_source_open(serve_source **out,
                               const serve_source_options *opts,
                               epcal_error *err);

/* At most once a second (`now_ms` is a monotonic clock), stats the inputs;
 * when one changed (mtime, size, inode or type), reloads them all, with no
 * lock held while reading and parsing; one caller at a time reloads, the
 * others return at once and go on with the current data. A failed or
 * refused reload is logged on standard error, once per change, and the
 * previous data stays in service. Returns true when new data was loaded.
 * Thread-safe. */
bool serve_source_refresh(serve_source *s, int64_t now_ms);

/* The current data, with a reference the caller drops with
 * serve_data_release(). Thread-safe. */
serve_data *serve_source_acquire(serve_source *s);

void serve_data_release(serve_data *d);

const serve_catalog *serve_data_catalog(const serve_data *d);

/* The options the data's rows are read back with (from its snapshot);
 * valid as long as the source (a stream may outlive the data's request). */
const epcal_read_options *serve_data_read_options(const serve_data *d);

/* Counts successful loads: 1 after open, +1 per reload. */
unsigned long serve_data_generation(const serve_data *d);

/* The newest modification time of the inputs, in seconds since the epoch,
 * never smaller than it was at an earlier load. */
int64_t serve_data_time(const serve_data *d);

/* Frees the source and its reference to the current data (requests that
 * still hold a reference keep theirs, and the snapshot stays open until the
 * last of them is released). */
void serve_source_free(serve_source *s);

/* "epcal: FILE:LINE:COLUMN: message" plus `suffix` on standard error, for
 * an input that could not be loaded (at start-up, or on a reload). */
void serve_report_load_error(const epcal_error *err, const char *suffix);

#endif
