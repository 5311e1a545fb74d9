/* UTF-8 validation, shared by read (input) and render (folding). */
#ifndef EPCAL_UTF8_H
#define EPCAL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks that s[0, n) is valid UTF-8 (no overlongs, surrogates or values
 * past U+10FFFF). Returns n when valid, else the offset of the first bad
 * byte.
 */
size_t epcal__utf8_valid_prefix(const char *s, size_t n);

/* The same without AVX2: SSE2 blocks, then one character at a time (it
 * places the error when the AVX2 check finds one). */
size_t epcal__utf8_valid_prefix_portable(const char *s, size_t n);

/* For tests: the whole-input AVX2 check alone. 1 when s[0, n) is valid,
 * 0 when not, -1 when this CPU or build has no AVX2. */
int epcal__utf8_check_avx2(const char *s, size_t n);

#include <stdbool.h>

/* Whether s (NUL-terminated) has anything but blanks and control
 * characters, which TEXT output trims or drops: a value without would come
 * out empty. */
bool epcal__has_visible(const char *s);

#endif
