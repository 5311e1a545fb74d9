#include "ical_oracle.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int membuf_write(void *ctx, const char *buf, size_t len) {
  membuf *m = ctx;
  if (m->cap - m->len < len + 1) {
    size_t cap = (m->cap + len + 1) * 2;
    char *p = realloc(m->data, cap);
    if (p == NULL) {
      return -1;
    }
    m->data = p;
    m->cap = cap;
  }
  memcpy(m->data + m->len, buf, len);
  m->len += len;
  return 0;
}

const char *membuf_str(membuf *m) {
  membuf_write(m, "", 0);
  m->data[m->len] = '\0';
  return m->data;
}

void membuf_free(membuf *m) {
  free(m->data);
  memset(m, 0, sizeof *m);
}

icalcomponent *oracle_parse(const char *text) {
  icalcomponent *c = icalparser_parse_string(text);
  assert_non_null(c);
  icalcomponent *cal = icalcomponent_isa(c) == ICAL_VCALENDAR_COMPONENT
                           ? c
                           : icalcomponent_get_first_component(
                                 c, ICAL_VCALENDAR_COMPONENT);
  (void)cal;
  assert_int_equal(icalcomponent_count_errors(c), 0);
  return c;
}

void oracle_check_lines(const char *text, size_t len) {
  size_t start = 0;
  while (start < len) {
    const char *lf = memchr(text + start, '\n', len - start);
    assert_non_null(lf);
    size_t end = (size_t)(lf - text);
    assert_true(end > start && text[end - 1] == '\r');
    size_t octets = end - 1 - start;
    if (octets > 75) {
      fail_msg("line of %zu octets: %.*s", octets, (int)octets, text + start);
    }
    if (text[start] == ' ') {
      /* a continuation: it must not start inside a UTF-8 character */
      assert_true(start + 1 >= end ||
                  ((unsigned char)text[start + 1] & 0xC0) != 0x80);
    }
    start = end + 1;
  }
}
