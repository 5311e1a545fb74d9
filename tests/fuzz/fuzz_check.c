/*
 * libFuzzer target over `epcal check` (the library's feed checker), and,
 * built with EPCAL_FUZZ_MAIN, a driver that runs the same property over
 * files and directories (CTest runs it over tests/check/ and the
 * reproducers in tests/fuzz/check-regressions/ in every build).
 *
 * The property: any bytes are judged without a crash, a leak (ASan) or
 * undefined behaviour (UBSan); every finding has a rule and a line within
 * the feed; the statistics count the findings reported; and the streaming
 * line scanner hands on the same findings and content lines whatever the
 * chunks the feed arrives in.
 */
#include "check/check_lines.h"
#include "epcal/epcal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct tally {
  unsigned long n;
  unsigned long errors;
  unsigned long max_line;
} tally;

static void on_finding(void *ctx, const epcal_finding *f) {
  tally *t = ctx;
  if (f->rule == NULL || f->rule[0] == '\0' || f->msg == NULL ||
      f->file == NULL) {
    abort();
  }
  t->n++;
  t->errors += f->severity == EPCAL_CHECK_ERROR;
  if (f->line > t->max_line) {
    t->max_line = f->line;
  }
}

/* A running digest of everything the scanner hands on. */
typedef struct digest {
  uint64_t h;
  unsigned long items;
} digest;

static void mix(digest *d, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    d->h = (d->h ^ s[i]) * 1099511628211ULL;
  }
}

static void on_report(void *ctx, unsigned long line, const char *rule,
                      epcal_check_severity sev, const char *msg) {
  digest *d = ctx;
  d->items++;
  mix(d, &line, sizeof line);
  mix(d, rule, strlen(rule));
  mix(d, &sev, sizeof sev);
  mix(d, msg, strlen(msg));
}

static void on_content(void *ctx, unsigned long line, char *text, size_t len,
                       size_t full_len) {
  digest *d = ctx;
  d->items++;
  if (strlen(text) > len || len > full_len) {
    abort();
  }
  mix(d, &line, sizeof line);
  mix(d, text, len);
  mix(d, &full_len, sizeof full_len);
}

/* Scans data in pieces of `chunk` octets (0: whole). */
static digest scan(const uint8_t *data, size_t size, size_t chunk) {
  digest d = {1469598103934665603ULL, 0};
  epcal__lines *s = epcal__lines_new(on_report, on_content, &d);
  if (s == NULL) {
    abort();
  }
  /* The checker hands the scanner at least 3 octets first (its first
   * 4096), so a byte-order mark is never split. */
  size_t first = size < 3 ? size : 3;
  if (chunk == 0) {
    chunk = size;
  }
  for (size_t pos = 0, n = first; pos < size; pos += n, n = chunk) {
    if (n > size - pos) {
      n = size - pos;
    }
    if (!epcal__lines_feed(s, (const char *)data + pos, n)) {
      abort();
    }
  }
  unsigned long lines;
  epcal__lines_end(s, &lines);
  mix(&d, &lines, sizeof lines);
  epcal__lines_free(s);
  return d;
}

static void check_chunks(const uint8_t *data, size_t size, size_t chunk) {
  digest whole = scan(data, size, 0);
  digest pieces = scan(data, size, chunk);
  if (whole.h != pieces.h || whole.items != pieces.items) {
    fprintf(stderr, "scanning in %zu-octet chunks differs\n", chunk);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tally t = {0, 0, 0};
  epcal_check_stats st;
  epcal_error err;
  epcal_status status = epcal_feed_check_mem("fuzz.ics", (const char *)data,
                                             size, on_finding, &t, &st, &err);
  if (status == EPCAL_OK) {
    if (st.problems != t.n || st.errors != t.errors || t.max_line > st.lines) {
      fprintf(stderr, "stats %lu/%lu (lines %lu), seen %lu/%lu (line %lu)\n",
              st.problems, st.errors, st.lines, t.n, t.errors, t.max_line);
      abort();
    }
  } else if (status != EPCAL_EDATA || t.n != 0) {
    abort(); /* only "not a feed" may end a check of bytes in memory */
  }
  size_t chunk = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
  check_chunks(data, size, chunk);
  return 0;
}

#ifdef EPCAL_FUZZ_MAIN
#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) {
    perror(path);
    return 1;
  }
  size_t cap = 1 << 16, len = 0, got;
  uint8_t *buf = malloc(cap);
  while (buf != NULL && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) {
      uint8_t *p = realloc(buf, cap * 2);
      if (p == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
      cap *= 2;
    }
  }
  fclose(fp);
  if (buf == NULL) {
    return 1;
  }
  fprintf(stderr, "%s\n", path);
  LLVMFuzzerTestOneInput(buf, len);
  for (size_t chunk = 1; chunk <= 16; chunk++) {
    check_chunks(buf, len, chunk);
  }
  free(buf);
  return 0;
}

/* Files, and the files in directories and their subdirectories. */
static int run_path(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(sb.st_mode)) {
    return run_file(path);
  }
  struct dirent **names;
  int n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    perror(path);
    return 1;
  }
  int bad = 0;
  for (int i = 0; i < n; i++) {
    if (names[i]->d_name[0] != '.') {
      char sub[4096];
      snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
      bad |= run_path(sub);
    }
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv) {
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    bad |= run_path(argv[i]);
  }
  return bad;
}
#endif
