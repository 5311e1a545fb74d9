/*
 * check, part one: the physical lines of a feed, judged byte by byte (line
 * ends, length, UTF-8, folding) and unfolded into content lines for the
 * iCalendar checks. No libical here: these are the rules libical's own
 * parser forgives.
 */
#ifndef EPCAL_CHECK_LINES_H
#define EPCAL_CHECK_LINES_H

#include <stdbool.h>
#include <stddef.h>

/* Receives a problem on physical line `line` (0: about the whole feed). */
typedef void (*epcal__report_fn)(void *ctx, unsigned long line,
                                 const char *msg);

/*
 * Receives one unfolded content line without its line end: `text` is
 * NUL-terminated, writable and valid only for the call; `line` is the
 * physical line it starts on.
 */
typedef void (*epcal__content_fn)(void *ctx, unsigned long line, char *text,
                                  size_t len);

/*
 * Scans data[0, len): reports byte-level problems through `report` and hands
 * every content line to `content`, in order. *n_lines (optional) receives
 * the number of physical lines. Returns false only when out of memory.
 */
bool epcal__lines_scan(const char *data, size_t len, epcal__report_fn report,
                       epcal__content_fn content, void *ctx,
                       unsigned long *n_lines);

#endif
