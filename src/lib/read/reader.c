/*
 * read: CSV bytes -> typed, validated episodes.
 *
 * libcsv splits fields; this module feeds it one physical line at a time, so
 * at most one record completes per call and the line counter is always
 * right (libcsv has none). The raw bytes of the record being read are kept,
 * so that any error can be placed at an exact line and column by re-scanning
 * them, off the hot path.
 *
 * libcsv 3.0.3 quirks handled here: no BOM handling (stripped here), no line
 * counter (counted here), CSV_STRICT_FINI only works together with
 * CSV_STRICT (both set), fields point into the parser's buffer (copied in
 * the callback), and the default 128-byte buffer growth (raised).
 */
#include "reader.h"

#include "date.h"
#include "title.h"
#include "error.h"
#include "header.h"
#include "recode.h"
#include "row.h"
#include "utf8.h"

#include <assert.h>
#include <csv.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define READ_CHUNK (64 * 1024)
/* A field longer than this is refused (and libcsv's buffer stops growing). */
#define FIELD_MAX (1024 * 1024)
/* libcsv's buffer grows in steps of this many bytes (its default is 128,
 * which makes long fields cost one realloc per 128 bytes). */
#define CSV_BLOCK (64 * 1024)
/* libcsv's state for "between records": see libcsv.c, ROW_NOT_BEGUN. */
#define LIBCSV_ROW_NOT_BEGUN 0
#define LIBCSV_FIELD_NOT_BEGUN 1
/* The quote character libcsv is given while it reads a TAB-delimited field
 * whose quotes are literal: a byte that is never text (not in UTF-8). It is
 * set only from that field's start to its TAB or line end (feed_record
 * cuts the input there), so a 0xFF byte in invalid input never opens a
 * field of its own. */
#define TSV_NO_QUOTE 0xFF

typedef struct growbuf {
  char *data;
  size_t len;
  size_t cap;
} growbuf;

static bool growbuf_reserve(growbuf *b, size_t extra) {
  if (b->cap - b->len >= extra) {
    return true;
  }
  size_t cap = b->cap != 0 ? b->cap : 256;
  while (cap - b->len < extra) {
    if (cap > SIZE_MAX / 2) {
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (p == NULL) {
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

struct epcal_reader {
  /* Source: src_read(src_ctx) gives the bytes; read(ctx) is what the
   * parser reads: the source counted, and converted with --encoding. */
  epcal_read_fn src_read;
  void *src_ctx;
  epcal_read_fn read;
  void *ctx;
  FILE *fp; /* owned, when opened by path */
  epcal__recode *recode; /* owned, with --encoding */
  char *encoding;
  char *name;
  /* The options, with every string owned (copies). */
  epcal_read_options opts;
  char **columns;
  epcal__event_rules rules; /* when has_rules: see epcal__reader_set_rules */
  bool has_rules;
  char delimiter; /* chosen delimiter, 0 until the header is seen */

  /* Input buffer: bytes not yet fed to libcsv are in[pos, len); the record
   * being read, raw bytes included, stays in it (see fill). */
  char *in;
  size_t in_len;
  size_t in_pos;
  size_t in_cap;
  uint64_t in_base; /* offset of in[0] in the input as read */
  epcal_tap_fn tap; /* sees every byte read, converted, in order */
  void *tap_ctx;
  bool eof;
  bool started;    /* BOM and delimiter handled */
  bool finished;   /* end of input reached and reported */
  bool pending_cr; /* the last piece ended in '\r' (a '\n' may follow) */
  bool skip_line;  /* drop input up to the next line end (after an error) */
  unsigned long line; /* physical line of in[in_pos] */
  unsigned long col;  /* characters before in[in_pos] on that line */

  struct csv_parser csv;
  bool csv_live;
  bool tsv_literal; /* TAB input: the field being read has literal quotes */

  /* The record being read: its raw bytes are in[raw_start, +raw_len), a
   * window on the input rather than a copy (one copy less of every byte
   * read, on the thread that bounds a run), and where they start. */
  size_t raw_start;
  size_t raw_len;
  bool raw_cr; /* raw holds a '\r' (fields need CR/CRLF -> LF) */
  unsigned long raw_line;
  unsigned long raw_col; /* byte column of raw[0] on raw_line, 0-based */

  /* Its fields, copied out of libcsv: cells.data + cell_off[i]. */
  growbuf cells;
  size_t *cell_off;
  size_t *cell_len;
  size_t n_cells;
  size_t cap_cells;
  bool row_done;
  bool too_long;    /* a complete field was longer than FIELD_MAX */
  size_t long_cell; /* ... and this was its index */
  bool oom;

  bool have_header;
  epcal__header header;
  unsigned long rows;
  uint64_t bytes;
  /* Where the header and the last row returned are in the input as read
   * (epcal_reader_header_span, epcal_reader_row_span). */
  uint64_t header_end;
  uint64_t row_off;
  size_t row_len;
  epcal_episode ep;
};

static long read_counted(void *ctx, char *buf, size_t cap);

/* The raw bytes of the record being read. */
static inline const char *raw_data(const epcal_reader *r) {
  return r->in + r->raw_start;
}

/* ------------------------------------------------------------- callbacks */

static void on_field(void *data, size_t len, void *user) {
  epcal_reader *r = user;
  if (r->oom) {
    return;
  }
  /* The check on the field in progress (feed_record) only runs between
   * pieces of input; a field that ends within one piece is caught here. */
  if (len > FIELD_MAX && !r->too_long) {
    r->too_long = true;
    r->long_cell = r->n_cells;
  }
  if (r->n_cells == r->cap_cells) {
    size_t cap = r->cap_cells != 0 ? r->cap_cells * 2 : 16;
    size_t *off = realloc(r->cell_off, cap * sizeof *off);
    if (off == NULL) {
      r->oom = true;
      return;
    }
    r->cell_off = off;
    size_t *lens = realloc(r->cell_len, cap * sizeof *lens);
    if (lens == NULL) {
      r->oom = true;
      return;
    }
    r->cell_len = lens;
    r->cap_cells = cap;
  }
  if (!growbuf_reserve(&r->cells, len + 1)) {
    r->oom = true;
    return;
  }
  char *dst = r->cells.data + r->cells.len;
  if (len > 0) {
    memcpy(dst, data, len);
  }
  /* A line break inside a quoted field arrives as it was written; the
   * episode model has only '\n'. Every '\r' ends a piece fed to libcsv,
   * so a record without one (raw_cr false) needs no search. */
  if (len > 0 && r->raw_cr && memchr(dst, '\r', len) != NULL) {
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
      if (dst[i] == '\r') {
        dst[w++] = '\n';
        if (i + 1 < len && dst[i + 1] == '\n') {
          i++;
        }
      } else {
        dst[w++] = dst[i];
      }
    }
    len = w;
  }
  dst[len] = '\0';
  r->cell_off[r->n_cells] = r->cells.len;
  r->cell_len[r->n_cells] = len;
  r->n_cells++;
  r->cells.len += len + 1;
}

static void on_row(int c, void *user) {
  (void)c;
  epcal_reader *r = user;
  r->row_done = true;
}

/* --------------------------------------------------------------- placing */

/* Turns an offset into the raw record into a line and a character column. */
static void raw_place(const epcal_reader *r, size_t off, unsigned long *line,
                      unsigned long *column) {
  unsigned long ln = r->raw_line;
  unsigned long col = r->raw_col;
  if (off > r->raw_len) {
    off = r->raw_len;
  }
  for (size_t i = 0; i < off; i++) {
    unsigned char c = (unsigned char)raw_data(r)[i];
    if (c == '\n' || (c == '\r' && (i + 1 >= r->raw_len ||
                                    raw_data(r)[i + 1] != '\n'))) {
      ln++;
      col = 0;
    } else if (c == '\r') {
      /* the '\n' of this CRLF ends the line */
    } else if ((c & 0xC0) != 0x80) {
      col++; /* count characters, not UTF-8 continuation bytes */
    }
  }
  *line = ln;
  *column = col + 1;
}

/*
 * TAB-delimited text has no quoting convention: pasted cells hold quotes
 * as they are (`Episode "1"`, `"Penance"[a]`), while programs that write
 * TSV (Excel, Python's csv) quote a cell holding a TAB, a line break or a
 * quote, as CSV does. So a quote at the start of a TAB-delimited field
 * opens a quoted field only when the field is wholly enclosed: a closing
 * quote (inner quotes doubled) followed by blanks and then a TAB, a line
 * end or the end of the input. Otherwise every quote in it is literal.
 *
 * Looks at s[0, n) for the field whose opening quote is s[q]. Returns 1
 * (enclosed), 0 (literal), or -1 when s ends before that is known and more
 * input may follow (`at_end` false). A field that does not close within
 * FIELD_MAX bytes is literal.
 */
static int tsv_enclosed(const char *s, size_t n, size_t q, bool at_end) {
  size_t i = q + 1;
  for (;;) {
    size_t limit = q + FIELD_MAX + 2 < n ? q + FIELD_MAX + 2 : n;
    const char *quote = i < limit ? memchr(s + i, '"', limit - i) : NULL;
    if (quote == NULL) {
      return limit < n || at_end ? 0 : -1;
    }
    i = (size_t)(quote - s) + 1;
    if (i < n && s[i] == '"') {
      i++; /* a doubled quote */
      continue;
    }
    while (i < n && s[i] == ' ') {
      i++;
    }
    if (i >= n) {
      return at_end ? 1 : -1;
    }
    return s[i] == '\t' || s[i] == '\r' || s[i] == '\n';
  }
}

/* Whether the quote at s[i], at the start of a field of a record whose
 * bytes are s[0, n), opens a quoted field. */
static bool opens_quote(const epcal_reader *r, const char *s, size_t n,
                        size_t i) {
  return s[i] == '"' &&
         (r->delimiter != '\t' || tsv_enclosed(s, n, i, true) == 1);
}

/*
 * The raw offset where field `k` of the current record starts (at its
 * opening quote, if any, after leading blanks), or of the record's end.
 * As in libcsv, only a quote that starts a field opens a quoted field;
 * one inside an unquoted field is part of it (a field epcal does not read
 * may hold one, see parse_piece).
 */
static size_t raw_field_start(const epcal_reader *r, size_t k) {
  const char *s = raw_data(r);
  size_t n = r->raw_len, i = 0, field = 0;
  bool quoted = false;
  bool at_start = true; /* only blanks since the field began */
  while (i < n && field < k) {
    char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < n && s[i + 1] == '"') {
          i++;
        } else {
          quoted = false;
        }
      }
    } else if (c == r->delimiter) {
      field++;
      at_start = true;
    } else if (!(at_start && (c == ' ' || c == '\t'))) {
      quoted = at_start && opens_quote(r, s, n, i);
      at_start = false;
    }
    i++;
  }
  while (i < n && (s[i] == ' ' || (s[i] == '\t' && r->delimiter != '\t'))) {
    i++;
  }
  return i;
}

/*
 * The raw offset of byte `at` of field `k`'s decoded value: skips the
 * opening quote and counts a doubled quote as one decoded byte.
 */
static size_t raw_field_byte(const epcal_reader *r, size_t k, size_t at) {
  size_t i = raw_field_start(r, k);
  const char *s = raw_data(r);
  size_t n = r->raw_len;
  bool quoted = i < n && opens_quote(r, s, n, i);
  if (quoted) {
    i++;
  }
  for (size_t done = 0; done < at && i < n; done++) {
    if (quoted && s[i] == '"') {
      i++;
    }
    if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
      i++; /* CRLF decoded as one '\n' */
    }
    i++;
  }
  return i;
}

/* The reader's epcal__place: header and row conversion report through it. */
static epcal_status reader_fail_at(const void *ctx, epcal_error *err,
                                   size_t field, size_t byte,
                                   const char *msg) {
  const epcal_reader *r = ctx;
  unsigned long line, column;
  raw_place(r, raw_field_byte(r, field, byte), &line, &column);
  return epcal__fail(err, EPCAL_EDATA, r->name, line, column, "%s", msg);
}

int epcal_delimiter_parse(const char *name, char *out) {
  if (strcmp(name, "tab") == 0 || strcmp(name, "\\t") == 0 ||
      strcmp(name, "\t") == 0) {
    *out = '\t';
  } else if (strcmp(name, ",") == 0 || strcmp(name, ";") == 0 ||
             strcmp(name, "|") == 0) {
    *out = name[0];
  } else {
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ input */

/* The line and column (in characters) just past the input read so far:
 * what was fed to the parser, then what waits in r->in. */
static void input_end_place(const epcal_reader *r, unsigned long *line,
                            unsigned long *column) {
  *line = r->line;
  unsigned long col = r->col;
  for (size_t i = r->in_pos; i < r->in_len; i++) {
    char c = r->in[i];
    if (c == '\n' || (c == '\r' && (i + 1 >= r->in_len || r->in[i + 1] != '\n'))) {
      (*line)++;
      col = 0;
    } else if (c != '\r' && ((unsigned char)c & 0xC0) != 0x80) {
      col++;
    }
  }
  *column = col + 1;
}

static epcal_status fill(epcal_reader *r, epcal_error *err) {
  /* Keep the record being read (its raw bytes) with the unread input. */
  size_t keep_from = r->raw_len > 0 ? r->raw_start : r->in_pos;
  if (keep_from > 0) {
    r->in_base += keep_from;
    memmove(r->in, r->in + keep_from, r->in_len - keep_from);
    r->in_len -= keep_from;
    r->in_pos -= keep_from;
    r->raw_start = r->raw_len > 0 ? r->raw_start - keep_from : r->in_pos;
  }
  if (r->in_cap - r->in_len < READ_CHUNK / 2) {
    size_t cap = r->in_len + READ_CHUNK;
    char *p = realloc(r->in, cap);
    if (p == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
    }
    r->in = p;
    r->in_cap = cap;
  }
  long n = r->read(r->ctx, r->in + r->in_len, r->in_cap - r->in_len);
  if (n < 0 && errno == EILSEQ && r->encoding != NULL) {
    /* The bad bytes come right after what was read: place them there. */
    unsigned long line, column;
    input_end_place(r, &line, &column);
    return epcal__fail(err, EPCAL_EDATA, r->name, line, column,
                       "bytes that are not valid %s (wrong --encoding?)",
                       r->encoding);
  }
  if (n < 0) {
    return epcal__fail(err, EPCAL_EIO, r->name, 0, 0, "cannot read: %s",
                       strerror(errno));
  }
  if (n == 0) {
    r->eof = true;
  }
  if (n > 0 && r->tap != NULL &&
      r->tap(r->tap_ctx, r->in + r->in_len, (size_t)n) != 0) {
    return epcal__fail(err, EPCAL_EIO, r->name, 0, 0,
                       "cannot keep a copy of the input: %s", strerror(errno));
  }
  r->in_len += (size_t)n;
  return EPCAL_OK;
}

/* Counts `c` outside double quotes on the first line of s[0, n). */
static size_t count_unquoted(const char *s, size_t n, char c) {
  size_t count = 0;
  bool quoted = false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && (s[i] == '\n' || s[i] == '\r')) {
      break;
    } else if (!quoted && s[i] == c) {
      count++;
    }
  }
  return count;
}

/* libcsv's options: strict for CSV, so that malformed quoting is an error
 * where it starts; lenient for TAB-delimited text, whose quotes are
 * literal unless they wholly enclose a field (see tsv_enclosed), so that
 * libcsv never meets a quote it could refuse. */
static unsigned char csv_options(const epcal_reader *r) {
  return r->delimiter == '\t' ? 0 : CSV_STRICT | CSV_STRICT_FINI;
}

static bool csv_start(epcal_reader *r) {
  if (csv_init(&r->csv, csv_options(r)) != 0) {
    return false;
  }
  r->tsv_literal = false;
  csv_set_delim(&r->csv, (unsigned char)r->delimiter);
  csv_set_blk_size(&r->csv, CSV_BLOCK);
  r->csv_live = true;
  return true;
}

static void csv_stop(epcal_reader *r) {
  if (r->csv_live) {
    csv_free(&r->csv);
    r->csv_live = false;
  }
}

/*
 * Input that starts with a UTF-16 or UTF-32 byte-order mark (Excel's
 * "Unicode Text" is UTF-16LE with one) is read through iconv from that
 * encoding, unless --encoding named one. The bytes read so far go to the
 * converter first, without their mark.
 */
static epcal_status detect_wide_bom(epcal_reader *r, epcal_error *err) {
  while (r->in_len < 4 && !r->eof) {
    epcal_status st = fill(r, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  static const struct {
    const char *mark;
    size_t len;
    const char *encoding;
  } boms[] = {
      /* UTF-32LE first: its mark begins with UTF-16LE's. */
      {"\xFF\xFE\x00\x00", 4, "UTF-32LE"},
      {"\x00\x00\xFE\xFF", 4, "UTF-32BE"},
      {"\xFF\xFE", 2, "UTF-16LE"},
      {"\xFE\xFF", 2, "UTF-16BE"},
  };
  for (size_t i = 0; i < sizeof boms / sizeof boms[0]; i++) {
    if (r->in_len < boms[i].len ||
        memcmp(r->in, boms[i].mark, boms[i].len) != 0) {
      continue;
    }
    r->encoding = strdup(boms[i].encoding);
    r->recode = epcal__recode_new(boms[i].encoding, read_counted, r);
    if (r->encoding == NULL || r->recode == NULL ||
        !epcal__recode_prepend(r->recode, r->in + boms[i].len,
                               r->in_len - boms[i].len)) {
      return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0,
                         "cannot read %s input: %s", boms[i].encoding,
                         r->recode == NULL ? "no converter" : "out of memory");
    }
    r->read = epcal__recode_read;
    r->ctx = r->recode;
    r->in_len = 0;
    r->in_pos = 0;
    r->eof = false;
    break;
  }
  return EPCAL_OK;
}

/* Strips a UTF-8 BOM and chooses the delimiter from the header line. */
static epcal_status start(epcal_reader *r, epcal_error *err) {
  if (r->recode == NULL) {
    epcal_status st = detect_wide_bom(r, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  /* Read until the header record is complete, at a line break outside
   * quotes (or 1 MiB, or the end): a quoted header cell may hold a line
   * break, and the delimiter must be chosen from the same bytes however
   * the input arrives. Nothing is consumed yet, so offsets into r->in
   * stay valid across fills and each byte is scanned once. */
  size_t scanned = 0;
  bool quoted = false;
  for (;;) {
    bool complete = false;
    for (; scanned < r->in_len && !complete; scanned++) {
      char c = r->in[scanned];
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == '\n' || c == '\r')) {
        complete = true;
      }
    }
    if (complete || r->eof || r->in_len >= FIELD_MAX) {
      break;
    }
    epcal_status st = fill(r, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  if (r->in_len >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0) {
    r->in_pos = 3;
  }
  if (r->delimiter == 0) {
    /* Only the first 1 MiB: how much was read past it depends on the
     * sizes of the reads. */
    size_t end = r->in_len < FIELD_MAX ? r->in_len : FIELD_MAX;
    const char *s = r->in + r->in_pos;
    size_t n = end > r->in_pos ? end - r->in_pos : 0;
    /* The most frequent one; a tie goes to the one earlier here. */
    static const char candidates[] = {',', ';', '\t', '|'};
    size_t best = count_unquoted(s, n, ',');
    r->delimiter = ',';
    for (size_t i = 1; i < sizeof candidates; i++) {
      size_t count = count_unquoted(s, n, candidates[i]);
      if (count > best) {
        best = count;
        r->delimiter = candidates[i];
      }
    }
  }
  r->started = true;
  if (!csv_start(r)) {
    return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
  }
  return EPCAL_OK;
}

/* Whether every cell of the record is empty or blank: Excel, LibreOffice and
 * Google Sheets write ",,,," for a row whose cells were cleared. */
static bool record_blank(const epcal_reader *r) {
  for (size_t i = 0; i < r->n_cells; i++) {
    const char *c = r->cells.data + r->cell_off[i];
    for (size_t k = 0; k < r->cell_len[i]; k++) {
      if (c[k] != ' ' && c[k] != '\t' && c[k] != '\n') {
        return false;
      }
    }
  }
  return true;
}

/* Clears the current record's fields and raw bytes. */
static void record_reset(epcal_reader *r) {
  r->n_cells = 0;
  r->cells.len = 0;
  r->raw_start = r->in_pos;
  r->raw_len = 0;
  r->raw_cr = false;
  r->row_done = false;
  r->too_long = false;
}

/*
 * After a syntax error, starts again on the line after `line`: the bytes of
 * the broken record past that line are fed again, ahead of the unread input,
 * to a fresh parser. Nothing after the broken line is lost.
 */
static epcal_status resync_after(epcal_reader *r, unsigned long line,
                                 epcal_error *err) {
  /* Find the end of `line` in the raw record. */
  size_t i = 0;
  unsigned long ln = r->raw_line;
  while (i < r->raw_len && ln <= line) {
    char c = raw_data(r)[i++];
    if (c == '\n' ||
        (c == '\r' && (i >= r->raw_len || raw_data(r)[i] != '\n'))) {
      ln++;
    }
  }
  /* The line may go on past what was read: drop the rest of it from the
   * input before parsing again. */
  r->skip_line = ln <= line;
  size_t keep = r->raw_len - i;
  size_t unread = r->in_len - r->in_pos;
  char *buf = malloc(keep + unread + READ_CHUNK);
  if (buf == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
  }
  if (keep > 0) {
    memcpy(buf, raw_data(r) + i, keep);
  }
  if (unread > 0) {
    memcpy(buf + keep, r->in + r->in_pos, unread);
  }
  /* The kept bytes and the unread input follow each other in the input:
   * the new buffer starts where the kept bytes did. */
  r->in_base += r->raw_start + i;
  free(r->in);
  r->in = buf;
  r->in_cap = keep + unread + READ_CHUNK;
  r->in_len = keep + unread;
  r->in_pos = 0;
  r->line = r->skip_line ? line : ln;
  r->col = 0;
  /* With nothing kept, the broken line ended with the last byte read; if
   * that was a '\r', the '\n' of its CRLF may still be unread. */
  if (keep > 0) {
    r->pending_cr = false;
  }
  record_reset(r);
  csv_stop(r);
  if (!csv_start(r)) {
    return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
  }
  return EPCAL_OK;
}

/* Reports field `cell` of the record at its start (its opening quote, if
 * any) and resumes on the line after that. */
static epcal_status fail_field(epcal_reader *r, size_t cell, const char *why,
                               epcal_error *err) {
  size_t at = raw_field_start(r, cell);
  unsigned long line, column;
  raw_place(r, at, &line, &column);
  epcal_error local;
  epcal__fail(&local, EPCAL_EDATA, r->name, line, column, "%s", why);
  epcal_status st = resync_after(r, line, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (err != NULL) {
    *err = local;
  }
  return EPCAL_EDATA;
}

/* Reports a quoted field that never closes, at its opening quote. */
static epcal_status fail_unterminated(epcal_reader *r, const char *why,
                                      epcal_error *err) {
  /* The open field is the one after the last complete field. */
  return fail_field(r, r->n_cells, why, err);
}

/* Reports a field longer than FIELD_MAX, complete or not. Whether it is
 * quoted comes from its raw bytes, the same however it was read. */
static epcal_status fail_too_long(epcal_reader *r, size_t cell,
                                  epcal_error *err) {
  size_t at = raw_field_start(r, cell);
  bool quoted = at < r->raw_len && raw_data(r)[at] == '"';
  return fail_field(
      r, cell,
      quoted ? "quoted field is longer than 1 MiB (is a closing '\"' missing?)"
             : "field is longer than 1 MiB",
      err);
}

static epcal_status fail_syntax(epcal_reader *r, size_t raw_off,
                                epcal_error *err) {
  unsigned long line, column;
  raw_place(r, raw_off, &line, &column);
  char c = raw_data(r)[raw_off];
  epcal_error local;
  if (c == '"') {
    epcal__fail(&local, EPCAL_EDATA, r->name, line, column,
                "stray '\"' in an unquoted field (quote the whole field and "
                "double the quotes inside it)");
  } else {
    epcal__fail(&local, EPCAL_EDATA, r->name, line, column,
                "unexpected text after a closing quote (a quote inside a "
                "quoted field must be doubled)");
  }
  epcal_status st = resync_after(r, line, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (err != NULL) {
    *err = local;
  }
  return EPCAL_EDATA;
}

/*
 * Bytes that are not text in the --encoding (recode dropped one of them):
 * the record they are in is reported and dropped, and reading goes on with
 * the next line. While a line is being dropped already, more of them in it
 * say nothing new.
 */
static epcal_status drop_unconvertible(epcal_reader *r, epcal_error *err) {
  if (r->skip_line) {
    return EPCAL_OK;
  }
  epcal_error local;
  if (err != NULL) {
    local = *err;
  }
  epcal_status st = resync_after(r, r->line, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (err != NULL) {
    *err = local;
  }
  return EPCAL_EDATA;
}

/* The first '\n' or '\r' in p[0, n), or NULL: one pass for both (two
 * memchr calls went over each line twice). */
static const char *line_end(const char *p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  for (; i + 16 <= n; i += 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(x, lf), _mm_cmpeq_epi8(x, cr)));
    if (m != 0) {
      return p + i + __builtin_ctz(m);
    }
  }
#endif
  for (; i < n; i++) {
    if (p[i] == '\n' || p[i] == '\r') {
      return p + i;
    }
  }
  return NULL;
}

/* Drops available input up to and including the next line end. */
static void skip_rest_of_line(epcal_reader *r) {
  const char *p = r->in + r->in_pos;
  size_t avail = r->in_len - r->in_pos;
  for (size_t i = 0; i < avail; i++) {
    if (p[i] == '\n' || p[i] == '\r') {
      if (p[i] == '\r' && i + 1 < avail && p[i + 1] == '\n') {
        i++;
      } else if (p[i] == '\r' && i + 1 == avail && !r->eof) {
        r->pending_cr = true;
      }
      r->in_pos += i + 1;
      r->line++;
      r->col = 0;
      r->skip_line = false;
      return;
    }
  }
  r->in_pos = r->in_len;
}

/* Reads more input (fill); bytes that are not text in the --encoding
 * drop their record (drop_unconvertible). */
static epcal_status more_input(epcal_reader *r, epcal_error *err) {
  epcal_status st = fill(r, err);
  if (st == EPCAL_EDATA) {
    st = drop_unconvertible(r, err);
  }
  return st;
}

/*
 * TAB-delimited input, at the start of a field: when the field starts with
 * a quote that does not wholly enclose it, libcsv is made to read the
 * field's quotes as text (until the field ends, see feed_record). Reads
 * more input when the field's end is not at hand yet.
 */
static epcal_status tsv_field_begin(epcal_reader *r, epcal_error *err) {
  for (;;) {
    const char *s = r->in + r->in_pos;
    size_t n = r->in_len - r->in_pos;
    size_t q = 0;
    while (q < n && s[q] == ' ') {
      q++; /* libcsv skips blanks before a field */
    }
    int verdict;
    if (q < n) {
      verdict = s[q] == '"' ? tsv_enclosed(s, n, q, r->eof) : 1;
    } else {
      verdict = r->eof ? 1 : -1;
    }
    if (verdict == 0) {
      csv_set_quote(&r->csv, TSV_NO_QUOTE);
      r->tsv_literal = true;
    }
    if (verdict >= 0) {
      return EPCAL_OK;
    }
    epcal_status st = more_input(r, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
}

/*
 * The first TAB in p[0, n) after which a field starts with a quote (past
 * blanks), or NULL. `line_ends`: p[n] ends the line; otherwise what follows
 * is not known yet, and a TAB followed only by blanks counts.
 */
static const char *tab_before_quote(const char *p, size_t n, bool line_ends) {
  /* Most lines hold no quote at all: one fast look says so. */
  if (line_ends && memchr(p, '"', n) == NULL) {
    return NULL;
  }
  const char *t = memchr(p, '\t', n);
  while (t != NULL) {
    size_t i = (size_t)(t - p) + 1;
    while (i < n && p[i] == ' ') {
      i++;
    }
    if (i < n ? p[i] == '"' : !line_ends) {
      return t;
    }
    t = memchr(p + i, '\t', n - i);
  }
  return NULL;
}

/* Whether column `k` of the header maps to no field: epcal never reads it. */
static bool column_unused(const epcal_reader *r, size_t k) {
  if (!r->have_header || k >= r->header.n_columns) {
    return false;
  }
  for (int f = 0; f < EPCAL__F_COUNT; f++) {
    if (r->header.col[f] == (int)k) {
      return false;
    }
  }
  return true;
}

/*
 * Feeds piece[0, len) to libcsv. A column epcal does not read cannot make
 * the run fail: a syntax error in it (a stray quote, text after a closing
 * quote) is taken as text, the field going on unquoted to its delimiter.
 * Returns the bytes parsed: len, or where a syntax error in a column epcal
 * reads starts.
 */
static size_t parse_piece(epcal_reader *r, const char *piece, size_t len) {
  size_t pos = 0;
  for (;;) {
    pos += csv_parse(&r->csv, piece + pos, len - pos, on_field, on_row, r);
    if (pos >= len || csv_error(&r->csv) != CSV_EPARSE ||
        !column_unused(r, r->n_cells)) {
      return pos;
    }
    /* libcsv stopped before the offending byte, its state saved: take
     * that byte leniently, then read the rest of the field unquoted. */
    r->csv.status = CSV_SUCCESS;
    csv_set_opts(&r->csv, 0);
    pos += csv_parse(&r->csv, piece + pos, 1, on_field, on_row, r);
    csv_set_opts(&r->csv, csv_options(r));
    r->csv.quoted = 0;
  }
}

/*
 * Feeds libcsv line by line until a record is complete (r->row_done) or the
 * input ends (r->finished). TAB-delimited input is cut before each field
 * that starts with a quote, so that its quotes can be judged on their own
 * (tsv_field_begin).
 */
static epcal_status feed_record(epcal_reader *r, epcal_error *err) {
  while (!r->row_done) {
    if (r->in_pos == r->in_len) {
      if (!r->eof) {
        epcal_status st = fill(r, err);
        if (st == EPCAL_EDATA) {
          st = drop_unconvertible(r, err);
        }
        if (st != EPCAL_OK) {
          return st;
        }
        continue;
      }
      if (csv_fini(&r->csv, on_field, on_row, r) != 0) {
        return fail_unterminated(
            r, "quoted field is never closed (missing '\"')", err);
      }
      if (r->oom) {
        return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
      }
      if (r->too_long) {
        return fail_too_long(r, r->long_cell, err);
      }
      if (!r->row_done) {
        r->finished = true;
      }
      return EPCAL_OK;
    }

    if (r->skip_line) {
      skip_rest_of_line(r);
      continue;
    }
    if (r->delimiter == '\t' && !r->tsv_literal &&
        r->csv.pstate <= LIBCSV_FIELD_NOT_BEGUN) {
      epcal_status st = tsv_field_begin(r, err);
      if (st != EPCAL_OK) {
        return st;
      }
    }
    /* (after tsv_field_begin, which may have moved the input) */
    const char *piece = r->in + r->in_pos;
    size_t avail = r->in_len - r->in_pos;
    size_t len = 0;
    bool ends_line = false;
    bool has_cr = false;
    bool lf_of_crlf = false;
    if (r->pending_cr && piece[0] == '\n') {
      len = 1; /* the LF of a CRLF split across reads: same line end */
      lf_of_crlf = true;
      r->pending_cr = false;
    } else {
      /* Whatever follows a '\r' other than '\n' starts the next line. */
      r->pending_cr = false;
      const char *eol = line_end(piece, avail);
      size_t line_len = eol != NULL ? (size_t)(eol - piece) : avail;
      const char *tab = NULL;
      if (r->delimiter == '\t' && r->tsv_literal) {
        /* A field with literal quotes ends at its TAB: libcsv's quote is
         * TSV_NO_QUOTE only up to there, so that a 0xFF byte (not text,
         * but input may hold it) never opens a field, whatever the reads'
         * sizes. */
        tab = memchr(piece, '\t', line_len);
      } else if (r->delimiter == '\t') {
        tab = tab_before_quote(piece, line_len, eol != NULL);
      }
      if (tab != NULL) {
        /* Up to a field that starts with a quote, which is judged on its
         * own (tsv_field_begin), or to the end of a literal field. */
        len = (size_t)(tab - piece) + 1;
      } else if (eol != NULL && *eol == '\r') {
        has_cr = true;
        len = (size_t)(eol - piece) + 1;
        if (len < avail && piece[len] == '\n') {
          len++;
        } else if (len == avail && !r->eof) {
          r->pending_cr = true;
        }
        ends_line = true;
      } else if (eol != NULL) {
        len = (size_t)(eol - piece) + 1;
        ends_line = true;
      } else {
        len = avail;
      }
    }

    /* Between records, libcsv skips blanks without leaving ROW_NOT_BEGUN,
     * so a record may start in the middle of a line when a read ended
     * inside its leading blanks: start the raw bytes at the right column,
     * or chunk boundaries would move the columns of errors. */
    if (r->csv.pstate == LIBCSV_ROW_NOT_BEGUN && r->n_cells == 0) {
      r->raw_start = r->in_pos;
      r->raw_len = 0;
      r->raw_cr = false;
      r->raw_line = r->line;
      r->raw_col = r->col;
    }
    r->raw_cr = r->raw_cr || has_cr;
    /* Pieces of a record follow each other in the input. */
    assert(r->raw_start + r->raw_len == r->in_pos);
    r->raw_len += len;
    size_t done = parse_piece(r, piece, len);
    if (r->tsv_literal && r->csv.pstate <= LIBCSV_FIELD_NOT_BEGUN) {
      csv_set_quote(&r->csv, '"'); /* the literal field has ended */
      r->tsv_literal = false;
    }
    r->in_pos += len;
    if (ends_line) {
      r->line++;
      r->col = 0;
    } else if (!lf_of_crlf) {
      for (size_t i = 0; i < len; i++) {
        if (((unsigned char)piece[i] & 0xC0) != 0x80) {
          r->col++;
        }
      }
    }
    if (r->oom) {
      return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
    }
    /* A field too long comes first: read in other pieces, it could have
     * been caught before the parser reached a syntax error after it. */
    if (r->too_long) {
      return fail_too_long(r, r->long_cell, err);
    }
    if (done < len) {
      if (csv_error(&r->csv) == CSV_EPARSE) {
        return fail_syntax(r, r->raw_len - len + done, err);
      }
      return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
    }
    /* The field in progress, so that a quote that never closes cannot
     * grow memory without bound. libcsv holds the blanks after it (they
     * may yet be trimmed) and, once a quoted field may have ended, its
     * closing quote: neither counts, or where a read ends would decide. */
    if (r->csv.entry_pos - r->csv.spaces > (size_t)FIELD_MAX + 1) {
      return fail_too_long(r, r->n_cells, err);
    }
  }
  return EPCAL_OK;
}

/* ------------------------------------------------------------------ public */

/* Reads from the source, counting its bytes (for progress). */
static long read_counted(void *ctx, char *buf, size_t cap) {
  epcal_reader *r = ctx;
  long n = r->src_read(r->src_ctx, buf, cap);
  if (n > 0) {
    r->bytes += (uint64_t)n;
  }
  return n;
}

static long read_stdio(void *ctx, char *buf, size_t cap) {
  FILE *fp = ctx;
  size_t n = fread(buf, 1, cap, fp);
  if (n == 0 && ferror(fp)) {
    return -1;
  }
  return (long)n;
}

/* Keeps a copy of the options in r->opts, its strings owned; checks the
 * values a row cannot (the default show, the column names). */
static epcal_status copy_options(epcal_reader *r,
                                 const epcal_read_options *opts,
                                 epcal_error *err) {
  r->delimiter = opts->delimiter;
  r->opts.delimiter = opts->delimiter;
  r->opts.encoding = NULL; /* kept in r->encoding */
  r->opts.keep_titles = opts->keep_titles;
  r->opts.has_default_season = opts->has_default_season;
  r->opts.default_season = opts->default_season;
  if (opts->default_show != NULL && !epcal__has_visible(opts->default_show)) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0, "the show name is empty");
  }
  if (opts->has_default_season &&
      (opts->default_season < 0 || opts->default_season > 999999)) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "season %ld is out of range", opts->default_season);
  }
  for (size_t i = 0; i < opts->n_columns; i++) {
    epcal_error why;
    if (epcal_column_spec_check(opts->columns[i], &why) != EPCAL_OK) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0, "column \"%s\": %s",
                         opts->columns[i], why.msg);
    }
  }
  bool oom = false;
  if (opts->date_format != NULL) {
    r->opts.date_format = strdup(opts->date_format);
    oom = r->opts.date_format == NULL;
  }
  if (opts->default_show != NULL) {
    r->opts.default_show = strdup(opts->default_show);
    oom = oom || r->opts.default_show == NULL;
  }
  if (opts->n_columns > 0) {
    r->columns = calloc(opts->n_columns, sizeof *r->columns);
    oom = oom || r->columns == NULL;
    for (size_t i = 0; !oom && i < opts->n_columns; i++) {
      r->columns[i] = strdup(opts->columns[i]);
      r->opts.n_columns = i + 1; /* what to free */
      oom = r->columns[i] == NULL;
    }
    r->opts.columns = (const char *const *)r->columns;
  }
  if (oom) {
    return epcal__fail(err, EPCAL_ENOMEM, r->name, 0, 0, "out of memory");
  }
  return EPCAL_OK;
}

epcal_status epcal_reader_open_fn(epcal_reader **out, epcal_read_fn read,
                                  void *ctx, const char *name,
                                  const epcal_read_options *opts,
                                  epcal_error *err) {
  epcal_reader *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
  }
  r->src_read = read;
  r->src_ctx = ctx;
  r->read = read_counted;
  r->ctx = r;
  r->line = 1;
  r->name = strdup(name != NULL ? name : "-");
  if (r->name == NULL) {
    epcal_reader_free(r);
    return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
  }
  if (opts != NULL) {
    epcal_status st = copy_options(r, opts, err);
    if (st != EPCAL_OK) {
      epcal_reader_free(r);
      return st;
    }
  }
  const char *enc = opts != NULL ? opts->encoding : NULL;
  if (enc != NULL && strcasecmp(enc, "UTF-8") != 0 &&
      strcasecmp(enc, "UTF8") != 0) {
    r->encoding = strdup(enc);
    r->recode = epcal__recode_new(enc, read_counted, r);
    if (r->recode == NULL || r->encoding == NULL) {
      bool unknown = r->recode == NULL && errno == EINVAL;
      epcal_reader_free(r);
      if (unknown) {
        return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                           "unknown encoding \"%s\" (see iconv --list)", enc);
      }
      return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
    }
    r->read = epcal__recode_read;
    r->ctx = r->recode;
  }
  *out = r;
  return EPCAL_OK;
}

epcal_status epcal_reader_open(epcal_reader **out, const char *path,
                               const epcal_read_options *opts,
                               epcal_error *err) {
  bool is_stdin = path == NULL || strcmp(path, "-") == 0;
  FILE *fp = is_stdin ? stdin : fopen(path, "rb");
  if (fp == NULL) {
    return epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot open: %s",
                       strerror(errno));
  }
  if (!is_stdin) {
    /* The reader asks for 64 KiB at a time: unbuffered, each is one read
     * straight into its buffer. Through stdio's 4 KiB buffer glibc split
     * every one in two (61,440 bytes direct, 4,096 through the buffer and
     * a copy): twice the system calls on the thread that bounds a run.
     * stdin may have been read from already, so its buffering stays. */
    setvbuf(fp, NULL, _IONBF, 0);
  }
  epcal_reader *r;
  epcal_status st = epcal_reader_open_fn(&r, read_stdio, fp,
                                         is_stdin ? "-" : path, opts, err);
  if (st != EPCAL_OK) {
    if (!is_stdin) {
      fclose(fp);
    }
    return st;
  }
  r->fp = is_stdin ? NULL : fp;
  *out = r;
  return EPCAL_OK;
}

epcal_status epcal_reader_next(epcal_reader *r, const epcal_episode **out,
                               epcal_error *err) {
  for (;;) {
    if (r->finished) {
      *out = NULL;
      return EPCAL_OK;
    }
    if (!r->started) {
      epcal_status st = start(r, err);
      if (st != EPCAL_OK) {
        return st;
      }
    }
    record_reset(r);
    epcal_status st = feed_record(r, err);
    if (st != EPCAL_OK) {
      return st;
    }
    if (!r->row_done) {
      continue; /* finished */
    }
    const epcal__place place = {reader_fail_at, r};
    if (!r->have_header) {
      if (record_blank(r)) {
        continue; /* a spreadsheet's cleared row before the header */
      }
      st = epcal__header_map(&r->header, &place, &r->opts,
                             (const char *)r->cells.data, r->cell_off,
                             r->cell_len, r->n_cells, err);
      if (st != EPCAL_OK) {
        /* Without a header no row can be read: stop here. */
        r->finished = true;
        return st;
      }
      r->have_header = true;
      r->header_end = r->in_base + r->raw_start + r->raw_len;
      continue;
    }
    if (record_blank(r)) {
      continue; /* ",,,,": a cleared spreadsheet row is a blank line */
    }
    r->rows++;
    /* One check of the whole record instead of one per cell: cells are
     * pieces of it cut at ASCII bytes, so they are valid when it is. Only
     * a record that fails is checked cell by cell, to place the error. */
    bool text_ok =
        epcal__utf8_valid_prefix(raw_data(r), r->raw_len) == r->raw_len &&
        memchr(raw_data(r), '\0', r->raw_len) == NULL;
    st = epcal__row_convert(&place, &r->header, r->cells.data, r->cell_off,
                            r->cell_len, r->n_cells, text_ok, &r->opts,
                            r->has_rules ? &r->rules : NULL, &r->ep, err);
    if (st != EPCAL_OK) {
      return st;
    }
    if (!r->opts.keep_titles && r->ep.title != NULL) {
      /* The title is a cell of r->cells: cleaned in place. */
      r->ep.title = epcal__title_clean((char *)r->ep.title);
    }
    r->ep.file = r->name;
    r->ep.line = r->raw_line;
    r->row_off = r->in_base + r->raw_start;
    r->row_len = r->raw_len;
    *out = &r->ep;
    return EPCAL_OK;
  }
}

unsigned long epcal_reader_rows(const epcal_reader *r) { return r->rows; }

uint64_t epcal_reader_bytes(const epcal_reader *r) { return r->bytes; }

void epcal_reader_set_tap(epcal_reader *r, epcal_tap_fn tap, void *ctx) {
  r->tap = tap;
  r->tap_ctx = ctx;
}

bool epcal_reader_header_span(const epcal_reader *r, uint64_t *offset,
                              size_t *len) {
  if (!r->have_header) {
    return false;
  }
  *offset = 0;
  *len = (size_t)r->header_end;
  return true;
}

bool epcal_reader_row_span(const epcal_reader *r, uint64_t *offset,
                           size_t *len) {
  if (r->rows == 0) {
    return false;
  }
  *offset = r->row_off;
  *len = r->row_len;
  return true;
}

size_t epcal_reader_columns(const epcal_reader *r) {
  return r->have_header ? r->header.n_columns : 0;
}

const char *epcal__reader_name(const epcal_reader *r) { return r->name; }

void epcal__reader_set_rules(epcal_reader *r, const epcal__event_rules *rules) {
  r->rules = *rules;
  r->has_rules = true;
}

const char *epcal__reader_cells(const epcal_reader *r, size_t *len) {
  *len = r->cells.len;
  return r->cells.data;
}

void epcal_reader_free(epcal_reader *r) {
  if (r == NULL) {
    return;
  }
  csv_stop(r);
  if (r->fp != NULL) {
    fclose(r->fp);
  }
  free(r->in);
  free(r->cells.data);
  free(r->cell_off);
  free(r->cell_len);
  epcal__recode_free(r->recode);
  free(r->encoding);
  free(r->name);
  free((char *)r->opts.date_format);
  free((char *)r->opts.default_show);
  for (size_t i = 0; i < r->opts.n_columns; i++) {
    free(r->columns[i]);
  }
  free(r->columns);
  free(r);
}
