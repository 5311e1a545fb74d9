/* Internals of epcal_output used by split output, which keeps one temporary
 * file per feed but only a bounded number of them open at once. */
#ifndef EPCAL_OUTPUT_H
#define EPCAL_OUTPUT_H

#include "epcal/epcal.h"

/* Closes the temporary file's descriptor, keeping the file. */
void epcal__output_suspend(epcal_output *o);

/* Reopens a suspended temporary file for appending. Returns false (errno
 * set) on failure. A no-op when it is open. */
bool epcal__output_resume(epcal_output *o);

/* True when the descriptor is open. */
bool epcal__output_is_open(const epcal_output *o);

#endif
