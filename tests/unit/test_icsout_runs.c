/*
 * The content-line writer copies runs of plain bytes at once (and scans for
 * special bytes sixteen at a time where it can). This checks it against a
 * reference that writes one character at a time, the simplest reading of
 * RFC 5545 escaping and folding, over many random values made of the bytes
 * that matter: blanks, line breaks, '\\' ';' ',', control characters, DEL,
 * URI-unsafe bytes and UTF-8 characters of every width, starting at every
 * column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/icsout.h"

/* ------------------------------------------------------------ reference */

typedef struct ref {
  char *buf;
  size_t len;
  size_t col;
} ref;

static void ref_unit(ref *r, const char *s, size_t n) {
  if (r->col + n > EPCAL__FOLD_OCTETS) {
    memcpy(r->buf + r->len, "\r\n ", 3);
    r->len += 3;
    r->col = 1;
  }
  memcpy(r->buf + r->len, s, n);
  r->len += n;
  r->col += n;
}

static size_t ref_utf8_len(unsigned char c, size_t left) {
  size_t k = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return k > left ? left : k;
}

static void ref_raw(ref *r, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t k = ref_utf8_len((unsigned char)s[i], n - i);
    ref_unit(r, s + i, k);
    i += k;
  }
}

static bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void ref_text(ref *r, const char *s, size_t n, bool one_line) {
  /* One-line values: a run of blanks is one space, written only between
   * visible characters; dropped control characters do not split a run. */
  bool blank = false;
  bool started = false;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (one_line && is_blank(c)) {
      blank = started;
      i++;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
      i++; /* dropped */
      continue;
    }
    if (blank) {
      ref_unit(r, " ", 1);
      blank = false;
    }
    started = true;
    if (c == '\\' || c == ';' || c == ',' || c == '\n') {
      char esc[2] = {'\\', (char)(c == '\n' ? 'n' : c)};
      ref_unit(r, esc, 2);
      i++;
    } else {
      size_t k = ref_utf8_len(c, n - i);
      ref_unit(r, s + i, k);
      i += k;
    }
  }
}

static void ref_uri(ref *r, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c > 0x20 && c < 0x7F && strchr("\"<>\\^`{|}", c) == NULL) {
      ref_unit(r, (const char *)&s[i], 1);
    } else {
      char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
      ref_unit(r, pct, 3);
    }
  }
}

/* -------------------------------------------------------------- harness */

typedef struct sink {
  char *data;
  size_t len;
} sink;

static int sink_write(void *ctx, const char *buf, size_t len) {
  sink *k = ctx;
  memcpy(k->data + k->len, buf, len);
  k->len += len;
  return 0;
}

static uint64_t rng = 0x243F6A8885A308D3ULL;

static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

/* A random valid UTF-8 value of up to `max` pieces. */
static size_t random_value(char *v, size_t max) {
  static const char *const pieces[] = {
      "a", "Z", "0", " ", "  ", "\t", "\n", "\r\n", "\r", "\\", ";", ",",
      ":", "\"", "\x01", "\x1F", "\x7F", "<", "|", "%", "\xC3\xA9",
      "\xE2\x80\x93", "\xF0\x9F\x93\xBA", "word ", "a longer run of text "};
  size_t n = 0, count = rnd((unsigned)max + 1);
  for (size_t i = 0; i < count; i++) {
    const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
    size_t len = strlen(p);
    memcpy(v + n, p, len);
    n += len;
  }
  return n;
}

enum { RAW, TEXT, LINE, URI };

static void check(int kind, const char *name, const char *v, size_t n,
                  size_t cap) {
  static char want[1 << 16], got[1 << 16];
  ref r = {want, 0, 0};
  ref_raw(&r, name, strlen(name));
  ref_unit(&r, ":", 1);
  if (kind == RAW) {
    ref_raw(&r, v, n);
  } else if (kind == URI) {
    ref_uri(&r, v, n);
  } else {
    ref_text(&r, v, n, kind == LINE);
  }
  memcpy(r.buf + r.len, "\r\n", 2);
  r.len += 2;

  sink k = {got, 0};
  epcal__icsout o;
  assert_true(epcal__icsout_init(&o, cap, sink_write, &k));
  epcal__icsout_begin(&o, name);
  if (kind == RAW) {
    epcal__icsout_raw(&o, v, n);
  } else if (kind == URI) {
    epcal__icsout_uri(&o, v, n);
  } else if (kind == LINE) {
    epcal__icsout_text_line(&o, v, n);
  } else {
    epcal__icsout_text(&o, v, n);
  }
  epcal__icsout_end(&o);
  assert_true(epcal__icsout_flush(&o));
  epcal__icsout_free(&o);
  if (k.len != r.len || memcmp(k.data, r.buf, r.len) != 0) {
    fprintf(stderr, "kind %d, name %s, value of %zu bytes differs\n", kind,
            name, n);
  }
  assert_int_equal(k.len, r.len);
  assert_memory_equal(k.data, r.buf, r.len);
}

static void runs_match_reference(void **state) {
  (void)state;
  /* Property names of many lengths put values at every starting column. */
  char name[80];
  char v[8192];
  for (int round = 0; round < 20000; round++) {
    size_t nl = 1 + rnd(74);
    for (size_t i = 0; i < nl; i++) {
      name[i] = (char)('A' + rnd(26));
    }
    name[nl] = '\0';
    size_t n = random_value(v, round % 10 == 0 ? 300 : 40);
    int kind = rnd(4);
    /* A small buffer makes flushes happen in the middle of values. */
    check(kind, name, v, n, round % 2 == 0 ? 256 : 65536);
  }
}

static void every_byte_alone_and_in_runs(void **state) {
  (void)state;
  char v[64];
  for (int c = 1; c < 256; c++) {
    if (c >= 0x80) {
      continue; /* alone, these are not UTF-8; RAW/URI cover them below */
    }
    for (size_t pad = 0; pad < 40; pad++) {
      memset(v, 'x', pad);
      v[pad] = (char)c;
      memset(v + pad + 1, 'y', 20);
      for (int kind = RAW + 1; kind <= URI; kind++) {
        check(kind, "X", v, pad + 21, 65536);
      }
    }
  }
  for (int c = 0x80; c < 256; c++) {
    v[0] = (char)c;
    check(URI, "URL", v, 1, 65536);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(runs_match_reference),
      cmocka_unit_test(every_byte_alone_and_in_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
