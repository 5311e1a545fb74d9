/*
 * Titles copied from a wiki's episode table come as "Penance"[a]: quoted,
 * with footnote marks. The marks and quotes are the page's markup, not the
 * title; a calendar should show Penance.
 */
#include "title.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Whether s[0, n) is what a footnote mark holds: "a", "zz", "12",
 * "note 1", "nb 3", "N 2", "citation needed". */
static bool mark_body(const char *s, size_t n) {
  if (n >= 1 && n <= 3) {
    bool digits = true, lower = n <= 2;
    for (size_t i = 0; i < n; i++) {
      digits = digits && isdigit((unsigned char)s[i]);
      lower = lower && s[i] >= 'a' && s[i] <= 'z';
    }
    if (digits || lower) {
      return true;
    }
  }
  static const char *const labels[] = {"note ", "nb ", "N ", "lower-alpha "};
  for (size_t k = 0; k < sizeof labels / sizeof labels[0]; k++) {
    size_t ln = strlen(labels[k]);
    if (n > ln && n <= ln + 3 && strncmp(s, labels[k], ln) == 0) {
      bool alnum = true;
      for (size_t i = ln; i < n; i++) {
        alnum = alnum && isalnum((unsigned char)s[i]);
      }
      if (alnum) {
        return true;
      }
    }
  }
  return n == 15 && strncmp(s, "citation needed", 15) == 0;
}

/* Whether s[0, n) holds the NUL-terminated `needle`. */
static bool contains(const char *s, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++) {
    if (memcmp(s + i, needle, k) == 0) {
      return true;
    }
  }
  return false;
}

size_t epcal__footnotes_cut(const char *s, size_t len) {
  size_t end = len;
  for (;;) {
    size_t e = end;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t')) {
      e--;
    }
    if (e < 3 || s[e - 1] != ']') {
      break;
    }
    size_t open = e - 1;
    while (open > 0 && s[open - 1] != '[' && e - open < 20) {
      open--;
    }
    if (open == 0 || s[open - 1] != '[' ||
        !mark_body(s + open, e - 1 - open)) {
      break;
    }
    end = open - 1;
  }
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
    end--;
  }
  return end > 0 ? end : len;
}

char *epcal__title_clean(char *s) {
  size_t len = epcal__footnotes_cut(s, strlen(s));
  s[len] = '\0';
  static const char lq[] = "\xE2\x80\x9C", rq[] = "\xE2\x80\x9D";
  size_t q = 0; /* bytes of each quote around the whole title */
  if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
    q = 1;
  } else if (len >= 6 && memcmp(s, lq, 3) == 0 &&
             memcmp(s + len - 3, rq, 3) == 0) {
    q = 3;
  }
  if (q == 0) {
    return s;
  }
  /* "A" and "B" starts and ends with a quote but is two quoted titles. */
  const char *inner = s + q;
  size_t inner_len = len - 2 * q;
  if (contains(inner, inner_len, "\"") || contains(inner, inner_len, lq) ||
      contains(inner, inner_len, rq)) {
    return s;
  }
  size_t a = 0;
  while (a < inner_len && (inner[a] == ' ' || inner[a] == '\t')) {
    a++;
  }
  size_t b = inner_len;
  while (b > a && (inner[b - 1] == ' ' || inner[b - 1] == '\t')) {
    b--;
  }
  if (b == a) {
    return s; /* "" is what the cell says */
  }
  s[q + b] = '\0';
  return s + q + a;
}
