/* One feed, rendered into memory from its own rows of the catalogue. */
#ifndef EPCAL_SERVE_FEED_H
#define EPCAL_SERVE_FEED_H

#include "buf.h"
#include "catalog.h"

#include "epcal/epcal.h"

/* Per-request rendering choices from the query string, over the server's
 * own (`base`: generate's event and feed options, may be NULL). */
typedef struct serve_feed_extras {
  const epcal_render_options *base;
  bool all_day;             /* all_day=true: every event all-day */
  long alarm_minutes;       /* alarm=N: a reminder N minutes before; -1: none */
  epcal_previous *previous; /* the feed as last served (--state), or NULL */
} serve_feed_extras;

/*
 * The DTSTAMP of a feed whose rows hash to `hash` (serve_catalog_read):
 * a second between 2000-01-01 and 2019-12-31 that the hash picks. The same
 * rows give the same stamp on every instance and at every load; a change
 * of any of the feed's rows gives, almost surely, another one. Never
 * later than the feed's bytes could have been made, never from a clock or
 * a file's time.
 */
int64_t serve_feed_content_stamp(uint64_t hash);

/*
 * Renders one calendar named `calendar_name` of the episodes among `rows`
 * (in input order) that `sel` keeps, appending it to *out. DTSTAMP is
 * `now`, or when `now` < 0 the content stamp of the rows. `read`: the
 * options the data was loaded with. `extras` may be NULL. Returns EPCAL_OK,
 * or the error (EPCAL_ENOMEM when *out's cap is reached).
 */
epcal_status serve_feed_render(const serve_catalog *cat, const serve_rows *rows,
                               const epcal_read_options *read,
                               const epcal_selection *sel,
                               const char *calendar_name, int64_t now,
                               const serve_feed_extras *extras, serve_buf *out,
                               epcal_error *err);

#endif
