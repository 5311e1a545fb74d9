/* Maps a CSV header row to episode fields: names are matched
 * case-insensitively, ignoring spaces, '_', '-', '.' and qualifiers in
 * parentheses or brackets, with aliases; --column names any other. */
#ifndef EPCAL_HEADER_H
#define EPCAL_HEADER_H

#include "epcal/epcal.h"
#include "place.h"

typedef enum epcal__field {
  EPCAL__F_SHOW,
  EPCAL__F_SEASON,
  EPCAL__F_EPISODE,
  EPCAL__F_CODE,
  EPCAL__F_DATE,
  EPCAL__F_TITLE,
  EPCAL__F_DESCRIPTION,
  EPCAL__F_URL,
  EPCAL__F_NETWORK,
  EPCAL__F_UID,
  EPCAL__F_AIR_TIME,
  EPCAL__F_TIMEZONE,
  EPCAL__F_RUNTIME,
  EPCAL__F_STATUS,
  EPCAL__F_COUNT
} epcal__field;

/* The canonical name of a field, as messages print it. */
const char *epcal__field_name(epcal__field f);

/* Which column holds each field (-1: absent), from a header row. */
typedef struct epcal__header {
  int col[EPCAL__F_COUNT];
  size_t n_columns;
} epcal__header;

/*
 * Maps the header row (cells[i] = data + off[i], len[i] bytes) onto *h,
 * with the explicit names of opts->columns first (opts may be NULL). A
 * missing show column is no error when opts->default_show gives the show.
 * Fails with EPCAL_EDATA, placed at the offending cell, when required
 * columns are missing (all of them named in one message), an explicit name
 * is not in the header, or two columns mean the same field.
 */
epcal_status epcal__header_map(epcal__header *h, const epcal__place *place,
                               const epcal_read_options *opts, const char *data,
                               const size_t *off, const size_t *len, size_t n,
                               epcal_error *err);

/*
 * Which field a header cell names, or -1 when it is unknown (and ignored).
 * `len` is the cell's length in bytes.
 */
int epcal__field_lookup(const char *cell, size_t len);

#endif
