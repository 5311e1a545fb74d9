/* The pipeline, end to end: read -> select -> render, one row at a time. */
#include "error.h"

#include <string.h>

/* Reads one input to its end, rendering what the selection keeps. */
static epcal_status run_input(const epcal_generate_options *opts,
                              const char *path, epcal_renderer *ren,
                              epcal_generate_stats *stats, epcal_error *err) {
  epcal_reader *rd;
  epcal_status st = epcal_reader_open(&rd, path, &opts->read, err);
  if (st != EPCAL_OK) {
    return st;
  }
  for (;;) {
    const epcal_episode *ep;
    epcal_error row_err;
    st = epcal_reader_next(rd, &ep, &row_err);
    if (st == EPCAL_EDATA && opts->skip_invalid &&
        epcal_reader_columns(rd) > 0) {
      stats->skipped++;
      if (opts->warn != NULL) {
        opts->warn(opts->warn_ctx, &row_err);
      }
      continue;
    }
    if (st != EPCAL_OK) {
      if (err != NULL) {
        *err = row_err;
      }
      break;
    }
    if (ep == NULL) {
      break;
    }
    if (!ep->scheduled) {
      stats->unscheduled++;
      continue;
    }
    if (!epcal_selection_matches(&opts->select, ep)) {
      stats->filtered++;
      continue;
    }
    st = epcal_renderer_add(ren, ep, &row_err);
    if (st == EPCAL_EDATA && opts->skip_invalid) {
      /* Refused before any of its bytes were written (a timed row without
       * a time zone): skip it like a row the reader refused. */
      stats->skipped++;
      if (opts->warn != NULL) {
        opts->warn(opts->warn_ctx, &row_err);
      }
      st = EPCAL_OK;
      continue;
    }
    if (st != EPCAL_OK) {
      if (err != NULL) {
        *err = row_err;
      }
      break;
    }
  }
  stats->rows += epcal_reader_rows(rd);
  epcal_reader_free(rd);
  return st;
}

epcal_status epcal_generate(const epcal_generate_options *opts,
                            epcal_write_fn write, void *ctx,
                            epcal_generate_stats *stats, epcal_error *err) {
  epcal_generate_stats local;
  if (stats == NULL) {
    stats = &local;
  }
  memset(stats, 0, sizeof *stats);
  epcal_renderer *ren;
  epcal_status st = epcal_renderer_new(&ren, &opts->render, write, ctx, err);
  if (st != EPCAL_OK) {
    return st;
  }
  st = epcal_renderer_begin(ren, err);
  static const char *const stdin_only[] = {"-"};
  const char *const *inputs = opts->n_inputs > 0 ? opts->inputs : stdin_only;
  size_t n_inputs = opts->n_inputs > 0 ? opts->n_inputs : 1;
  for (size_t i = 0; i < n_inputs && st == EPCAL_OK; i++) {
    st = run_input(opts, inputs[i], ren, stats, err);
  }
  if (st == EPCAL_OK) {
    st = epcal_renderer_end(ren, err);
  }
  stats->events = epcal_renderer_events(ren);
  epcal_renderer_free(ren);
  return st;
}
