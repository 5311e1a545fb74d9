#include "stream.h"

#include "buf.h"
#include "feed.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows read back and rendered per step: about 40 KB of CSV. */
#define BATCH 256

struct serve_stream {
  serve_catalog *cat;
  const epcal_read_options *read;
  epcal_selection sel;
  int32_t from, to;
  epcal_renderer *ren;
  serve_buf out; /* rendered, not yet sent from `sent` on */
  size_t sent;
  size_t next; /* the next row to look at */
  bool done;   /* the calendar is closed */
  bool failed;
  char *name;
  char alarm[32];
  const char *alarms[1];
  char etag[64];
};

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* The bytes one fixed, timed episode gets under `ro`: every event option
 * (templates, alarms, categories, zone, runtime, all-day) shows in them,
 * and the calendar's header shows the feed options. */
static uint64_t probe(const epcal_render_options *ro) {
  epcal_render_options p = *ro;
  p.now = 0;
  p.previous = NULL;
  serve_buf b;
  serve_buf_init(&b, 1 << 20);
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = "epcal probe";
  ep.season = 1;
  ep.number = 1;
  ep.title = "Title";
  ep.description = "Description";
  ep.url = "https://example.org/";
  ep.network = "Network";
  ep.scheduled = true;
  ep.date = (epcal_date){2000, 1, 1};
  ep.file = "probe";
  ep.timed = true;
  ep.time = 3600;
  /* In UTC unless the server names a zone for rows without one. */
  ep.utc = ro->timezone == NULL;
  ep.runtime = 0;
  epcal_renderer *r;
  uint64_t h = 0;
  if (epcal_renderer_new(&r, &p, serve_buf_write, &b, NULL) == EPCAL_OK) {
    if (epcal_renderer_begin(r, NULL) == EPCAL_OK &&
        epcal_renderer_add(r, &ep, NULL) == EPCAL_OK &&
        epcal_renderer_end(r, NULL) == EPCAL_OK && !b.failed) {
      h = fnv(1469598103934665603ULL, b.data, b.len);
    }
    epcal_renderer_free(r);
  }
  serve_buf_free(&b);
  return h;
}

serve_stream *serve_stream_new(serve_catalog *cat,
                               const epcal_read_options *read,
                               const epcal_selection *sel, int32_t from,
                               int32_t to, const epcal_render_options *ro,
                               const char *name, const char *key) {
  serve_stream *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return NULL;
  }
  s->name = strdup(name);
  if (s->name == NULL) {
    free(s);
    return NULL;
  }
  serve_catalog_retain(cat);
  s->cat = cat;
  s->read = read;
  s->sel = *sel;
  s->from = from;
  s->to = to;
  /* The output is drained chunk by chunk; the cap only guards against an
   * event without bounds. */
  serve_buf_init(&s->out, (size_t)64 * 1024 * 1024);
  epcal_render_options o = *ro;
  o.calendar_name = s->name;
  o.previous = NULL;
  if (o.n_alarms == 1 && o.alarms != NULL) {
    snprintf(s->alarm, sizeof s->alarm, "%s", o.alarms[0]);
    s->alarms[0] = s->alarm;
    o.alarms = s->alarms;
  }
  uint64_t digest = serve_catalog_digest(cat);
  o.now = serve_feed_content_stamp(digest);
  /* The rows the command line kept (--show, --season) are not in the
   * digest of the inputs: their number and dates' span are. */
  uint64_t rows[3] = {serve_catalog_rows(cat), serve_catalog_count(cat), 0};
  int32_t first = 0, last = 0;
  if (serve_catalog_span(cat, &first, &last)) {
    rows[2] = (uint64_t)(uint32_t)first << 32 | (uint32_t)last;
  }
  uint64_t h = fnv(digest, key, strlen(key));
  h = fnv(h, (const char *)rows, sizeof rows);
  uint64_t p = probe(&o);
  h = fnv(h, (const char *)&p, sizeof p);
  snprintf(s->etag, sizeof s->etag, "\"%016" PRIx64 "-stream\"", h);
  if (p == 0 ||
      epcal_renderer_new(&s->ren, &o, serve_buf_write, &s->out, NULL) !=
          EPCAL_OK ||
      epcal_renderer_begin(s->ren, NULL) != EPCAL_OK) {
    serve_stream_free(s);
    return NULL;
  }
  return s;
}

const char *serve_stream_etag(const serve_stream *s) { return s->etag; }

static int add(void *ctx, const epcal_episode *ep) {
  serve_stream *s = ctx;
  if (!epcal_selection_matches(&s->sel, ep)) {
    return 0;
  }
  if (epcal_renderer_add(s->ren, ep, NULL) != EPCAL_OK) {
    s->failed = true;
    return 1;
  }
  return 0;
}

/* Renders the next batch of rows, or closes the calendar. */
static void step(serve_stream *s) {
  size_t n = serve_catalog_rows(s->cat);
  uint32_t ids[BATCH];
  size_t k = 0;
  while (s->next < n && k < BATCH) {
    int32_t d = serve_catalog_row_day(s->cat, (uint32_t)s->next);
    if (d >= s->from && d <= s->to) {
      ids[k++] = (uint32_t)s->next;
    }
    s->next++;
  }
  if (k > 0) {
    if (serve_catalog_read(s->cat, ids, k, s->read, NULL, add, s, NULL) !=
        EPCAL_OK) {
      s->failed = true;
    }
    return;
  }
  if (s->next >= n) {
    if (epcal_renderer_end(s->ren, NULL) != EPCAL_OK) {
      s->failed = true;
    }
    s->done = true;
  }
}

ssize_t serve_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  serve_stream *s = cls;
  if (s->sent > 0) {
    /* What is left of the last batch goes to the front: the buffer stays
     * at about one batch and one chunk. */
    memmove(s->out.data, s->out.data + s->sent, s->out.len - s->sent);
    s->out.len -= s->sent;
    s->sent = 0;
  }
  while (!s->failed && !s->done && s->out.len < max) {
    step(s);
  }
  if (s->failed || s->out.failed) {
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  size_t left = s->out.len - s->sent;
  if (left == 0) {
    return MHD_CONTENT_READER_END_OF_STREAM;
  }
  size_t n = left < max ? left : max;
  memcpy(buf, s->out.data + s->sent, n);
  s->sent += n;
  return (ssize_t)n;
}

void serve_stream_free(void *cls) {
  serve_stream *s = cls;
  if (s == NULL) {
    return;
  }
  epcal_renderer_free(s->ren);
  serve_buf_free(&s->out);
  serve_catalog_free(s->cat);
  free(s->name);
  free(s);
}
