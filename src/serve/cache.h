/*
 * Rendered feeds, kept in memory with their validators.
 *
 * A feed is rendered on the first request for its route and query, then
 * served from memory with a strong ETag (a hash of the bytes) until the
 * data is reloaded. After a reload it is rendered again with its previous
 * DTSTAMP: when the bytes come out the same, the feed did not change, and it
 * keeps its ETag, Last-Modified and DTSTAMP, so a calendar app polling it
 * gets 304 instead of a "new" calendar every time some other show is edited.
 * Only a feed whose events did change gets a new time.
 *
 * Not thread-safe: the server calls it under its lock. Entries are
 * reference-counted (atomically), so a response may go on sending an entry's
 * bytes after the lock is released and the entry was replaced.
 */
#ifndef EPCAL_SERVE_CACHE_H
#define EPCAL_SERVE_CACHE_H

#include "buf.h"

#include "epcal/epcal.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct serve_entry {
  atomic_int refs;
  char *key;
  uint64_t key_hash;
  char *body; /* the feed */
  size_t len;
  char *gz; /* gzip of body, made on first demand; NULL until then */
  size_t gz_len;
  char etag[64];            /* "\"...\"", quotes included */
  char etag_gz[68];         /* the gzip variant's: a different byte sequence */
  int64_t modified;         /* when these bytes first appeared: Last-Modified */
  unsigned long generation; /* of the data it was checked against */
  uint64_t last_used;
} serve_entry;

/* Renders a feed with DTSTAMP `now` into *out. */
typedef epcal_status (*serve_render_fn)(void *ctx, int64_t now, serve_buf *out,
                                        epcal_error *err);

typedef struct serve_cache serve_cache;

/* A cache holding at most `max_entries` feeds and about `max_bytes` bytes
 * (least recently used feeds go first). NULL when out of memory. */
serve_cache *serve_cache_new(size_t max_entries, size_t max_bytes);

/*
 * The feed for `key`, current for data `generation`: from memory, or
 * rendered by `render` (see the top of this file for how its time is
 * kept). `data_time` is the inputs' newest mtime; `fixed_stamp` >= 0 is
 * used as every DTSTAMP instead (SOURCE_DATE_EPOCH). `change_aware`: the
 * render keeps unchanged events' stamps itself (--state), so it is called
 * once, at the new time. On success *out holds
 * a reference the caller releases with serve_entry_release(). When
 * rendering fails, a feed rendered from earlier data is returned if there
 * is one (the last good bytes); else the error.
 */
epcal_status serve_cache_get(serve_cache *c, const char *key,
                             unsigned long generation, int64_t data_time,
                             int64_t fixed_stamp, bool change_aware,
                             serve_render_fn render, void *ctx,
                             serve_entry **out, epcal_error *err);

/* Makes e->gz when it is missing. Returns 0, or -1 (serve identity). */
int serve_cache_gzip(serve_cache *c, serve_entry *e);

/* Takes a reference. */
void serve_entry_retain(serve_entry *e);

/* Drops a reference; the last one frees the entry. Thread-safe. */
void serve_entry_release(serve_entry *e);

void serve_cache_free(serve_cache *c);

#endif
