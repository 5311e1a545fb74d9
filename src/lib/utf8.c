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

#if defined(__SSE2__)
/* Unsigned x >= k, per byte. */
static inline __m128i ge_u8(__m128i x, unsigned char k) {
  return _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)k)), x);
}

/*
 * Checks s[0, n) sixteen bytes at a time, without a branch per character
 * (text that mixes scripts and emoji defeats branch prediction): a block
 * is valid when no byte is C0, C1 or F5..FF, the second byte after E0, ED,
 * F0 and F4 is in range, and the continuation bytes are exactly those the
 * lead bytes (here and in the previous block) call for. Stops at the first
 * block that is not valid, or when fewer than 17 bytes are left. Returns
 * the start of a character up to which everything is valid; the caller
 * checks the rest one character at a time (and places any error).
 */
static size_t valid_blocks(const unsigned char *s, size_t n) {
  size_t i = 0;
  uint32_t carry = 0; /* continuation bytes owed to the next block */
  while (i + 17 <= n) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    if (carry == 0) {
      /* ASCII runs dominate real text (a description in a language with
       * accents is still mostly ASCII): skip them 32 or 16 bytes at a time,
       * which is what the full check below would conclude for them. */
      if (i + 33 <= n) {
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
        if (_mm_movemask_epi8(_mm_or_si128(x, y)) == 0) {
          i += 32;
          continue;
        }
      }
      if (_mm_movemask_epi8(x) == 0) {
        i += 16;
        continue;
      }
    }
    __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
    __m128i ge80 = ge_u8(x, 0x80);
    __m128i geC0 = ge_u8(x, 0xC0);
    __m128i geE0 = ge_u8(x, 0xE0);
    __m128i geF0 = ge_u8(x, 0xF0);
    __m128i nextA0 = ge_u8(next, 0xA0);
    __m128i next90 = ge_u8(next, 0x90);
    __m128i bad = _mm_or_si128(
        _mm_or_si128(ge_u8(x, 0xF5),
                     _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xC0)),
                                  _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xC1)))),
        _mm_or_si128(
            _mm_or_si128(
                _mm_andnot_si128(nextA0,
                                 _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xE0))),
                _mm_and_si128(nextA0,
                              _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xED)))),
            _mm_or_si128(
                _mm_andnot_si128(next90,
                                 _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xF0))),
                _mm_and_si128(next90,
                              _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xF4))))));
    uint32_t cont_mask = (uint32_t)_mm_movemask_epi8(_mm_andnot_si128(geC0, ge80));
    /* A lead byte of 2, 3 or 4 octets calls for continuation bytes at +1,
     * +2 and +3 after it. */
    uint32_t want = carry | (uint32_t)_mm_movemask_epi8(geC0) << 1 |
                    (uint32_t)_mm_movemask_epi8(geE0) << 2 |
                    (uint32_t)_mm_movemask_epi8(geF0) << 3;
    if (_mm_movemask_epi8(bad) != 0 || (want & 0xFFFF) != cont_mask) {
      break;
    }
    carry = want >> 16;
    i += 16;
  }
  if (carry != 0) {
    /* The last good block ends inside a character: back up to its lead. */
    while (cont(s[i - 1])) {
      i--;
    }
    i--;
  }
  return i;
}
#endif

size_t epcal__utf8_valid_prefix(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
#if defined(__SSE2__)
  i = valid_blocks(s, n);
#endif
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

bool epcal__has_visible(const char *s) {
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c > 0x20 && c != 0x7F) {
      return true;
    }
  }
  return false;
}
