/*
 * check, part one: physical lines -> findings + unfolded content lines.
 *
 * RFC 5545 section 3.1: lines end with CRLF, are at most 75 octets long
 * (excluding the CRLF), and a long line is folded by inserting CRLF and one
 * blank; a fold must not split a UTF-8 character. Parsers forgive most of
 * this, calendar apps do not all do so, which is why it is judged here, on
 * the bytes.
 *
 * The feed arrives in chunks (a line may span many), so a physical line is
 * judged from what is kept of it as it passes: its length, its first two
 * and last octets, whether it held a CR or a NUL.
 */
#include "check_lines.h"
#include "error.h"

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

struct epcal__lines {
  epcal__report_fn report;
  epcal__content_fn content;
  void *ctx;
  /* The content line being unfolded: its first `len` octets are kept. */
  char *text;
  size_t len;
  size_t cap;
  size_t full; /* its real length so far */
  segment *segs;
  size_t n_segs;
  size_t segs_cap;
  bool open; /* a content line is being collected */
  unsigned long start_line;
  /* The physical line being read. */
  unsigned long line;
  bool in_line;
  bool cont; /* it continues the content line (starts with a blank) */
  size_t plen;
  unsigned char second, last;
  size_t crs;
  bool nul;
  bool started;
  unsigned long lf_only; /* lines ending in a bare LF */
};

static void problem(epcal__lines *s, unsigned long line, const char *rule,
                    epcal_check_severity sev, const char *fmt, ...)
    EPCAL__PRINTF(5, 6);

static void problem(epcal__lines *s, unsigned long line, const char *rule,
                    epcal_check_severity sev, const char *fmt, ...) {
  if (s->report == NULL) {
    return;
  }
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  s->report(s->ctx, line, rule, sev, msg);
}

epcal__lines *epcal__lines_new(epcal__report_fn report,
                               epcal__content_fn content, void *ctx) {
  epcal__lines *s = calloc(1, sizeof *s);
  if (s != NULL) {
    s->report = report;
    s->content = content;
    s->ctx = ctx;
  }
  return s;
}

void epcal__lines_free(epcal__lines *s) {
  if (s != NULL) {
    free(s->text);
    free(s->segs);
    free(s);
  }
}

/* Keeps what fits under the cap of the content line's next n octets. */
static bool append(epcal__lines *s, const char *bytes, size_t n) {
  s->full += n;
  size_t take = EPCAL__CONTENT_CAP - s->len;
  if (take > n) {
    take = n;
  }
  if (take == 0) {
    return true;
  }
  if (s->cap - s->len < take + 1) {
    size_t cap = (s->len + take + 1) * 2;
    if (cap > EPCAL__CONTENT_CAP + 1) {
      cap = EPCAL__CONTENT_CAP + 1;
    }
    char *p = realloc(s->text, cap);
    if (p == NULL) {
      return false;
    }
    s->text = p;
    s->cap = cap;
  }
  memcpy(s->text + s->len, bytes, take);
  s->len += take;
  s->text[s->len] = '\0';
  return true;
}

static bool add_segment(epcal__lines *s, size_t skipped) {
  if (s->len >= EPCAL__CONTENT_CAP) {
    return true; /* nothing more of this line is kept */
  }
  if (s->n_segs == s->segs_cap) {
    size_t cap = s->segs_cap == 0 ? 8 : s->segs_cap * 2;
    segment *p = realloc(s->segs, cap * sizeof *p);
    if (p == NULL) {
      return false;
    }
    s->segs = p;
    s->segs_cap = cap;
  }
  s->segs[s->n_segs++] = (segment){s->len, s->line, skipped};
  return true;
}

static void discard(epcal__lines *s) {
  s->open = false;
  s->len = 0;
  s->full = 0;
  s->n_segs = 0;
  if (s->text != NULL) {
    s->text[0] = '\0';
  }
}

/* Judges the finished content line as a whole (UTF-8 can only be judged
 * after unfolding: a legal fold never splits a character, an illegal one
 * is reported where it happens) and hands it on. */
static void finish(epcal__lines *s) {
  if (!s->open) {
    return;
  }
  char empty[1] = "";
  char *text = s->text != NULL ? s->text : empty;
  /* A pass that reports nothing need not judge. */
  size_t ok =
      s->report != NULL ? epcal__utf8_valid_prefix(text, s->len) : s->len;
  /* The cap may have cut the last character of what was kept. */
  bool cut = s->full > s->len && ok + 4 > s->len;
  if (ok < s->len && !cut) {
    size_t k = 0;
    while (k + 1 < s->n_segs && s->segs[k + 1].offset <= ok) {
      k++;
    }
    const segment *g = &s->segs[k];
    problem(s, g->line, "utf8", EPCAL_CHECK_ERROR,
            "invalid UTF-8 at octet %zu (0x%02X)",
            ok - g->offset + g->skipped + 1, (unsigned char)text[ok]);
  }
  s->content(s->ctx, s->start_line, text, s->len, s->full);
  discard(s);
}

/* The first octets of a physical line decide whether it starts a content
 * line or continues one. */
static bool line_start(epcal__lines *s, unsigned char first) {
  s->cont = first == ' ' || first == '\t';
  if (s->cont) {
    if (!s->open) {
      problem(s, s->line, "fold", EPCAL_CHECK_ERROR,
              "continuation line with no line before it to continue");
      s->open = true;
      s->start_line = s->line;
    }
    return add_segment(s, 1);
  }
  finish(s);
  s->open = true;
  s->start_line = s->line;
  return add_segment(s, 0);
}

static bool line_bytes(epcal__lines *s, const char *p, size_t n) {
  size_t skip = 0;
  if (s->plen == 0) {
    if (!line_start(s, (unsigned char)p[0])) {
      return false;
    }
    skip = s->cont ? 1 : 0;
  }
  if (s->plen < 2 && s->plen + n >= 2) {
    s->second = (unsigned char)p[1 - s->plen];
  }
  for (const char *q = p, *end = p + n;
       (q = memchr(q, '\r', (size_t)(end - q))) != NULL; q++) {
    s->crs++;
  }
  if (!s->nul && memchr(p, '\0', n) != NULL) {
    s->nul = true;
  }
  s->last = (unsigned char)p[n - 1];
  s->plen += n;
  return append(s, p + skip, n - skip);
}

static void line_end(epcal__lines *s, bool has_lf) {
  unsigned long line = s->line;
  size_t stop = s->plen;
  if (!has_lf) {
    problem(s, line, "line-end", EPCAL_CHECK_FORMAT,
            "the last line has no line end (CRLF)");
  } else if (s->plen > 0 && s->last == '\r') {
    stop--;
    s->crs--;
    /* The CR was kept in the text only if all of the line was. */
    if (s->full == s->len && s->len > 0) {
      s->len--;
      s->text[s->len] = '\0';
    }
    s->full--;
  } else {
    s->lf_only++;
    if (s->lf_only == 1) {
      problem(s, line, "line-end", EPCAL_CHECK_FORMAT,
              "line ends with LF, not CRLF");
    }
  }
  if (s->crs > 0) {
    problem(s, line, "line-end", EPCAL_CHECK_FORMAT,
            "stray CR inside a line (lines end with CRLF)");
  }
  if (s->nul) {
    problem(s, line, "nul", EPCAL_CHECK_ERROR, "NUL byte");
  }
  if (stop > LIMIT_OCTETS) {
    problem(s, line, "line-length", EPCAL_CHECK_FORMAT,
            "line is %zu octets long (limit %d)", stop, LIMIT_OCTETS);
  }
  if (stop == 0) {
    problem(s, line, "empty-line", EPCAL_CHECK_FORMAT, "empty line");
    if (s->plen == 0) {
      finish(s); /* a bare line end: nothing opened a content line */
    } else {
      discard(s); /* the content line this CR opened holds nothing */
    }
  } else if (s->cont && stop > 1 && (s->second & 0xC0) == 0x80) {
    problem(s, line, "fold-utf8", EPCAL_CHECK_FORMAT,
            "fold splits a UTF-8 character");
  }
  s->in_line = false;
  s->plen = 0;
  s->crs = 0;
  s->nul = false;
}

bool epcal__lines_feed(epcal__lines *s, const char *data, size_t len) {
  size_t pos = 0;
  if (!s->started && len > 0) {
    s->started = true;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
      problem(s, 1, "byte-order-mark", EPCAL_CHECK_FORMAT,
              "byte-order mark before the first line "
              "(iCalendar has none)");
      pos = 3;
    }
  }
  while (pos < len) {
    if (!s->in_line) {
      s->line++;
      s->in_line = true;
    }
    const char *lf = memchr(data + pos, '\n', len - pos);
    size_t end = lf != NULL ? (size_t)(lf - data) : len;
    if (end > pos && !line_bytes(s, data + pos, end - pos)) {
      return false;
    }
    if (lf != NULL) {
      line_end(s, true);
      pos = end + 1;
    } else {
      pos = len;
    }
  }
  return true;
}

bool epcal__lines_end(epcal__lines *s, unsigned long *n_lines) {
  if (s->in_line) {
    line_end(s, false);
  }
  finish(s);
  if (s->lf_only == 2) {
    problem(s, 0, "line-end", EPCAL_CHECK_FORMAT,
            "1 more line ends with LF, not CRLF");
  } else if (s->lf_only > 2) {
    problem(s, 0, "line-end", EPCAL_CHECK_FORMAT,
            "%lu more lines end with LF, not CRLF", s->lf_only - 1);
  }
  if (n_lines != NULL) {
    *n_lines = s->line;
  }
  return true;
}
