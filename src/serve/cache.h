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
 * Thread-safe. The cache's lock is held only to look entries up and swap
 * them, never while rendering or compressing: a request for a cached feed
 * never waits for another request's work. Concurrent misses for one key
 * wait for a single render (single flight); a failed render is remembered
 * for a few seconds, so a feed that cannot be rendered is not rendered
 * again on every request. Entries are reference-counted (atomically), so a
 * response may go on sending an entry's bytes after it was replaced or
 * evicted.
 */
#ifndef EPCAL_SERVE_CACHE_H
#define EPCAL_SERVE_CACHE_H

#include "buf.h"

#include "epcal/epcal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* How long a failed render is remembered, milliseconds. */
#define SERVE_CACHE_FAILURE_MS 10000

typedef struct serve_entry {
  atomic_int refs;
  char *key;
  uint64_t key_hash;
  char *body; /* the feed */
  size_t len;
  /* gzip of body, made on first demand by serve_cache_gzip(): read gz and
   * gz_len only after it returned 0. */
  char *gz;
  size_t gz_len;
  atomic_bool gz_ready;
  pthread_mutex_t gz_lock; /* one compression per entry */
  char etag[64];           /* "\"...\"", quotes included */
  char etag_gz[68];        /* the gzip variant's: a different byte sequence */
  int64_t modified;        /* when these bytes first appeared: Last-Modified */
  /* The rest belongs to the cache, under its lock. */
  unsigned long generation; /* of the data it was checked against */
  uint64_t last_used;
  size_t counted;                  /* bytes charged to the cache's budget */
  bool gz_counted;                 /* ...gz_len among them */
  unsigned long failed_generation; /* a render for it failed... */
  int64_t failed_until_ms;         /* ...and is not tried again before */
} serve_entry;

/* Renders a feed with DTSTAMP `now` into *out. */
typedef epcal_status (*serve_render_fn)(void *ctx, int64_t now, serve_buf *out,
                                        epcal_error *err);

typedef struct serve_cache serve_cache;

/* A cache holding at most `max_entries` feeds and `max_bytes` bytes of
 * feeds and their gzip forms (least recently used feeds go first; a feed
 * larger than the whole budget is served but not kept). NULL when out of
 * memory. */
serve_cache *serve_cache_new(size_t max_entries, size_t max_bytes);

/*
 * The feed for `key`, current for data `generation`: from memory, or
 * rendered by `render` (see the top of this file for how its time is
 * kept). `data_time` is the inputs' newest mtime; `fixed_stamp` >= 0 is
 * used as every DTSTAMP instead (SOURCE_DATE_EPOCH). `change_aware`: the
 * render keeps unchanged events' stamps itself (--state), so it is called
 * once, at the new time. On success *out holds a reference the caller
 * releases with serve_entry_release(). When rendering fails, a feed
 * rendered from earlier data is returned if there is one (the last good
 * bytes); else the error. An entry checked against newer data than
 * `generation` is returned as it is (a request that began before a reload
 * never brings back older bytes). Thread-safe; `render` runs with no lock
 * held.
 */
epcal_status serve_cache_get(serve_cache *c, const char *key,
                             unsigned long generation, int64_t data_time,
                             int64_t fixed_stamp, bool change_aware,
                             serve_render_fn render, void *ctx,
                             serve_entry **out, epcal_error *err);

/* Makes e->gz when it is missing (once per entry, with no cache-wide lock
 * held while compressing). Returns 0, or -1 (serve identity).
 * Thread-safe. */
int serve_cache_gzip(serve_cache *c, serve_entry *e);

/* Bytes of feeds the cache holds now (for tests and logs). Thread-safe. */
size_t serve_cache_bytes(serve_cache *c);

/* Takes a reference. */
void serve_entry_retain(serve_entry *e);

/* Drops a reference; the last one frees the entry. Thread-safe. */
void serve_entry_release(serve_entry *e);

void serve_cache_free(serve_cache *c);

#endif
