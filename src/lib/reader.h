/* Internals of the reader shared with the header and row modules. */
#ifndef EPCAL_READER_H
#define EPCAL_READER_H

#include "epcal/epcal.h"

/*
 * Fills *err with EPCAL_EDATA placed at byte `byte` of field `field` of the
 * record being read (line and character column found from its raw bytes),
 * with a formatted message. Returns EPCAL_EDATA.
 */
epcal_status epcal__reader_fail_at(epcal_reader *r, epcal_error *err,
                                   size_t field, size_t byte, const char *fmt,
                                   ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* The input's name, as messages print it. */
const char *epcal__reader_name(const epcal_reader *r);

/*
 * The cells of the record last returned, back to back, each ending in a
 * NUL: the episode's strings point into them (trimmed in place), so a copy
 * of these *len bytes keeps every one of them without measuring each.
 */
const char *epcal__reader_cells(const epcal_reader *r, size_t *len);

#endif
