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
#include <unistd.h>

#include "ical_oracle.h"

#include "epcal/epcal.h"

typedef struct seen {
  unsigned long n;
  unsigned long before; /* end-before-start findings */
  unsigned long line[16];
  char msg[16][512];
} seen;

static void collect(void *ctx, const epcal_finding *p) {
  seen *s = ctx;
  assert_non_null(p->rule);
  s->before += strcmp(p->rule, "end-before-start") == 0;
  assert_string_equal(p->file, "t.ics");
  if (s->n < 16) {
    s->line[s->n] = p->line;
    snprintf(s->msg[s->n], sizeof s->msg[0], "%s", p->msg);
  }
  s->n++;
}

/* Like collect, for a feed with any name. */
static void collect_any(void *ctx, const epcal_finding *p) {
  seen *s = ctx;
  assert_non_null(p->rule);
  s->before += strcmp(p->rule, "end-before-start") == 0;
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

/* The same findings whether the feed is read from memory, or from a file
 * (a first pass for its VTIMEZONEs, then chunks after the first 4096
 * octets, lines straddling every chunk boundary), and from a file the
 * zone it uses is defined after the events that use it. */
static void test_file_and_memory_agree(void **state) {
  (void)state;
  membuf m = {0};
  const char *head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n";
  membuf_write(&m, head, strlen(head));
  for (int i = 0; i < 5000; i++) {
    char ev[512];
    int n = snprintf(
        ev, sizeof ev,
        "BEGIN:VEVENT\r\nUID:e%d@t\r\nDTSTAMP:20231114T221320Z\r\n"
        "DTSTART;TZID=Studio Time:20240101T%02d0000\r\n"
        "DTEND:20240101T%02d3000Z\r\nSUMMARY:Event %d%s\r\n"
        "DESCRIPTION:%.*s\r\nEND:VEVENT\r\n",
        i, i % 500 == 7 ? 23 : i % 20 + 4, i % 500 == 7 ? 19 : i % 20 + 1, i,
        i % 700 == 5 ? ", with a comma" : "", i % 97 + 1,
        "0123456789012345678901234567890123456789012345678901234567890123456"
        "78901234567890123456789012345678901234567890");
    membuf_write(&m, ev, (size_t)n);
  }
  const char *tail = "BEGIN:VTIMEZONE\r\nTZID:Studio Time\r\nBEGIN:STANDARD"
                     "\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\n"
                     "DTSTART:19700101T000000\r\nEND:STANDARD\r\n"
                     "END:VTIMEZONE\r\nEND:VCALENDAR\r\n";
  membuf_write(&m, tail, strlen(tail));
  assert_true(m.len > 3 * 256 * 1024);

  seen a = check_text(m.data, m.len);
  char path[] = "/tmp/epcal-test-check-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *fp = fdopen(fd, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(m.data, 1, m.len, fp), m.len);
  assert_int_equal(fclose(fp), 0);
  seen b;
  memset(&b, 0, sizeof b);
  epcal_check_stats st;
  memset(&st, 0, sizeof st);
  assert_int_equal(epcal_feed_check(path, collect_any, &b, &st, NULL),
                   EPCAL_OK);
  unlink(path);
  /* Each event ends half an hour after it starts (+0300), but for those
   * where i % 500 == 7: 23:00 +0300 is 20:00Z, after their 19:30Z end. That
   * is seen only through the VTIMEZONE at the end of the feed. */
  assert_int_equal(a.before, 10);
  assert_int_equal(b.before, 10);
  assert_int_equal(a.n, b.n);
  assert_true(a.n > 0);
  for (unsigned long i = 0; i < a.n && i < 16; i++) {
    assert_int_equal(a.line[i], b.line[i]);
    assert_string_equal(a.msg[i], b.msg[i]);
  }
  assert_int_equal(st.events, 5000);
  membuf_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_feed),
      cmocka_unit_test(test_line_length_limit),
      cmocka_unit_test(test_fold_at_every_offset),
      cmocka_unit_test(test_bare_lf_reported_once_with_count),
      cmocka_unit_test(test_nul_byte_is_judged_not_swallowed),
      cmocka_unit_test(test_renderer_output_is_clean),
      cmocka_unit_test(test_file_and_memory_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
