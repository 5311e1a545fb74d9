/*
 * The output lock leaves no file beside the output: it is flock on the
 * target (or on its directory while there is no target), or, where that
 * cannot work (NFS), a file of its own in /run/lock or /tmp. Either way a
 * second taker is refused while the first holds it, and a waiter whose
 * target was replaced under it locks the new file.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epcal/epcal.h"
#include "publish/lock.h"

static char dir[64];
static char target[128];

static int setup(void **state) {
  (void)state;
  strcpy(dir, "/tmp/epcal-lock-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(target, sizeof target, "%s/feed.ics", dir);
  epcal__lock_keyed = false;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(target);
  rmdir(dir);
  epcal__lock_keyed = false;
  return 0;
}

/* How many entries the directory holds besides . and .. */
static int entries(void) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  }
  closedir(d);
  return n;
}

static void put_target(void) {
  FILE *f = fopen(target, "wb");
  assert_non_null(f);
  fputs("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", f);
  assert_int_equal(fclose(f), 0);
}

/* Taken, refused to a second taker, taken again once released. */
static void exclusive(void) {
  epcal_lock *a = NULL, *b = NULL;
  epcal_error err;
  assert_int_equal(epcal_lock_acquire(&a, target, 0, &err), EPCAL_OK);
  assert_int_equal(epcal_lock_acquire(&b, target, 0.2, &err), EPCAL_ELOCKED);
  epcal_lock_release(a);
  assert_int_equal(epcal_lock_acquire(&b, target, 0, &err), EPCAL_OK);
  epcal_lock_release(b);
}

static void no_target_yet(void **state) {
  (void)state;
  exclusive();
  assert_int_equal(entries(), 0);
}

static void existing_target(void **state) {
  (void)state;
  put_target();
  exclusive();
  assert_int_equal(entries(), 1);
}

/* A target replaced (renamed over) while locked: the old file's lock no
 * longer serialises anything, so the next taker locks the new file, and a
 * third is refused. */
static void replaced_target(void **state) {
  (void)state;
  put_target();
  epcal_lock *a = NULL, *b = NULL, *c = NULL;
  epcal_error err;
  assert_int_equal(epcal_lock_acquire(&a, target, 0, &err), EPCAL_OK);
  char side[160];
  snprintf(side, sizeof side, "%s/new", dir);
  FILE *f = fopen(side, "wb");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(rename(side, target), 0);
  assert_int_equal(epcal_lock_acquire(&b, target, 0, &err), EPCAL_OK);
  assert_int_equal(epcal_lock_acquire(&c, target, 0.2, &err), EPCAL_ELOCKED);
  epcal_lock_release(a);
  epcal_lock_release(b);
  assert_int_equal(entries(), 1);
}

/* Where flock on a read-only descriptor cannot work: a file of its own,
 * away from the output. */
static void keyed_file(void **state) {
  (void)state;
  epcal__lock_keyed = true;
  char *path = epcal__lock_keyed_path(target);
  assert_non_null(path);
  assert_null(strstr(path, dir));
  exclusive();
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(entries(), 0);
  unlink(path);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(no_target_yet, setup, teardown),
      cmocka_unit_test_setup_teardown(existing_target, setup, teardown),
      cmocka_unit_test_setup_teardown(replaced_target, setup, teardown),
      cmocka_unit_test_setup_teardown(keyed_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
