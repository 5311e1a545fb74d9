/* A progress line on standard error for long runs at a terminal: rows,
 * rows/s and the share of the input read. Never when standard error is not
 * a terminal (cron, pipes), unless asked for. */
#ifndef EPCAL_CLI_PROGRESS_H
#define EPCAL_CLI_PROGRESS_H

#include "epcal/epcal.h"

typedef enum progress_mode {
  PROGRESS_AUTO,   /* a terminal, and the run lasts over a second */
  PROGRESS_ALWAYS, /* even when standard error is not a terminal */
  PROGRESS_NEVER
} progress_mode;

typedef struct progress {
  bool active;
  bool shown;
  uint64_t total_bytes; /* 0: unknown (standard input) */
  double start;
  double last;
} progress;

/* Prepares a progress line for `inputs` (their sizes give the share). */
void progress_init(progress *p, progress_mode mode,
                   const char *const *inputs, size_t n);

/* An epcal_progress_fn. */
void progress_update(void *ctx, unsigned long rows, uint64_t bytes);

/* Clears the line, if one was shown. */
void progress_finish(progress *p);

#endif
