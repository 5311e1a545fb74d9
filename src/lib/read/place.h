/*
 * Where the record being converted came from. The header and row modules
 * place their errors through it without knowing the reader that drives
 * them: the reader fills it in, they call epcal__place_fail().
 */
#ifndef EPCAL_PLACE_H
#define EPCAL_PLACE_H

#include "epcal/epcal.h"

typedef struct epcal__place {
  /* Fills *err (not NULL) with EPCAL_EDATA and `msg`, placed at byte
   * `byte` of field `field` of the record; returns EPCAL_EDATA. */
  epcal_status (*fail_at)(const void *ctx, epcal_error *err, size_t field,
                          size_t byte, const char *msg);
  const void *ctx;
} epcal__place;

/*
 * Formats a message and reports it through p->fail_at: EPCAL_EDATA placed
 * at byte `byte` of field `field`. Returns EPCAL_EDATA (err may be NULL).
 */
epcal_status epcal__place_fail(const epcal__place *p, epcal_error *err,
                               size_t field, size_t byte, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

#endif
