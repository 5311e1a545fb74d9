/*
 * The repeat index: in compact mode it may answer "maybe" for a new
 * episode (rarely, at 48 bits) but must never answer "new" for a repeat,
 * through every growth of its shards; in exact mode it tells identical
 * repeats from conflicting ones and names the first line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/seen.h"

/* Episode i: mostly numbers a season's set holds, every 5th numbered
 * above 63 and every 7th with a uid of its own (both kept as tags). */
static epcal_episode episode(unsigned long i, unsigned long line,
                             const char *title) {
  static char shows[8][16];
  static char uid[32];
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  snprintf(shows[i % 8], sizeof shows[0], "Show %lu", i % 8);
  ep.show = shows[i % 8];
  ep.season = (long)(i / 8 % 1000);
  ep.number = (long)(i / 8000) + (i % 5 == 0 ? 64 : 0);
  if (i % 7 == 0) {
    snprintf(uid, sizeof uid, "uid-%lu@example.com", i);
    ep.uid = uid;
  }
  ep.title = title;
  ep.scheduled = true;
  ep.date = (epcal_date){2024, 1, 1};
  ep.file = "in.csv";
  ep.line = line;
  return ep;
}

static void compact_never_misses_a_repeat(void **state) {
  (void)state;
  epcal__seen *compact = epcal__seen_new(true);
  epcal__seen *exact = epcal__seen_new(false);
  assert_true(epcal__seen_next_file(compact, "in.csv"));
  assert_true(epcal__seen_next_file(exact, "in.csv"));
  assert_false(epcal__seen_exact(compact));
  assert_true(epcal__seen_exact(exact));
  unsigned long maybes = 0, repeats = 0;
  uint32_t x = 12345;
  for (unsigned long line = 2; line < 300000; line++) {
    x = x * 1103515245u + 12345u;
    /* Mostly new episodes; every 50th row repeats an earlier one. */
    unsigned long i = line % 50 == 0 ? (x >> 8) % (line - 1) : line;
    epcal_episode ep = episode(i, line, "t");
    epcal__seen_key id = epcal__seen_key_of(&ep);
    const char *f;
    unsigned long l;
    epcal__seen_result want = epcal__seen_add(exact, &ep, id, &f, &l);
    epcal__seen_result got = epcal__seen_add(compact, &ep, id, &f, &l);
    if (want != EPCAL__SEEN_NEW) {
      repeats++;
      assert_int_equal(got, EPCAL__SEEN_MAYBE);
    } else {
      assert_true(got == EPCAL__SEEN_NEW || got == EPCAL__SEEN_MAYBE);
      maybes += got == EPCAL__SEEN_MAYBE;
    }
  }
  assert_true(repeats > 5000);
  assert_int_equal(maybes, 0); /* 2^-48 per pair: none expected here */
  epcal__seen_free(compact);
  epcal__seen_free(exact);
}

/* Which store an episode's key sends it to. */
static void keys_choose_the_season_set_or_a_tag(void **state) {
  (void)state;
  epcal_episode ep = episode(1, 2, "t");
  assert_int_not_equal(epcal__seen_key_of(&ep).season, 0);
  assert_int_not_equal(epcal__seen_key_of(&ep).identity, 0);
  ep.number = 63;
  uint64_t s63 = epcal__seen_key_of(&ep).season;
  ep.number = 0;
  assert_int_equal(epcal__seen_key_of(&ep).season, s63); /* same season */
  ep.number = 64;
  assert_int_equal(epcal__seen_key_of(&ep).season, 0);
  ep.number = -1;
  assert_int_equal(epcal__seen_key_of(&ep).season, 0);
  ep.number = 3;
  ep.season = 2;
  assert_int_not_equal(epcal__seen_key_of(&ep).season, s63);
  ep.uid = "x@example.com";
  assert_int_equal(epcal__seen_key_of(&ep).season, 0);
}

/* Seasons that come back after others, and episodes of one season read
 * out of order, still meet their repeats (the last season's set is kept
 * at hand; other seasons' sets move as the table grows). */
static void seasons_interleaved(void **state) {
  (void)state;
  epcal__seen *s = epcal__seen_new(true);
  assert_true(epcal__seen_next_file(s, "in.csv"));
  epcal_episode ep = episode(1, 2, "t");
  const char *f;
  unsigned long l;
  unsigned long line = 2;
  for (int round = 0; round < 2; round++) {
    for (long n = 63; n >= 0; n -= 3) {
      for (long season = 1; season <= 5000; season++) {
        ep.season = season;
        ep.number = n;
        ep.line = line++;
        assert_int_equal(
            epcal__seen_add(s, &ep, epcal__seen_key_of(&ep), &f, &l),
            round == 0 ? EPCAL__SEEN_NEW : EPCAL__SEEN_MAYBE);
      }
    }
  }
  epcal__seen_free(s);
}

static void exact_mode_after_the_switch(void **state) {
  (void)state;
  epcal__seen *s = epcal__seen_new(true);
  assert_true(epcal__seen_next_file(s, "a.csv"));
  epcal_episode a = episode(1, 2, "one");
  const char *f = NULL;
  unsigned long l = 0;
  assert_int_equal(epcal__seen_add(s, &a, epcal__seen_key_of(&a), &f, &l),
                   EPCAL__SEEN_NEW);
  assert_true(epcal__seen_next_file(s, "b.csv"));
  epcal_episode again = episode(1, 7, "one");
  assert_int_equal(
      epcal__seen_add(s, &again, epcal__seen_key_of(&again), &f, &l),
      EPCAL__SEEN_MAYBE);
  /* The caller re-reads and re-adds what it had added, then asks again. */
  epcal__seen_begin_exact(s);
  assert_true(epcal__seen_exact(s));
  assert_string_equal(epcal__seen_file(s, 0), "a.csv");
  assert_int_equal(epcal__seen_files(s), 2);
  assert_true(epcal__seen_readd(s, 0, &a, epcal__seen_key_of(&a).identity));
  assert_int_equal(
      epcal__seen_add(s, &again, epcal__seen_key_of(&again), &f, &l),
      EPCAL__SEEN_SAME);
  assert_string_equal(f, "a.csv");
  assert_int_equal(l, 2);
  epcal_episode other = episode(1, 9, "changed");
  assert_int_equal(
      epcal__seen_add(s, &other, epcal__seen_key_of(&other), &f, &l),
      EPCAL__SEEN_CONFLICT);
  assert_string_equal(f, "a.csv");
  assert_int_equal(l, 2);
  epcal__seen_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(compact_never_misses_a_repeat),
      cmocka_unit_test(keys_choose_the_season_set_or_a_tag),
      cmocka_unit_test(seasons_interleaved),
      cmocka_unit_test(exact_mode_after_the_switch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
