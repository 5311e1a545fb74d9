/*
 * One line per request on standard error, in the Combined Log Format that
 * log tools read. No token ever lands in a log file: the query's `token`
 * value is replaced, so is any `token=` value in the Referer (a page's own
 * links carry the token), and the server's token itself wherever it shows
 * up in the path, Referer or User-Agent. Authorization is never logged.
 */
#ifndef EPCAL_SERVE_ACCESSLOG_H
#define EPCAL_SERVE_ACCESSLOG_H

#include "query.h"

#include <stddef.h>
#include <stdint.h>

typedef struct serve_access {
  const char *client; /* address */
  const char *method;
  const char *path;
  const serve_param *params; /* the query, decoded */
  size_t n_params;
  const char *version;
  int status;
  size_t bytes;           /* body bytes sent */
  const char *referer;    /* may be NULL */
  const char *user_agent; /* may be NULL */
  int64_t time;           /* seconds since the epoch */
  const char *secret;     /* the server's token, or NULL */
} serve_access;

/* Formats the line (without the newline) into out; exposed for tests. */
void serve_access_format(const serve_access *a, char *out, size_t cap);

/* Writes the line to standard error in one write, so lines from several
 * threads never interleave. */
void serve_access_log(const serve_access *a);

#endif
