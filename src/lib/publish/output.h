/* Internals of epcal_output used by split output, which keeps one temporary
 * file per feed but only a bounded number of them open at once. */
#ifndef EPCAL_OUTPUT_H
#define EPCAL_OUTPUT_H

#include "epcal/epcal.h"

/* Closes its descriptors (the temporary file's, if it has one yet, and the
 * target's it compares with), keeping the file. */
void epcal__output_suspend(epcal_output *o);

/* Reopens what suspend closed (the temporary file for appending; the
 * target, checked to be the same file). Returns false (errno set) on
 * failure: ESTALE when the target was replaced, so bytes that matched it
 * are lost. A no-op when it is open. */
bool epcal__output_resume(epcal_output *o);

/* True when it holds a descriptor. */
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

/*
 * A finished split feed that its input comes back to (split output
 * finishes feeds it has not written to for a while, to keep memory
 * small). Opens an output on `target` holding the first `keep` bytes of
 * what was written before: taken from `tmp_path`, the feed's prepared
 * temporary file, or when that is NULL (the feed matched its target and
 * its temporary file was removed) copied from the target, which must still
 * be the file `target_id` (epcal__output_target_id()) names, else it fails
 * with EPCAL_EIO. The new output compares with the target in full when
 * prepared, so an unchanged feed is still found unchanged.
 */
epcal_status epcal__output_continue(epcal_output **out, const char *target,
                                    const char *tmp_path, uint64_t keep,
                                    uint64_t target_id, epcal_error *err);

/* Which file the target was when the output opened (its device, inode,
 * size and modification time, hashed); 0 when there was none. */
uint64_t epcal__output_target_id(const epcal_output *o);

/*
 * Whether `name` (a directory entry) is the shape of the temporary files
 * epcal makes: ".NAME.epcal-XXXXXX.tmp", six letters or digits; with
 * `target_name`, only those of that target.
 */
bool epcal__output_is_temp_name(const char *name, const char *target_name);

/* The six random characters of the temporary file's name (mkstemps'), and
 * the name they make beside `target`: malloc'd, NULL when out of memory.
 * Split output keeps only those six for a feed it has prepared. */
void epcal__output_temp_suffix(const epcal_output *o, char suffix[6]);
char *epcal__output_temp_name(const char *target, const char suffix[6]);

/* The directory of the output's target (and temporary file) was renamed:
 * `target` is its new path, with the same file name. Only for an output
 * that compares with no target. False when out of memory. */
bool epcal__output_moved(epcal_output *o, const char *target);

/* Frees an output whose temporary file has been prepared, leaving that
 * file for the caller to publish (rename it) or remove. */
void epcal__output_free_prepared(epcal_output *o);

#endif
