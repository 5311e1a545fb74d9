/* select: which episode ends each season (for --finales-only). A season's
 * finale is its highest episode number in the input, so this needs a pass
 * over all inputs before the first event is written. */
#ifndef EPCAL_FINALES_H
#define EPCAL_FINALES_H

#include "epcal/epcal.h"

typedef struct epcal__finales epcal__finales;

/* Reads every input (not standard input) and records the last episode of
 * each season. Invalid rows are ignored here: the main pass reports them. */
epcal_status epcal__finales_scan(epcal__finales **out,
                                 const char *const *inputs, size_t n,
                                 const epcal_read_options *ro,
                                 epcal_error *err);

/* True when ep is the last episode of its season. */
bool epcal__finales_has(const epcal__finales *f, const epcal_episode *ep);

void epcal__finales_free(epcal__finales *f);

#endif
