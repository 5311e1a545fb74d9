/* One CSV record (after the header) -> a typed, validated episode. */
#ifndef EPCAL_ROW_H
#define EPCAL_ROW_H

#include "header.h"

/*
 * Converts the record's cells (cells[i] = data + off[i], len[i] bytes, each
 * NUL-terminated and writable) into *ep, whose strings point into `data`.
 * Fails with EPCAL_EDATA placed at the offending cell. `text_ok`: the
 * record's bytes are known to be valid UTF-8 without NUL, so its cells
 * (pieces of it) need no check of their own.
 */
epcal_status epcal__row_convert(const epcal__place *place,
                                const epcal__header *h, char *data,
                                const size_t *off, const size_t *len, size_t n,
                                bool text_ok, const char *date_format,
                                epcal_episode *ep, epcal_error *err);

/*
 * Reads the optional timing columns (air_time, timezone, runtime, status)
 * from the trimmed cells (NULL when absent or empty) into *e. Fails with
 * EPCAL_EDATA placed at the offending cell (an unknown zone, a malformed
 * time).
 */
epcal_status epcal__row_timing(const epcal__place *place,
                               const epcal__header *h, char *const *cell,
                               epcal_episode *e, epcal_error *err);

#endif
