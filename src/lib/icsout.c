#include "icsout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Octets in the UTF-8 character led by c (input is validated upstream; a
 * stray continuation byte counts as one). */
static inline size_t utf8_len(unsigned char c) {
  if (c < 0xC0) {
    return 1;
  }
  if (c < 0xE0) {
    return 2;
  }
  if (c < 0xF0) {
    return 3;
  }
  return 4;
}

/* How a byte is written in TEXT: 0 copied, 1 dropped (a control
 * character), else the letter of its backslash escape. */
static inline unsigned char text_class(unsigned char c) {
  if (c >= 0x20) {
    if (c == '\\' || c == ';' || c == ',') {
      return c;
    }
    return c == 0x7F ? 1 : 0;
  }
  if (c == '\t') {
    return 0;
  }
  return c == '\n' ? 'n' : 1;
}

/* Whether a byte may stand as itself in a URI (RFC 3986). */
static inline bool uri_ok(unsigned char c) {
  return c > 0x20 && c < 0x7F && strchr("\"<>\\^`{|}", c) == NULL;
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
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len((unsigned char)s[i]);
    if (k > n - i) {
      k = n - i;
    }
    put_unit(o, s + i, k);
    i += k;
  }
}

static void text(epcal__icsout *o, const char *s, size_t n, bool one_line) {
  /* One-line values: a run of blanks is written as one space only once
   * something visible follows it, so no blank is left at either end and a
   * dropped control character never splits a run in two. */
  bool blank = false;
  bool started = false;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (one_line && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      blank = started;
      i++;
      continue;
    }
    unsigned char cls = text_class(c);
    if (cls == 1) {
      i++; /* control character: not allowed in TEXT */
      continue;
    }
    if (blank) {
      put_unit(o, " ", 1);
      blank = false;
    }
    started = true;
    if (cls == 0) {
      size_t k = utf8_len(c);
      if (k > n - i) {
        k = n - i;
      }
      /* Most characters are ASCII and far from the fold: copy directly. */
      if (k == 1 && o->col < EPCAL__FOLD_OCTETS && o->len < o->cap) {
        o->buf[o->len++] = (char)c;
        o->col++;
      } else {
        put_unit(o, s + i, k);
      }
      i += k;
    } else {
      char esc[2] = {'\\', (char)cls};
      put_unit(o, esc, 2);
      i++;
    }
  }
}

void epcal__icsout_text(epcal__icsout *o, const char *s, size_t n) {
  text(o, s, n, false);
}

void epcal__icsout_text_line(epcal__icsout *o, const char *s, size_t n) {
  text(o, s, n, true);
}

void epcal__icsout_uri(epcal__icsout *o, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (uri_ok(c)) {
      put_unit(o, (const char *)&s[i], 1);
    } else {
      char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
      put_unit(o, pct, 3);
    }
  }
}

void epcal__icsout_end(epcal__icsout *o) {
  reserve(o, 2);
  o->buf[o->len++] = '\r';
  o->buf[o->len++] = '\n';
  o->col = 0;
}

void epcal__icsout_line(epcal__icsout *o, const char *text_) {
  o->col = 0;
  epcal__icsout_raw(o, text_, strlen(text_));
  epcal__icsout_end(o);
}
