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

/*
 * Commit in two halves, so that many outputs can share one durability
 * barrier (split output: sync() once instead of an fsync per feed).
 * prepare: compare with the target; when the bytes differ, set the mode,
 * fsync (when `durable`) and close; *changed says whether publish renames.
 * publish: rename over the target (a no-op when unchanged).
 */
epcal_status epcal__output_prepare(epcal_output *o, bool durable,
                                   bool *changed, epcal_error *err);
epcal_status epcal__output_publish(epcal_output *o, bool durable,
                                   epcal_error *err);

#endif
