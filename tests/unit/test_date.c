#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "read/date.h"

static void expect_date(const char *text, int y, int m, int d) {
  epcal_date out = {0, 0, 0};
  epcal_error err;
  if (epcal_date_parse(text, NULL, &out, &err) != EPCAL_OK) {
    fail_msg("\"%s\": %s", text, err.msg);
  }
  assert_int_equal(out.year, y);
  assert_int_equal(out.month, m);
  assert_int_equal(out.day, d);
}

static void expect_invalid(const char *text, const char *msg_part) {
  epcal_date out = {1, 2, 3};
  epcal_error err;
  assert_int_equal(epcal_date_parse(text, NULL, &out, &err), EPCAL_EDATA);
  if (strstr(err.msg, msg_part) == NULL) {
    fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, err.msg, msg_part);
  }
  /* out-parameters are written only on success */
  assert_int_equal(out.year, 1);
}

static void accepted_forms(void **state) {
  (void)state;
  expect_date("2022-03-03", 2022, 3, 3);
  expect_date("March 3, 2022", 2022, 3, 3);
  expect_date("May 5 2022", 2022, 5, 5);
  expect_date("Mar 3, 2022", 2022, 3, 3);
  expect_date("3 March 2022", 2022, 3, 3);
  expect_date("2022/03/03", 2022, 3, 3);
  expect_date("20220303", 2022, 3, 3);
  expect_date("  april 28, 2022 ", 2022, 4, 28);
  expect_date("Sept 9, 2021", 2021, 9, 9);
  expect_date("2024-02-29", 2024, 2, 29);
  expect_date("2000-02-29", 2000, 2, 29);
}

static void impossible_dates_are_refused(void **state) {
  (void)state;
  expect_invalid("2022-02-30", "not a real calendar date");
  expect_invalid("2022-02-29", "not a real calendar date");
  expect_invalid("1900-02-29", "not a real calendar date");
  expect_invalid("2022-13-01", "not a real calendar date");
  expect_invalid("2022-00-10", "not a real calendar date");
  expect_invalid("April 31, 2022", "not a real calendar date");
  expect_invalid("Smarch 3, 2022", "unrecognised date");
  expect_invalid("2022-3", "unrecognised date");
  expect_invalid("next week", "unrecognised date");
  expect_invalid("March 3, 22", "unrecognised date");
  /* Found by fuzzing: the reader took 9999-12-31, the renderer refused it
   * (its DTEND would be in year 10000). */
  expect_date("9999-12-30", 9999, 12, 30);
  expect_invalid("9999-12-31", "too late");
  expect_invalid("December 31, 9999", "too late");
}

static void numeric_day_month_is_ambiguous(void **state) {
  (void)state;
  expect_invalid("03/04/2022", "ambiguous");
  expect_invalid("3.4.2022", "ambiguous");
  epcal_date out;
  assert_int_equal(epcal_date_parse("03/04/2022", "%d/%m/%Y", &out, NULL),
                   EPCAL_OK);
  assert_int_equal(out.month, 4);
  assert_int_equal(out.day, 3);
  assert_int_equal(epcal_date_parse("03/04/2022", "%m/%d/%Y", &out, NULL),
                   EPCAL_OK);
  assert_int_equal(out.month, 3);
  assert_int_equal(epcal_date_parse("31/02/2022", "%d/%m/%Y", &out, NULL),
                   EPCAL_EDATA);
}

static void unscheduled_markers(void **state) {
  (void)state;
  assert_true(epcal__date_is_unscheduled(""));
  assert_true(epcal__date_is_unscheduled("  "));
  assert_true(epcal__date_is_unscheduled("TBA"));
  assert_true(epcal__date_is_unscheduled("tbd"));
  assert_true(epcal__date_is_unscheduled(" Unknown "));
  assert_false(epcal__date_is_unscheduled("2022-01-01"));
  assert_false(epcal__date_is_unscheduled("TBA 2023"));
}

static void day_arithmetic(void **state) {
  (void)state;
  epcal_date d = {2022, 12, 31};
  epcal_date n = epcal__date_next(d);
  assert_int_equal(n.year, 2023);
  assert_int_equal(n.month, 1);
  assert_int_equal(n.day, 1);
  n = epcal__date_next((epcal_date){2024, 2, 28});
  assert_int_equal(n.day, 29);
  n = epcal__date_next((epcal_date){2023, 2, 28});
  assert_int_equal(n.month, 3);
  assert_int_equal(epcal__date_to_days((epcal_date){1970, 1, 1}), 0);
  for (int64_t k = -719162; k < 2932896; k += 997) {
    epcal_date x = epcal__date_from_days(k);
    assert_true(epcal__date_valid(x.year, x.month, x.day));
    assert_int_equal(epcal__date_to_days(x), k);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepted_forms),
      cmocka_unit_test(impossible_dates_are_refused),
      cmocka_unit_test(numeric_day_month_is_ambiguous),
      cmocka_unit_test(unscheduled_markers),
      cmocka_unit_test(day_arithmetic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
