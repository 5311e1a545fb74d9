/*
 * stages: runs part of the pipeline, to see where epcal's time goes.
 *
 *   stages read FILE      read and validate every episode (libcsv + reader)
 *   stages render FILE    ... and render each to a sink that drops the bytes
 *
 * Compared with the floor (libcsv alone) and `epcal generate -o` (which
 * also writes, fsyncs and renames), the differences are the reader's, the
 * renderer's and the output's shares.
 */
#include "epcal/epcal.h"

#include <stdio.h>
#include <string.h>

static unsigned long long sunk;

static int sink(void *ctx, const char *buf, size_t len) {
  (void)ctx;
  (void)buf;
  sunk += len;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 ||
      (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "render") != 0)) {
    fprintf(stderr, "usage: stages read|render FILE\n");
    return 2;
  }
  bool render = strcmp(argv[1], "render") == 0;
  epcal_error err;
  epcal_reader *rd;
  if (epcal_reader_open(&rd, argv[2], NULL, &err) != EPCAL_OK) {
    fprintf(stderr, "stages: %s\n", err.msg);
    return 1;
  }
  epcal_render_options ro;
  memset(&ro, 0, sizeof ro);
  ro.now = 1700000000;
  epcal_renderer *ren = NULL;
  if (render && (epcal_renderer_new(&ren, &ro, sink, NULL, &err) != EPCAL_OK ||
                 epcal_renderer_begin(ren, &err) != EPCAL_OK)) {
    fprintf(stderr, "stages: %s\n", err.msg);
    return 1;
  }
  unsigned long rows = 0;
  for (;;) {
    const epcal_episode *ep;
    if (epcal_reader_next(rd, &ep, &err) != EPCAL_OK) {
      fprintf(stderr, "stages: %lu:%lu: %s\n", err.line, err.column, err.msg);
      return 1;
    }
    if (ep == NULL) {
      break;
    }
    rows++;
    if (ren != NULL && ep->scheduled &&
        epcal_renderer_add(ren, ep, &err) != EPCAL_OK) {
      fprintf(stderr, "stages: %s\n", err.msg);
      return 1;
    }
  }
  if (ren != NULL && epcal_renderer_end(ren, &err) != EPCAL_OK) {
    fprintf(stderr, "stages: %s\n", err.msg);
    return 1;
  }
  printf("%lu rows, %llu bytes rendered\n", rows, sunk);
  epcal_renderer_free(ren);
  epcal_reader_free(rd);
  return 0;
}
