/*
 * check, part one: physical lines -> problems + unfolded content lines.
 *
 * RFC 5545 section 3.1: lines end with CRLF, are at most 75 octets long
 * (excluding the CRLF), and a long line is folded by inserting CRLF and one
 * blank; a fold must not split a UTF-8 character. Parsers forgive most of
 * this, calendar apps do not all do so, which is why it is judged here, on
 * the bytes.
 */
#include "check_lines.h"

#include "read/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_OCTETS 75

/* Where one physical line's bytes begin in the unfolded text, so that a
 * problem found after unfolding can name the physical line it is on. */
typedef struct segment {
  size_t offset;
  unsigned long line;
  size_t skipped; /* the fold's blank, dropped from the text */
} segment;

typedef struct scan {
  epcal__report_fn report;
  epcal__content_fn content;
  void *ctx;
  char *text; /* the content line being unfolded */
  size_t len;
  size_t cap;
  segment *segs;
  size_t n_segs;
  size_t segs_cap;
  bool open; /* a content line is being collected */
  unsigned long start_line;
  unsigned long lf_only; /* lines ending in a bare LF */
} scan;

static void problem(scan *s, unsigned long line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(scan *s, unsigned long line, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  s->report(s->ctx, line, msg);
}

static bool append(scan *s, const char *bytes, size_t n, unsigned long line,
                   size_t skipped) {
  if (s->n_segs == s->segs_cap) {
    size_t cap = s->segs_cap == 0 ? 8 : s->segs_cap * 2;
    segment *p = realloc(s->segs, cap * sizeof *p);
    if (p == NULL) {
      return false;
    }
    s->segs = p;
    s->segs_cap = cap;
  }
  s->segs[s->n_segs++] = (segment){s->len, line, skipped};
  if (s->cap - s->len < n + 1) {
    size_t cap = (s->len + n + 1) * 2;
    char *p = realloc(s->text, cap);
    if (p == NULL) {
      return false;
    }
    s->text = p;
    s->cap = cap;
  }
  memcpy(s->text + s->len, bytes, n);
  s->len += n;
  s->text[s->len] = '\0';
  return true;
}

/* Judges the finished content line as a whole (UTF-8 can only be judged
 * after unfolding: a legal fold never splits a character, an illegal one
 * is reported where it happens) and hands it on. */
static void finish(scan *s) {
  if (!s->open) {
    return;
  }
  size_t ok = epcal__utf8_valid_prefix(s->text, s->len);
  if (ok < s->len) {
    size_t k = 0;
    while (k + 1 < s->n_segs && s->segs[k + 1].offset <= ok) {
      k++;
    }
    const segment *g = &s->segs[k];
    problem(s, g->line, "invalid UTF-8 at octet %zu (0x%02X)",
            ok - g->offset + g->skipped + 1, (unsigned char)s->text[ok]);
  }
  s->content(s->ctx, s->start_line, s->text, s->len);
  s->open = false;
  s->len = 0;
  s->n_segs = 0;
}

bool epcal__lines_scan(const char *data, size_t len, epcal__report_fn report,
                       epcal__content_fn content, void *ctx,
                       unsigned long *n_lines) {
  scan s;
  memset(&s, 0, sizeof s);
  s.report = report;
  s.content = content;
  s.ctx = ctx;
  bool ok = true;
  size_t pos = 0;
  unsigned long line = 0;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
    problem(&s, 1,
            "byte-order mark before the first line "
            "(iCalendar has none)");
    pos = 3;
  }
  while (pos < len && ok) {
    line++;
    const char *lf = memchr(data + pos, '\n', len - pos);
    size_t end = lf != NULL ? (size_t)(lf - data) : len;
    size_t stop = end;
    if (lf == NULL) {
      problem(&s, line, "the last line has no line end (CRLF)");
    } else if (end > pos && data[end - 1] == '\r') {
      stop = end - 1;
    } else {
      s.lf_only++;
      if (s.lf_only == 1) {
        problem(&s, line, "line ends with LF, not CRLF");
      }
    }
    const char *p = data + pos;
    size_t n = stop - pos;
    if (memchr(p, '\r', n) != NULL) {
      problem(&s, line, "stray CR inside a line (lines end with CRLF)");
    }
    if (memchr(p, '\0', n) != NULL) {
      problem(&s, line, "NUL byte");
    }
    if (n > LIMIT_OCTETS) {
      problem(&s, line, "line is %zu octets long (limit %d)", n, LIMIT_OCTETS);
    }
    if (n == 0) {
      problem(&s, line, "empty line");
      finish(&s);
    } else if (p[0] == ' ' || p[0] == '\t') {
      if (!s.open) {
        problem(&s, line,
                "continuation line with no line before it to "
                "continue");
        s.open = true;
        s.start_line = line;
      } else if (n > 1 && ((unsigned char)p[1] & 0xC0) == 0x80) {
        problem(&s, line, "fold splits a UTF-8 character");
      }
      ok = append(&s, p + 1, n - 1, line, 1);
    } else {
      finish(&s);
      s.open = true;
      s.start_line = line;
      ok = append(&s, p, n, line, 0);
    }
    pos = lf != NULL ? end + 1 : len;
  }
  if (ok) {
    finish(&s);
    if (s.lf_only == 2) {
      problem(&s, 0, "1 more line ends with LF, not CRLF");
    } else if (s.lf_only > 2) {
      problem(&s, 0, "%lu more lines end with LF, not CRLF", s.lf_only - 1);
    }
  }
  if (n_lines != NULL) {
    *n_lines = line;
  }
  free(s.text);
  free(s.segs);
  return ok;
}
