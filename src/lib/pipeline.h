/* The read -> select part of the pipeline, shared by single-feed and split
 * output: it reads every input, drops repeats, applies the filters, and
 * hands each selected episode to an emit function (render). */
#ifndef EPCAL_PIPELINE_H
#define EPCAL_PIPELINE_H

#include "epcal/epcal.h"

typedef epcal_status (*epcal__emit_fn)(void *ctx, const epcal_episode *ep,
                                       epcal_error *err);

/* Told the hash of a derived UID a few rows before its episode is
 * emitted, so the emitter can start loading what it will look up. */
typedef void (*epcal__prefetch_fn)(void *ctx, uint64_t uid_key);

/* Told of a scheduled episode the selection left out, with the hash of
 * its derived UID when the reading thread computed one (else 0). */
typedef void (*epcal__left_out_fn)(void *ctx, const epcal_episode *ep,
                                   uint64_t uid_key);

/* Runs the inputs of `opts` through read and select, calling emit for each
 * selected episode (and prefetch, when not NULL, ahead of it). Adds to
 * *stats (rows, unscheduled, filtered, skipped, duplicates). */
epcal_status epcal__pipeline_run(const epcal_generate_options *opts,
                                 epcal__emit_fn emit,
                                 epcal__prefetch_fn prefetch, void *emit_ctx,
                                 epcal_generate_stats *stats,
                                 epcal_error *err);

/* epcal__pipeline_run(), also calling left_out (when not NULL) for each
 * scheduled episode the filters leave out. */
epcal_status epcal__pipeline_run_with(const epcal_generate_options *opts,
                                      epcal__emit_fn emit,
                                      epcal__prefetch_fn prefetch,
                                      epcal__left_out_fn left_out,
                                      void *emit_ctx,
                                      epcal_generate_stats *stats,
                                      epcal_error *err);

/* The most bytes a previous feed may have for this run's inputs (see
 * generate.c): 32 times their size, at least 64 MiB. */
uint64_t epcal__previous_cap(const epcal_generate_options *opts);

/* Loads a previous feed (into `shared` under `salt`, as a view, when
 * `shared` is not NULL: see previous.h); a damaged one is reported through
 * opts->warn and gives *out = NULL with EPCAL_OK. One larger than `cap`
 * bytes is refused (EPCAL_EDATA), or with opts->shrink.allow not read
 * (*out = NULL, with a warning); anything but a regular file is
 * EPCAL_EUSAGE; a signal (opts->cancel) ends the reading. */
epcal_status epcal__previous_load_or_warn(const epcal_generate_options *opts,
                                          const char *path, uint64_t cap,
                                          epcal_previous *shared,
                                          uint64_t salt, epcal_previous **out,
                                          epcal_error *err);

/* The shrink guard: EPCAL_EDATA, with a message naming `feed` and the
 * counts, when removing `removed` of `previous` events breaks `policy`. */
epcal_status epcal__shrink_check(const epcal_shrink_policy *policy,
                                 const char *feed, unsigned long previous,
                                 unsigned long removed, epcal_error *err);

/* For tests: how many split feeds are live at once at most (256; see
 * split.c). */
extern unsigned epcal__split_live_max;

#endif
