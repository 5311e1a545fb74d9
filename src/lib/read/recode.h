/* read: input in another encoding (Windows-1252, Latin-1 exports from
 * spreadsheet programs) converted to UTF-8 with iconv before parsing. */
#ifndef EPCAL_RECODE_H
#define EPCAL_RECODE_H

#include "epcal/epcal.h"

typedef struct epcal__recode epcal__recode;

/* Wraps `read(ctx)` so that it yields UTF-8 converted from `encoding`.
 * Returns NULL (errno set; EINVAL for an encoding iconv does not know). */
epcal__recode *epcal__recode_new(const char *encoding, epcal_read_fn read,
                                 void *ctx);

/* Makes the wrapper read a copy of bytes[0, n) before the source: input
 * read before its encoding was known (a UTF-16 byte-order mark). False when
 * out of memory. */
bool epcal__recode_prepend(epcal__recode *r, const char *bytes, size_t n);

/* An epcal_read_fn over the wrapper. On bytes that are not valid in the
 * source encoding it returns -1 with errno EILSEQ. */
long epcal__recode_read(void *ctx, char *buf, size_t cap);

void epcal__recode_free(epcal__recode *r);

#endif
