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

/* Runs the inputs of `opts` through read and select, calling emit for each
 * selected episode (and prefetch, when not NULL, ahead of it). Adds to
 * *stats (rows, unscheduled, filtered, skipped, duplicates). */
epcal_status epcal__pipeline_run(const epcal_generate_options *opts,
                                 epcal__emit_fn emit,
                                 epcal__prefetch_fn prefetch, void *emit_ctx,
                                 epcal_generate_stats *stats,
                                 epcal_error *err);

/* Loads a previous feed (into `shared` under `salt`, as a view, when
 * `shared` is not NULL: see previous.h); a damaged one is reported through
 * opts->warn and gives *out = NULL with EPCAL_OK. */
epcal_status epcal__previous_load_or_warn(const epcal_generate_options *opts,
                                          const char *path,
                                          epcal_previous *shared,
                                          uint64_t salt, epcal_previous **out,
                                          epcal_error *err);

/* For tests: how many split feeds are live at once at most (256; see
 * split.c). */
extern unsigned epcal__split_live_max;

#endif
