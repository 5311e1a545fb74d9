/*
 * The fuzz property: read -> render over arbitrary bytes.
 *
 * 1. Chunk boundaries never change what is read: the input read in one
 *    chunk and in chunks of k bytes gives the same sequence of episodes
 *    and errors (line, column, message).
 * 2. The reader always makes progress: at most one result per line (and
 *    one more).
 * 3. Every input with a valid header renders (skipping invalid rows, as
 *    --skip-invalid does) to a feed that is valid UTF-8, has CRLF lines of
 *    at most 75 octets with no control characters, never folds inside a
 *    UTF-8 character, and that libical parses without X-LIC-ERROR into one
 *    VEVENT per scheduled episode, in order.
 * 4. The differential part: the SUMMARY and DESCRIPTION libical decodes
 *    equal the episode's text after the documented transformations (see
 *    expect_summary() and expect_description()).
 * 5. With the options byte's top bit, the input is read as Windows-1252
 *    (--encoding): 1 and 2 must hold there too, bytes the encoding lacks
 *    included (3 and 4 compare with UTF-8 input, so they are not checked).
 *
 * Violations print a report and abort(): libFuzzer saves the input, CTest
 * sees a failure.
 */
#include "property.h"

#include "epcal/epcal.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ utilities */

typedef struct strbuf {
  char *data;
  size_t len;
  size_t cap;
} strbuf;

static void sb_reserve(strbuf *b, size_t extra) {
  if (b->cap - b->len > extra) {
    return;
  }
  size_t cap = b->cap != 0 ? b->cap : 256;
  while (cap - b->len <= extra) {
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (p == NULL) {
    fprintf(stderr, "fuzz: out of memory\n");
    abort();
  }
  b->data = p;
  b->cap = cap;
}

static void sb_append(strbuf *b, const char *s, size_t n) {
  sb_reserve(b, n);
  if (n > 0) {
    memcpy(b->data + b->len, s, n);
  }
  b->len += n;
  b->data[b->len] = '\0';
}

static void sb_printf(strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_printf(strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  sb_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* A length-prefixed string, so that no field content can fake another. */
static void sb_field(strbuf *b, const char *s) {
  if (s == NULL) {
    sb_append(b, "-|", 2);
    return;
  }
  sb_printf(b, "%zu:", strlen(s));
  sb_append(b, s, strlen(s));
  sb_append(b, "|", 1);
}

static void sb_free(strbuf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

/* Prints a violation with the input that caused it, and aborts. */
static void violation(const char *csv, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

static void violation(const char *csv, size_t n, const char *fmt, ...) {
  fprintf(stderr, "fuzz property violated: ");
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n--- input (%zu bytes, C escapes)\n", n);
  for (size_t i = 0; i < n && i < 1024; i++) {
    unsigned char c = (unsigned char)csv[i];
    if (c == '\n') {
      fputs("\\n\n", stderr);
    } else if (c >= 0x20 && c < 0x7F && c != '\\') {
      fputc(c, stderr);
    } else {
      fprintf(stderr, "\\x%02X", c);
    }
  }
  fputs("\n---\n", stderr);
  abort();
}

/*
 * Length of the valid UTF-8 sequence at s[0, n) (RFC 3629: no overlongs,
 * surrogates or values past U+10FFFF), or 0. Written here on purpose rather
 * than taken from the library: the check must not share its bugs.
 */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) {
    return 1;
  }
  size_t k;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    k = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    k = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    k = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (n < k || s[1] < lo || s[1] > hi) {
    return 0;
  }
  for (size_t i = 2; i < k; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      return 0;
    }
  }
  return k;
}

/* Offset of the first invalid UTF-8 byte in s[0, n), or n. */
static size_t utf8_check(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    size_t k = utf8_seq(s + i, n - i);
    if (k == 0) {
      return i;
    }
    i += k;
  }
  return n;
}

/* ---------------------------------------------------------------- input */

typedef struct source {
  const char *data;
  size_t len;
  size_t pos;
  size_t chunk;
} source;

static long read_chunk(void *ctx, char *buf, size_t cap) {
  source *s = ctx;
  size_t n = s->len - s->pos;
  if (n > s->chunk) {
    n = s->chunk;
  }
  if (n > cap) {
    n = cap;
  }
  if (n > 0) {
    memcpy(buf, s->data + s->pos, n);
  }
  s->pos += n;
  return (long)n;
}

static int mem_write(void *ctx, const char *buf, size_t len) {
  sb_append(ctx, buf, len);
  return 0;
}

/* Physical lines in s[0, n): LF, CRLF and CR each end one. */
static size_t count_lines(const char *s, size_t n) {
  size_t lines = 1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))) {
      lines++;
    }
  }
  return lines;
}

/* ---------------------------------------------------- the documented model */

static bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Characters TEXT cannot hold: controls other than TAB and LF, and DEL. */
static bool is_dropped(unsigned char c) {
  return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F;
}

/* Whether text shows anything once blanks and control characters go. */
static bool has_visible(const char *s) {
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (!is_blank(c) && !is_dropped(c)) {
      return true;
    }
  }
  return false;
}

/*
 * SUMMARY is "show SxxEyy – title" (without " – title" when the title shows
 * nothing) on one line: control characters dropped, then every run of
 * blanks (space, TAB, line breaks) collapsed to one space, and none left at
 * either end.
 */
static void expect_summary(strbuf *out, const epcal_episode *ep) {
  strbuf raw = {0};
  sb_append(&raw, ep->show, strlen(ep->show));
  sb_printf(&raw, " S%02ldE%02ld", ep->season, ep->number);
  if (ep->title != NULL && has_visible(ep->title)) {
    sb_append(&raw, " \xE2\x80\x93 ", 5);
    sb_append(&raw, ep->title, strlen(ep->title));
  }
  bool in_blank = false;
  sb_append(out, "", 0);
  for (size_t i = 0; i < raw.len; i++) {
    unsigned char c = (unsigned char)raw.data[i];
    if (c != '\r' && is_dropped(c)) {
      continue;
    }
    if (is_blank(c)) {
      in_blank = true;
      continue;
    }
    if (in_blank && out->len > 0) {
      sb_append(out, " ", 1);
    }
    in_blank = false;
    sb_append(out, raw.data + i, 1);
  }
  sb_free(&raw);
}

/* DESCRIPTION keeps its line breaks; other control characters but TAB are
 * dropped. There is none (false) when nothing but blanks would be left. */
static bool expect_description(strbuf *out, const epcal_episode *ep) {
  if (ep->description == NULL || !has_visible(ep->description)) {
    return false;
  }
  sb_append(out, "", 0);
  for (const char *p = ep->description; *p != '\0'; p++) {
    if (!is_dropped((unsigned char)*p)) {
      sb_append(out, p, 1);
    }
  }
  return true;
}

/*
 * libical 3.0 strips leading and trailing blanks from TEXT values when it
 * parses (libical issue #358), so the decoded value is compared without
 * them: the oracle cannot see them.
 */
static const char *trim_blanks(const char *s, size_t *len) {
  size_t n = strlen(s);
  while (n > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    n--;
  }
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
    n--;
  }
  *len = n;
  return s;
}

static bool same_text(const char *got, const char *want) {
  size_t gn, wn;
  got = trim_blanks(got, &gn);
  want = trim_blanks(want, &wn);
  return gn == wn && memcmp(got, want, gn) == 0;
}

/* ------------------------------------------------------------------ read */

typedef struct expected_event {
  char *summary;
  char *description; /* NULL: no DESCRIPTION */
} expected_event;

typedef struct run {
  strbuf transcript;
  bool header_ok; /* a valid header was read: a feed is rendered */
  strbuf feed;
  expected_event *events;
  size_t n_events;
  size_t cap_events;
} run;

static void run_free(run *r) {
  sb_free(&r->transcript);
  sb_free(&r->feed);
  for (size_t i = 0; i < r->n_events; i++) {
    free(r->events[i].summary);
    free(r->events[i].description);
  }
  free(r->events);
  memset(r, 0, sizeof *r);
}

static void record_episode(strbuf *t, const epcal_episode *ep) {
  sb_printf(t, "EP %lu ", ep->line);
  sb_field(t, ep->file);
  sb_field(t, ep->show);
  sb_printf(t, "%ld|%ld|", ep->season, ep->number);
  if (ep->scheduled) {
    sb_printf(t, "%04d-%02d-%02d|", ep->date.year, ep->date.month,
              ep->date.day);
  } else {
    sb_append(t, "tba|", 4);
  }
  sb_field(t, ep->title);
  sb_field(t, ep->description);
  sb_field(t, ep->url);
  sb_field(t, ep->network);
  sb_field(t, ep->uid);
  sb_append(t, "\n", 1);
}

static void expect_event(run *out, const epcal_episode *ep) {
  if (out->n_events == out->cap_events) {
    size_t cap = out->cap_events != 0 ? out->cap_events * 2 : 8;
    expected_event *p = realloc(out->events, cap * sizeof *p);
    if (p == NULL) {
      abort();
    }
    out->events = p;
    out->cap_events = cap;
  }
  strbuf s = {0}, d = {0};
  expect_summary(&s, ep);
  expected_event *e = &out->events[out->n_events++];
  e->summary = s.data;
  e->description = expect_description(&d, ep) ? d.data : NULL;
}

/*
 * Reads csv[0, n) in chunks of `chunk` bytes into a transcript of every
 * result; when `render` is set, also renders the feed the way --skip-invalid
 * does and notes what each event should say.
 */
static void read_input(const char *csv, size_t n,
                       const epcal_read_options *opts, size_t chunk,
                       bool render, run *out) {
  source src = {csv, n, 0, chunk};
  epcal_reader *rd;
  epcal_error err;
  if (epcal_reader_open_fn(&rd, read_chunk, &src, "in.csv", opts, &err) !=
      EPCAL_OK) {
    violation(csv, n, "epcal_reader_open_fn failed: %s", err.msg);
  }
  epcal_renderer *ren = NULL;
  if (render) {
    epcal_render_options ro = {.calendar_name = "Fuzz", .now = 1700000000};
    if (epcal_renderer_new(&ren, &ro, mem_write, &out->feed, &err) !=
            EPCAL_OK ||
        epcal_renderer_begin(ren, &err) != EPCAL_OK) {
      violation(csv, n, "renderer set-up failed: %s", err.msg);
    }
  }

  size_t max_results = count_lines(csv, n) + 1;
  size_t results = 0;
  for (;;) {
    const epcal_episode *ep;
    epcal_error_clear(&err);
    epcal_status st = epcal_reader_next(rd, &ep, &err);
    if (st == EPCAL_OK && ep == NULL) {
      out->header_ok = epcal_reader_columns(rd) > 0;
      sb_printf(&out->transcript, "END rows=%lu\n", epcal_reader_rows(rd));
      /* The end is sticky. */
      if (epcal_reader_next(rd, &ep, &err) != EPCAL_OK || ep != NULL) {
        violation(csv, n, "a second call at the end did not report the end");
      }
      break;
    }
    if (++results > max_results) {
      violation(csv, n,
                "reader gave more than %zu results for %zu lines "
                "(no progress?) at chunk %zu",
                max_results, max_results - 1, chunk);
    }
    if (st == EPCAL_EDATA) {
      if (err.line == 0 || err.column == 0 || err.msg[0] == '\0' ||
          strcmp(err.file, "in.csv") != 0) {
        violation(csv, n, "data error without a place: %lu:%lu \"%s\"",
                  err.line, err.column, err.msg);
      }
      sb_printf(&out->transcript, "ERR %lu:%lu %s\n", err.line, err.column,
                err.msg);
      if (epcal_reader_columns(rd) == 0) {
        sb_append(&out->transcript, "END header\n", 11);
        break; /* without a header nothing more can be read */
      }
      continue;
    }
    if (st != EPCAL_OK) {
      /* Only memory limits may stop the reader on bytes from memory. */
      if (st != EPCAL_ENOMEM) {
        violation(csv, n, "unexpected status %d: %s", (int)st, err.msg);
      }
      sb_printf(&out->transcript, "FATAL %d %s\n", (int)st, err.msg);
      break;
    }
    record_episode(&out->transcript, ep);
    if (ren != NULL && ep->scheduled) {
      if (epcal_renderer_add(ren, ep, &err) != EPCAL_OK) {
        violation(csv, n,
                  "the renderer refused an episode the reader "
                  "accepted (line %lu): %s",
                  ep->line, err.msg);
      }
      expect_event(out, ep);
    }
  }
  if (ren != NULL) {
    if (epcal_renderer_end(ren, &err) != EPCAL_OK) {
      violation(csv, n, "epcal_renderer_end failed: %s", err.msg);
    }
    if (epcal_renderer_events(ren) != out->n_events) {
      violation(csv, n, "renderer counted %lu events, %zu were added",
                epcal_renderer_events(ren), out->n_events);
    }
    epcal_renderer_free(ren);
  }
  epcal_reader_free(rd);
}

/* ------------------------------------------------------------ the feed */

/* Line syntax (RFC 5545 3.1), checked on the bytes. */
static void check_lines(const char *csv, size_t n, const strbuf *feed) {
  const char *s = feed->data;
  size_t len = feed->len;
  size_t bad = utf8_check(s, len);
  if (bad != len) {
    violation(csv, n, "feed is not valid UTF-8 at byte %zu", bad);
  }
  size_t start = 0;
  while (start < len) {
    size_t end = start;
    while (end < len && s[end] != '\r' && s[end] != '\n') {
      unsigned char c = (unsigned char)s[end];
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        violation(csv, n, "control character 0x%02X in the feed at byte %zu", c,
                  end);
      }
      end++;
    }
    if (end + 1 >= len || s[end] != '\r' || s[end + 1] != '\n') {
      violation(csv, n, "feed line at byte %zu does not end with CRLF", start);
    }
    if (end - start > 75) {
      violation(csv, n, "feed line of %zu octets: %.*s", end - start,
                (int)(end - start), s + start);
    }
    /* Each physical line must be valid UTF-8 on its own: then no fold
     * split a character. */
    if (utf8_check(s + start, end - start) != end - start) {
      violation(csv, n, "a fold splits a UTF-8 character: %.*s",
                (int)(end - start), s + start);
    }
    start = end + 2;
  }
}

/*
 * One-line values, unfolded from the bytes: libical strips blanks at the
 * ends of the values it parses, so only the bytes show whether any are
 * left there.
 */
static void check_one_line_values(const char *csv, size_t n,
                                  const strbuf *feed) {
  static const char *const names[] = {"SUMMARY:", "NAME:", "X-WR-CALNAME:"};
  strbuf line = {0};
  const char *s = feed->data;
  size_t start = 0;
  while (start < feed->len) {
    const char *crlf = strstr(s + start, "\r\n");
    size_t end = (size_t)(crlf - s);
    if (s[start] == ' ') {
      sb_append(&line, s + start + 1, end - start - 1);
    } else {
      line.len = 0;
      sb_append(&line, s + start, end - start);
    }
    start = end + 2;
    if (start < feed->len && s[start] == ' ') {
      continue; /* the logical line goes on */
    }
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
      size_t nl = strlen(names[k]);
      if (line.len < nl || memcmp(line.data, names[k], nl) != 0) {
        continue;
      }
      const char *v = line.data + nl;
      size_t vn = line.len - nl;
      if (vn > 0 && (v[0] == ' ' || v[vn - 1] == ' ')) {
        violation(csv, n, "blank at an end of a one-line value: %s", line.data);
      }
      if (strstr(v, "  ") != NULL) {
        violation(csv, n, "two blanks in a one-line value: %s", line.data);
      }
    }
  }
  sb_free(&line);
}

static void check_feed(const char *csv, size_t n, const run *r) {
  check_lines(csv, n, &r->feed);
  check_one_line_values(csv, n, &r->feed);
  icalcomponent *root = icalparser_parse_string(r->feed.data);
  if (root == NULL) {
    violation(csv, n, "libical could not parse the feed:\n%s", r->feed.data);
  }
  if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
    violation(csv, n, "libical did not find one VCALENDAR:\n%s", r->feed.data);
  }
  int errors = icalcomponent_count_errors(root);
  if (errors != 0) {
    char *text = icalcomponent_as_ical_string_r(root);
    violation(csv, n, "libical found %d errors (X-LIC-ERROR):\n%s", errors,
              text);
  }
  size_t i = 0;
  for (icalcomponent *ev =
           icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
       ev != NULL;
       ev = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
    if (i >= r->n_events) {
      violation(csv, n, "more VEVENTs than scheduled episodes (%zu)",
                r->n_events);
    }
    const expected_event *want = &r->events[i];
    const char *summary = icalcomponent_get_summary(ev);
    if (summary == NULL || !same_text(summary, want->summary)) {
      violation(csv, n, "event %zu: SUMMARY decodes to \"%s\", want \"%s\"",
                i + 1, summary != NULL ? summary : "(none)", want->summary);
    }
    const char *desc = icalcomponent_get_description(ev);
    if ((desc == NULL) != (want->description == NULL) ||
        (desc != NULL && !same_text(desc, want->description))) {
      violation(csv, n, "event %zu: DESCRIPTION decodes to \"%s\", want \"%s\"",
                i + 1, desc != NULL ? desc : "(none)",
                want->description != NULL ? want->description : "(none)");
    }
    i++;
  }
  if (i != r->n_events) {
    violation(csv, n, "%zu VEVENTs for %zu scheduled episodes", i, r->n_events);
  }
  icalcomponent_free(root);
}

/* -------------------------------------------------------------- entry */

static void decode_options(uint8_t byte, epcal_read_options *opts) {
  static const char delimiters[4] = {0, ',', ';', '\t'};
  static const char *const formats[4] = {NULL, "%d/%m/%Y", "%m/%d/%Y",
                                         "%Y.%m.%d"};
  memset(opts, 0, sizeof *opts);
  opts->delimiter = delimiters[byte & 3];
  opts->date_format = formats[(byte >> 2) & 3];
  /* Tables without a show or season column, and an explicit name. */
  static const char *const title_is_notes[] = {"title=notes"};
  opts->default_show = (byte & 0x10) != 0 ? "Fuzz Show" : NULL;
  opts->has_default_season = (byte & 0x20) != 0;
  opts->default_season = 7;
  if ((byte & 0x40) != 0) {
    opts->columns = title_is_notes;
    opts->n_columns = 1;
  }
  /* The top bit reads the input as Windows-1252, which lacks five bytes:
   * reading must still progress and place every error. */
  opts->encoding = (byte & 0x80) != 0 ? "WINDOWS-1252" : NULL;
}

static void check(const char *csv, size_t n, const epcal_read_options *opts,
                  size_t chunk) {
  /* libical's default error policy may abort on some inputs; the feed is
   * judged by counting X-LIC-ERROR instead. */
  icalerror_set_errors_are_fatal(0);

  run whole = {0};
  read_input(csv, n, opts, (size_t)-1, true, &whole);
  run parts = {0};
  read_input(csv, n, opts, chunk, false, &parts);
  if (strcmp(whole.transcript.data, parts.transcript.data) != 0) {
    /* Transcripts hold whole fields: show their start only. */
    violation(csv, n,
              "chunks of %zu bytes change the result\n--- in one chunk\n"
              "%.4000s\n--- in chunks\n%.4000s",
              chunk, whole.transcript.data, parts.transcript.data);
  }
  /* The feed's text is compared with the input's bytes: UTF-8 only. */
  if (whole.header_ok && opts->encoding == NULL) {
    check_feed(csv, n, &whole);
  }
  run_free(&parts);
  run_free(&whole);
}

void fuzz_check_input_chunked(const uint8_t *data, size_t size, size_t chunk) {
  if (size < 2) {
    return;
  }
  epcal_read_options opts;
  decode_options(data[1], &opts);
  check((const char *)data + 2, size - 2, &opts, chunk);
}

void fuzz_check_input(const uint8_t *data, size_t size) {
  if (size < 2) {
    return;
  }
  fuzz_check_input_chunked(data, size, 1 + (size_t)(data[0] % 64));
}
