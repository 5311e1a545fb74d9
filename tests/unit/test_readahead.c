/*
 * The read-ahead thread must change nothing but the time a run takes: the
 * same feed bytes, the same warnings and notes in the same order, the same
 * statistics and the same first error, with and without it, over an input
 * that spans many batches and holds every kind of row (repeats, conflicts,
 * invalid rows, unscheduled rows, timed rows in several zones, a field
 * larger than a batch's text). Run under ThreadSanitizer too (see
 * tests/README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epcal/epcal.h"
#include "keytab.h"
#include "render/previous.h"
#include "readahead.h"
#include "select/seen.h"

/* A growing string. */
typedef struct text {
  char *data;
  size_t len, cap;
} text;

static void append(text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->data = realloc(t->data, t->cap);
    assert_non_null(t->data);
  }
  memcpy(t->data + t->len, s, n);
  t->len += n;
  t->data[t->len] = '\0';
}

static void appendf(text *t, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  append(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static char path[64];

/* What row i of the input is. */
typedef enum kind { PLAIN, REPEAT, BAD_DATE, UNSCHEDULED, TIMED, LONG } kind;

static kind kind_of(int i, bool invalid_rows) {
  if (i == 2500) {
    return LONG; /* a description far larger than a batch's text */
  }
  if (i % 211 == 7 && invalid_rows) {
    return BAD_DATE;
  }
  if (i % 173 == 5) {
    return UNSCHEDULED;
  }
  if (i % 59 == 3) {
    return TIMED; /* in a zone, or none: the renderer refuses that row */
  }
  if (i % 97 == 13 && kind_of(i - 1, invalid_rows) == PLAIN) {
    return REPEAT; /* an identical repeat of the row before */
  }
  return PLAIN;
}

enum { ROWS = 5000 };

/* Rows of every kind, far more than a batch holds; *repeats is set to the
 * number of identical repeats, *unscheduled to the TBA rows. */
static void write_input(bool invalid_rows, bool with_conflict,
                        unsigned long *repeats, unsigned long *unscheduled) {
  text csv = {0};
  appendf(&csv, "show,season,episode,title,air_date,description,air_time,"
                "timezone\n");
  static const char *const zones[] = {"America/New_York", "Europe/Berlin",
                                      "Asia/Tokyo", ""};
  *repeats = *unscheduled = 0;
  for (int i = 0; i < ROWS; i++) {
    int season = 1 + i / 100, number = 1 + i % 100;
    switch (kind_of(i, invalid_rows)) {
    case PLAIN:
      appendf(&csv,
              "\"Show \"\"%d\"\"\",%d,%d,Title %d,2024-03-%02d,\"d, %d\",,\n",
              i % 3, season, number, i, 1 + i % 28, i);
      break;
    case REPEAT:
      ++*repeats;
      appendf(&csv,
              "\"Show \"\"%d\"\"\",%d,%d,Title %d,2024-03-%02d,\"d, %d\",,\n",
              (i - 1) % 3, 1 + (i - 1) / 100, 1 + (i - 1) % 100, i - 1,
              1 + (i - 1) % 28, i - 1);
      break;
    case BAD_DATE:
      appendf(&csv, "Show %d,%d,%d,Bad date,2024-02-30,,,\n", i % 3, season,
              number);
      break;
    case UNSCHEDULED:
      ++*unscheduled;
      appendf(&csv, "Show %d,%d,%d,Later,TBA,,,\n", i % 3, season, number);
      break;
    case TIMED:
      appendf(&csv, "Show %d,%d,%d,Timed %d,2024-03-10,,02:30,%s\n", i % 3,
              season, number, i, zones[(i / 59) % (invalid_rows ? 4 : 3)]);
      break;
    case LONG:
      appendf(&csv, "Show %d,%d,%d,Long,2024-05-01,\"", i % 3, season,
              number);
      for (int k = 0; k < 40000; k++) {
        append(&csv, "word, \"\"x\"\" ", 12);
      }
      appendf(&csv, "\",,\n");
      break;
    }
  }
  if (with_conflict) {
    appendf(&csv, "\"Show \"\"0\"\"\",1,1,Other title,2024-03-01,,,\n");
    appendf(&csv, "\"Show \"\"1\"\"\",60,1,After the conflict,2024-03-01,,,\n");
  }
  /* The last row is invalid: skipped, it must not make the run fail. */
  if (invalid_rows) {
    appendf(&csv, "Show 1,70,1,Last,2024-13-01,,,\n");
  }
  strcpy(path, "/tmp/epcal-readahead-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, csv.data, csv.len), (ssize_t)csv.len);
  close(fd);
  free(csv.data);
}

/* Everything a run shows the outside world. */
typedef struct run {
  text feed;
  text log;
  epcal_generate_stats stats;
  epcal_status status;
  epcal_error err;
} run;

static int to_text(void *ctx, const char *buf, size_t len) {
  append(ctx, buf, len);
  return 0;
}

static void log_warning(void *ctx, const epcal_error *e) {
  appendf(ctx, "warning %s:%lu:%lu: %s\n", e->file, e->line, e->column,
          e->msg);
}

static void log_note(void *ctx, const epcal_error *e) {
  appendf(ctx, "note %s:%lu:%lu: %s\n", e->file, e->line, e->column, e->msg);
}

static void log_progress(void *ctx, unsigned long rows, uint64_t bytes) {
  appendf(ctx, "progress %lu %llu\n", rows, (unsigned long long)bytes);
}

static volatile sig_atomic_t cancel;
static int warnings_before_cancel;

static void cancel_after_warnings(void *ctx, const epcal_error *e) {
  log_warning(ctx, e);
  if (--warnings_before_cancel == 0) {
    cancel = 1;
  }
}

static char second[64]; /* a second input, when not empty */

static void generate(run *r, unsigned threads, bool skip_invalid,
                     bool cancelling) {
  memset(r, 0, sizeof *r);
  const char *inputs[] = {path, second};
  epcal_generate_options g;
  memset(&g, 0, sizeof g);
  g.inputs = inputs;
  g.n_inputs = second[0] != '\0' ? 2 : 1;
  g.render.now = 1700000000;
  g.skip_invalid = skip_invalid;
  g.warn = cancelling ? cancel_after_warnings : log_warning;
  g.warn_ctx = &r->log;
  g.note = log_note;
  g.note_ctx = &r->log;
  g.progress = log_progress;
  g.progress_ctx = &r->log;
  g.threads = threads;
  cancel = 0;
  warnings_before_cancel = 5;
  g.cancel = &cancel;
  r->status = epcal_generate(&g, to_text, &r->feed, &r->stats, &r->err);
}

static void assert_same(const run *a, const run *b) {
  assert_int_equal(a->status, b->status);
  assert_int_equal(a->feed.len, b->feed.len);
  assert_memory_equal(a->feed.data, b->feed.data, a->feed.len);
  assert_string_equal(a->log.data, b->log.data);
  assert_memory_equal(&a->stats, &b->stats, sizeof a->stats);
  if (a->status != EPCAL_OK) {
    assert_string_equal(a->err.file, b->err.file);
    assert_int_equal(a->err.line, b->err.line);
    assert_int_equal(a->err.column, b->err.column);
    assert_string_equal(a->err.msg, b->err.msg);
  }
}

static void free_run(run *r) {
  free(r->feed.data);
  free(r->log.data);
}

static void same_run_either_way(bool invalid_rows, bool with_conflict,
                                bool skip_invalid, bool cancelling) {
  unsigned long repeats, unscheduled;
  write_input(invalid_rows, with_conflict, &repeats, &unscheduled);
  run one, two;
  generate(&one, 1, skip_invalid, cancelling);
  generate(&two, 2, skip_invalid, cancelling);
  assert_same(&one, &two);
  /* The run did what the input says (so the comparison compared
   * something). */
  if (skip_invalid && !cancelling) {
    assert_int_equal(one.status, EPCAL_OK);
    assert_true(repeats > 40);
    assert_int_equal(one.stats.duplicates, repeats);
    assert_int_equal(one.stats.unscheduled, unscheduled);
    /* 24 bad dates, 21 timed rows without a zone, the conflict, the
     * last row. */
    assert_int_equal(one.stats.skipped, 24 + 21 + (with_conflict ? 1 : 0) + 1);
    assert_int_equal(one.stats.rows, ROWS + (with_conflict ? 2 : 0) + 1);
    assert_non_null(strstr(one.feed.data, "DESCRIPTION:word\\, \"x\" word"));
    assert_non_null(strstr(one.feed.data, "BEGIN:VTIMEZONE"));
    assert_non_null(strstr(one.log.data, "repeats"));
  } else if (cancelling) {
    assert_int_equal(one.status, EPCAL_EIO);
    assert_string_equal(one.err.msg, "interrupted");
  } else {
    assert_int_equal(one.status, EPCAL_EDATA);
    /* The first invalid row, or the conflict at the very end. */
    assert_int_equal(one.err.line, invalid_rows ? 9 : ROWS + 2);
  }
  free_run(&one);
  free_run(&two);
  unlink(path);
}

static void skipping(void **state) {
  (void)state;
  same_run_either_way(true, true, true, false);
}

static void first_error_stops(void **state) {
  (void)state;
  same_run_either_way(true, false, false, false);
}

static void conflict_after_many_rows(void **state) {
  (void)state;
  same_run_either_way(false, true, false, false);
}

static void cancelled_midway(void **state) {
  (void)state;
  same_run_either_way(true, false, true, true);
}

/* The compact repeat index switches to exact mode at its first "maybe",
 * reading the inputs again. With 4-bit tags nearly every row is a "maybe"
 * (the switch comes early, and often on a row that is new); with 48 bits
 * only real repeats are. Either way the run must be the same, across two
 * files whose second repeats rows of the first. */
static void compact_index_switches_without_a_trace(void **state) {
  (void)state;
  unsigned long repeats, unscheduled;
  write_input(true, false, &repeats, &unscheduled);
  strcpy(second, "/tmp/epcal-readahead2-XXXXXX");
  int fd = mkstemp(second);
  assert_true(fd >= 0);
  static const char rows[] =
      "show,season,episode,title,air_date\n"
      "Show \"\"2\"\",90,1,New in file two,2024-01-01\n"
      "\"Show \"\"1\"\"\",1,2,Title 1,2024-03-02\n" /* differs: no desc */
      "Show 9,1,1,Another,2024-01-02\n";
  assert_int_equal(write(fd, rows, sizeof rows - 1), (ssize_t)sizeof rows - 1);
  close(fd);
  for (int skip = 0; skip <= 1; skip++) {
    run wide, narrow, narrow_one;
    epcal__seen_tag_bits = 48;
    generate(&wide, 2, skip, false);
    epcal__seen_tag_bits = 4;
    generate(&narrow, 2, skip, false);
    generate(&narrow_one, 1, skip, false);
    epcal__seen_tag_bits = 48;
    assert_same(&wide, &narrow);
    assert_same(&wide, &narrow_one);
    if (skip) {
      assert_int_equal(wide.status, EPCAL_OK);
      assert_int_equal(wide.stats.duplicates, repeats);
      assert_non_null(strstr(wide.log.data, "is also at"));
    } else {
      assert_int_equal(wide.status, EPCAL_EDATA);
    }
    free_run(&wide);
    free_run(&narrow);
    free_run(&narrow_one);
  }
  unlink(second);
  second[0] = '\0';
  unlink(path);
}

/* The thread really runs when it can (on a machine with more CPUs), and a
 * reader left mid-input is stopped and freed cleanly. */
static void thread_starts_and_stops_midway(void **state) {
  (void)state;
  unsigned long repeats, unscheduled;
  write_input(true, false, &repeats, &unscheduled);
  for (unsigned threads = 1; threads <= 2; threads++) {
    epcal_reader *rd;
    epcal_read_options ro;
    memset(&ro, 0, sizeof ro);
    assert_int_equal(epcal_reader_open(&rd, path, &ro, NULL), EPCAL_OK);
    epcal__readahead *ra;
    assert_int_equal(
        epcal__readahead_start(&ra, rd, true, true, true, threads, NULL),
        EPCAL_OK);
    if (threads == 1) {
      assert_false(epcal__readahead_threaded(ra));
    } else if (!epcal__readahead_threaded(ra)) {
      print_message("one CPU here: the second thread was not started\n");
    }
    unsigned long last = 0;
    for (int i = 0; i < 700; i++) {
      const epcal__row *row = epcal__readahead_next(ra);
      assert_int_not_equal(row->kind, EPCAL__ROW_END);
      assert_true(row->rows >= last);
      last = row->rows;
      if (row->kind == EPCAL__ROW_EPISODE) {
        assert_non_null(row->ep.show);
        assert_int_equal(strncmp(row->ep.show, "Show ", 5), 0);
        /* The UID's hash, as the renderer will compute it. */
        char uid[512];
        size_t n = epcal_episode_uid(&row->ep, uid, sizeof uid);
        assert_int_equal(row->uid_key, epcal__hash64(uid, n));
      }
    }
    epcal__readahead_free(ra);
    epcal_reader_free(rd);
  }
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(skipping),
      cmocka_unit_test(first_error_stops),
      cmocka_unit_test(conflict_after_many_rows),
      cmocka_unit_test(cancelled_midway),
      cmocka_unit_test(compact_index_switches_without_a_trace),
      cmocka_unit_test(thread_starts_and_stops_midway),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
