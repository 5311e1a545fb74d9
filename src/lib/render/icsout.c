#include "icsout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

bool epcal__icsout_init(epcal__icsout *o, size_t cap, epcal_write_fn write,
                        void *ctx) {
  memset(o, 0, sizeof *o);
  if (cap < 256) {
    cap = 256;
  }
  o->buf = malloc(cap);
  if (o->buf == NULL) {
    return false;
  }
  o->cap = cap;
  o->write = write;
  o->ctx = ctx;
  return true;
}

void epcal__icsout_free(epcal__icsout *o) {
  free(o->buf);
  o->buf = NULL;
}

bool epcal__icsout_flush(epcal__icsout *o) {
  if (!o->failed && o->len > 0 && o->write(o->ctx, o->buf, o->len) != 0) {
    o->failed = true;
    o->saved_errno = errno;
  }
  o->len = 0;
  if (o->failed) {
    errno = o->saved_errno;
  }
  return !o->failed;
}

/* Makes room for at least `n` more bytes. */
static inline void reserve(epcal__icsout *o, size_t n) {
  if (o->cap - o->len < n) {
    epcal__icsout_flush(o);
  }
}

/*
 * Appends one unit of `n` octets (a character or an escape pair), folding
 * first when it would not fit on the current line. n <= 4 + 1.
 */
static inline void put_unit(epcal__icsout *o, const char *s, size_t n) {
  reserve(o, n + 3);
  char *d = o->buf + o->len;
  if (o->col + n > EPCAL__FOLD_OCTETS) {
    *d++ = '\r';
    *d++ = '\n';
    *d++ = ' ';
    o->len += 3;
    o->col = 1;
  }
  memcpy(d, s, n);
  o->len += n;
  o->col += n;
}

/*
 * What each byte needs, as bits: TEXT_SPECIAL is escaped or dropped in a
 * TEXT value (control characters but TAB, DEL, '\\' ';' ','), LINE_SPECIAL
 * also stops a one-line value (TAB and ' ' start a run of blanks that
 * becomes one space), URI_SPECIAL is percent-encoded in a URI. Every other
 * byte is copied as it is, so values are written as runs of plain bytes
 * between the few special ones. (The table is written out from those
 * rules.)
 */
enum { TEXT_SPECIAL = 1, LINE_SPECIAL = 2, URI_SPECIAL = 4 };

static const unsigned char byte_class[256] = {
    7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 7, 7, 7, 7, 7, /* 0x00 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, /* 0x10 */
    6, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 4, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 4, 0, /* 0x50 */
    4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 0, 7, /* 0x70 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x80 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0x90 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xA0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xB0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xC0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xD0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xE0 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 0xF0 */
};

/* The offset of the first byte of s[i, n) whose class has `bits`, or n. */
static size_t scan_plain(const char *s, size_t i, size_t n, unsigned bits) {
#if defined(__SSE2__)
  /* Sixteen bytes at a time: in real text most bytes are plain. */
  if (bits != URI_SPECIAL) {
    const __m128i low = _mm_set1_epi8(0x1F);
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i del = _mm_set1_epi8(0x7F);
    const __m128i bsl = _mm_set1_epi8('\\');
    const __m128i semi = _mm_set1_epi8(';');
    const __m128i comma = _mm_set1_epi8(',');
    const __m128i space = _mm_set1_epi8(bits == LINE_SPECIAL ? ' ' : ',');
    while (i + 16 <= n) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
      /* x <= 0x1F, unsigned: controls (TAB sorted out below). */
      __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(x, low), low);
      if (bits == TEXT_SPECIAL) {
        ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl);
      }
      __m128i hit = _mm_or_si128(
          _mm_or_si128(ctl, _mm_cmpeq_epi8(x, del)),
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, bsl),
                                    _mm_cmpeq_epi8(x, semi)),
                       _mm_or_si128(_mm_cmpeq_epi8(x, comma),
                                    _mm_cmpeq_epi8(x, space))));
      unsigned mask = (unsigned)_mm_movemask_epi8(hit);
      if (mask != 0) {
        return i + (size_t)__builtin_ctz(mask);
      }
      i += 16;
    }
  }
#endif
  while (i < n && (byte_class[(unsigned char)s[i]] & bits) == 0) {
    i++;
  }
  return i;
}

/*
 * Appends the plain run s[0, n), folding where the line is full: never
 * inside a UTF-8 character (a fold goes before a character that would not
 * fit, exactly as if it were written one character at a time).
 */
static void put_run(epcal__icsout *o, const char *s, size_t n) {
  while (n > 0) {
    size_t room = EPCAL__FOLD_OCTETS - o->col;
    size_t take = n;
    if (take > room) {
      take = room;
      /* Back up to the start of the character that would straddle. */
      while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80) {
        take--;
      }
      if (take == 0 && o->col <= 1) {
        take = room; /* not UTF-8 at all: do not loop forever */
      }
    }
    reserve(o, take + 3);
    memcpy(o->buf + o->len, s, take);
    o->len += take;
    o->col += take;
    s += take;
    n -= take;
    if (n > 0) {
      o->buf[o->len++] = '\r';
      o->buf[o->len++] = '\n';
      o->buf[o->len++] = ' ';
      o->col = 1;
    }
  }
}

void epcal__icsout_begin(epcal__icsout *o, const char *name) {
  o->col = 0;
  epcal__icsout_raw(o, name, strlen(name));
  put_unit(o, ":", 1);
}

void epcal__icsout_raw(epcal__icsout *o, const char *s, size_t n) {
  /* Fast path: the whole run fits on the line and in the buffer. */
  if (o->col + n <= EPCAL__FOLD_OCTETS && o->cap - o->len >= n) {
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->col += n;
    return;
  }
  put_run(o, s, n);
}

static bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void text(epcal__icsout *o, const char *s, size_t n, bool one_line) {
  unsigned bits = one_line ? LINE_SPECIAL : TEXT_SPECIAL;
  /* One-line values: a run of blanks is written as one space only once
   * something visible follows it, so no blank is left at either end and a
   * dropped control character never splits a run in two. */
  bool blank = false;
  bool started = false;
  size_t i = 0;
  while (i < n) {
    size_t j = scan_plain(s, i, n, bits);
    if (j > i) {
      if (blank) {
        put_unit(o, " ", 1);
        blank = false;
      }
      put_run(o, s + i, j - i);
      started = true;
    }
    if (j == n) {
      break;
    }
    unsigned char c = (unsigned char)s[j];
    i = j + 1;
    if (one_line && is_blank(c)) {
      blank = started;
    } else if (c == '\\' || c == ';' || c == ',' || c == '\n') {
      if (blank) {
        put_unit(o, " ", 1);
        blank = false;
      }
      char esc[2] = {'\\', (char)(c == '\n' ? 'n' : c)};
      put_unit(o, esc, 2);
      started = true;
    }
    /* Any other special byte is a control character: not allowed in TEXT,
     * dropped. */
  }
}

size_t epcal__text_escape(const char *s, size_t n, char *dst) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' || c == ';' || c == ',' || c == '\n') {
      dst[w++] = '\\';
      dst[w++] = (char)(c == '\n' ? 'n' : c);
    } else if (c >= 0x20 ? c != 0x7F : c == '\t') {
      dst[w++] = (char)c; /* other control characters are dropped */
    }
  }
  return w;
}

void epcal__icsout_text(epcal__icsout *o, const char *s, size_t n) {
  text(o, s, n, false);
}

void epcal__icsout_text_line(epcal__icsout *o, const char *s, size_t n) {
  text(o, s, n, true);
}

void epcal__icsout_uri(epcal__icsout *o, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
  while (i < n) {
    size_t j = scan_plain(s, i, n, URI_SPECIAL);
    put_run(o, s + i, j - i);
    if (j == n) {
      break;
    }
    unsigned char c = (unsigned char)s[j];
    char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
    put_unit(o, pct, 3);
    i = j + 1;
  }
}

void epcal__icsout_end(epcal__icsout *o) {
  reserve(o, 2);
  o->buf[o->len++] = '\r';
  o->buf[o->len++] = '\n';
  o->col = 0;
}

void epcal__icsout_bytes(epcal__icsout *o, const char *s, size_t n) {
  if (n > o->cap - o->len) {
    epcal__icsout_flush(o);
    if (n > o->cap) {
      if (!o->failed && o->write(o->ctx, s, n) != 0) {
        o->failed = true;
        o->saved_errno = errno;
      }
      return;
    }
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->col = 0;
}

void epcal__icsout_line(epcal__icsout *o, const char *text_) {
  o->col = 0;
  epcal__icsout_raw(o, text_, strlen(text_));
  epcal__icsout_end(o);
}
