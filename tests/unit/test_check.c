/*
 * epcal_feed_check_mem() at the edges of its rules: line lengths around 75
 * octets, folds at every offset of every UTF-8 width, CRLF, and the
 * renderer's own output (which must always be judged clean).
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

#include "epcal/epcal.h"

typedef struct seen {
  unsigned long n;
  unsigned long line[16];
  char msg[16][512];
} seen;

static void collect(void *ctx, const epcal_finding *p) {
  seen *s = ctx;
  assert_non_null(p->rule);
  assert_string_equal(p->file, "t.ics");
  if (s->n < 16) {
    s->line[s->n] = p->line;
    snprintf(s->msg[s->n], sizeof s->msg[0], "%s", p->msg);
  }
  s->n++;
}

static seen check_text(const char *text, size_t len) {
  seen s;
  memset(&s, 0, sizeof s);
  epcal_check_stats st;
  assert_int_equal(
      epcal_feed_check_mem("t.ics", text, len, collect, &s, &st, NULL),
      EPCAL_OK);
  assert_int_equal(st.problems, s.n);
  return s;
}

#define HEAD                                                                   \
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"                   \
  "BEGIN:VEVENT\r\nUID:u@t\r\nDTSTAMP:20231114T221320Z\r\n"                    \
  "DTSTART;VALUE=DATE:20220303\r\n"
#define TAIL "END:VEVENT\r\nEND:VCALENDAR\r\n"
#define BODY_LINE 8 /* the line after HEAD */

/* A feed whose line 8 is `line` (CRLF added). */
static char *feed_with(const char *line) {
  size_t n = strlen(HEAD) + strlen(line) + strlen(TAIL) + 3;
  char *f = malloc(n);
  assert_non_null(f);
  snprintf(f, n, "%s%s\r\n%s", HEAD, line, TAIL);
  return f;
}

static void test_clean_feed(void **state) {
  (void)state;
  char *f = feed_with("SUMMARY:Pilot");
  seen s = check_text(f, strlen(f));
  assert_int_equal(s.n, 0);
  free(f);
}

static void test_line_length_limit(void **state) {
  (void)state;
  for (size_t octets = 70; octets <= 80; octets++) {
    char line[128] = "DESCRIPTION:";
    memset(line + 12, 'x', octets - 12);
    line[octets] = '\0';
    char *f = feed_with(line);
    seen s = check_text(f, strlen(f));
    if (octets <= 75) {
      assert_int_equal(s.n, 0);
    } else {
      assert_int_equal(s.n, 1);
      assert_int_equal(s.line[0], BODY_LINE);
      char want[64];
      snprintf(want, sizeof want, "line is %zu octets long (limit 75)", octets);
      assert_string_equal(s.msg[0], want);
    }
    free(f);
  }
}

/* A fold after `cut` octets of a character of `width` octets: legal only
 * at a character boundary (cut == 0 or cut == width). */
static void test_fold_at_every_offset(void **state) {
  (void)state;
  static const char *const glyph[5] = {NULL, "a", "\xC3\xA9", "\xE2\x82\xAC",
                                       "\xF0\x9F\x93\xBA"};
  for (int width = 2; width <= 4; width++) {
    for (int cut = 0; cut <= width; cut++) {
      char line[128];
      snprintf(line, sizeof line, "SUMMARY:ab%.*s\r\n %s", cut, glyph[width],
               glyph[width] + cut);
      char *f = feed_with(line);
      seen s = check_text(f, strlen(f));
      if (cut == 0 || cut == width) {
        assert_int_equal(s.n, 0);
      } else {
        assert_true(s.n >= 1);
        assert_int_equal(s.line[0], BODY_LINE + 1);
        assert_string_equal(s.msg[0], "fold splits a UTF-8 character");
      }
      free(f);
    }
  }
}

static void test_bare_lf_reported_once_with_count(void **state) {
  (void)state;
  const char *f = "BEGIN:VCALENDAR\nVERSION:2.0\r\nPRODID:x\n"
                  "END:VCALENDAR\n";
  seen s = check_text(f, strlen(f));
  assert_int_equal(s.n, 2);
  assert_int_equal(s.line[0], 1);
  assert_string_equal(s.msg[0], "line ends with LF, not CRLF");
  assert_int_equal(s.line[1], 0);
  assert_string_equal(s.msg[1], "2 more lines end with LF, not CRLF");
}

static void test_nul_byte_is_judged_not_swallowed(void **state) {
  (void)state;
  char *f = feed_with("SUMMARY:a?b");
  *strchr(f, '?') = '\0';
  size_t len = strlen(HEAD) + strlen("SUMMARY:a?b\r\n") + strlen(TAIL);
  seen s = check_text(f, len);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.line[0], BODY_LINE);
  assert_string_equal(s.msg[0], "NUL byte");
  free(f);
}

/* What epcal writes, epcal must judge clean: titles of every length in
 * every UTF-8 width cross every fold point. */
static void test_renderer_output_is_clean(void **state) {
  (void)state;
  static const char *const glyph[4] = {"a", "\xC3\xA9", "\xE2\x82\xAC",
                                       "\xF0\x9F\x93\xBA"};
  for (int g = 0; g < 4; g++) {
    for (int len = 1; len <= 90; len++) {
      char title[400] = "";
      for (int i = 0; i < len; i++) {
        strcat(title, glyph[g]);
      }
      epcal_episode ep;
      memset(&ep, 0, sizeof ep);
      ep.show = "Show; with, specials";
      ep.season = 2;
      ep.number = 1;
      ep.title = title;
      ep.description = title;
      ep.scheduled = true;
      ep.date = (epcal_date){2022, 3, 3};
      membuf m = {0};
      epcal_render_options ro;
      memset(&ro, 0, sizeof ro);
      ro.now = 1700000000;
      epcal_renderer *r;
      assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, &m, NULL),
                       EPCAL_OK);
      assert_int_equal(epcal_renderer_begin(r, NULL), EPCAL_OK);
      assert_int_equal(epcal_renderer_add(r, &ep, NULL), EPCAL_OK);
      assert_int_equal(epcal_renderer_end(r, NULL), EPCAL_OK);
      epcal_renderer_free(r);
      seen s = check_text(m.data, m.len);
      if (s.n != 0) {
        fail_msg("glyph %d, length %d: line %lu: %s", g, len, s.line[0],
                 s.msg[0]);
      }
      membuf_free(&m);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_feed),
      cmocka_unit_test(test_line_length_limit),
      cmocka_unit_test(test_fold_at_every_offset),
      cmocka_unit_test(test_bare_lf_reported_once_with_count),
      cmocka_unit_test(test_nul_byte_is_judged_not_swallowed),
      cmocka_unit_test(test_renderer_output_is_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
