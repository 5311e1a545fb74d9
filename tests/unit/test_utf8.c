/*
 * The UTF-8 check against a reference written from RFC 3629's table, one
 * character at a time: the fast checks take ASCII 16 and 32 bytes at a
 * time and other text in 16-byte (SSE2) or 32-byte (AVX2) blocks, so every
 * kind of character and every bad byte is tried at every offset around
 * those block edges, and on many random strings mixing them. The AVX2
 * check's own verdict is compared too, since a wrong "invalid" from it
 * would only cost time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "read/utf8.h"

/* RFC 3629, section 4: the byte ranges of each well-formed sequence. */
static size_t reference(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return i;
    }
    if (n - i < len) {
      return i;
    }
    for (size_t k = 1; k < len; k++) {
      unsigned char b = s[i + k];
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) {
        return i;
      }
    }
    i += len;
  }
  return n;
}

static void check(const unsigned char *s, size_t n) {
  size_t want = reference(s, n);
  size_t got = epcal__utf8_valid_prefix((const char *)s, n);
  if (got != want) {
    fprintf(stderr, "length %zu: got %zu, want %zu; bytes:", n, got, want);
    for (size_t i = 0; i < n; i++) {
      fprintf(stderr, " %02x", s[i]);
    }
    fprintf(stderr, "\n");
  }
  assert_int_equal(got, want);
  assert_int_equal(epcal__utf8_valid_prefix_portable((const char *)s, n), want);
  /* The AVX2 check alone, where there is one: it decides most inputs. */
  int avx2 = epcal__utf8_check_avx2((const char *)s, n);
  if (avx2 != -1) {
    assert_int_equal(avx2, want == n);
  }
}

/* Sequences worth trying: valid ones of each length and edge, and bad
 * ones (overlong, surrogate, past U+10FFFF, stray or missing
 * continuation, truncated). */
static const char *const pieces[] = {
    "a",        "~",           "\x7f",         "\xc2\x80",     "\xdf\xbf",
    "\xc3\xa9", "\xe0\xa0\x80", "\xe2\x82\xac", "\xed\x9f\xbf", "\xee\x80\x80",
    "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
    /* bad */
    "\xc0\xaf", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf",
    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "\xbf", "\xc3",
    "\xe2\x82", "\xf0\x9f\x98", "\xc3\x28", "\xe2\x28\xac", "\xf0\x9f\x28\x80",
};
#define N_PIECES (sizeof pieces / sizeof *pieces)

/* Each piece after 0-70 ASCII bytes and before 0-40 more: it meets every
 * offset of the 16- and 32-byte steps and the end of the input. */
static void every_piece_at_every_offset(void **state) {
  (void)state;
  unsigned char buf[256];
  for (size_t p = 0; p < N_PIECES; p++) {
    size_t plen = strlen(pieces[p]);
    for (size_t before = 0; before <= 70; before++) {
      for (size_t after = 0; after <= 40; after++) {
        memset(buf, 'x', before);
        memcpy(buf + before, pieces[p], plen);
        memset(buf + before + plen, 'y', after);
        check(buf, before + plen + after);
        /* After multi-byte text too, so a block may owe continuations. */
        for (size_t k = 0; k + 2 <= before; k += 2) {
          memcpy(buf + k, "\xc3\xa9", 2);
        }
        check(buf, before + plen + after);
      }
    }
  }
}

/* Random mixes of the pieces and ASCII runs of every length. */
static void random_mixes(void **state) {
  (void)state;
  unsigned char buf[600];
  uint32_t x = 42;
  for (int round = 0; round < 200000; round++) {
    size_t n = 0;
    x = x * 1103515245u + 12345u;
    size_t target = (x >> 8) % 500;
    bool allow_bad = (x >> 20) % 4 == 0;
    while (n < target) {
      x = x * 1103515245u + 12345u;
      unsigned r = x >> 16;
      if (r % 3 == 0) {
        size_t run = (r >> 2) % 40;
        memset(buf + n, 'a' + (int)(r % 26), run);
        n += run;
      } else {
        size_t p = (r >> 2) % (allow_bad ? N_PIECES : 14);
        memcpy(buf + n, pieces[p], strlen(pieces[p]));
        n += strlen(pieces[p]);
      }
    }
    check(buf, n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_piece_at_every_offset),
      cmocka_unit_test(random_mixes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
