/* Internal helpers to fill an epcal_error. */
#ifndef EPCAL_ERROR_H
#define EPCAL_ERROR_H

#include "epcal/epcal.h"

#if defined(__GNUC__)
#define EPCAL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EPCAL__PRINTF(f, a)
#endif

/*
 * Fills *err (when non-NULL) with `code`, the place and a formatted message,
 * and returns `code`, so a failure reads `return epcal__fail(...)`.
 * `file` may be NULL.
 */
epcal_status epcal__fail(epcal_error *err, epcal_status code, const char *file,
                         unsigned long line, unsigned long column,
                         const char *fmt, ...) EPCAL__PRINTF(6, 7);

#endif
