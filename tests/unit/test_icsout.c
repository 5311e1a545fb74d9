/*
 * Escaping and folding, judged by libical: every physical line at most 75
 * octets with CRLF, no fold inside a UTF-8 character, and the value libical
 * decodes equals the text that went in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ical_oracle.h"
#include "render/icsout.h"

/* One character of each UTF-8 width. */
static const char *const glyph[5] = {NULL, "a", "\xC3\xA9", "\xE2\x82\xAC",
                                     "\xF0\x9F\x93\xBA"};

/* Renders one calendar with one event and returns its bytes. */
static char *render_one(const epcal_episode *ep, membuf *m) {
  epcal_render_options ro;
  memset(&ro, 0, sizeof ro);
  ro.calendar_name = "Test, calendar; with \\ specials";
  ro.now = 1700000000;
  epcal_renderer *r;
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, m, NULL),
                   EPCAL_OK);
  assert_int_equal(epcal_renderer_begin(r, NULL), EPCAL_OK);
  assert_int_equal(epcal_renderer_add(r, ep, NULL), EPCAL_OK);
  assert_int_equal(epcal_renderer_end(r, NULL), EPCAL_OK);
  epcal_renderer_free(r);
  return (char *)membuf_str(m);
}

static epcal_episode base_episode(void) {
  epcal_episode e;
  memset(&e, 0, sizeof e);
  e.show = "Show";
  e.season = 1;
  e.number = 2;
  e.scheduled = true;
  e.date = (epcal_date){2022, 3, 3};
  return e;
}

static void fold_every_length_and_width(void **state) {
  (void)state;
  for (int w = 1; w <= 4; w++) {
    for (size_t octets = 60; octets <= 160; octets++) {
      /* A title of `octets` octets: whole characters of width w, padded
       * with ASCII so that every total length is reached. */
      char title[200];
      size_t n = 0;
      while (n + (size_t)w <= octets) {
        memcpy(title + n, glyph[w], (size_t)w);
        n += (size_t)w;
      }
      while (n < octets) {
        title[n++] = 'b';
      }
      title[n] = '\0';
      epcal_episode e = base_episode();
      e.title = title;
      membuf m = {0};
      char *text = render_one(&e, &m);
      oracle_check_lines(text, m.len);
      icalcomponent *cal = oracle_parse(text);
      icalcomponent *ev =
          icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
      char want[256];
      snprintf(want, sizeof want, "Show S01E02 \xE2\x80\x93 %s", title);
      assert_string_equal(icalcomponent_get_summary(ev), want);
      icalcomponent_free(cal);
      membuf_free(&m);
    }
  }
}

static void text_escaping_round_trips(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.title = "Commas, semicolons; back\\slashes";
  e.description = "Line one,\nline two; with \\ and \"quotes\"\n\nEnd";
  e.network = "Sci-Fi, Drama";
  e.url = "https://example.org/a path?q=\"x\"";
  membuf m = {0};
  char *text = render_one(&e, &m);
  oracle_check_lines(text, m.len);
  assert_non_null(strstr(text, "SUMMARY:Show S01E02 \xE2\x80\x93 Commas\\, "
                               "semicolons\\; back\\\\slashes\r\n"));
  assert_non_null(strstr(text, "CATEGORIES:Sci-Fi\\, Drama\r\n"));
  assert_non_null(
      strstr(text, "URL:https://example.org/a%20path?q=%22x%22\r\n"));
  icalcomponent *cal = oracle_parse(text);
  icalcomponent *ev =
      icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  assert_string_equal(icalcomponent_get_description(ev), e.description);
  icalproperty *cat =
      icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY);
  assert_string_equal(icalproperty_get_categories(cat), "Sci-Fi, Drama");
  icalcomponent_free(cal);
  membuf_free(&m);
}

static void summary_is_one_line(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.title = "Two\nlines \t and\r\n  blanks";
  membuf m = {0};
  char *text = render_one(&e, &m);
  assert_non_null(strstr(
      text, "SUMMARY:Show S01E02 \xE2\x80\x93 Two lines and blanks\r\n"));
  membuf_free(&m);
}

/* Found by fuzzing: a dropped control character split a run of blanks in
 * two, blanks were left at the ends of the show, and a title of control
 * characters left a dangling dash. */
static void summary_blanks_around_control_characters(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.show = "\x01 The \x02 Show \x1b";
  e.title = "a \x01 b";
  membuf m = {0};
  char *text = render_one(&e, &m);
  assert_non_null(strstr(text, "SUMMARY:The Show S01E02 \xE2\x80\x93 a b\r\n"));
  membuf_free(&m);
  e.title = "\x01\x7f";
  text = render_one(&e, &m);
  assert_non_null(strstr(text, "SUMMARY:The Show S01E02\r\n"));
  membuf_free(&m);
  e.show = "\x01";
  text = render_one(&e, &m);
  assert_non_null(strstr(text, "SUMMARY:S01E02\r\n"));
  membuf_free(&m);
}

/* Found by fuzzing: a description or network of control characters only
 * gave an empty DESCRIPTION or CATEGORIES, which libical reports as an
 * X-LIC-ERROR. Such properties are left out. */
static void text_of_control_characters_only_is_left_out(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.description = "\x01\t\x02";
  e.network = "\x7f";
  membuf m = {0};
  char *text = render_one(&e, &m);
  assert_null(strstr(text, "DESCRIPTION"));
  assert_null(strstr(text, "CATEGORIES"));
  icalcomponent_free(oracle_parse(text));
  membuf_free(&m);
}

static void control_characters_are_dropped(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.description = "bell\a here\x7f, tab\tkept, cr\r gone";
  membuf m = {0};
  char *text = render_one(&e, &m);
  assert_non_null(
      strstr(text, "DESCRIPTION:bell here\\, tab\tkept\\, cr gone\r\n"));
  membuf_free(&m);
}

static void invalid_utf8_is_refused(void **state) {
  (void)state;
  epcal_episode e = base_episode();
  e.title = "caf\xE9";
  membuf m = {0};
  epcal_renderer *r;
  assert_int_equal(epcal_renderer_new(&r, NULL, membuf_write, &m, NULL),
                   EPCAL_OK);
  epcal_error err;
  assert_int_equal(epcal_renderer_add(r, &e, &err), EPCAL_EDATA);
  epcal_renderer_free(r);
  membuf_free(&m);
}

static void long_description_folds(void **state) {
  (void)state;
  size_t n = 100000;
  char *d = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    d[i] = "a,;\\\n\xC3\xA9"[i % 7];
  }
  /* keep whole characters */
  for (size_t i = 0; i + 1 < n; i++) {
    if ((unsigned char)d[i] == 0xC3) {
      d[i + 1] = (char)0xA9;
      i++;
    } else if ((unsigned char)d[i] == 0xA9) {
      d[i] = 'x';
    }
  }
  d[n] = '\0';
  if ((unsigned char)d[n - 1] == 0xC3) {
    d[n - 1] = 'z';
  }
  epcal_episode e = base_episode();
  e.description = d;
  membuf m = {0};
  char *text = render_one(&e, &m);
  oracle_check_lines(text, m.len);
  icalcomponent *cal = oracle_parse(text);
  icalcomponent *ev =
      icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  assert_string_equal(icalcomponent_get_description(ev), d);
  icalcomponent_free(cal);
  membuf_free(&m);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fold_every_length_and_width),
      cmocka_unit_test(text_escaping_round_trips),
      cmocka_unit_test(summary_is_one_line),
      cmocka_unit_test(summary_blanks_around_control_characters),
      cmocka_unit_test(text_of_control_characters_only_is_left_out),
      cmocka_unit_test(control_characters_are_dropped),
      cmocka_unit_test(invalid_utf8_is_refused),
      cmocka_unit_test(long_description_folds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
