/*
 * Split output's path stems: what the previous index.json gives each show
 * (its lines parsed back, escapes and all; damaged or foreign lines passed
 * over), and the choice for a new show: its slug unless another show's,
 * else the slug and a hash of the name. That shows keep their stems
 * whatever the order of rows is tested end to end in tests/publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keytab.h" /* epcal__hash64 */
#include "publish/stems.h"

/* The stems this run's shows have, for the `taken` callback. */
typedef struct run_stems {
  const char *stem[8];
  size_t n;
} run_stems;

static bool taken(void *ctx, const char *stem) {
  const run_stems *r = ctx;
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->stem[i], stem) == 0) {
      return true;
    }
  }
  return false;
}

/* The (show, stem) pairs an index gives, in order. */
typedef struct listed {
  char show[8][64];
  char stem[8][EPCAL__STEM_MAX];
  size_t n;
} listed;

static bool collect(void *ctx, const char *show, const char *stem) {
  listed *l = ctx;
  assert_true(l->n < 8);
  snprintf(l->show[l->n], sizeof l->show[0], "%s", show);
  snprintf(l->stem[l->n], sizeof l->stem[0], "%s", stem);
  l->n++;
  return true;
}

static listed list_index(const char *text) {
  char path[] = "/tmp/epcal-stems-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  listed l;
  memset(&l, 0, sizeof l);
  assert_true(epcal__stems_each(path, collect, &l));
  unlink(path);
  return l;
}

static void choose(const char *name, run_stems *r, const char *want) {
  char out[EPCAL__STEM_MAX];
  epcal__stems_choose(name, taken, r, out);
  assert_string_equal(out, want);
}

static char *hashed(const char *slug, const char *name) {
  static char buf[EPCAL__STEM_MAX];
  snprintf(buf, sizeof buf, "%s-%08x", slug,
           (uint32_t)epcal__hash64(name, strlen(name)));
  return buf;
}

/* The index epcal writes, with names that need every escape it uses. */
static const char index_json[] =
    "{\n"
    "  \"feeds\": [\n"
    "    {\"name\": \"Cafe!, Season 1\", \"show\": \"Cafe!\", \"season\": 1,"
    " \"path\": \"cafe/season-01.ics\", \"events\": 2, \"first\": "
    "\"2023-01-01\", \"last\": \"2023-01-02\"},\n"
    "    {\"name\": \"Café, Season 1\", \"show\": \"Café\", \"season\": 1, "
    "\"path\": \"cafe-1beac8c8/season-01.ics\", \"events\": 1, \"first\": "
    "\"2023-01-01\", \"last\": \"2023-01-01\"},\n"
    "    {\"name\": \"A \\\"q\\\" \\\\ b\", \"show\": \"A \\\"q\\\" \\\\ "
    "b\\u0009c\", \"path\": \"a-q-b-c.ics\", \"events\": 1},\n"
    /* damaged: an escape cut short by the end of the line */
    "    {\"name\": \"W\", \"show\": \"W\\u00\n"
    /* damaged: not a string where the show should be */
    "    {\"name\": \"X\", \"show\": 12, \"path\": \"x/season-01.ics\"},\n"
    /* paths epcal never makes */
    "    {\"name\": \"Y\", \"show\": \"Y\", \"path\": \"../y/season-01.ics\"},\n"
    "    {\"name\": \"Z\", \"show\": \"Z\", \"path\": \"Z z/season-01.ics\"},\n"
    /* a show twice: its first stem stands */
    "    {\"name\": \"Cafe!, Season 2\", \"show\": \"Cafe!\", \"season\": 2,"
    " \"path\": \"other/season-02.ics\"}\n"
    "  ]\n"
    "}\n";

static void the_index_gives_each_show_its_stem(void **state) {
  (void)state;
  listed l = list_index(index_json);
  /* Damaged and foreign lines give nothing; a show listed twice is given
   * twice (the first one interned wins); a --split show path gives its
   * stem too; escapes are read back. */
  assert_int_equal(l.n, 4);
  assert_string_equal(l.show[0], "Cafe!");
  assert_string_equal(l.stem[0], "cafe");
  assert_string_equal(l.show[1], "Café");
  assert_string_equal(l.stem[1], "cafe-1beac8c8");
  assert_string_equal(l.show[2], "A \"q\" \\ b\tc");
  assert_string_equal(l.stem[2], "a-q-b-c");
  assert_string_equal(l.show[3], "Cafe!");
  assert_string_equal(l.stem[3], "other");
}

static void a_missing_index_lists_nothing(void **state) {
  (void)state;
  listed l;
  memset(&l, 0, sizeof l);
  assert_true(epcal__stems_each("/nonexistent/index.json", collect, &l));
  assert_int_equal(l.n, 0);
}

static void a_new_show_gets_its_slug_else_the_slug_and_a_hash(void **state) {
  (void)state;
  run_stems r = {{0}, 0};
  choose("Café", &r, "cafe");
  r.stem[r.n++] = "cafe";
  choose("Cafe!", &r, hashed("cafe", "Cafe!"));
  r.stem[r.n++] = hashed("cafe", "Cafe!");
  /* Even the hash taken: a number follows it. */
  char want[EPCAL__STEM_MAX + 8];
  snprintf(want, sizeof want, "%s-2", hashed("cafe", "Cafe!"));
  choose("Cafe!", &r, want);
}

/* Records in the published tree are trusted only in the exact shapes
 * split output makes. */
static void only_feed_shaped_paths_are_trusted(void **state) {
  (void)state;
  static const char *const ok[] = {"show.ics", "a-b-9/season-01.ics",
                                   "x/season-999999.ics",
                                   "cafe-1a2b3c4d/season-00.ics"};
  static const char *const bad[] = {"../x.ics",
                                    "show/../../x.ics",
                                    "/etc/x.ics",
                                    ".hidden.ics",
                                    "Show.ics",
                                    "show/season-1.ics",
                                    "show/notes.ics",
                                    "show",
                                    "show/season-01.ics/x.ics",
                                    "a/b/season-01.ics",
                                    "..ics",
                                    ".ics",
                                    "show/season-0000001.ics",
                                    "show/season-01.ics.tmp",
                                    "sh ow.ics",
                                    "show/.season-01.ics",
                                    "link/../season-01.ics",
                                    ""};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (!epcal__feed_path_ok(ok[i])) {
      fail_msg("\"%s\" refused", ok[i]);
    }
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (epcal__feed_path_ok(bad[i])) {
      fail_msg("\"%s\" trusted", bad[i]);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_index_gives_each_show_its_stem),
      cmocka_unit_test(only_feed_shaped_paths_are_trusted),
      cmocka_unit_test(a_missing_index_lists_nothing),
      cmocka_unit_test(a_new_show_gets_its_slug_else_the_slug_and_a_hash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
