/* A program that uses libepcal as an installed library would: built with
 * nothing but `pkg-config --cflags --libs epcal`. It renders one episode
 * and has the library judge the feed it wrote. Prints
 * "VERSION EVENTS PROBLEMS". */
#include <epcal/epcal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink {
  char buf[8192];
  size_t len;
} sink;

static int sink_write(void *ctx, const char *buf, size_t len) {
  sink *s = ctx;
  if (len > sizeof s->buf - s->len) {
    return -1;
  }
  memcpy(s->buf + s->len, buf, len);
  s->len += len;
  return 0;
}

int main(void) {
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = "Star Trek: Picard";
  ep.season = 2;
  ep.number = 1;
  ep.title = "The Star Gazer";
  ep.scheduled = true;
  epcal_error err;
  if (epcal_date_parse("March 3, 2022", NULL, &ep.date, &err) != EPCAL_OK) {
    fprintf(stderr, "date: %s\n", err.msg);
    return 1;
  }
  static sink s;
  epcal_render_options ro;
  memset(&ro, 0, sizeof ro);
  ro.now = 1700000000;
  epcal_renderer *r;
  if (epcal_renderer_new(&r, &ro, sink_write, &s, &err) != EPCAL_OK) {
    fprintf(stderr, "render: %s\n", err.msg);
    return 1;
  }
  if (epcal_renderer_begin(r, &err) != EPCAL_OK ||
      epcal_renderer_add(r, &ep, &err) != EPCAL_OK ||
      epcal_renderer_end(r, &err) != EPCAL_OK) {
    fprintf(stderr, "render: %s\n", err.msg);
    epcal_renderer_free(r);
    return 1;
  }
  unsigned long events = epcal_renderer_events(r);
  epcal_renderer_free(r);
  epcal_check_stats st;
  if (epcal_feed_check_mem("mem.ics", s.buf, s.len, NULL, NULL, &st, &err) !=
      EPCAL_OK) {
    fprintf(stderr, "check: %s\n", err.msg);
    return 1;
  }
  printf("%s %lu %lu\n", EPCAL_VERSION, events, st.problems);
  return 0;
}
