#include "feed.h"

#include <stdio.h>
#include <string.h>

typedef struct feed_walk {
  const epcal_selection *sel;
  epcal_renderer *ren;
  epcal_status status;
  epcal_error *err;
} feed_walk;

static int add_episode(void *ctx, const epcal_episode *ep) {
  feed_walk *w = ctx;
  if (!epcal_selection_matches(w->sel, ep)) {
    return 0;
  }
  w->status = epcal_renderer_add(w->ren, ep, w->err);
  return w->status != EPCAL_OK;
}

epcal_status serve_feed_render(const serve_data *src,
                               const epcal_selection *sel,
                               const char *calendar_name, int64_t now,
                               const serve_feed_extras *extras,
                               serve_buf *out, epcal_error *err) {
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
  epcal_renderer *ren;
  epcal_status st = epcal_renderer_new(&ren, &ro, serve_buf_write, out, err);
  if (st != EPCAL_OK) {
    return st;
  }
  st = epcal_renderer_begin(ren, err);
  if (st == EPCAL_OK) {
    feed_walk w = {sel, ren, EPCAL_OK, err};
    st = serve_data_each(src, add_episode, &w, err);
    if (st == EPCAL_OK) {
      st = w.status;
    }
  }
  if (st == EPCAL_OK) {
    st = epcal_renderer_end(ren, err);
  }
  epcal_renderer_free(ren);
  if (st == EPCAL_EIO && out->failed) {
    /* The only writer is the buffer: a write failure is its size cap. */
    st = EPCAL_ENOMEM;
  }
  return st;
}
