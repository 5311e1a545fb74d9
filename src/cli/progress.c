#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DELAY 1.0     /* seconds before the first line */
#define INTERVAL 0.25 /* seconds between updates */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(progress *p, progress_mode mode,
                   const char *const *inputs, size_t n) {
  memset(p, 0, sizeof *p);
  p->active = mode == PROGRESS_ALWAYS ||
              (mode == PROGRESS_AUTO && isatty(STDERR_FILENO));
  p->start = now_seconds();
  p->last = p->start;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (strcmp(inputs[i], "-") == 0 || stat(inputs[i], &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      p->total_bytes = 0;
      return;
    }
    p->total_bytes += (uint64_t)st.st_size;
  }
}

void progress_update(void *ctx, unsigned long rows, uint64_t bytes) {
  progress *p = ctx;
  if (!p->active) {
    return;
  }
  double t = now_seconds();
  if (t - p->start < DELAY || t - p->last < INTERVAL) {
    return;
  }
  p->last = t;
  p->shown = true;
  double rate = (double)rows / (t - p->start);
  if (p->total_bytes > 0) {
    fprintf(stderr, "\repcal: %lu rows, %.0f rows/s, %.0f%% of input\033[K",
            rows, rate, 100.0 * (double)bytes / (double)p->total_bytes);
  } else {
    fprintf(stderr, "\repcal: %lu rows, %.0f rows/s\033[K", rows, rate);
  }
  fflush(stderr);
}

void progress_finish(progress *p) {
  if (p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
}
