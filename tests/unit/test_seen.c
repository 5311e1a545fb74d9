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

#include "seen.h"

static epcal_episode episode(unsigned long i, unsigned long line,
                             const char *title) {
  static char shows[8][16];
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  snprintf(shows[i % 8], sizeof shows[0], "Show %lu", i % 8);
  ep.show = shows[i % 8];
  ep.season = (long)(i / 8 % 1000);
  ep.number = (long)(i / 8000);
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
    uint64_t id = epcal__seen_identity(&ep);
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
  assert_int_equal(maybes, 0); /* 2^-56 per pair: none expected here */
  epcal__seen_free(compact);
  epcal__seen_free(exact);
}

static void exact_mode_after_the_switch(void **state) {
  (void)state;
  epcal__seen *s = epcal__seen_new(true);
  assert_true(epcal__seen_next_file(s, "a.csv"));
  epcal_episode a = episode(1, 2, "one");
  const char *f = NULL;
  unsigned long l = 0;
  assert_int_equal(epcal__seen_add(s, &a, epcal__seen_identity(&a), &f, &l),
                   EPCAL__SEEN_NEW);
  assert_true(epcal__seen_next_file(s, "b.csv"));
  epcal_episode again = episode(1, 7, "one");
  assert_int_equal(
      epcal__seen_add(s, &again, epcal__seen_identity(&again), &f, &l),
      EPCAL__SEEN_MAYBE);
  /* The caller re-reads and re-adds what it had added, then asks again. */
  epcal__seen_begin_exact(s);
  assert_true(epcal__seen_exact(s));
  assert_string_equal(epcal__seen_file(s, 0), "a.csv");
  assert_int_equal(epcal__seen_files(s), 2);
  assert_true(epcal__seen_readd(s, 0, &a, epcal__seen_identity(&a)));
  assert_int_equal(
      epcal__seen_add(s, &again, epcal__seen_identity(&again), &f, &l),
      EPCAL__SEEN_SAME);
  assert_string_equal(f, "a.csv");
  assert_int_equal(l, 2);
  epcal_episode other = episode(1, 9, "changed");
  assert_int_equal(
      epcal__seen_add(s, &other, epcal__seen_identity(&other), &f, &l),
      EPCAL__SEEN_CONFLICT);
  assert_string_equal(f, "a.csv");
  assert_int_equal(l, 2);
  epcal__seen_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(compact_never_misses_a_repeat),
      cmocka_unit_test(exact_mode_after_the_switch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
