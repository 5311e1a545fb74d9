/* gzip (RFC 1952) with zlib, for clients that send Accept-Encoding: gzip. */
#ifndef EPCAL_SERVE_GZIP_H
#define EPCAL_SERVE_GZIP_H

#include <stddef.h>

/* Compresses `len` bytes of `in` into a new buffer (*out, caller frees).
 * Returns 0, or -1 when out of memory or zlib fails. */
int serve_gzip(const char *in, size_t len, char **out, size_t *out_len);

/* True when an Accept-Encoding header value accepts gzip: it names "gzip"
 * (or "x-gzip", or "*") without "q=0". NULL accepts nothing. */
int serve_gzip_accepted(const char *accept_encoding);

#endif
