#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "read/date.h"
#include "read/title.h"

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
  expect_invalid("March 3, 22", "two-digit year");
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

static void expect_format(const char *text, const char *format, int y, int m,
                          int d) {
  epcal_date out = {0, 0, 0};
  epcal_error err;
  if (epcal_date_parse(text, format, &out, &err) != EPCAL_OK) {
    fail_msg("\"%s\" with \"%s\": %s", text, format, err.msg);
  }
  assert_int_equal(out.year, y);
  assert_int_equal(out.month, m);
  assert_int_equal(out.day, d);
}

static void expect_message(const char *text, const char *format,
                           const char *msg) {
  epcal_date out = {1, 2, 3};
  epcal_error err;
  assert_int_equal(epcal_date_parse(text, format, &out, &err), EPCAL_EDATA);
  assert_string_equal(err.msg, msg);
  assert_int_equal(out.year, 1);
}

/* Release sites and calendars write the weekday first; it must agree. */
static void weekday_prefixes(void **state) {
  (void)state;
  expect_date("Thursday, March 3, 2022", 2022, 3, 3);
  expect_date("Thu, Mar 3, 2022", 2022, 3, 3);
  expect_date("thu. mar. 3 2022", 2022, 3, 3);
  expect_date("Thurs 3 March 2022", 2022, 3, 3);
  expect_date("Tues, 1 March 2022", 2022, 3, 1);
  expect_date("Sunday 2022-03-06", 2022, 3, 6);
  expect_date("Mon, 03-Jan-2022", 2022, 1, 3);
  expect_message("Friday, March 3, 2022", NULL,
                 "date \"Friday, March 3, 2022\" names a Friday, but "
                 "2022-03-03 is a Thursday");
  expect_invalid("Fri 2022-03-03", "is a Thursday");
  expect_invalid("Thursday", "unrecognised date");
  expect_invalid("Thursday, soon", "unrecognised date");
}

static void ordinals(void **state) {
  (void)state;
  expect_date("March 3rd, 2022", 2022, 3, 3);
  expect_date("March 1st 2022", 2022, 3, 1);
  expect_date("3rd March 2022", 2022, 3, 3);
  expect_date("22nd March, 2022", 2022, 3, 22);
  expect_date("3rd of March 2022", 2022, 3, 3);
  expect_date("Thursday 3rd March 2022", 2022, 3, 3);
  expect_date("11th Nov 2022", 2022, 11, 11);
  expect_invalid("3rdMarch 2022", "unrecognised date");
  expect_invalid("31st February 2022", "not a real calendar date");
}

/* Excel's "Date" cells: 03-Mar-2022 is read; 3-Mar-22 needs a format. */
static void spreadsheet_forms(void **state) {
  (void)state;
  expect_date("03-Mar-2022", 2022, 3, 3);
  expect_date("3-mar-2022", 2022, 3, 3);
  expect_date("3-Sept-2022", 2022, 9, 3);
  expect_message("3-Mar-22", NULL,
                 "date \"3-Mar-22\" has a two-digit year, which is never "
                 "guessed; use --date-format \"%d-%b-%y\"");
  expect_format("3-Mar-22", "%d-%b-%y", 2022, 3, 3);
  expect_format("03-Mar-99", "%d-%b-%y", 1999, 3, 3);
  expect_invalid("03/04/22", "\"%d/%m/%y\" or \"%m/%d/%y\"");
  expect_invalid("3 March 22", "two-digit year");
  expect_invalid("3-Mar-2022x", "unrecognised date");
  expect_invalid("3-Mar 2022", "unrecognised date");
}

/* A datetime cell at midnight is a date; another time is not dropped. */
static void trailing_midnight(void **state) {
  (void)state;
  expect_date("2022-03-03 00:00:00", 2022, 3, 3);
  expect_date("2022-03-03T00:00:00", 2022, 3, 3);
  expect_date("2022-03-03 00:00", 2022, 3, 3);
  expect_date("2022-03-03 00:00:00.000", 2022, 3, 3);
    expect_date("March 3, 2022 0:00", 2022, 3, 3);
  expect_date("31/01/2025 00:00:00", 2025, 1, 31);
  expect_message("2022-03-03 21:00:00", NULL,
                 "date \"2022-03-03 21:00:00\" has a time of day; give the "
                 "time in an air_time column");
  expect_invalid("2022-03-03T00:00:01", "time of day");
  expect_invalid("2022-03-03 00:00:", "unrecognised date");
  expect_invalid("2022-03-03 24:00:00", "time of day");
  expect_invalid("00:00:00", "unrecognised date");
}

/* A wiki's "March 3, 2022 (2022-03-03)": two spellings of one day. */
static void wiki_dates(void **state) {
  (void)state;
  expect_date("March 3, 2022 (2022-03-03)", 2022, 3, 3);
  expect_date("March 3, 2022(2022-03-03)", 2022, 3, 3);
  expect_date("3 March 2022 (2022-03-03)", 2022, 3, 3);
  expect_date("March 3, 2022 (2022-03-03)[12]", 2022, 3, 3);
  expect_date("March 3, 2022[a]", 2022, 3, 3);
  expect_message("March 3, 2022 (2022-03-04)", NULL,
                 "date \"March 3, 2022 (2022-03-04)\": \"March 3, 2022\" and "
                 "\"2022-03-04\" are different days");
  expect_invalid("March 3, 2022 (UK)", "unrecognised date");
  expect_invalid("(2022-03-03)", "unrecognised date");
  expect_invalid("March 3, 2022 (2022-02-30)", "not a real calendar date");
  expect_invalid("Friday, March 3, 2022 (2022-03-03)", "is a Thursday");
}

/* Day and month in either order when only one reading is a date. */
static void numeric_single_reading(void **state) {
  (void)state;
  expect_date("01/31/2025", 2025, 1, 31);
  expect_date("31/01/2025", 2025, 1, 31);
  expect_date("31.1.2025", 2025, 1, 31);
  expect_date("12-13-2025", 2025, 12, 13);
  expect_date("03/03/2022", 2022, 3, 3);
  expect_invalid("12/12/22", "two-digit year");
  expect_invalid("31/31/2025", "not a real calendar date");
  expect_invalid("31/02/2025", "not a real calendar date");
  expect_invalid("01/31-2025", "unrecognised date");
}

/* --date-format first; the built-in forms for everything it does not
 * read, so one sheet may mix forms. */
static void format_then_builtin(void **state) {
  (void)state;
  const char *f = "%m/%d/%Y";
  expect_format("02/07/2025", f, 2025, 2, 7);
  expect_format("January 17, 2025", f, 2025, 1, 17);
  expect_format("2025-01-24", f, 2025, 1, 24);
  expect_format("01/31/2025", f, 2025, 1, 31);
  expect_format("Friday, January 31, 2025", f, 2025, 1, 31);
  expect_format("02/07/2025", "%d/%m/%Y", 2025, 7, 2);
  expect_message("soon", f,
                 "date \"soon\" matches neither --date-format \"%m/%d/%Y\" "
                 "nor a built-in form such as YYYY-MM-DD or \"March 3, "
                 "2022\"");
  expect_message("02.07.2025", f,
                 "ambiguous date \"02.07.2025\" (day/month or month/day?) "
                 "does not match --date-format \"%m/%d/%Y\"");
  expect_message("3-Mar-22", f,
                 "date \"3-Mar-22\" has a two-digit year and does not match "
                 "--date-format \"%m/%d/%Y\" (\"%d-%b-%y\" would read it)");
  /* A date the format reads but the calendar has not is an error, not a
   * reason to try another reading. */
  expect_message("02/30/2025", f,
                 "date \"02/30/2025\" is not a real calendar date");
}

/* Wiki titles: "Penance"[a] is Penance. */
static void expect_title(const char *in, const char *want) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", in);
  assert_string_equal(epcal__title_clean(buf), want);
}

static void title_cleaning(void **state) {
  (void)state;
  expect_title("\"Penance\"[a]", "Penance");
  expect_title("\"Penance\"", "Penance");
  expect_title("Penance[12]", "Penance");
  expect_title("\"The Star Gazer\" [note 1][b]", "The Star Gazer");
  expect_title("Penance [citation needed]", "Penance");
  expect_title("\xE2\x80\x9CPenance\xE2\x80\x9D[a]", "Penance");
  expect_title("\" Spaced \"", "Spaced");
  /* What is not markup stays. */
  expect_title("\"Part One\" / \"Part Two\"", "\"Part One\" / \"Part Two\"");
  expect_title("\"Hello,\" he said", "\"Hello,\" he said");
  expect_title("[REC]", "[REC]");
  expect_title("[a]", "[a]");
  expect_title("Chapter [XII]", "Chapter [XII]");
  expect_title("\"\"", "\"\"");
  expect_title("\"", "\"");
  expect_title("Penance[abc]", "Penance[abc]");
  expect_title("Penance[1234]", "Penance[1234]");
  expect_title("Penance]", "Penance]");
  expect_title("Say \"Hi\"", "Say \"Hi\"");
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
      cmocka_unit_test(weekday_prefixes),
      cmocka_unit_test(ordinals),
      cmocka_unit_test(spreadsheet_forms),
      cmocka_unit_test(trailing_midnight),
      cmocka_unit_test(wiki_dates),
      cmocka_unit_test(numeric_single_reading),
      cmocka_unit_test(format_then_builtin),
      cmocka_unit_test(title_cleaning),
      cmocka_unit_test(unscheduled_markers),
      cmocka_unit_test(day_arithmetic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
