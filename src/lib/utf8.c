#include "utf8.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The length of the ASCII run at the start of s[0, n). */
static size_t ascii_prefix(const unsigned char *s, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  /* ASCII runs dominate real data: take them sixteen bytes at a time. */
  while (i + 16 <= n) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    unsigned mask = (unsigned)_mm_movemask_epi8(x);
    if (mask != 0) {
      return i + (size_t)__builtin_ctz(mask);
    }
    i += 16;
  }
#else
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if ((w & 0x8080808080808080ULL) != 0) {
      break;
    }
    i += 8;
  }
#endif
  while (i < n && s[i] < 0x80) {
    i++;
  }
  return i;
}

static inline bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t epcal__utf8_valid_prefix(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    i += ascii_prefix(s + i, n - i);
    /* Then the characters up to the next ASCII byte, one at a time; the
     * ranges are those of RFC 3629 (no overlongs, surrogates or values past
     * U+10FFFF), and a bad sequence is reported at its first byte. */
    while (i < n && s[i] >= 0x80) {
      unsigned char c = s[i];
      size_t left = n - i;
      if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2 || !cont(s[i + 1])) {
          return i;
        }
        i += 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || !cont(s[i + 1]) || !cont(s[i + 2]) ||
            (c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0)) {
          return i;
        }
        i += 3;
      } else if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || !cont(s[i + 1]) || !cont(s[i + 2]) ||
            !cont(s[i + 3]) || (c == 0xF0 && s[i + 1] < 0x90) ||
            (c == 0xF4 && s[i + 1] >= 0x90)) {
          return i;
        }
        i += 4;
      } else {
        return i;
      }
    }
  }
  return n;
}
