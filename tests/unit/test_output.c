/*
 * Atomic output that compares with the target as bytes come: whatever the
 * target holds, and wherever the first difference falls (inside a write,
 * at a window's edge, past the target's end), the published file must be
 * exactly the bytes written; an unchanged target must not be touched, and
 * no temporary file is even created for it.
 */
#define _GNU_SOURCE /* mknod, makedev, realpath, symlink */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "epcal/epcal.h"
#include "publish/output.h"

#define WINDOW (256 * 1024) /* output.c's comparison window */

static char dir[64];
static char target[128];

static int setup(void **state) {
  (void)state;
  strcpy(dir, "/tmp/epcal-output-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(target, sizeof target, "%s/feed.ics", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.' || strlen(e->d_name) > 2) {
      char p[512];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  rmdir(dir);
  return 0;
}

static void put_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static char *get_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  struct stat st;
  assert_int_equal(fstat(fileno(f), &st), 0);
  char *data = malloc((size_t)st.st_size + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)st.st_size, f), (size_t)st.st_size);
  fclose(f);
  *n = (size_t)st.st_size;
  return data;
}

/* Checks that the target holds exactly data[0, n). */
static void assert_target_holds(const char *data, size_t n) {
  size_t got_n;
  char *got = get_file(target, &got_n);
  assert_int_equal(got_n, n);
  assert_memory_equal(got, data, n);
  free(got);
}

/* The size of the one temporary file in dir (-1 when there is none). */
static long temp_size(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  long size = -1;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, ".feed.ics.", 10) == 0) {
      char p[512];
      struct stat st;
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      assert_int_equal(stat(p, &st), 0);
      size = (long)st.st_size;
    }
  }
  closedir(d);
  return size;
}

/* Deterministic bytes that look a little like a feed. */
static char *content(size_t n, unsigned seed) {
  char *c = malloc(n + 1);
  assert_non_null(c);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    c[i] = (i % 75 == 74) ? '\n' : (char)('A' + (x >> 16) % 26);
  }
  return c;
}

/* Writes data in pieces of `piece` bytes and commits; checks the result. */
static bool publish(const char *data, size_t n, size_t piece) {
  epcal_output *o;
  assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
  for (size_t at = 0; at < n; at += piece) {
    size_t k = n - at < piece ? n - at : piece;
    assert_int_equal(epcal_output_write(o, data + at, k), 0);
  }
  bool changed = false;
  epcal_error err;
  assert_int_equal(epcal_output_commit(o, &changed, &err), EPCAL_OK);
  epcal_output_free(o);
  assert_target_holds(data, n);
  assert_int_equal(temp_size(), -1); /* no temporary file left */
  return changed;
}

static void unchanged_target_is_neither_written_nor_touched(void **state) {
  (void)state;
  size_t n = 3 * WINDOW + 123;
  char *data = content(n, 1);
  assert_true(publish(data, n, 4096)); /* first run: no target */
  struct stat before, after;
  assert_int_equal(stat(target, &before), 0);

  epcal_output *o;
  assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
  assert_int_equal(epcal_output_write(o, data, n), 0);
  /* Matching bytes are not written: not even a temporary file is made. */
  assert_int_equal(temp_size(), -1);
  bool changed = true;
  assert_int_equal(epcal_output_commit(o, &changed, NULL), EPCAL_OK);
  epcal_output_free(o);
  assert_false(changed);
  assert_int_equal(stat(target, &after), 0);
  assert_int_equal(before.st_ino, after.st_ino);
  assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
  assert_int_equal(temp_size(), -1);
  free(data);
}

static void first_difference_anywhere(void **state) {
  (void)state;
  size_t n = 2 * WINDOW + 5000;
  char *old = content(n, 2);
  const size_t at[] = {0,          1,          74,         WINDOW - 1,
                       WINDOW,     WINDOW + 1, 2 * WINDOW, n - 1};
  const size_t pieces[] = {1, 7, 4096, 70000, WINDOW + 3, n};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    for (size_t j = 0; j < sizeof pieces / sizeof pieces[0]; j++) {
      if (pieces[j] == 1 && at[i] < WINDOW) {
        continue; /* byte-sized writes: one position is enough */
      }
      put_file(target, old, n);
      char *now = content(n, 2);
      now[at[i]] = now[at[i]] == 'Z' ? 'Y' : 'Z';
      assert_true(publish(now, n, pieces[j]));
      free(now);
    }
  }
  free(old);
}

static void shorter_and_longer_than_target(void **state) {
  (void)state;
  size_t n = WINDOW + 999;
  char *data = content(n + WINDOW, 3);
  const size_t cuts[] = {0, 1, 1000, WINDOW, n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    put_file(target, data, n);
    assert_true(publish(data, cuts[i], 5000)); /* a prefix of the target */
    put_file(target, data, cuts[i]);
    assert_true(publish(data, n, 5000)); /* the target is a prefix */
  }
  free(data);
}

static void target_replaced_during_the_run(void **state) {
  (void)state;
  size_t n = WINDOW + 77;
  char *data = content(n, 4);
  char *other = content(n, 5);
  put_file(target, data, n);
  epcal_output *o;
  assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
  assert_int_equal(epcal_output_write(o, data, n), 0);
  /* Someone renames another file over the target before the commit: the
   * feed is written in full from the bytes that matched the old file. */
  char side[160];
  snprintf(side, sizeof side, "%s/other", dir);
  put_file(side, other, n);
  assert_int_equal(rename(side, target), 0);
  bool changed = false;
  assert_int_equal(epcal_output_commit(o, &changed, NULL), EPCAL_OK);
  epcal_output_free(o);
  assert_true(changed);
  assert_target_holds(data, n);
  free(data);
  free(other);
}

/* Split output suspends feeds; one whose target is replaced meanwhile
 * cannot be finished and says so. */
static void suspended_feed_whose_target_vanished(void **state) {
  (void)state;
  size_t n = 5000;
  char *data = content(n, 6);
  put_file(target, data, n);
  epcal_output *o;
  assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
  assert_int_equal(epcal_output_write(o, data, 1000), 0);
  epcal__output_suspend(o);
  assert_false(epcal__output_is_open(o));
  assert_true(epcal__output_resume(o)); /* same target: fine */
  assert_int_equal(epcal_output_write(o, data + 1000, 1000), 0);
  epcal__output_suspend(o);
  char side[160];
  snprintf(side, sizeof side, "%s/other", dir);
  put_file(side, data, n); /* same bytes, another file */
  assert_int_equal(rename(side, target), 0);
  assert_false(epcal__output_resume(o));
  assert_int_equal(errno, ESTALE);
  bool changed;
  epcal_error err;
  assert_int_equal(epcal__output_prepare(o, false, &changed, &err), EPCAL_EIO);
  epcal_output_free(o);
  assert_int_equal(temp_size(), -1);
  free(data);
}

/* A split feed finished (prepared) and then continued: from its own
 * temporary file, or, when it matched its target, from the target's bytes
 * (only while the target is the same file). The result is the kept bytes
 * and what follows, and an unchanged result is still found unchanged. */
static void finished_feed_continued(void **state) {
  (void)state;
  size_t n = 3 * WINDOW + 100, keep = WINDOW + 7;
  char *data = content(n, 7);
  epcal_error err;
  bool changed;
  char tmp[6];
  for (int from_target = 0; from_target < 2; from_target++) {
    /* The target holds the whole feed (from_target) or something else. */
    char *other = content(n, 8);
    put_file(target, from_target ? data : other, n);
    epcal_output *o;
    assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
    assert_int_equal(epcal_output_write(o, data, keep), 0);
    assert_int_equal(epcal_output_write(o, "TAIL\r\n", 6), 0);
    assert_int_equal(epcal__output_prepare(o, false, &changed, &err),
                     EPCAL_OK);
    assert_true(changed); /* shorter than the target, or other bytes */
    epcal__output_temp_suffix(o, tmp);
    uint64_t id = epcal__output_target_id(o);
    epcal__output_free_prepared(o);
    char *tmp_path = epcal__output_temp_name(target, tmp);
    assert_non_null(tmp_path);
    if (from_target) {
      /* Say it had matched: its temporary file is gone. */
      assert_int_equal(unlink(tmp_path), 0);
    }
    assert_int_equal(epcal__output_continue(&o, target,
                                            from_target ? NULL : tmp_path,
                                            keep, id, &err),
                     EPCAL_OK);
    assert_int_equal(epcal_output_write(o, data + keep, n - keep), 0);
    assert_int_equal(epcal_output_commit(o, &changed, &err), EPCAL_OK);
    assert_int_equal(changed, !from_target); /* same bytes: untouched */
    epcal_output_free(o);
    assert_target_holds(data, n);
    assert_int_equal(temp_size(), -1);
    free(tmp_path);
    free(other);
  }
  /* The target was replaced meanwhile: its bytes are not ours to keep. */
  put_file(target, data, n);
  epcal_output *o;
  assert_int_equal(epcal_output_open_flags(&o, target, EPCAL_OUTPUT_FORCE, NULL), EPCAL_OK);
  assert_int_equal(epcal_output_write(o, data, n), 0);
  assert_int_equal(epcal__output_prepare(o, false, &changed, &err), EPCAL_OK);
  assert_false(changed);
  uint64_t id = epcal__output_target_id(o);
  epcal__output_free_prepared(o);
  char side[160];
  snprintf(side, sizeof side, "%s/other", dir);
  put_file(side, data, n); /* same bytes, another file */
  assert_int_equal(rename(side, target), 0);
  assert_int_equal(epcal__output_continue(&o, target, NULL, keep, id, &err),
                   EPCAL_EIO);
  assert_null(o);
  assert_int_equal(temp_size(), -1);
  free(data);
}

/* What a path names decides how it is written. */
static void targets_are_classified(void **state) {
  (void)state;
  char p[256], q[256];
  epcal_output_kind kind;
  char *file = NULL;
  epcal_error err;
  /* Nothing there yet: a file, as named. */
  assert_int_equal(epcal_output_resolve(target, &kind, &file, &err), EPCAL_OK);
  assert_int_equal(kind, EPCAL_OUTPUT_FILE);
  assert_string_equal(file, target);
  free(file);
  /* A symlink to nothing yet, through a relative link: its end. */
  snprintf(p, sizeof p, "%s/link.ics", dir);
  assert_int_equal(symlink("feed.ics", p), 0);
  assert_int_equal(epcal_output_resolve(p, &kind, &file, &err), EPCAL_OK);
  assert_int_equal(kind, EPCAL_OUTPUT_FILE);
  assert_string_equal(file, target);
  free(file);
  /* A symlink to a file: the file, replaced in its own directory. */
  put_file(target, "", 0);
  assert_int_equal(epcal_output_resolve(p, &kind, &file, &err), EPCAL_OK);
  assert_int_equal(kind, EPCAL_OUTPUT_FILE);
  char *real = realpath(target, NULL);
  assert_string_equal(file, real);
  free(real);
  free(file);
  /* A FIFO and a character device: streams. */
  snprintf(q, sizeof q, "%s/fifo", dir);
  assert_int_equal(mkfifo(q, 0600), 0);
  assert_int_equal(epcal_output_resolve(q, &kind, &file, &err), EPCAL_OK);
  assert_int_equal(kind, EPCAL_OUTPUT_STREAM);
  free(file);
  /* A directory, and a symlink loop: usage errors. */
  assert_int_equal(epcal_output_resolve(dir, &kind, &file, &err),
                   EPCAL_EUSAGE);
  snprintf(q, sizeof q, "%s/loop", dir);
  assert_int_equal(symlink("loop", q), 0);
  assert_int_equal(epcal_output_resolve(q, &kind, &file, &err),
                   EPCAL_EUSAGE);
  assert_int_equal(epcal_output_resolve("-", &kind, &file, &err), EPCAL_OK);
  assert_int_equal(kind, EPCAL_OUTPUT_STDOUT);
  assert_null(file);
}

/* Opens `target` holding `held` (len bytes) and says how it went. */
static epcal_status open_over(const char *held, size_t len, unsigned flags) {
  put_file(target, held, len);
  epcal_output *o = NULL;
  epcal_error err;
  epcal_status st = epcal_output_open_flags(&o, target, flags, &err);
  if (st == EPCAL_OK) {
    static const char feed[] = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
    assert_int_equal(epcal_output_write(o, feed, sizeof feed - 1), 0);
    assert_int_equal(epcal_output_commit(o, NULL, &err), EPCAL_OK);
  }
  epcal_output_free(o);
  return st;
}

/* Only a feed (or an empty file) is replaced, unless forced. */
static void only_feeds_are_replaced(void **state) {
  (void)state;
  static const char text[] = "show,season\nA,1\n";
  assert_int_equal(open_over(text, sizeof text - 1, 0), EPCAL_EUSAGE);
  assert_target_holds(text, sizeof text - 1);
  assert_int_equal(open_over("BEGIN:VCAL", 10, 0), EPCAL_EUSAGE);
  assert_int_equal(open_over("", 0, 0), EPCAL_OK);
  assert_int_equal(open_over("BEGIN:VCALENDAR\r\n", 17, 0), EPCAL_OK);
  assert_int_equal(open_over("\xEF\xBB\xBF" "begin:vcalendar\n", 19, 0),
                   EPCAL_OK);
  assert_int_equal(open_over(text, sizeof text - 1, EPCAL_OUTPUT_FORCE),
                   EPCAL_OK);
  assert_int_equal(temp_size(), -1);
}

/* A character device is written straight through: it stays a device and
 * nothing is made beside it. (A private node: never the system's.) */
static void device_is_written_through(void **state) {
  (void)state;
  char p[256];
  snprintf(p, sizeof p, "%s/null", dir);
  if (mknod(p, S_IFCHR | 0600, makedev(1, 3)) != 0) {
    skip(); /* not allowed here */
  }
  epcal_output *o = NULL;
  epcal_error err;
  assert_int_equal(epcal_output_open(&o, p, &err), EPCAL_OK);
  assert_int_equal(epcal_output_write(o, "BEGIN:VCALENDAR\r\n", 17), 0);
  assert_int_equal(epcal_output_commit(o, NULL, &err), EPCAL_OK);
  epcal_output_free(o);
  struct stat st;
  assert_int_equal(lstat(p, &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  }
  closedir(d);
  assert_int_equal(n, 1);
}

/* Stale temporary files are recognised by their whole shape: nothing a
 * person names a file matches it. */
static void temporary_names_have_one_shape(void **state) {
  (void)state;
  assert_true(
      epcal__output_is_temp_name(".feed.ics.epcal-Ab12Cd.tmp", "feed.ics"));
  assert_true(epcal__output_is_temp_name(".feed.ics.epcal-Ab12Cd.tmp", NULL));
  assert_false(
      epcal__output_is_temp_name(".feed.ics.epcal-Ab12Cd.tmp", "feed"));
  assert_false(
      epcal__output_is_temp_name(".feed.ics.epcal-Ab12Cd.tmp", "other.ics"));
  static const char *const not_ours[] = {".feed.ics.backup",
                                         ".feed.ics.Ab12Cd",
                                         ".feed.ics.epcal-Ab12C.tmp",
                                         ".feed.ics.epcal-Ab12Cde.tmp",
                                         ".feed.ics.epcal-Ab_2Cd.tmp",
                                         "feed.ics.epcal-Ab12Cd.tmp",
                                         ".feed.ics.epcal-Ab12Cd.tmp~",
                                         "..epcal-Ab12Cd.tmp",
                                         ".epcal-Ab12Cd.tmp"};
  for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++) {
    if (epcal__output_is_temp_name(not_ours[i], NULL)) {
      fail_msg("\"%s\" taken for a temporary file", not_ours[i]);
    }
  }
  /* The name an output makes has that shape. */
  char *t = epcal__output_temp_name("dir/feed.ics", "Xy12Z9");
  assert_string_equal(t, "dir/.feed.ics.epcal-Xy12Z9.tmp");
  assert_true(epcal__output_is_temp_name(t + 4, "feed.ics"));
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          unchanged_target_is_neither_written_nor_touched, setup, teardown),
      cmocka_unit_test_setup_teardown(first_difference_anywhere, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(shorter_and_longer_than_target, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(target_replaced_during_the_run, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(suspended_feed_whose_target_vanished,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(finished_feed_continued, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(targets_are_classified, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(only_feeds_are_replaced, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(device_is_written_through, setup,
                                      teardown),
      cmocka_unit_test(temporary_names_have_one_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
