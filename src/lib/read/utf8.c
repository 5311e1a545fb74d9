#include "utf8.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* AVX2 is chosen at run time (the build targets plain x86-64). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UTF8_AVX2 1
#include <immintrin.h>
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

#if defined(UTF8_AVX2)
/*
 * Whole-input validity, 32 bytes at a time and without a branch per block:
 * the lookup algorithm of Keiser and Lemire ("Validating UTF-8 in less
 * than one instruction per byte", 2021), as simdjson and simdutf use it.
 * Each byte and the one before it index three 16-entry tables whose
 * entries are sets of error kinds; a pair is bad when all three agree on
 * one kind. Third and fourth bytes of a sequence are checked by the two
 * bytes before them. The input ends with a block of zeros, so a sequence
 * cut short by the end is an error too. Valid text mixing scripts and
 * emoji made the blockwise SSE2 check below mispredict its ASCII branches:
 * it took 14% of the reading thread, the thread that bounds a run.
 */
#define AVX2_FN __attribute__((target("avx2")))

enum {
  TOO_SHORT = 1 << 0,  /* lead or ASCII, then a lead or ASCII: 11______ 0_______ */
  TOO_LONG = 1 << 1,   /* ASCII, then a continuation: 0_______ 10______ */
  OVERLONG_3 = 1 << 2, /* 11100000 100_____ */
  TOO_LARGE = 1 << 3,  /* past U+10FFFF: 11110100 1001____ and above */
  SURROGATE = 1 << 4,  /* 11101101 101_____ */
  OVERLONG_2 = 1 << 5, /* 1100000_ 10______ */
  TOO_LARGE_1000 = 1 << 6, /* 11110101 1000____ and above */
  OVERLONG_4 = 1 << 6, /* 11110000 1000____ */
  TWO_CONTS = 1 << 7,  /* a continuation after a continuation */
  CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS /* decided by byte 1's high half */
};

#define TABLE16(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)

/* The 32 bytes that end N bytes before the end of `input`: the last N of
 * `prev`, then the first 32 - N of `input`. */
#define PREV(input, prev, N)                                                  \
  _mm256_alignr_epi8((input), _mm256_permute2x128_si256((prev), (input), 0x21), \
                     16 - (N))

AVX2_FN static inline __m256i high_nibbles(__m256i x) {
  return _mm256_and_si256(_mm256_srli_epi16(x, 4), _mm256_set1_epi8(0x0F));
}

/* Error bits of one block, given the block before it. */
AVX2_FN static inline __m256i block_errors(__m256i input, __m256i prev) {
  const __m256i byte_1_high = TABLE16(
      TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
      TOO_LONG, (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS,
      (char)TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
      TOO_SHORT | OVERLONG_3 | SURROGATE,
      TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
  const __m256i byte_1_low = TABLE16(
      (char)(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4),
      (char)(CARRY | OVERLONG_2), (char)CARRY, (char)CARRY,
      (char)(CARRY | TOO_LARGE), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
      (char)(CARRY | TOO_LARGE | TOO_LARGE_1000));
  const __m256i byte_2_high = TABLE16(
      TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
      TOO_SHORT, TOO_SHORT,
      (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 |
             OVERLONG_4),
      (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
      (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
      (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
      TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
  __m256i prev1 = PREV(input, prev, 1);
  __m256i special = _mm256_and_si256(
      _mm256_and_si256(
          _mm256_shuffle_epi8(byte_1_high, high_nibbles(prev1)),
          _mm256_shuffle_epi8(byte_1_low,
                              _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)))),
      _mm256_shuffle_epi8(byte_2_high, high_nibbles(input)));
  /* Third and fourth bytes must be continuations: only there may two
   * continuations follow each other (TWO_CONTS). */
  __m256i third = _mm256_subs_epu8(PREV(input, prev, 2),
                                   _mm256_set1_epi8((char)(0xE0 - 0x80)));
  __m256i fourth = _mm256_subs_epu8(PREV(input, prev, 3),
                                    _mm256_set1_epi8((char)(0xF0 - 0x80)));
  __m256i must_continue = _mm256_and_si256(_mm256_or_si256(third, fourth),
                                           _mm256_set1_epi8((char)0x80));
  return _mm256_xor_si256(must_continue, special);
}

AVX2_FN static bool all_valid_avx2(const unsigned char *s, size_t n) {
  __m256i errors = _mm256_setzero_si256();
  __m256i prev = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i input = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
    errors = _mm256_or_si256(errors, block_errors(input, prev));
    prev = input;
  }
  /* The rest (0 to 31 bytes), then zeros: the first byte a sequence still
   * open at the end lacks falls in this block, and is no continuation. */
  unsigned char last[32] = {0};
  memcpy(last, s + i, n - i);
  __m256i input = _mm256_loadu_si256((const __m256i *)(const void *)last);
  errors = _mm256_or_si256(errors, block_errors(input, prev));
  return _mm256_testz_si256(errors, errors) != 0;
}

static bool have_avx2(void) {
  return __builtin_cpu_supports("avx2") != 0;
}
#endif

int epcal__utf8_check_avx2(const char *s, size_t n) {
#if defined(UTF8_AVX2)
  if (have_avx2()) {
    return all_valid_avx2((const unsigned char *)s, n) ? 1 : 0;
  }
#endif
  (void)s;
  (void)n;
  return -1;
}

size_t epcal__utf8_valid_prefix(const char *s, size_t n) {
#if defined(UTF8_AVX2)
  /* Valid text is the rule: check it whole, and place an error only when
   * there is one. */
  if (have_avx2() && all_valid_avx2((const unsigned char *)s, n)) {
    return n;
  }
#endif
  return epcal__utf8_valid_prefix_portable(s, n);
}

size_t epcal__utf8_valid_prefix_portable(const char *str, size_t n) {
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
