/* One feed, rendered into memory from the loaded data. */
#ifndef EPCAL_SERVE_FEED_H
#define EPCAL_SERVE_FEED_H

#include "buf.h"
#include "source.h"

#include "epcal/epcal.h"

/* Per-request rendering choices from the query string, over the server's
 * own (`base`: generate's event and feed options, may be NULL). */
typedef struct serve_feed_extras {
  const epcal_render_options *base;
  bool all_day;       /* all_day=true: every event all-day */
  long alarm_minutes; /* alarm=N: a reminder N minutes before; -1: none */
  epcal_previous *previous; /* the feed as last served (--state), or NULL */
} serve_feed_extras;

/* Renders one calendar named `calendar_name` of the episodes of `src` that
 * `sel` keeps, with DTSTAMP `now` and `extras` (NULL: none), appending it to
 * *out. Returns EPCAL_OK, or the error (EPCAL_ENOMEM when *out's cap is
 * reached). */
epcal_status serve_feed_render(const serve_data *src,
                               const epcal_selection *sel,
                               const char *calendar_name, int64_t now,
                               const serve_feed_extras *extras,
                               serve_buf *out, epcal_error *err);

#endif
