/*
 * Split output finishes a feed once others have been written since, and
 * reopens it when the input comes back to it. Whatever the order of the
 * rows, the directory must be byte for byte the one the same rows grouped
 * by feed give, first run and rerun alike (with episodes changed, added
 * and removed since the previous run), and the statistics must agree.
 * Random scenarios, with at most one to three feeds live, so that feeds
 * are finished and reopened over and over; some episodes have a time and
 * a zone, so reopened feeds must keep their VTIMEZONEs.
 */
#define _DEFAULT_SOURCE /* mkdtemp, nftw */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epcal/epcal.h"
#include "pipeline.h"

static char root[64];

static uint32_t rnd_state;
static uint32_t rnd(uint32_t n) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (rnd_state >> 8) % n;
}

/* One episode row of a feed. */
typedef struct row {
  int feed;
  int number;
  char text[160];
} row;

#define MAX_ROWS 120

static void write_csv(const char *path, const row *rows, const int *order,
                      int n) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("show,season,episode,title,air_date,air_time,timezone\n", f);
  for (int i = 0; i < n; i++) {
    fputs(rows[order[i]].text, f);
  }
  assert_int_equal(fclose(f), 0);
}

static epcal_status split(const char *csv, const char *dir, unsigned live_max,
                          epcal_generate_stats *stats) {
  const char *inputs[] = {csv};
  epcal_generate_options g;
  memset(&g, 0, sizeof g);
  g.inputs = inputs;
  g.n_inputs = 1;
  g.render.now = 1700000000;
  epcal_split_options so;
  memset(&so, 0, sizeof so);
  so.by = EPCAL_SPLIT_SEASON;
  so.dir = dir;
  epcal__split_live_max = live_max;
  epcal_error err;
  epcal_status st = epcal_generate_split(&g, &so, stats, &err);
  epcal__split_live_max = 256;
  if (st != EPCAL_OK) {
    fprintf(stderr, "%s:%lu: %s\n", err.file, err.line, err.msg);
  }
  return st;
}

/* Compares every file below `a` with the one below `b`, and the count. */
static const char *cmp_other;
static size_t cmp_files;
static int compare_one(const char *path, const struct stat *st, int type,
                       struct FTW *ftw) {
  (void)ftw;
  if (type != FTW_F) {
    return 0;
  }
  cmp_files++;
  const char *rel = strchr(path + strlen(root) + 1, '/');
  char other[512];
  snprintf(other, sizeof other, "%s%s", cmp_other, rel);
  FILE *x = fopen(path, "rb"), *y = fopen(other, "rb");
  if (y == NULL) {
    fprintf(stderr, "missing: %s\n", other);
  }
  assert_non_null(x);
  assert_non_null(y);
  char *bx = malloc((size_t)st->st_size + 1), *by = malloc((size_t)st->st_size + 1);
  size_t nx = fread(bx, 1, (size_t)st->st_size + 1, x);
  size_t ny = fread(by, 1, (size_t)st->st_size + 1, y);
  if (nx != ny || memcmp(bx, by, nx) != 0) {
    fprintf(stderr, "differ: %s %s\n", path, other);
  }
  assert_int_equal(nx, ny);
  assert_memory_equal(bx, by, nx);
  free(bx);
  free(by);
  fclose(x);
  fclose(y);
  return 0;
}

static size_t count_files(const char *dir);
static size_t counted;
static int count_one(const char *path, const struct stat *st, int type,
                     struct FTW *ftw) {
  (void)path;
  (void)st;
  (void)ftw;
  counted += type == FTW_F;
  return 0;
}

static size_t count_files(const char *dir) {
  counted = 0;
  nftw(dir, count_one, 8, FTW_PHYS);
  return counted;
}

static void assert_same_tree(const char *a, const char *b) {
  cmp_other = b;
  cmp_files = 0;
  assert_int_equal(nftw(a, compare_one, 8, FTW_PHYS), 0);
  assert_true(cmp_files > 0);
  assert_int_equal(count_files(b), cmp_files);
}

static int remove_one(const char *path, const struct stat *st, int type,
                      struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

static const char *const zones[] = {"Europe/Paris", "Asia/Tokyo",
                                    "America/New_York"};

/* The rows of `feeds` feeds: episodes 1..m each, in feed order. Each
 * version leaves out some episodes (so a rerun finds some new and some
 * removed), and version 1 (the previous run) has other titles for some. */
static int make_rows(row *rows, int feeds, const int *episodes, int version) {
  int n = 0;
  for (int f = 0; f < feeds; f++) {
    for (int e = 1; e <= episodes[f]; e++) {
      uint32_t h = (uint32_t)(f * 131 + e * 17) * 2654435761u;
      if ((version == 1 && (h >> 27) % 5 == 0) ||
          (version == 0 && (h >> 25) % 7 == 3)) {
        continue;
      }
      row *r = &rows[n++];
      r->feed = f;
      r->number = e;
      char time[48] = ",";
      if ((h >> 20) % 3 == 0) {
        snprintf(time, sizeof time, "%02u:30,%s", (h >> 8) % 24,
                 zones[(h >> 4) % 3]);
      }
      const char *title = version == 1 && (h >> 24) % 4 == 0 ? "Old" : "T";
      snprintf(r->text, sizeof r->text, "Show %c,%d,%d,%s %d,2024-%02u-%02u,%s\n",
               'A' + f % 3, 1 + f / 3, e, title, e, 1 + (h >> 12) % 12,
               1 + (h >> 16) % 28, time);
    }
  }
  return n;
}

/* A random order that keeps each feed's rows in their order. */
static void interleave(const row *rows, int n, int *order) {
  int next[MAX_ROWS];
  int feeds = 0;
  for (int i = 0; i < n; i++) {
    feeds = rows[i].feed + 1 > feeds ? rows[i].feed + 1 : feeds;
  }
  int start[16] = {0}, end[16] = {0}; /* a feed without rows: 0, 0 */
  for (int i = n - 1; i >= 0; i--) {
    start[rows[i].feed] = i;
  }
  for (int i = 0; i < n; i++) {
    end[rows[i].feed] = i + 1;
  }
  for (int f = 0; f < feeds; f++) {
    next[f] = start[f];
  }
  for (int k = 0; k < n; k++) {
    int f;
    do {
      f = (int)rnd((uint32_t)feeds);
    } while (next[f] >= end[f]);
    order[k] = next[f]++;
  }
}

static void any_order_gives_the_grouped_bytes(void **state) {
  (void)state;
  setenv("TZ", "UTC", 1);
  strcpy(root, "/tmp/epcal-split-XXXXXX");
  assert_non_null(mkdtemp(root));
  rnd_state = 2024;
  row prev_rows[MAX_ROWS], rows[MAX_ROWS];
  int grouped[MAX_ROWS], mixed[MAX_ROWS];
  char csv[128], dir_g[128], dir_i[128];
  int reruns_with_removed = 0;
  for (int scenario = 0; scenario < 60; scenario++) {
    int feeds = 1 + (int)rnd(12);
    int episodes[16];
    for (int f = 0; f < feeds; f++) {
      episodes[f] = 1 + (int)rnd(9);
    }
    unsigned live = 1 + rnd(3);
    snprintf(csv, sizeof csv, "%s/in.csv", root);
    snprintf(dir_g, sizeof dir_g, "%s/g", root);
    snprintf(dir_i, sizeof dir_i, "%s/i", root);
    /* A previous run of older rows, grouped, into both directories. */
    bool rerun = scenario % 2 == 1;
    if (rerun) {
      int n = make_rows(prev_rows, feeds, episodes, 1);
      for (int i = 0; i < n; i++) {
        grouped[i] = i;
      }
      write_csv(csv, prev_rows, grouped, n);
      epcal_generate_stats st;
      assert_int_equal(split(csv, dir_g, 256, &st), EPCAL_OK);
      assert_int_equal(split(csv, dir_i, 256, &st), EPCAL_OK);
    }
    int n = make_rows(rows, feeds, episodes, 0);
    for (int i = 0; i < n; i++) {
      grouped[i] = i;
    }
    interleave(rows, n, mixed);
    epcal_generate_stats sg, si;
    write_csv(csv, rows, grouped, n);
    assert_int_equal(split(csv, dir_g, 256, &sg), EPCAL_OK);
    write_csv(csv, rows, mixed, n);
    assert_int_equal(split(csv, dir_i, live, &si), EPCAL_OK);
    unlink(csv);
    assert_same_tree(dir_g, dir_i);
    assert_int_equal(si.events, sg.events);
    assert_int_equal(si.feeds, sg.feeds);
    assert_int_equal(si.feeds_changed, sg.feeds_changed);
    assert_int_equal(si.removed, sg.removed);
    assert_memory_equal(&si.counts, &sg.counts, sizeof si.counts);
    if (rerun) {
      assert_true(sg.counts.unchanged > 0);
      reruns_with_removed += sg.removed > 0;
    }
    nftw(dir_g, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    nftw(dir_i, remove_one, 8, FTW_DEPTH | FTW_PHYS);
  }
  nftw(root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
  assert_true(reruns_with_removed > 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(any_order_gives_the_grouped_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
