/*
 * gen: writes a deterministic, realistic episode CSV of N rows.
 *
 *   gen ROWS [FILE]     (standard output when FILE is absent or "-")
 *
 * The same ROWS always give the same bytes (see episodes.h for the shape).
 */
#include "episodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: gen ROWS [FILE]\n");
    return 2;
  }
  char *end;
  unsigned long rows = strtoul(argv[1], &end, 10);
  if (*end != '\0') {
    fprintf(stderr, "gen: ROWS must be a number\n");
    return 2;
  }
  FILE *fp = stdout;
  if (argc == 3 && strcmp(argv[2], "-") != 0) {
    fp = fopen(argv[2], "wb");
    if (fp == NULL) {
      perror(argv[2]);
      return 1;
    }
  }
  static char out[1 << 20];
  static char row[EPISODES_ROW_MAX];
  size_t len = episodes_header(out);
  for (unsigned long i = 0; i < rows; i++) {
    size_t n = episodes_row(i, row);
    if (len + n > sizeof out) {
      fwrite(out, 1, len, fp);
      len = 0;
    }
    memcpy(out + len, row, n);
    len += n;
  }
  fwrite(out, 1, len, fp);
  if (fflush(fp) != 0 || ferror(fp) || (fp != stdout && fclose(fp) != 0)) {
    perror("gen");
    return 1;
  }
  return 0;
}
