/* A selection that names what the input does not hold is an error that
 * says what it does hold (select/audit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "epcal/epcal.h"

static epcal_episode episode(const char *show, long season, long number) {
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = show;
  ep.season = season;
  ep.number = number;
  ep.scheduled = true;
  ep.date = (epcal_date){2022, 3, 3};
  return ep;
}

/* Runs the audit of `sel` over shows[i] (season seasons[i]); returns the
 * status and leaves the message in *err. */
static epcal_status audit(const epcal_selection *sel, const char *const *shows,
                          const long *seasons, size_t n, epcal_error *err) {
  epcal_selection_audit *a = NULL;
  assert_int_equal(epcal_selection_audit_new(&a, sel, err), EPCAL_OK);
  for (size_t i = 0; i < n; i++) {
    epcal_episode ep = episode(shows[i], seasons[i], (long)i + 1);
    epcal_selection_audit_add(a, &ep);
  }
  epcal_status st = epcal_selection_audit_end(a, err);
  epcal_selection_audit_free(a);
  return st;
}

static void named_show_found(void **state) {
  (void)state;
  const char *want[] = {"star trek: PICARD"};
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  sel.shows = want;
  sel.n_shows = 1;
  /* A window that selects nothing is no error: the show is there. */
  sel.has_from = true;
  sel.from = (epcal_date){2099, 1, 1};
  const char *shows[] = {"Other", "Star Trek: Picard"};
  long seasons[] = {1, 2};
  epcal_error err;
  assert_int_equal(audit(&sel, shows, seasons, 2, &err), EPCAL_OK);
  /* No filter at all: nothing to judge. */
  memset(&sel, 0, sizeof sel);
  assert_int_equal(audit(&sel, shows, seasons, 0, &err), EPCAL_OK);
  assert_int_equal(audit(NULL, shows, seasons, 2, &err), EPCAL_OK);
}

static void missing_show_suggests(void **state) {
  (void)state;
  const char *want[] = {"Picard"};
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  sel.shows = want;
  sel.n_shows = 1;
  const char *shows[] = {"The Expanse", "The Expanse", "Star Trek: Picard",
                         "The Expanse"};
  long seasons[] = {1, 1, 2, 3};
  epcal_error err;
  assert_int_equal(audit(&sel, shows, seasons, 4, &err), EPCAL_EDATA);
  assert_string_equal(err.msg,
                      "no show in the input is named \"Picard\" (did you mean "
                      "\"Star Trek: Picard\"?); it has 2 shows: \"The "
                      "Expanse\", \"Star Trek: Picard\"");
  assert_int_equal(err.line, 0);

  /* A typo beats a name that holds the word. */
  const char *want2[] = {"Picrad", "Nothing Like It"};
  sel.shows = want2;
  sel.n_shows = 2;
  const char *shows2[] = {"Star Trek: Picard", "Picard"};
  assert_int_equal(audit(&sel, shows2, seasons, 2, &err), EPCAL_EDATA);
  assert_string_equal(err.msg,
                      "no show in the input is named \"Picrad\" (did you mean "
                      "\"Picard\"?), nor \"Nothing Like It\"; it has 2 shows: "
                      "\"Star Trek: Picard\", \"Picard\"");

  /* One named show found, another not. */
  const char *want3[] = {"picard", "Expanse"};
  sel.shows = want3;
  assert_int_equal(audit(&sel, shows2, seasons, 2, &err), EPCAL_EDATA);
  assert_string_equal(err.msg,
                      "no show in the input is named \"Expanse\"; it has 2 "
                      "shows: \"Star Trek: Picard\", \"Picard\"");

  assert_int_equal(audit(&sel, shows2, seasons, 0, &err), EPCAL_EDATA);
  assert_string_equal(err.msg, "no show in the input is named \"picard\", nor "
                               "\"Expanse\"; it has no episodes");
}

static void missing_season_lists_seasons(void **state) {
  (void)state;
  epcal_season_range r[] = {{3, 3}, {1, 1}, {5, 9}};
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  sel.seasons = r;
  sel.n_seasons = 2;
  const char *shows[] = {"A", "A", "A", "B", "B"};
  long seasons[] = {1, 2, 4, 6, 0};
  epcal_error err;
  assert_int_equal(audit(&sel, shows, seasons, 5, &err), EPCAL_EDATA);
  assert_string_equal(err.msg, "no episode in the input is in season 3 (the "
                               "input's seasons: 0-2, 4, 6)");
  const char *one[] = {"b"};
  sel.shows = one;
  sel.n_shows = 1;
  sel.n_seasons = 3;
  assert_int_equal(audit(&sel, shows, seasons, 5, &err), EPCAL_EDATA);
  assert_string_equal(err.msg, "no episode of \"b\" is in season 3 or season "
                               "1 (its seasons: 0, 6)");
  /* 5-9 holds B's season 6; season 1 is A's. */
  sel.seasons = r + 2;
  sel.n_seasons = 1;
  assert_int_equal(audit(&sel, shows, seasons, 5, &err), EPCAL_OK);
  /* An unknown show is reported before any season. */
  const char *none[] = {"C"};
  sel.shows = none;
  assert_int_equal(audit(&sel, shows, seasons, 5, &err), EPCAL_EDATA);
  assert_non_null(strstr(err.msg, "named \"C\""));
}

/* Thousands of shows: the message stays one bounded line, the best
 * suggestion is found among all of them, memory does not grow. */
static void many_shows(void **state) {
  (void)state;
  enum { N = 20000 };
  static char names[N][24];
  static const char *shows[N];
  static long seasons[N];
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "Show number %05d", i);
    shows[i] = names[i];
    seasons[i] = 1;
  }
  const char *want[] = {"Show numbr 19999"};
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  sel.shows = want;
  sel.n_shows = 1;
  epcal_error err;
  assert_int_equal(audit(&sel, shows, seasons, N, &err), EPCAL_EDATA);
  assert_non_null(strstr(err.msg, "(did you mean \"Show number 19999\"?); it "
                                  "has more than 256 shows, among them "
                                  "\"Show number 00000\", "));
  assert_non_null(strstr(err.msg, " more"));
  assert_true(strlen(err.msg) < sizeof err.msg - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(named_show_found),
      cmocka_unit_test(missing_show_suggests),
      cmocka_unit_test(missing_season_lists_seasons),
      cmocka_unit_test(many_shows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
