/* Conditional requests (RFC 9110 section 13): If-None-Match and
 * If-Modified-Since, so a calendar app that already has the feed gets a 304
 * without a body. */
#ifndef EPCAL_SERVE_CONDITIONAL_H
#define EPCAL_SERVE_CONDITIONAL_H

#include <stdbool.h>
#include <stdint.h>

/* True when the If-None-Match value `header` ("*", or a list of entity
 * tags, weak or strong) matches `etag` or `etag2` (either may be NULL) by
 * the weak comparison that If-None-Match uses. */
bool serve_etag_matches(const char *header, const char *etag,
                        const char *etag2);

/* Whether a request with these headers (either may be NULL) for a
 * representation with these validators gets 304: If-None-Match decides
 * when present; otherwise If-Modified-Since, when it parses, and the
 * representation is not newer. */
bool serve_not_modified(const char *if_none_match,
                        const char *if_modified_since, const char *etag,
                        const char *etag2, int64_t last_modified);

#endif
