#include "cache.h"

#include "gzip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds larger than this are refused (EPCAL_ENOMEM) rather than cached. */
#define MAX_FEED_BYTES ((size_t)256 * 1024 * 1024)

struct serve_cache {
  serve_entry **entries;
  size_t n, max_entries;
  size_t bytes, max_bytes;
  uint64_t clock; /* ticks on every use, for least-recently-used */
};

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

serve_cache *serve_cache_new(size_t max_entries, size_t max_bytes) {
  serve_cache *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return NULL;
  }
  c->entries = calloc(max_entries > 0 ? max_entries : 1, sizeof *c->entries);
  if (c->entries == NULL) {
    free(c);
    return NULL;
  }
  c->max_entries = max_entries > 0 ? max_entries : 1;
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
  free(e->key);
  free(e->body);
  free(e->gz);
  free(e);
}

static size_t entry_bytes(const serve_entry *e) { return e->len + e->gz_len; }

static size_t find(const serve_cache *c, const char *key, uint64_t h) {
  for (size_t i = 0; i < c->n; i++) {
    if (c->entries[i]->key_hash == h && strcmp(c->entries[i]->key, key) == 0) {
      return i;
    }
  }
  return (size_t)-1;
}

static void drop(serve_cache *c, size_t i) {
  c->bytes -= entry_bytes(c->entries[i]);
  serve_entry_release(c->entries[i]);
  c->entries[i] = c->entries[--c->n];
}

/* Evicts least recently used entries, never `keep`, until the limits hold. */
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
  if (e->key == NULL) {
    free(e);
    return NULL;
  }
  atomic_init(&e->refs, 1);
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

epcal_status serve_cache_get(serve_cache *c, const char *key,
                             unsigned long generation, int64_t data_time,
                             int64_t fixed_stamp, bool change_aware,
                             serve_render_fn render, void *ctx,
                             serve_entry **out, epcal_error *err) {
  uint64_t h = fnv1a(key, strlen(key));
  size_t i = find(c, key, h);
  serve_entry *old = i != (size_t)-1 ? c->entries[i] : NULL;
  c->clock++;
  if (old != NULL && old->generation == generation) {
    old->last_used = c->clock;
    serve_entry_retain(old);
    *out = old;
    return EPCAL_OK;
  }

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
    if (st != EPCAL_OK ||
        (len == old->len && memcmp(body, old->body, len) == 0)) {
      /* Unchanged, or failed: keep serving the last good bytes. */
      free(body);
      old->generation = st == EPCAL_OK ? generation : old->generation;
      old->last_used = c->clock;
      serve_entry_retain(old);
      *out = old;
      return EPCAL_OK;
    }
  } else if (old != NULL) {
    int64_t stamp = fixed_stamp >= 0 ? fixed_stamp : old->modified;
    st = render_into(render, ctx, stamp, &body, &len, err);
    if (st == EPCAL_OK && len == old->len &&
        memcmp(body, old->body, len) == 0) {
      /* Same bytes under the old time: this feed did not change. */
      free(body);
      old->generation = generation;
      old->last_used = c->clock;
      serve_entry_retain(old);
      *out = old;
      return EPCAL_OK;
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
      /* Keep serving the last good bytes. */
      old->last_used = c->clock;
      serve_entry_retain(old);
      *out = old;
      return EPCAL_OK;
    }
  } else {
    st = render_into(render, ctx, fixed_stamp >= 0 ? fixed_stamp : modified,
                     &body, &len, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }

  serve_entry *e = new_entry(key, h, body, len, modified, generation);
  if (e == NULL) {
    free(body);
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return EPCAL_ENOMEM;
  }
  e->last_used = c->clock;
  if (old != NULL) {
    drop(c, i);
  }
  evict(c, NULL, entry_bytes(e));
  c->entries[c->n++] = e;
  c->bytes += entry_bytes(e);
  serve_entry_retain(e);
  *out = e;
  return EPCAL_OK;
}

int serve_cache_gzip(serve_cache *c, serve_entry *e) {
  if (e->gz != NULL) {
    return 0;
  }
  char *gz;
  size_t n;
  if (serve_gzip(e->body, e->len, &gz, &n) != 0) {
    return -1;
  }
  e->gz = gz;
  e->gz_len = n;
  /* Only entries still in the cache count towards its size. */
  for (size_t i = 0; i < c->n; i++) {
    if (c->entries[i] == e) {
      c->bytes += n;
      evict(c, e, 0);
      break;
    }
  }
  return 0;
}

void serve_cache_free(serve_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n; i++) {
    serve_entry_release(c->entries[i]);
  }
  free(c->entries);
  free(c);
}
