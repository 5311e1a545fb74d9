/* One feed, rendered into memory from the loaded data. */
#ifndef EPCAL_SERVE_FEED_H
#define EPCAL_SERVE_FEED_H

#include "buf.h"
#include "source.h"

#include "epcal/epcal.h"

/* Renders one calendar named `calendar_name` of the episodes of `src` that
 * `sel` keeps, with DTSTAMP `now`, appending it to *out. Returns EPCAL_OK, or
 * the error (EPCAL_ENOMEM when *out's cap is reached). */
epcal_status serve_feed_render(const serve_source *src,
                               const epcal_selection *sel,
                               const char *calendar_name, int64_t now,
                               serve_buf *out, epcal_error *err);

#endif
