#include "feed.h"

#include <stdio.h>
#include <string.h>

/* 2000-01-01T00:00:00Z and the twenty years after it. */
#define STAMP_BASE INT64_C(946684800)
#define STAMP_RANGE (INT64_C(7305) * 86400)

int64_t serve_feed_content_stamp(uint64_t hash) {
  return STAMP_BASE + (int64_t)(hash % (uint64_t)STAMP_RANGE);
}

typedef struct feed_walk {
  const epcal_selection *sel;
  const epcal_render_options *ro;
  serve_buf *out;
  uint64_t hash; /* of the rows: set before the first episode arrives */
  bool content_stamp;
  epcal_renderer *ren;
  epcal_status status;
  epcal_error *err;
} feed_walk;

/* The renderer is made once the stamp is known: with a content stamp, that
 * is once the rows have been read (and hashed). */
static epcal_status start(feed_walk *w) {
  epcal_render_options ro = *w->ro;
  if (w->content_stamp) {
    ro.now = serve_feed_content_stamp(w->hash);
  }
  epcal_status st =
      epcal_renderer_new(&w->ren, &ro, serve_buf_write, w->out, w->err);
  if (st == EPCAL_OK) {
    st = epcal_renderer_begin(w->ren, w->err);
  }
  return st;
}

static int add_episode(void *ctx, const epcal_episode *ep) {
  feed_walk *w = ctx;
  if (w->ren == NULL) {
    w->status = start(w);
    if (w->status != EPCAL_OK) {
      return 1;
    }
  }
  if (!epcal_selection_matches(w->sel, ep)) {
    return 0;
  }
  w->status = epcal_renderer_add(w->ren, ep, w->err);
  return w->status != EPCAL_OK;
}

epcal_status serve_feed_render(const serve_catalog *cat, const serve_rows *rows,
                               const epcal_read_options *read,
                               const epcal_selection *sel,
                               const char *calendar_name, int64_t now,
                               const serve_feed_extras *extras, serve_buf *out,
                               epcal_error *err) {
  epcal_render_options ro;
  memset(&ro, 0, sizeof ro);
  if (extras != NULL && extras->base != NULL) {
    ro = *extras->base;
  }
  ro.calendar_name = calendar_name;
  ro.now = now;
  ro.previous = extras != NULL ? extras->previous : NULL;
  char alarm[32];
  const char *alarms[1] = {alarm};
  if (extras != NULL) {
    ro.all_day = ro.all_day || extras->all_day;
    if (extras->alarm_minutes >= 0) {
      /* A reminder that many minutes before the start (0: at the start),
       * in place of the server's --alarm ones. */
      snprintf(alarm, sizeof alarm, "-PT%ldM", extras->alarm_minutes);
      ro.alarms = alarms;
      ro.n_alarms = 1;
    }
  }
  feed_walk w = {sel, &ro, out, 0, now < 0, NULL, EPCAL_OK, err};
  epcal_status st =
      serve_catalog_read(cat, rows->ids, rows->n, read,
                         now < 0 ? &w.hash : NULL, add_episode, &w, err);
  if (st == EPCAL_OK) {
    st = w.status;
  }
  if (st == EPCAL_OK && w.ren == NULL) {
    st = start(&w); /* no rows: an empty calendar */
  }
  if (st == EPCAL_OK) {
    st = epcal_renderer_end(w.ren, err);
  }
  epcal_renderer_free(w.ren);
  if (st == EPCAL_EIO && out->failed) {
    /* The only writer is the buffer: a write failure is its size cap. */
    st = EPCAL_ENOMEM;
  }
  return st;
}
