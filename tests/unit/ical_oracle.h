/* libical as an independent judge of bytes epcal wrote. */
#ifndef EPCAL_TEST_ICAL_ORACLE_H
#define EPCAL_TEST_ICAL_ORACLE_H

#include <libical/ical.h>
#include <stddef.h>

/* A growable memory sink, usable as an epcal_write_fn context. */
typedef struct membuf {
  char *data;
  size_t len;
  size_t cap;
} membuf;

int membuf_write(void *ctx, const char *buf, size_t len);
/* NUL-terminates and returns data (owned by the membuf). */
const char *membuf_str(membuf *m);
void membuf_free(membuf *m);

/*
 * Parses `text` with libical; fails the test (cmocka) when it does not give
 * exactly one component or holds any X-LIC-ERROR. Caller frees with
 * icalcomponent_free().
 */
icalcomponent *oracle_parse(const char *text);

/*
 * Checks RFC 5545 line syntax of `text`: every physical line ends in CRLF,
 * is at most 75 octets, and no fold splits a UTF-8 character. Fails the
 * test otherwise.
 */
void oracle_check_lines(const char *text, size_t len);

#endif
