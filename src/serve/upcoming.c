#include "upcoming.h"

#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct collect {
  serve_upcoming_item *items;
  size_t n, max;
  epcal_date today;
  bool failed;
} collect;

static void item_free(serve_upcoming_item *it) {
  free(it->show);
  free(it->title);
}

/* Keeps the `max` soonest in a sorted array: insertion is O(max), and max
 * is a page's worth, so this is cheaper than sorting all the data. */
static int consider(void *ctx, const epcal_episode *ep) {
  collect *c = ctx;
  if (!ep->scheduled || epcal_date_cmp(ep->date, c->today) < 0) {
    return 0;
  }
  size_t pos = c->n;
  while (pos > 0 && epcal_date_cmp(ep->date, c->items[pos - 1].date) < 0) {
    pos--;
  }
  if (pos >= c->max) {
    return 0;
  }
  serve_upcoming_item it;
  it.show = strdup(ep->show);
  it.title = ep->title != NULL ? strdup(ep->title) : NULL;
  it.season = ep->season;
  it.number = ep->number;
  it.date = ep->date;
  if (it.show == NULL || (ep->title != NULL && it.title == NULL)) {
    item_free(&it);
    c->failed = true;
    return -1;
  }
  if (c->n == c->max) {
    item_free(&c->items[c->n - 1]);
    c->n--;
  }
  memmove(&c->items[pos + 1], &c->items[pos], (c->n - pos) * sizeof *c->items);
  c->items[pos] = it;
  c->n++;
  return 0;
}

int serve_upcoming_collect(const serve_data *src, epcal_date today,
                           size_t max, serve_upcoming *out) {
  serve_upcoming_free(out);
  collect c = {NULL, 0, max, today, false};
  c.items = calloc(max > 0 ? max : 1, sizeof *c.items);
  if (c.items == NULL) {
    return -1;
  }
  /* The date index gives the soonest rows: only they are read back. */
  const serve_catalog *cat = serve_data_catalog(src);
  serve_rows rows = {NULL, 0, 0};
  epcal_error err;
  epcal_status st = EPCAL_OK;
  if (max > 0) {
    st = serve_rows_upcoming(cat, (int32_t)epcal_date_to_days(today), max,
                             &rows) == 0
             ? EPCAL_OK
             : EPCAL_ENOMEM;
  }
  if (st == EPCAL_OK && rows.n > 0) {
    st = serve_catalog_read(cat, rows.ids, rows.n,
                            serve_data_read_options(src), NULL, consider, &c,
                            &err);
  }
  serve_rows_free(&rows);
  if (st != EPCAL_OK || c.failed) {
    serve_upcoming u = {c.items, c.n, 0, today};
    serve_upcoming_free(&u);
    return -1;
  }
  out->items = c.items;
  out->n = c.n;
  out->today = today;
  out->generation = serve_data_generation(src);
  return 0;
}

void serve_upcoming_free(serve_upcoming *u) {
  for (size_t i = 0; i < u->n; i++) {
    item_free(&u->items[i]);
  }
  free(u->items);
  memset(u, 0, sizeof *u);
}
