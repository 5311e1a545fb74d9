/* Internals of the reader shared with the read-ahead thread. */
#ifndef EPCAL_READER_H
#define EPCAL_READER_H

#include "epcal/epcal.h"

/* The input's name, as messages print it. */
const char *epcal__reader_name(const epcal_reader *r);

/*
 * The cells of the record last returned, back to back, each ending in a
 * NUL: the episode's strings point into them (trimmed in place), so a copy
 * of these *len bytes keeps every one of them without measuring each.
 */
const char *epcal__reader_cells(const epcal_reader *r, size_t *len);

#endif
