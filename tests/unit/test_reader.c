/*
 * The reader, fed in chunks of every size from 1 byte up: chunk boundaries
 * must never change what is read, nor where an error is placed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epcal/epcal.h"
#include "read/header.h"

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
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  return (long)n;
}

/* Reads everything; returns one line per episode or error, for comparing. */
static char *read_all(const char *csv, size_t chunk,
                      const epcal_read_options *opts) {
  source s = {csv, strlen(csv), 0, chunk};
  epcal_reader *r;
  assert_int_equal(epcal_reader_open_fn(&r, read_chunk, &s, "in.csv", opts,
                                        NULL),
                   EPCAL_OK);
  size_t cap = 1 << 16, len = 0;
  char *out = malloc(cap);
  out[0] = '\0';
  for (int guard = 0; guard < 1000; guard++) {
    const epcal_episode *ep;
    epcal_error err;
    epcal_status st = epcal_reader_next(r, &ep, &err);
    if (st == EPCAL_EDATA) {
      len += (size_t)snprintf(out + len, cap - len, "E %lu:%lu %s\n",
                              err.line, err.column, err.msg);
      if (epcal_reader_columns(r) == 0) {
        break;
      }
      continue;
    }
    assert_int_equal(st, EPCAL_OK);
    if (ep == NULL) {
      break;
    }
    char date[16] = "-";
    if (ep->scheduled) {
      snprintf(date, sizeof date, "%04d-%02d-%02d", ep->date.year,
               ep->date.month, ep->date.day);
    }
    len += (size_t)snprintf(out + len, cap - len, "%lu|%s|%ld|%ld|%s|%s|%s\n",
                            ep->line, ep->show, ep->season, ep->number, date,
                            ep->title ? ep->title : "(null)",
                            ep->description ? ep->description : "(null)");
  }
  epcal_reader_free(r);
  return out;
}

/* Reads with every chunk size 1..40 and 64K; all must agree with `want`. */
static void expect_read(const char *csv, const char *want) {
  for (size_t chunk = 1; chunk <= 41; chunk++) {
    char *got = read_all(csv, chunk == 41 ? 65536 : chunk, NULL);
    if (strcmp(got, want) != 0) {
      fail_msg("chunk %zu:\n--- want\n%s--- got\n%s", chunk, want, got);
    }
    free(got);
  }
}

/* Like expect_read, with options. */
static void expect_read_opts(const char *csv, const epcal_read_options *o,
                             const char *want) {
  for (size_t chunk = 1; chunk <= 41; chunk++) {
    char *got = read_all(csv, chunk == 41 ? 65536 : chunk, o);
    if (strcmp(got, want) != 0) {
      fail_msg("chunk %zu:\n--- want\n%s--- got\n%s", chunk, want, got);
    }
    free(got);
  }
}

/* The seed's own table, pasted: TAB-separated, no show column; the show
 * comes from the options, the season from the code, or the options. */
static void single_show_tables(void **state) {
  (void)state;
  epcal_read_options o;
  memset(&o, 0, sizeof o);
  o.default_show = "Star Trek: Picard";
  expect_read_opts("Number\tSeries title\tRelease date\n"
                   "2x01\tSeries 1\tMarch 3, 2022\n"
                   "2x10\tSeries 10\tMay 5 2022\n"
                   "11\tSeries 11\tMay 12, 2022\n",
                   &o,
                   "2|Star Trek: Picard|2|1|2022-03-03|Series 1|(null)\n"
                   "3|Star Trek: Picard|2|10|2022-05-05|Series 10|(null)\n"
                   "E 4:1 season is missing: give a season column, a code "
                   "like 2x01, or the season with --season N (one)\n");
  o.has_default_season = true;
  o.default_season = 3;
  expect_read_opts("No. overall,No. in season,Title,Original release date\n"
                   "21,1,\"The Bounty\",2023-02-16\n"
                   "22,2x02,Disengage,2023-02-23\n",
                   &o,
                   "2|Star Trek: Picard|3|1|2023-02-16|The Bounty|(null)\n"
                   "3|Star Trek: Picard|2|2|2023-02-23|Disengage|(null)\n");
  /* A show column wins over the option. */
  expect_read_opts("show,season,episode,date\nOrbit,1,1,2022-01-01\n", &o,
                   "2|Orbit|1|1|2022-01-01|(null)|(null)\n");
}

/* Quotes in TAB-separated text are literal unless they wholly enclose a
 * field; errors after such fields are still placed exactly. */
static void tsv_quotes(void **state) {
  (void)state;
  expect_read("show\tseason\tepisode\tdate\ttitle\tdescription\n"
              "A\t1\t1\t2022-01-01\tEpisode \"1\"\t\"open\n"
              "A\t1\t2\t2022-01-02\t\"Penance\"[a]\t\"a\tb\"\n"
              "A\t1\t3\t2022-01-03\t\"x\" \t\"two\nlines\"\n"
              "A\t1\t4\t2022-01-32\t\"q\"r\tz\n"
              "A\t1\t5\t\"2022-01-32\"\t\"\"\"\tz\n",
              "2|A|1|1|2022-01-01|Episode \"1\"|\"open\n"
              /* read as text, then cleaned as every title is */
              "3|A|1|2|2022-01-02|Penance|a\tb\n"
              "4|A|1|3|2022-01-03|x|two\nlines\n"
              "E 6:7 date \"2022-01-32\" is not a real calendar date\n"
              "E 7:8 date \"2022-01-32\" is not a real calendar date\n");
}

/* A syntax error in a column epcal does not read is text, not an error;
 * in a column it reads, it is still refused where it starts. */
static void quotes_in_unused_columns(void **state) {
  (void)state;
  expect_read("show,season,episode,date,notes,title\n"
              "A,1,1,2022-01-01,a\"b,One\n"
              "A,1,2,2022-01-02,\"c\"d e,Two\n"
              "A,1,3,2022-13-01,\"\"x,Three\n"
              "A,1,4,2022-01-04,ok,F\"our\n",
              "2|A|1|1|2022-01-01|One|(null)\n"
              "3|A|1|2|2022-01-02|Two|(null)\n"
              "E 4:7 date \"2022-13-01\" is not a real calendar date\n"
              "E 5:22 stray '\"' in an unquoted field (quote the whole field "
              "and double the quotes inside it)\n");
}

/* Encodings by byte-order mark, | detected, cleared spreadsheet rows. */
static void wide_boms_pipes_and_blank_rows(void **state) {
  (void)state;
  /* "show|season|episode|date\nA|1|1|2022-01-01\n" in UTF-16LE. */
  static const char u16[] = "\xFF\xFEs\0h\0o\0w\0|\0s\0e\0a\0s\0o\0n\0|\0"
                            "e\0p\0i\0s\0o\0d\0e\0|\0d\0a\0t\0e\0\n\0A\0|\0"
                            "1\0|\0\x31\0|\0\x32\0\x30\0\x32\0\x32\0-\0\x30\0"
                            "\x31\0-\0\x30\0\x31\0\n\0";
  for (size_t chunk = 1; chunk <= 41; chunk++) {
    source s = {u16, sizeof u16 - 1, 0, chunk};
    epcal_reader *r;
    assert_int_equal(
        epcal_reader_open_fn(&r, read_chunk, &s, "in.csv", NULL, NULL),
        EPCAL_OK);
    const epcal_episode *ep;
    assert_int_equal(epcal_reader_next(r, &ep, NULL), EPCAL_OK);
    assert_non_null(ep);
    assert_string_equal(ep->show, "A");
    assert_int_equal(ep->date.day, 1);
    assert_int_equal(epcal_reader_next(r, &ep, NULL), EPCAL_OK);
    assert_null(ep);
    epcal_reader_free(r);
  }
  expect_read(",,,,\nshow,season,episode,date\n,,,\nA,1,1,2022-01-01\n"
              " , ,\t,\r\n",
              "4|A|1|1|2022-01-01|(null)|(null)\n");
}

/* The names wiki tables, spreadsheets and release-date pages use. */
static void common_header_names(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int field;
  } names[] = {
      {"Original release date", EPCAL__F_DATE},
      {"First aired", EPCAL__F_DATE},
      {"Aired", EPCAL__F_DATE},
      {"Release", EPCAL__F_DATE},
      {"Air date", EPCAL__F_DATE},
      {"Release date (US)", EPCAL__F_DATE},
      {"Date aired", EPCAL__F_DATE},
      {"Original air date[1]", EPCAL__F_DATE},
      {"TV Show", EPCAL__F_SHOW},
      {"Series", EPCAL__F_SHOW},
      {"Ep #", EPCAL__F_EPISODE},
      {"Episode #", EPCAL__F_EPISODE},
      {"Ep.", EPCAL__F_EPISODE},
      {"No. in season", EPCAL__F_EPISODE},
      {"No.\xC2\xA0in\xC2\xA0season", EPCAL__F_EPISODE}, /* no-break spaces */
      {"Season #", EPCAL__F_SEASON},
      {"Episode name", EPCAL__F_TITLE},
      {"Episode title", EPCAL__F_TITLE},
      {"Plot", EPCAL__F_DESCRIPTION},
      {"Running time (min)", EPCAL__F_RUNTIME},
      {"No. overall", -1},
      {"No. in series", -1},
      {"Directed by", -1},
      {"Written by", -1},
      {"U.S. viewers (millions)", -1},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int got = epcal__field_lookup(names[i].name, strlen(names[i].name));
    if (got != names[i].field) {
      fail_msg("\"%s\": field %d, want %d", names[i].name, got, names[i].field);
    }
  }
}

/* --column names a header the built-in names do not know, and chooses
 * between two that mean the same field; a name not in the header, or an
 * unknown field, is refused. */
static void explicit_column_names(void **state) {
  (void)state;
  epcal_read_options o;
  memset(&o, 0, sizeof o);
  const char *cols[] = {"air_date= aired (uk) ", "show=Programme Name"};
  o.columns = cols;
  o.n_columns = 2;
  expect_read_opts("Programme Name,Ep #,Season #,Aired (US),Aired (UK)\n"
                   "Orbit,1,1,2022-01-06,2022-01-07\n",
                   &o, "2|Orbit|1|1|2022-01-07|(null)|(null)\n");
  /* A plain name wins over the same name with a qualifier; two qualified
   * ones need --column. */
  o.n_columns = 0;
  expect_read_opts("show,season,episode,Title (original),Title,date\n"
                   "A,1,1,Orig,Plain,2022-01-01\n",
                   &o, "2|A|1|1|2022-01-01|Plain|(null)\n");
  expect_read_opts("show,season,episode,date (UK),date (US)\n"
                   "A,1,1,2022-01-01,2022-01-02\n",
                   &o,
                   "E 1:31 columns \"date (UK)\" (column 4) and \"date (US)\" "
                   "(column 5) both mean air_date; rename or remove one, or "
                   "choose with --column air_date=HEADER\n");
  const char *missing[] = {"air_date=Broadcast"};
  o.columns = missing;
  o.n_columns = 1;
  expect_read_opts("show,season,episode,date\nA,1,1,2022-01-01\n", &o,
                   "E 1:1 --column air_date: no column \"Broadcast\"; the "
                   "header read: \"show\", \"season\", \"episode\", "
                   "\"date\"\n");
  const char *bad[] = {"when=Aired"};
  o.columns = bad;
  epcal_reader *r;
  epcal_error err;
  assert_int_equal(epcal_reader_open(&r, "-", &o, &err), EPCAL_EUSAGE);
  assert_string_equal(err.msg,
                      "column \"when=Aired\": unknown field \"when\"; FIELD is "
                      "show, season, episode, code, air_date, title, "
                      "description, url, network, uid, air_time, timezone, "
                      "runtime or status");
}

static void seed_forms(void **state) {
  (void)state;
  expect_read("Show,Number,Series title,Release date\n"
              "Star Trek: Picard,2x01,Series 1,\"March 3, 2022\"\n"
              "Star Trek: Picard,2x10,Series 10,May 5 2022\n",
              "2|Star Trek: Picard|2|1|2022-03-03|Series 1|(null)\n"
              "3|Star Trek: Picard|2|10|2022-05-05|Series 10|(null)\n");
}

static void bom_crlf_blank_lines_and_quoted_breaks(void **state) {
  (void)state;
  expect_read("\xEF\xBB\xBFshow,season,episode,air_date,title,description\r\n"
              "\r\n"
              "A,1,1,2022-01-01,\"T, one\",\"x\r\ny\"\r\n"
              "\r\n"
              /* a lone CR inside quotes is a line break too */
              "A,1,2,2022-01-08,\"say \"\"hi\"\"\",\"a\rb\"\r\n"
              "A,1,3,TBA,,\n",
              "3|A|1|1|2022-01-01|T, one|x\ny\n"
              "6|A|1|2|2022-01-08|say \"hi\"|a\nb\n"
              "8|A|1|3|-|(null)|(null)\n");
}

static void cr_only_line_ends(void **state) {
  (void)state;
  expect_read("show,season,episode,date\rA,1,1,2022-01-01\rA,1,2,bad\r",
              "2|A|1|1|2022-01-01|(null)|(null)\n"
              "E 3:7 unrecognised date \"bad\" (expected YYYY-MM-DD or a form "
              "like \"March 3, 2022\")\n");
}

static void delimiters_are_detected(void **state) {
  (void)state;
  expect_read("show;season;episode;date;title\nA;1;1;2022-01-01;x, y\n",
              "2|A|1|1|2022-01-01|x, y|(null)\n");
  expect_read("show\tseason\tepisode\tdate\nA\t1\t1\t2022-01-01\n",
              "2|A|1|1|2022-01-01|(null)|(null)\n");
}

static void header_aliases(void **state) {
  (void)state;
  expect_read("Series Name,Season Number,Episode Number,Air Date,Episode "
              "Title,Overview\nA,1,1,2022-01-01,T,D\n",
              "2|A|1|1|2022-01-01|T|D\n");
  expect_read("Program,Code,Premiere\nA,S03E04,2022-01-01\n",
              "2|A|3|4|2022-01-01|(null)|(null)\n");
}

static void errors_are_placed_and_reading_goes_on(void **state) {
  (void)state;
  expect_read("show,season,episode,date\n"
              "A,1,1,2022-02-30\n"
              "A,x,2,2022-01-01\n"
              "\xC3\xA9\xC3\xA9,1,3,2022-01-01,extra\n"
              "A,1,4,2022-01-04\n",
              "E 2:7 date \"2022-02-30\" is not a real calendar date\n"
              "E 3:3 season \"x\" is not a number\n"
              "E 4:19 row has 5 fields but the header has 4 (does a field "
              "with a delimiter lack its quotes?)\n"
              "5|A|1|4|2022-01-04|(null)|(null)\n");
}

static void stray_and_unterminated_quotes(void **state) {
  (void)state;
  expect_read("show,season,episode,date,title\n"
              "A,1,1,2022-01-01,bad\"quote\n"
              "A,1,2,2022-01-02,\"closed\"junk\n"
              "A,1,3,2022-01-03,\"never closed\n"
              "A,1,4,2022-01-04,ok\n",
              "E 2:21 stray '\"' in an unquoted field (quote the whole field "
              "and double the quotes inside it)\n"
              "E 3:26 unexpected text after a closing quote (a quote inside a "
              "quoted field must be doubled)\n"
              "E 4:18 quoted field is never closed (missing '\"')\n"
              "5|A|1|4|2022-01-04|ok|(null)\n");
}

static void header_problems_are_final(void **state) {
  (void)state;
  expect_read("season,episode,date\nA,1,1\n",
              "E 1:1 no \"show\" column: give the show with --show NAME (one), "
              "or add a show column; the header read: \"season\", "
              "\"episode\", \"date\"\n");
  expect_read("show,season,episode,date,Air Date\nA,1,1,x,y\n",
              "E 1:26 columns \"date\" (column 4) and \"Air Date\" (column 5) "
              "both mean air_date; rename or remove one, or choose with "
              "--column air_date=HEADER\n");
}

static void invalid_utf8_is_placed(void **state) {
  (void)state;
  expect_read("show,season,episode,date,title\n"
              "A,1,1,2022-01-01,caf\xE9 ok\n",
              "E 2:21 invalid UTF-8 (byte 0xE9) in title (for a Windows "
              "export, try --encoding WINDOWS-1252)\n");
}

/* Found by fuzzing: a read ending inside the blanks before a record, or
 * right after a lone CR, moved errors by a column or a line. */
static void reads_ending_in_blanks_or_after_cr(void **state) {
  (void)state;
  expect_read("\r  \t season,episode,date\n",
              "E 2:5 no \"show\" column: give the show with --show NAME (one), "
              "or add a show column; the header read: \"season\", "
              "\"episode\", \"date\"\n");
  expect_read("show,season,episode,date\r\t\n A,1,1,bad\r\n",
              "E 3:8 unrecognised date \"bad\" (expected YYYY-MM-DD or a form "
              "like \"March 3, 2022\")\n");
}

/* Found by fuzzing: after a syntax error on a line whose CRLF was split
 * between two reads, the LF was counted as one more line. */
static void syntax_error_before_a_split_crlf(void **state) {
  (void)state;
  expect_read("show,season,episode,date\r\n"
              "A\"\r\n" /* with chunks of 29, a read ends after this CR */
              "A,1,2,bad\r\n",
              "E 2:2 stray '\"' in an unquoted field (quote the whole field "
              "and double the quotes inside it)\n"
              "E 3:7 unrecognised date \"bad\" (expected YYYY-MM-DD or a form "
              "like \"March 3, 2022\")\n");
}

/* Found by fuzzing: the delimiter was chosen from the header's first
 * physical line as far as it had been read, so a quoted line break in the
 * header made it depend on the read sizes. */
static void quoted_break_in_header(void **state) {
  (void)state;
  expect_read("\"Notes\nhere\";show;season;episode;date\n"
              "n;A;1;1;2022-01-01\n",
              "3|A|1|1|2022-01-01|(null)|(null)\n");
}

/* Found by fuzzing: a NUL cut a field short (an all-NUL show was empty). */
static void nul_bytes_are_refused(void **state) {
  (void)state;
  static const char csv[] = "show,season,episode,date,title\n"
                            "A,1,1,2022-01-01,ab\0cd\n"
                            "A,1,2,2022-01-02,ok\n";
  source s = {csv, sizeof csv - 1, 0, 7};
  epcal_reader *r;
  assert_int_equal(
      epcal_reader_open_fn(&r, read_chunk, &s, "in.csv", NULL, NULL),
      EPCAL_OK);
  const epcal_episode *ep;
  epcal_error err;
  assert_int_equal(epcal_reader_next(r, &ep, &err), EPCAL_EDATA);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.column, 20);
  assert_string_equal(err.msg, "NUL byte in title (is the file UTF-16?); "
                               "convert the file to UTF-8");
  assert_int_equal(epcal_reader_next(r, &ep, &err), EPCAL_OK);
  assert_non_null(ep);
  assert_string_equal(ep->title, "ok");
  epcal_reader_free(r);
}

static void huge_field_is_refused(void **state) {
  (void)state;
  size_t n = 1200 * 1024;
  char *csv = malloc(n + 200);
  int k = snprintf(csv, 200, "show,season,episode,date,title\nA,1,1,2022-01-01,\"");
  memset(csv + k, 'x', n);
  strcpy(csv + k + n, "\"\nA,1,2,2022-01-02,fine\n");
  char *got = read_all(csv, 65536, NULL);
  assert_string_equal(got,
                      "E 2:18 quoted field is longer than 1 MiB (is a closing "
                      "'\"' missing?)\n"
                      "3|A|1|2|2022-01-02|fine|(null)\n");
  free(got);
  free(csv);
}

/* Bytes that are not text in the --encoding: each record holding some is
 * reported once, where the first bad byte is, and dropped; reading goes on
 * with the next line, whatever the chunk sizes. */
static void bytes_not_in_the_encoding_are_skipped(void **state) {
  (void)state;
  epcal_read_options o;
  memset(&o, 0, sizeof o);
  o.encoding = "WINDOWS-1252";
  const char *csv = "show,season,episode,air_date,title\n"
                    "A,1,1,2022-01-01,caf\xe9\n"
                    "A,1,2,2022-01-08,x\x81y\x8dz\n"
                    "A,1,3,2022-01-15,\"multi\nline \x81 here\"\n"
                    "A,1,4,2022-01-22,ok\n"
                    "A,1,5,2022-01-29,last\x81";
  const char *bad = "bytes that are not valid WINDOWS-1252 (wrong --encoding?)";
  char want[1024];
  snprintf(want, sizeof want,
           "2|A|1|1|2022-01-01|caf\xc3\xa9|(null)\n"
           "E 3:19 %s\n"
           "E 5:6 %s\n"
           "6|A|1|4|2022-01-22|ok|(null)\n"
           "E 7:22 %s\n",
           bad, bad, bad);
  for (size_t chunk = 1; chunk <= 41; chunk++) {
    char *got = read_all(csv, chunk == 41 ? 65536 : chunk, &o);
    if (strcmp(got, want) != 0) {
      fail_msg("chunk %zu:\n--- want\n%s--- got\n%s", chunk, want, got);
    }
    free(got);
  }
}

/* Parses header + one row's bytes with a fresh reader: "show|number|title|
 * description" of its one episode. */
static void reread(const char *csv, size_t hlen, uint64_t off, size_t len,
                   char *out, size_t cap) {
  char *buf = malloc(hlen + len + 2);
  memcpy(buf, csv, hlen);
  memcpy(buf + hlen, csv + off, len);
  size_t n = hlen + len;
  if (len == 0 || (buf[n - 1] != '\n' && buf[n - 1] != '\r')) {
    buf[n++] = '\n';
  }
  buf[n] = '\0';
  source s = {buf, n, 0, 65536};
  epcal_reader *r;
  assert_int_equal(epcal_reader_open_fn(&r, read_chunk, &s, "again.csv", NULL,
                                        NULL),
                   EPCAL_OK);
  const epcal_episode *ep;
  assert_int_equal(epcal_reader_next(r, &ep, NULL), EPCAL_OK);
  assert_non_null(ep);
  snprintf(out, cap, "%s|%ld|%s|%s", ep->show, ep->number,
           ep->title ? ep->title : "-",
           ep->description ? ep->description : "-");
  assert_int_equal(epcal_reader_next(r, &ep, NULL), EPCAL_OK);
  assert_null(ep); /* exactly one row */
  epcal_reader_free(r);
  free(buf);
}

/* epcal_reader_row_span names each row's bytes, whatever the chunks, after
 * a syntax error (the reader starts again on the next line) and across the
 * buffer's 64 KiB refills: header + those bytes read again give the row. */
static void row_spans_read_again(void **state) {
  (void)state;
  size_t cap = 400000, n = 0;
  char *csv = malloc(cap);
  n += (size_t)snprintf(csv + n, cap - n,
                        "\xEF\xBB\xBFshow,season,episode,title,air_date,"
                        "description\r\n"
                        "A,1,1,One,2024-01-01,\"two\r\nlines\"\r\n"
                        "\r\n"
                        "  B,1,2,Two,2024-01-02,plain\r\n"
                        "C,1,3,Th\"ree,2024-01-03,stray quote\r\n"
                        "D,1,4,Four,2024-01-04,\"quoted, comma\"\r\n");
  for (int i = 0; i < 2500; i++) {
    n += (size_t)snprintf(csv + n, cap - n,
                          i == 1700 ? "E,2,%d,\"bad\"x,2024-02-01,-\n"
                                    : "E,2,%d,Row %d,2024-02-01,-\n",
                          i + 1, i);
  }
  n += (size_t)snprintf(csv + n, cap - n, "F,3,1,Last,2024-03-01,no break");
  for (size_t chunk = 1; chunk <= 65536; chunk = chunk < 8 ? chunk + 1
                                                           : chunk * 7) {
    source s = {csv, n, 0, chunk};
    epcal_reader *r;
    assert_int_equal(
        epcal_reader_open_fn(&r, read_chunk, &s, "in.csv", NULL, NULL),
        EPCAL_OK);
    uint64_t off;
    size_t len, hlen = 0, rows = 0, errors = 0;
    assert_false(epcal_reader_header_span(r, &off, &len));
    for (;;) {
      const epcal_episode *ep;
      epcal_status st = epcal_reader_next(r, &ep, NULL);
      if (st == EPCAL_EDATA) {
        errors++;
        continue;
      }
      assert_int_equal(st, EPCAL_OK);
      if (ep == NULL) {
        break;
      }
      if (rows++ == 0) {
        assert_true(epcal_reader_header_span(r, &off, &len));
        assert_int_equal(off, 0);
        hlen = len;
      }
      char want[256], got[256];
      snprintf(want, sizeof want, "%s|%ld|%s|%s", ep->show, ep->number,
               ep->title ? ep->title : "-",
               ep->description ? ep->description : "-");
      assert_true(epcal_reader_row_span(r, &off, &len));
      assert_true(off + len <= n);
      reread(csv, hlen, off, len, got, sizeof got);
      if (strcmp(want, got) != 0) {
        fail_msg("chunk %zu, row %zu: %s read again as %s", chunk, rows, want,
                 got);
      }
    }
    assert_int_equal(rows, 2503); /* A, B, D, 2,499 of E, F */
    assert_int_equal(errors, 2);
    epcal_reader_free(r);
  }
  free(csv);
}

typedef struct tapped {
  char *data;
  size_t len, cap;
} tapped;

static int keep(void *ctx, const char *buf, size_t len) {
  tapped *t = ctx;
  if (t->len + len + 1 > t->cap) {
    t->cap = (t->len + len + 1) * 2;
    t->data = realloc(t->data, t->cap);
  }
  memcpy(t->data + t->len, buf, len);
  t->len += len;
  t->data[t->len] = '\0';
  return 0;
}

/* With --encoding, a tap sees the input converted to UTF-8, and the spans
 * name bytes of that: read again without an encoding, they give the rows
 * (a row with bytes not in the encoding is dropped, and the others still
 * line up). */
static void tap_sees_converted_bytes(void **state) {
  (void)state;
  const char *csv = "show,season,episode,title,air_date\n"
                    "Caf\xE9,1,1,Cr\xE8me,2024-01-01\n"
                    "B,1,2,\x81 undefined,2024-01-02\n"
                    "\xC5land,1,3,Third,2024-01-03\n";
  epcal_read_options opts;
  memset(&opts, 0, sizeof opts);
  opts.encoding = "WINDOWS-1252";
  for (size_t chunk = 1; chunk <= 65536; chunk *= 4) {
    source s = {csv, strlen(csv), 0, chunk};
    epcal_reader *r;
    assert_int_equal(
        epcal_reader_open_fn(&r, read_chunk, &s, "in.csv", &opts, NULL),
        EPCAL_OK);
    tapped t = {NULL, 0, 0};
    epcal_reader_set_tap(r, keep, &t);
    const char *want[] = {"Caf\xC3\xA9|1|Cr\xC3\xA8me|-",
                          "\xC3\x85land|3|Third|-"};
    size_t rows = 0, hlen = 0;
    for (;;) {
      const epcal_episode *ep;
      epcal_status st = epcal_reader_next(r, &ep, NULL);
      if (st == EPCAL_EDATA) {
        continue;
      }
      assert_int_equal(st, EPCAL_OK);
      if (ep == NULL) {
        break;
      }
      uint64_t off;
      size_t len;
      if (rows == 0) {
        assert_true(epcal_reader_header_span(r, &off, &len));
        hlen = len;
      }
      assert_true(epcal_reader_row_span(r, &off, &len));
      assert_true(rows < 2 && off + len <= t.len);
      char got[256];
      reread(t.data, hlen, off, len, got, sizeof got);
      assert_string_equal(got, want[rows]);
      rows++;
    }
    assert_int_equal(rows, 2);
    epcal_reader_free(r);
    free(t.data);
  }
}

static void delimiter_names(void **state) {
  (void)state;
  const char *names[] = {",", ";", "|", "tab", "\\t", "\t"};
  const char want[] = {',', ';', '|', '\t', '\t', '\t'};
  for (size_t i = 0; i < sizeof want; i++) {
    char d = 0;
    assert_int_equal(epcal_delimiter_parse(names[i], &d), 0);
    assert_int_equal(d, want[i]);
  }
  const char *bad[] = {"", ":", ",,", "TAB", "space"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char d = 'x';
    assert_int_equal(epcal_delimiter_parse(bad[i], &d), -1);
    assert_int_equal(d, 'x');
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(seed_forms),
      cmocka_unit_test(single_show_tables),
      cmocka_unit_test(common_header_names),
      cmocka_unit_test(explicit_column_names),
      cmocka_unit_test(tsv_quotes),
      cmocka_unit_test(quotes_in_unused_columns),
      cmocka_unit_test(wide_boms_pipes_and_blank_rows),
      cmocka_unit_test(bom_crlf_blank_lines_and_quoted_breaks),
      cmocka_unit_test(cr_only_line_ends),
      cmocka_unit_test(delimiters_are_detected),
      cmocka_unit_test(header_aliases),
      cmocka_unit_test(errors_are_placed_and_reading_goes_on),
      cmocka_unit_test(stray_and_unterminated_quotes),
      cmocka_unit_test(header_problems_are_final),
      cmocka_unit_test(invalid_utf8_is_placed),
      cmocka_unit_test(reads_ending_in_blanks_or_after_cr),
      cmocka_unit_test(syntax_error_before_a_split_crlf),
      cmocka_unit_test(quoted_break_in_header),
      cmocka_unit_test(nul_bytes_are_refused),
      cmocka_unit_test(huge_field_is_refused),
      cmocka_unit_test(bytes_not_in_the_encoding_are_skipped),
      cmocka_unit_test(delimiter_names),
      cmocka_unit_test(row_spans_read_again),
      cmocka_unit_test(tap_sees_converted_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
