/* Dates for HTTP headers and for query windows ("the last 7 days"); the
 * calendar arithmetic itself is the library's (epcal_date_*). */
#ifndef EPCAL_SERVE_TIMEUTIL_H
#define EPCAL_SERVE_TIMEUTIL_H

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stdint.h>

/* The date `t` (seconds since the epoch) falls on in the local time zone. */
epcal_date serve_local_date(int64_t t);

/* Formats `t` as an HTTP date (IMF-fixdate, RFC 9110 section 5.6.7):
 * "Sun, 06 Nov 1994 08:49:37 GMT". `out` holds at least 30 bytes. */
void serve_http_date_format(int64_t t, char out[30]);

/* Parses an HTTP date in any of the three forms RFC 9110 asks recipients
 * to accept (IMF-fixdate, RFC 850, asctime). Returns false when `s` is not
 * one: an unparsable If-Modified-Since is ignored, as the RFC says. */
bool serve_http_date_parse(const char *s, int64_t *out);

/* Milliseconds of a monotonic clock, for "at most once a second". */
int64_t serve_monotonic_ms(void);

#endif
