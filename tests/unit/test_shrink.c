/* The shrink guard's rule and its --max-removed syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "epcal/epcal.h"

static void default_rule(void **state) {
  (void)state;
  /* More than half, and at least 10. */
  assert_false(epcal_shrink_refused(100, 50, NULL));
  assert_true(epcal_shrink_refused(100, 51, NULL));
  assert_false(epcal_shrink_refused(18, 9, NULL));
  assert_false(epcal_shrink_refused(9, 9, NULL)); /* fewer than 10 */
  assert_true(epcal_shrink_refused(10, 10, NULL));
  assert_true(epcal_shrink_refused(19, 10, NULL));
  assert_false(epcal_shrink_refused(20, 10, NULL));
  assert_false(epcal_shrink_refused(0, 0, NULL));
  epcal_shrink_policy unset = {0};
  assert_true(epcal_shrink_refused(100, 51, &unset));
}

static void allow_and_limits(void **state) {
  (void)state;
  epcal_shrink_policy allow = {.allow = true};
  assert_false(epcal_shrink_refused(1000, 1000, &allow));
  epcal_shrink_policy p = {0};
  assert_int_equal(epcal_shrink_policy_parse("5", &p), 0);
  assert_true(p.set);
  assert_false(p.percent);
  assert_false(epcal_shrink_refused(1000, 5, &p));
  assert_true(epcal_shrink_refused(1000, 6, &p));
  assert_int_equal(epcal_shrink_policy_parse("10%", &p), 0);
  assert_true(p.percent);
  assert_false(epcal_shrink_refused(1000, 100, &p));
  assert_true(epcal_shrink_refused(1000, 101, &p));
  assert_true(epcal_shrink_refused(3, 1, &p));
  assert_int_equal(epcal_shrink_policy_parse("0", &p), 0);
  assert_true(epcal_shrink_refused(5, 1, &p));
  assert_false(epcal_shrink_refused(5, 0, &p));
}

static void parse_refuses(void **state) {
  (void)state;
  epcal_shrink_policy p = {.max_removed = 7};
  const char *bad[] = {"", "-1", "x", "10%%", "101%", "5 ", "1e3", "%", NULL};
  for (int i = 0; bad[i] != NULL; i++) {
    assert_int_equal(epcal_shrink_policy_parse(bad[i], &p), -1);
    assert_int_equal(p.max_removed, 7);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_rule),
      cmocka_unit_test(allow_and_limits),
      cmocka_unit_test(parse_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
