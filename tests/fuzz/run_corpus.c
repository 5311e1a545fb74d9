/*
 * Runs the fuzz property over files, without libFuzzer: every file of the
 * seed corpus and every minimised reproducer is checked in every build.
 * Each file is read in the chunk size its first byte chooses and in every
 * size from 1 to 16 bytes, where boundaries fall on every byte of a BOM,
 * a CRLF or a UTF-8 character.
 *
 * Usage: run_corpus FILE-OR-DIRECTORY...
 * (a few large inputs made in memory are checked first)
 */
#include "property.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int check_file(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    perror(path);
    return 1;
  }
  size_t cap = 4096, len = 0;
  unsigned char *data = malloc(cap);
  size_t got;
  while (data != NULL && (got = fread(data + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) {
      unsigned char *p = realloc(data, cap * 2);
      if (p == NULL) {
        free(data);
        data = NULL;
        break;
      }
      data = p;
      cap *= 2;
    }
  }
  fclose(fp);
  if (data == NULL) {
    fprintf(stderr, "%s: out of memory\n", path);
    return 1;
  }
  /* Printed first, so that an abort names the file. */
  fprintf(stderr, "%s\n", path);
  fuzz_check_input(data, len);
  for (size_t chunk = 1; chunk <= 16; chunk++) {
    fuzz_check_input_chunked(data, len, chunk);
  }
  free(data);
  return 0;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks every regular file in `dir`, in name order. */
static int check_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    perror(dir);
    return 1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    if (n == cap) {
      cap = cap != 0 ? cap * 2 : 64;
      char **p = realloc(names, cap * sizeof *p);
      if (p == NULL) {
        break;
      }
      names = p;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (names[n] == NULL) {
      break;
    }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n > 0) {
    qsort(names, n, sizeof *names, compare_names);
  }
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      failed |= check_file(names[i]);
    }
    free(names[i]);
  }
  free(names);
  return failed;
}

/*
 * Fields around the reader's 1 MiB limit, made here rather than kept in the
 * corpus (and too long for the fuzzer's -max_len): quoted or not, closed or
 * not, with blanks after them that libcsv trims, and a header whose quote
 * never closes. Whether a field is refused must not depend on where the
 * reads end.
 */
static void check_generated(void) {
  static const char *const cases[][2] = {
      {"00show,season,episode,date,title\nA,1,1,2022-01-01,\"",
       "\"\nA,1,2,2022-01-02,fine\n"},
      {"00show,season,episode,date,title\nA,1,1,2022-01-01,\"",
       "\"   \nA,1,2,2022-01-02,fine\n"},
      {"00show,season,episode,date,title\nA,1,1,2022-01-01,",
       "   \nA,1,2,2022-01-02,fine\n"},
      {"00show,season,episode,date,title\nA,1,1,2022-01-01,\"",
       "\nA,1,2,2022-01-02,fine\n"},
      {"00\"", ";\r\nshow;season;episode;date\n"},
  };
  /* Each check also reads in one piece and renders: one chunk size per
   * input keeps this to seconds under the sanitizers. */
  static const size_t chunks[] = {31};
  const size_t limit = 1024 * 1024;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    for (size_t fill = limit; fill <= limit + 1; fill++) {
      size_t a = strlen(cases[k][0]), b = strlen(cases[k][1]);
      unsigned char *data = malloc(a + fill + b);
      if (data == NULL) {
        abort();
      }
      memcpy(data, cases[k][0], a);
      memset(data + a, 'x', fill);
      memcpy(data + a + fill, cases[k][1], b);
      fprintf(stderr, "generated case %zu, %zu bytes\n", k + 1, fill);
      for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        fuzz_check_input_chunked(data, a + fill + b, chunks[c]);
      }
      free(data);
    }
  }
}

int main(int argc, char **argv) {
  int failed = 0;
  check_generated();
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      failed = 1;
    } else if (S_ISDIR(st.st_mode)) {
      failed |= check_dir(argv[i]);
    } else {
      failed |= check_file(argv[i]);
    }
  }
  return failed;
}
