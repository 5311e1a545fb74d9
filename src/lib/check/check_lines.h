/*
 * check, part one: the physical lines of a feed, judged byte by byte (line
 * ends, length, UTF-8, folding) and unfolded into content lines for the
 * iCalendar checks. No libical here: these are the rules libical's own
 * parser forgives.
 *
 * The scanner is pushed the feed in chunks of any size and keeps only the
 * content line being unfolded, at most EPCAL__CONTENT_CAP octets of it: a
 * longer line is measured, not stored, so neither memory nor the time the
 * later checks take grows with it.
 */
#ifndef EPCAL_CHECK_LINES_H
#define EPCAL_CHECK_LINES_H

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stddef.h>

/* The longest content line (unfolded, without its line end) handed on
 * whole. */
#define EPCAL__CONTENT_CAP ((size_t)1 << 20)

/* Receives a finding on physical line `line` (0: about the whole feed). */
typedef void (*epcal__report_fn)(void *ctx, unsigned long line,
                                 const char *rule, epcal_check_severity sev,
                                 const char *msg);

/*
 * Receives one unfolded content line without its line end: `text` is
 * NUL-terminated, writable and valid only for the call; `line` is the
 * physical line it starts on. `full_len` is the line's real length: when it
 * is larger than `len`, the line was longer than EPCAL__CONTENT_CAP and
 * `text` holds its first `len` octets.
 */
typedef void (*epcal__content_fn)(void *ctx, unsigned long line, char *text,
                                  size_t len, size_t full_len);

typedef struct epcal__lines epcal__lines;

/* A new scanner, or NULL when out of memory. `report` may be NULL (the
 * findings are then dropped: a pass that only collects). */
epcal__lines *epcal__lines_new(epcal__report_fn report,
                               epcal__content_fn content, void *ctx);

/* Scans the next `len` octets of the feed. Returns false only when out of
 * memory. */
bool epcal__lines_feed(epcal__lines *s, const char *data, size_t len);

/* Ends the feed: hands on the last content line and reports what only the
 * end tells. *n_lines (optional) receives the number of physical lines.
 * Returns false only when out of memory. */
bool epcal__lines_end(epcal__lines *s, unsigned long *n_lines);

void epcal__lines_free(epcal__lines *s);

#endif
