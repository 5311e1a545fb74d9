/* Internals of the reader shared with the read-ahead thread. */
#ifndef EPCAL_READER_H
#define EPCAL_READER_H

#include "epcal/epcal.h"
#include "row.h"

/* Tells the reader what the renderer will make of timed rows, so that it
 * refuses, at their place, rows whose events would leave the years 0001 to
 * 9999. Call before the first row. */
void epcal__reader_set_rules(epcal_reader *r, const epcal__event_rules *rules);

/* The input's name, as messages print it. */
const char *epcal__reader_name(const epcal_reader *r);

/*
 * The cells of the record last returned, back to back, each ending in a
 * NUL: the episode's strings point into them (trimmed in place), so a copy
 * of these *len bytes keeps every one of them without measuring each.
 */
const char *epcal__reader_cells(const epcal_reader *r, size_t *len);

#endif
