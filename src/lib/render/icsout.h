/*
 * iCalendar content lines, written directly: TEXT escaping, URI encoding and
 * folding at 75 octets (never inside a UTF-8 character or an escape pair),
 * CRLF line ends. Bytes collect in a fixed buffer handed to a write function
 * whenever it fills, so memory does not grow with the output.
 *
 * This is the hot path of render. libical's serialiser is the oracle the
 * tests compare it with (see tests/unit), not the producer: in 3.0.x it is
 * slow and corrupts CRLF when the last folded segment is 73-74 octets.
 */
#ifndef EPCAL_ICSOUT_H
#define EPCAL_ICSOUT_H

#include "epcal/epcal.h"

#define EPCAL__FOLD_OCTETS 75

typedef struct epcal__icsout {
  epcal_write_fn write;
  void *ctx;
  char *buf;
  size_t len;
  size_t cap;
  size_t col;  /* octets on the current physical line */
  bool failed; /* a write failed: everything after is dropped */
  int saved_errno;
} epcal__icsout;

/* Sets up *o with a buffer of `cap` bytes (at least 256). Returns false on
 * allocation failure. */
bool epcal__icsout_init(epcal__icsout *o, size_t cap, epcal_write_fn write,
                        void *ctx);

/* Frees the buffer (does not flush). */
void epcal__icsout_free(epcal__icsout *o);

/* Hands buffered bytes to the write function. Returns false if any write
 * has failed (errno is restored to the failure's). */
bool epcal__icsout_flush(epcal__icsout *o);

/* Starts a content line with `name` (and parameters, e.g.
 * "DTSTART;VALUE=DATE"): writes it and the ':' separator. */
void epcal__icsout_begin(epcal__icsout *o, const char *name);

/* Appends bytes that need no escaping (dates, numbers, ASCII constants). */
void epcal__icsout_raw(epcal__icsout *o, const char *s, size_t n);

/* Appends s[0, n) as an RFC 5545 TEXT value: '\\' ';' ',' escaped, '\n' as
 * "\\n", '\r' and other control characters except TAB dropped. */
void epcal__icsout_text(epcal__icsout *o, const char *s, size_t n);

/* Escapes s[0, n) as TEXT into dst (room for 2 * n bytes), without folding.
 * Returns the escaped length. */
size_t epcal__text_escape(const char *s, size_t n, char *dst);

/* Like epcal__icsout_text(), but every run of blanks (space, TAB, line
 * breaks) becomes one space, and blanks at either end are dropped (control
 * characters are dropped first): for one-line values such as SUMMARY. */
void epcal__icsout_text_line(epcal__icsout *o, const char *s, size_t n);

/* Appends s[0, n) as a URI: bytes not allowed in a URI (blanks, controls,
 * non-ASCII, "<>\\^`{|}) are percent-encoded. */
void epcal__icsout_uri(epcal__icsout *o, const char *s, size_t n);

/* Ends the content line with CRLF. */
void epcal__icsout_end(epcal__icsout *o);

/* Appends bytes already formatted as content lines (folded, CRLF-ended),
 * such as an event body rendered elsewhere. */
void epcal__icsout_bytes(epcal__icsout *o, const char *s, size_t n);

/* A whole line of constant text ("BEGIN:VEVENT"): no escaping. */
void epcal__icsout_line(epcal__icsout *o, const char *text);

#endif
