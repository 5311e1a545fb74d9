#include "cache.h"

#include "gzip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Feeds larger than this are refused (EPCAL_ENOMEM) rather than cached. */
#define MAX_FEED_BYTES ((size_t)256 * 1024 * 1024)
/* Failed renders of keys with no good bytes are remembered in a ring of
 * this many. */
#define MAX_FAILURES 64

/* A render in progress: it lives on the rendering thread's stack, linked
 * into the cache while the render runs, so other requests for its key wait
 * for it instead of rendering the same feed again. */
typedef struct flight {
  const char *key;
  uint64_t hash;
  struct flight *next;
} flight;

/* A key whose render failed and that has no earlier bytes to fall back
 * on. */
typedef struct failure {
  char *key; /* NULL: a free slot */
  uint64_t hash;
  unsigned long generation;
  int64_t until_ms;
  epcal_error err;
} failure;

struct serve_cache {
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t done;  /* a flight landed */
  serve_entry **entries;
  size_t n, max_entries;
  size_t bytes, max_bytes;
  uint64_t clock; /* ticks on every use, for least-recently-used */
  flight *flights;
  failure failures[MAX_FAILURES];
  size_t next_failure;
};

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

serve_cache *serve_cache_new(size_t max_entries, size_t max_bytes) {
  serve_cache *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return NULL;
  }
  c->max_entries = max_entries > 0 ? max_entries : 1;
  c->entries = calloc(c->max_entries, sizeof *c->entries);
  if (c->entries == NULL) {
    free(c);
    return NULL;
  }
  if (pthread_mutex_init(&c->lock, NULL) != 0) {
    free(c->entries);
    free(c);
    return NULL;
  }
  if (pthread_cond_init(&c->done, NULL) != 0) {
    pthread_mutex_destroy(&c->lock);
    free(c->entries);
    free(c);
    return NULL;
  }
  c->max_bytes = max_bytes;
  return c;
}

void serve_entry_retain(serve_entry *e) {
  atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void serve_entry_release(serve_entry *e) {
  if (e == NULL ||
      atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1) {
    return;
  }
  pthread_mutex_destroy(&e->gz_lock);
  free(e->key);
  free(e->body);
  free(e->gz);
  free(e);
}

static size_t find(const serve_cache *c, const char *key, uint64_t h) {
  for (size_t i = 0; i < c->n; i++) {
    if (c->entries[i]->key_hash == h && strcmp(c->entries[i]->key, key) == 0) {
      return i;
    }
  }
  return (size_t)-1;
}

static bool in_flight(const serve_cache *c, const char *key, uint64_t h) {
  for (const flight *f = c->flights; f != NULL; f = f->next) {
    if (f->hash == h && strcmp(f->key, key) == 0) {
      return true;
    }
  }
  return false;
}

static failure *find_failure(serve_cache *c, const char *key, uint64_t h) {
  for (size_t i = 0; i < MAX_FAILURES; i++) {
    failure *f = &c->failures[i];
    if (f->key != NULL && f->hash == h && strcmp(f->key, key) == 0) {
      return f;
    }
  }
  return NULL;
}

static void forget_failure(serve_cache *c, const char *key, uint64_t h) {
  failure *f = find_failure(c, key, h);
  if (f != NULL) {
    free(f->key);
    f->key = NULL;
  }
}

static void remember_failure(serve_cache *c, const char *key, uint64_t h,
                             unsigned long generation, int64_t until_ms,
                             const epcal_error *err) {
  failure *f = find_failure(c, key, h);
  if (f == NULL) {
    f = &c->failures[c->next_failure];
    c->next_failure = (c->next_failure + 1) % MAX_FAILURES;
    free(f->key);
    f->key = strdup(key);
    if (f->key == NULL) {
      return; /* not remembered: the next request tries again */
    }
  }
  f->hash = h;
  f->generation = generation;
  f->until_ms = until_ms;
  f->err = *err;
}

static void drop(serve_cache *c, size_t i) {
  c->bytes -= c->entries[i]->counted;
  serve_entry_release(c->entries[i]);
  c->entries[i] = c->entries[--c->n];
}

/* Evicts least recently used entries, never `keep`, until `extra` more
 * bytes (and one more entry when `extra` > 0) fit the limits. */
static void evict(serve_cache *c, const serve_entry *keep, size_t extra) {
  while (c->n > 0 && (c->n + (extra > 0) > c->max_entries ||
                      c->bytes + extra > c->max_bytes)) {
    size_t victim = (size_t)-1;
    for (size_t i = 0; i < c->n; i++) {
      if (c->entries[i] != keep &&
          (victim == (size_t)-1 ||
           c->entries[i]->last_used < c->entries[victim]->last_used)) {
        victim = i;
      }
    }
    if (victim == (size_t)-1) {
      return;
    }
    drop(c, victim);
  }
}

/* Makes `e` the entry for its key (replacing any other), when it fits the
 * budget at all. */
static void install(serve_cache *c, serve_entry *e) {
  e->last_used = ++c->clock;
  size_t i = find(c, e->key, e->key_hash);
  if (i != (size_t)-1 && c->entries[i] == e) {
    return;
  }
  if (i != (size_t)-1) {
    drop(c, i);
  }
  size_t bytes = e->len;
  bool gz = atomic_load_explicit(&e->gz_ready, memory_order_acquire);
  if (gz) {
    bytes += e->gz_len;
  }
  if (bytes > c->max_bytes) {
    return; /* served, never kept: it would evict everything else */
  }
  evict(c, NULL, bytes > 0 ? bytes : 1);
  serve_entry_retain(e);
  e->counted = bytes;
  e->gz_counted = gz;
  c->entries[c->n++] = e;
  c->bytes += bytes;
}

static epcal_status render_into(serve_render_fn render, void *ctx, int64_t now,
                                char **body, size_t *len, epcal_error *err) {
  serve_buf b;
  serve_buf_init(&b, MAX_FEED_BYTES);
  epcal_status st = render(ctx, now, &b, err);
  if (st == EPCAL_OK) {
    *body = serve_buf_take(&b, len);
    if (*body == NULL) {
      st = EPCAL_ENOMEM;
    }
  }
  serve_buf_free(&b);
  return st;
}

static serve_entry *new_entry(const char *key, uint64_t h, char *body,
                              size_t len, int64_t modified,
                              unsigned long generation) {
  serve_entry *e = calloc(1, sizeof *e);
  if (e == NULL) {
    return NULL;
  }
  e->key = strdup(key);
  if (e->key == NULL || pthread_mutex_init(&e->gz_lock, NULL) != 0) {
    free(e->key);
    free(e);
    return NULL;
  }
  atomic_init(&e->refs, 1);
  atomic_init(&e->gz_ready, false);
  e->key_hash = h;
  e->body = body;
  e->len = len;
  e->modified = modified;
  e->generation = generation;
  /* FNV-1a over the bytes plus their length: strong, since any change of
   * the bytes changes it (collisions aside, which a cache can live with). */
  snprintf(e->etag, sizeof e->etag, "\"%016" PRIx64 "-%zx\"", fnv1a(body, len),
           len);
  snprintf(e->etag_gz, sizeof e->etag_gz, "\"%016" PRIx64 "-%zx-gz\"",
           fnv1a(body, len), len);
  return e;
}

/* What a render came to, applied under the lock. */
typedef enum outcome {
  KEEP_OLD,    /* same bytes as before: the old entry, now current */
  FAILED_OLD,  /* failed: the old entry, the last good bytes */
  FAILED_NONE, /* failed, and nothing to fall back on */
  NEW_ENTRY,   /* new bytes */
} outcome;

/*
 * Renders the feed for a miss, with no lock held. `old` is the entry from
 * earlier data, or NULL. Sets *made for NEW_ENTRY.
 */
static outcome render_miss(const char *key, uint64_t h, serve_entry *old,
                           unsigned long generation, int64_t data_time,
                           int64_t fixed_stamp, bool change_aware,
                           serve_render_fn render, void *ctx,
                           serve_entry **made, epcal_error *err) {
  char *body = NULL;
  size_t len = 0;
  int64_t modified = data_time;
  epcal_status st;
  if (old != NULL && change_aware) {
    /* The renderer keeps each unchanged event's stamps itself (--state),
     * so one render at the new time gives the old bytes when nothing
     * changed. (A trial render would update the state it reads.) */
    modified = data_time > old->modified ? data_time : old->modified + 1;
    st = render_into(render, ctx, fixed_stamp >= 0 ? fixed_stamp : modified,
                     &body, &len, err);
    if (st != EPCAL_OK) {
      return FAILED_OLD;
    }
    if (len == old->len && memcmp(body, old->body, len) == 0) {
      free(body);
      return KEEP_OLD;
    }
  } else if (old != NULL) {
    int64_t stamp = fixed_stamp >= 0 ? fixed_stamp : old->modified;
    st = render_into(render, ctx, stamp, &body, &len, err);
    if (st == EPCAL_OK && len == old->len &&
        memcmp(body, old->body, len) == 0) {
      /* Same bytes under the old time: this feed did not change. */
      free(body);
      return KEEP_OLD;
    }
    /* Changed: a newer time, never older than the one it replaces (an
     * input restored from a backup may carry an older mtime). */
    modified = data_time > old->modified ? data_time : old->modified + 1;
    if (st == EPCAL_OK && fixed_stamp < 0) {
      free(body);
      body = NULL;
      st = render_into(render, ctx, modified, &body, &len, err);
    }
    if (st != EPCAL_OK) {
      return FAILED_OLD;
    }
  } else {
    st = render_into(render, ctx, fixed_stamp >= 0 ? fixed_stamp : modified,
                     &body, &len, err);
    if (st != EPCAL_OK) {
      return FAILED_NONE;
    }
  }
  serve_entry *e = new_entry(key, h, body, len, modified, generation);
  if (e == NULL) {
    free(body);
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return old != NULL ? FAILED_OLD : FAILED_NONE;
  }
  *made = e;
  return NEW_ENTRY;
}

epcal_status serve_cache_get(serve_cache *c, const char *key,
                             unsigned long generation, int64_t data_time,
                             int64_t fixed_stamp, bool change_aware,
                             serve_render_fn render, void *ctx,
                             serve_entry **out, epcal_error *err) {
  uint64_t h = fnv1a(key, strlen(key));
  serve_entry *old = NULL;
  pthread_mutex_lock(&c->lock);
  for (;;) {
    int64_t now_ms = monotonic_ms();
    size_t i = find(c, key, h);
    old = i != (size_t)-1 ? c->entries[i] : NULL;
    if (old != NULL && (old->generation >= generation ||
                        (old->failed_generation == generation &&
                         now_ms < old->failed_until_ms))) {
      /* Current, or its render for this data failed a moment ago: the
       * last good bytes. */
      old->last_used = ++c->clock;
      serve_entry_retain(old);
      pthread_mutex_unlock(&c->lock);
      *out = old;
      return EPCAL_OK;
    }
    const failure *f = old == NULL ? find_failure(c, key, h) : NULL;
    if (f != NULL && f->generation >= generation && now_ms < f->until_ms) {
      epcal_status st = f->err.code != EPCAL_OK ? f->err.code : EPCAL_EIO;
      if (err != NULL) {
        *err = f->err;
      }
      pthread_mutex_unlock(&c->lock);
      return st;
    }
    if (!in_flight(c, key, h)) {
      break;
    }
    pthread_cond_wait(&c->done, &c->lock);
  }
  flight fl = {key, h, c->flights};
  c->flights = &fl;
  if (old != NULL) {
    serve_entry_retain(old);
  }
  pthread_mutex_unlock(&c->lock);

  epcal_error local;
  epcal_error *e_out = err != NULL ? err : &local;
  epcal_error_clear(e_out);
  serve_entry *made = NULL;
  outcome o = render_miss(key, h, old, generation, data_time, fixed_stamp,
                          change_aware, render, ctx, &made, e_out);
  if (e_out->code == EPCAL_OK && o != KEEP_OLD && o != NEW_ENTRY) {
    e_out->code = EPCAL_EIO;
  }

  pthread_mutex_lock(&c->lock);
  for (flight **p = &c->flights; *p != NULL; p = &(*p)->next) {
    if (*p == &fl) {
      *p = fl.next;
      break;
    }
  }
  epcal_status st = EPCAL_OK;
  switch (o) {
  case KEEP_OLD:
    old->generation = generation;
    install(c, old);
    *out = old; /* our reference goes to the caller */
    old = NULL;
    break;
  case FAILED_OLD:
    old->failed_generation = generation;
    old->failed_until_ms = monotonic_ms() + SERVE_CACHE_FAILURE_MS;
    install(c, old);
    *out = old;
    old = NULL;
    break;
  case FAILED_NONE:
    remember_failure(c, key, h, generation,
                     monotonic_ms() + SERVE_CACHE_FAILURE_MS, e_out);
    st = e_out->code;
    break;
  case NEW_ENTRY:
    forget_failure(c, key, h);
    install(c, made);
    *out = made; /* new_entry's reference */
    break;
  }
  pthread_cond_broadcast(&c->done);
  pthread_mutex_unlock(&c->lock);
  serve_entry_release(old);
  return st;
}

int serve_cache_gzip(serve_cache *c, serve_entry *e) {
  if (atomic_load_explicit(&e->gz_ready, memory_order_acquire)) {
    return 0;
  }
  bool made = false;
  pthread_mutex_lock(&e->gz_lock);
  if (!atomic_load_explicit(&e->gz_ready, memory_order_relaxed)) {
    char *gz;
    size_t n;
    if (serve_gzip(e->body, e->len, &gz, &n) == 0) {
      e->gz = gz;
      e->gz_len = n;
      atomic_store_explicit(&e->gz_ready, true, memory_order_release);
      made = true;
    }
  }
  bool ok = atomic_load_explicit(&e->gz_ready, memory_order_relaxed);
  pthread_mutex_unlock(&e->gz_lock);
  if (made) {
    /* Only entries still in the cache count towards its size. */
    pthread_mutex_lock(&c->lock);
    size_t i = find(c, e->key, e->key_hash);
    if (i != (size_t)-1 && c->entries[i] == e && !e->gz_counted) {
      e->gz_counted = true;
      e->counted += e->gz_len;
      c->bytes += e->gz_len;
      evict(c, e, 0);
      if (c->bytes > c->max_bytes) {
        /* Its gzip form alone breaks the budget. */
        i = find(c, e->key, e->key_hash);
        drop(c, i);
      }
    }
    pthread_mutex_unlock(&c->lock);
  }
  return ok ? 0 : -1;
}

size_t serve_cache_bytes(serve_cache *c) {
  pthread_mutex_lock(&c->lock);
  size_t n = c->bytes;
  pthread_mutex_unlock(&c->lock);
  return n;
}

void serve_cache_free(serve_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n; i++) {
    serve_entry_release(c->entries[i]);
  }
  for (size_t i = 0; i < MAX_FAILURES; i++) {
    free(c->failures[i].key);
  }
  pthread_cond_destroy(&c->done);
  pthread_mutex_destroy(&c->lock);
  free(c->entries);
  free(c);
}
