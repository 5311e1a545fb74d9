/* The pipeline, end to end: read -> select -> render, one row at a time. */
#include "error.h"
#include "pipeline.h"
#include "read/reader.h"
#include "readahead.h"
#include "render/previous.h"
#include "render/render.h"
#include "select/finales.h"
#include "select/seen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Puts `prefix` before the message (truncating its end if need be). */
static void prefix_message(epcal_error *e, const char *prefix) {
  size_t pl = strlen(prefix), ml = strlen(e->msg);
  if (pl >= sizeof e->msg) {
    return;
  }
  if (ml > sizeof e->msg - 1 - pl) {
    ml = sizeof e->msg - 1 - pl;
  }
  memmove(e->msg + pl, e->msg, ml);
  memcpy(e->msg, prefix, pl);
  e->msg[pl + ml] = '\0';
}

/* Reports a row that is not an error, through `fn` when set. */
static void tell(epcal_warn_fn fn, void *ctx, const epcal_episode *ep,
                 const char *fmt, ...) EPCAL__PRINTF(4, 5);
static void tell(epcal_warn_fn fn, void *ctx, const epcal_episode *ep,
                 const char *fmt, ...) {
  if (fn == NULL) {
    return;
  }
  epcal_error e;
  epcal__fail(&e, EPCAL_OK, ep->file, ep->line, 1, "%s", "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e.msg, sizeof e.msg, fmt, ap);
  va_end(ap);
  fn(ctx, &e);
}

/*
 * Switches the repeat index to exact mode: reads the inputs again, up to
 * the row at `line` of the current (last) file, and re-adds every episode
 * read before it. The same inputs with the same options give the same rows,
 * and every one of them was new (this is the first "maybe").
 */
static epcal_status go_exact(const epcal_generate_options *opts,
                             epcal__seen *seen, unsigned long line,
                             epcal_error *err) {
  epcal__seen_begin_exact(seen);
  size_t last = epcal__seen_files(seen) - 1;
  epcal_status st = EPCAL_OK;
  for (size_t f = 0; f <= last && st == EPCAL_OK; f++) {
    epcal_reader *rd = NULL;
    st = epcal_reader_open(&rd, epcal__seen_file(seen, f), &opts->read, err);
    for (bool more = st == EPCAL_OK; more;) {
      const epcal_episode *ep;
      epcal_status rst = epcal_reader_next(rd, &ep, NULL);
      if (rst == EPCAL_OK && (ep == NULL || (f == last && ep->line >= line))) {
        more = false;
      } else if (rst == EPCAL_OK) {
        if (!epcal__seen_readd(seen, f, ep,
                                epcal__seen_key_of(ep).identity)) {
          st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
          more = false;
        }
      } else if (rst != EPCAL_EDATA || epcal_reader_columns(rd) == 0) {
        /* Invalid rows were skipped the first time too; anything else
         * means the input cannot be read as it was. */
        st = epcal__fail(err, EPCAL_EIO, epcal__seen_file(seen, f), 0, 0,
                         "cannot read again to check repeats");
        more = false;
      }
    }
    epcal_reader_free(rd);
  }
  return st;
}

/*
 * Checks `ep` against the episodes read before. Returns EPCAL_OK with
 * *drop set for an identical repeat, EPCAL_EDATA for a conflicting one.
 */
static epcal_status check_repeat(const epcal_generate_options *opts,
                                 epcal__seen *seen, const epcal__row *row,
                                 bool *drop, epcal_error *err) {
  const epcal_episode *ep = &row->ep;
  const char *file;
  unsigned long line;
  *drop = false;
  epcal__seen_result r = epcal__seen_add(seen, ep, row->key, &file, &line);
  if (r == EPCAL__SEEN_MAYBE) {
    epcal_status st = go_exact(opts, seen, ep->line, err);
    if (st != EPCAL_OK) {
      return st;
    }
    r = epcal__seen_add(seen, ep, row->key, &file, &line);
  }
  switch (r) {
  case EPCAL__SEEN_NEW:
    return EPCAL_OK;
  case EPCAL__SEEN_MAYBE: /* not in exact mode */
    break;
  case EPCAL__SEEN_SAME:
    *drop = true;
    tell(opts->warn, opts->warn_ctx, ep,
         "S%02ldE%02ld of \"%s\" repeats %s:%lu; dropped", ep->season,
         ep->number, ep->show, file, line);
    return EPCAL_OK;
  case EPCAL__SEEN_CONFLICT:
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 1,
                       "S%02ldE%02ld of \"%s\" is also at %s:%lu, with "
                       "other data; keep one of the two rows",
                       ep->season, ep->number, ep->show, file, line);
  case EPCAL__SEEN_NOMEM:
    break;
  }
  return epcal__fail(err, EPCAL_ENOMEM, ep->file, ep->line, 0,
                     "out of memory");
}

/*
 * One row through the repeat check, select and emit. Returns EPCAL_OK (used,
 * dropped or left out), or the row's error in *row_err.
 */
static epcal_status take_row(const epcal_generate_options *opts,
                             epcal__seen *seen, const epcal__finales *finales,
                             epcal_selection_audit *audit,
                             epcal__emit_fn emit, epcal__left_out_fn left_out,
                             void *emit_ctx,
                             const epcal__row *row,
                             epcal_generate_stats *stats,
                             epcal_error *row_err) {
  const epcal_episode *ep = &row->ep;
  epcal_selection_audit_add(audit, ep);
  bool drop;
  epcal_status st = check_repeat(opts, seen, row, &drop, row_err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (drop) {
    stats->duplicates++;
    return EPCAL_OK;
  }
  if (!ep->scheduled) {
    stats->unscheduled++;
    tell(opts->note, opts->note_ctx, ep,
         "S%02ldE%02ld of \"%s\" is not scheduled yet; no event", ep->season,
         ep->number, ep->show);
    return EPCAL_OK;
  }
  if (!epcal_selection_matches(&opts->select, ep) ||
      (finales != NULL && !epcal__finales_has(finales, ep))) {
    stats->filtered++;
    if (left_out != NULL) {
      left_out(emit_ctx, ep, row->uid_key);
    }
    return EPCAL_OK;
  }
  /* The renderer refuses a row (a timed row without a time zone) before
   * writing any of its bytes, so such a row can be skipped too. */
  return emit(emit_ctx, ep, row_err);
}

/* Whether `path` ("-": standard input) is a regular file, which can be read
 * ahead on a second thread without ever blocking it. */
static bool regular_file(const char *path) {
  struct stat st;
  int rc = strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(path, &st);
  return rc == 0 && S_ISREG(st.st_mode);
}

/* The invalid rows of a run that reports them all (opts->error): the first
 * is what the run fails with, once every input has been read. */
typedef struct invalid_rows {
  unsigned long count;
  epcal_error first;
} invalid_rows;

/* Reads one input to its end, rendering what the selection keeps. */
static epcal_status run_input(const epcal_generate_options *opts,
                              const char *path, epcal__seen *seen,
                              const epcal__finales *finales,
                              epcal_selection_audit *audit,
                              epcal__emit_fn emit, epcal__prefetch_fn prefetch,
                              epcal__left_out_fn left_out, void *emit_ctx,
                              epcal_generate_stats *stats,
                              invalid_rows *invalid, epcal_error *err) {
  epcal_reader *rd;
  epcal_status st = epcal_reader_open(&rd, path, &opts->read, err);
  if (st != EPCAL_OK) {
    return st;
  }
  /* The reader refuses, at its place, a row whose event the renderer would
   * put outside the years 0001..9999. An unknown --timezone is refused by
   * the renderer before any row is read. */
  epcal__event_rules rules = {
      .all_day = opts->render.all_day,
      .zone = opts->render.timezone != NULL
                  ? epcal__zone_find(opts->render.timezone)
                  : NULL,
      .runtime = opts->render.runtime > 0 ? opts->render.runtime
                                          : EPCAL__DEFAULT_RUNTIME,
  };
  epcal__reader_set_rules(rd, &rules);
  if (!epcal__seen_next_file(seen, path)) {
    epcal_reader_free(rd);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  epcal__readahead *ra;
  /* Reporting every invalid row reads past them, as skipping does. */
  bool collect = !opts->skip_invalid && opts->error != NULL;
  st = epcal__readahead_start(&ra, rd, regular_file(path),
                              opts->skip_invalid || collect, prefetch != NULL,
                              opts->threads, err);
  if (st != EPCAL_OK) {
    epcal_reader_free(rd);
    return st;
  }
  unsigned long rows = 0;
  uint64_t bytes = 0;
  for (;;) {
    if (opts->progress != NULL && (rows & 4095) == 0) {
      opts->progress(opts->progress_ctx, stats->rows + rows,
                     stats->bytes + bytes);
    }
    if (opts->cancel != NULL && *opts->cancel != 0) {
      st = epcal__fail(err, EPCAL_EIO, path, 0, 0, "interrupted");
      break;
    }
    const epcal__row *row = epcal__readahead_next(ra);
    rows = row->rows;
    bytes = row->bytes;
    if (row->kind == EPCAL__ROW_END) {
      st = EPCAL_OK; /* even when the last row was skipped */
      break;
    }
    epcal_error row_err;
    if (row->kind == EPCAL__ROW_ERROR) {
      st = row->status;
      row_err = *row->err;
    } else {
      /* The indexes are far larger than the caches: start fetching the
       * slots of a row a little ahead while this one is rendered. */
      const epcal__row *ahead = epcal__readahead_peek(ra, 4);
      if (ahead != NULL) {
        epcal__seen_prefetch(seen, ahead->key);
        if (prefetch != NULL && ahead->uid_key != 0) {
          prefetch(emit_ctx, ahead->uid_key);
        }
      }
      st = take_row(opts, seen, finales, audit, emit, left_out, emit_ctx, row,
                    stats, &row_err);
    }
    /* A data error in a row is skippable; one in the header is not. */
    if (st == EPCAL_EDATA && opts->skip_invalid &&
        (row->kind != EPCAL__ROW_ERROR || row->skippable)) {
      stats->skipped++;
      if (opts->warn != NULL) {
        prefix_message(&row_err, "skipped row: ");
        opts->warn(opts->warn_ctx, &row_err);
      }
      continue;
    }
    /* Without skipping, an invalid row fails the run, but only once every
     * row has been read, so that one run names all of them. The rows
     * after it are still rendered (into output that will not be
     * published), since the renderer too may refuse a row. */
    if (st == EPCAL_EDATA && collect &&
        (row->kind != EPCAL__ROW_ERROR || row->skippable)) {
      if (invalid->count++ == 0) {
        invalid->first = row_err;
      }
      opts->error(opts->error_ctx, &row_err);
      continue;
    }
    if (st != EPCAL_OK) {
      if (err != NULL) {
        *err = row_err;
      }
      break;
    }
  }
  epcal__readahead_free(ra);
  stats->rows += rows;
  stats->bytes += bytes;
  /* No header at all (an empty file, empty standard input, only blank
   * lines) is what an upstream failure looks like, not an empty calendar:
   * publishing it would wipe every subscriber's calendar. A header without
   * rows is a valid empty calendar. */
  if (st == EPCAL_OK && epcal_reader_columns(rd) == 0) {
    st = epcal__fail(err, EPCAL_EDATA, epcal__reader_name(rd), 0, 0,
                     "no header row: the input is empty (a header with no "
                     "rows makes an empty calendar)");
  }
  epcal_reader_free(rd);
  return st;
}

epcal_status epcal__pipeline_run(const epcal_generate_options *opts,
                                 epcal__emit_fn emit,
                                 epcal__prefetch_fn prefetch, void *emit_ctx,
                                 epcal_generate_stats *stats,
                                 epcal_error *err) {
  return epcal__pipeline_run_with(opts, emit, prefetch, NULL, emit_ctx, stats,
                                  err);
}

epcal_status epcal__pipeline_run_with(const epcal_generate_options *opts,
                                      epcal__emit_fn emit,
                                      epcal__prefetch_fn prefetch,
                                      epcal__left_out_fn left_out,
                                      void *emit_ctx,
                                      epcal_generate_stats *stats,
                                      epcal_error *err) {
  static const char *const stdin_only[] = {"-"};
  const char *const *inputs = opts->n_inputs > 0 ? opts->inputs : stdin_only;
  size_t n_inputs = opts->n_inputs > 0 ? opts->n_inputs : 1;
  epcal_status st = EPCAL_OK;
  epcal__finales *finales = NULL;
  if (opts->finales_only) {
    st = epcal__finales_scan(&finales, inputs, n_inputs, &opts->read, err);
  }
  /* The compact repeat index needs inputs it can read again from the
   * start: files by name. Standard input cannot be, even when it is a
   * regular file (opening "-" again reads on from where it is). */
  bool rereadable = true;
  for (size_t i = 0; i < n_inputs; i++) {
    rereadable = rereadable && strcmp(inputs[i], "-") != 0 &&
                 regular_file(inputs[i]);
  }
  epcal__seen *seen = epcal__seen_new(rereadable);
  if (seen == NULL && st == EPCAL_OK) {
    st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  epcal_selection_audit *audit = NULL;
  if (st == EPCAL_OK) {
    st = epcal_selection_audit_new(&audit, &opts->select, err);
  }
  invalid_rows invalid;
  memset(&invalid, 0, sizeof invalid);
  for (size_t i = 0; i < n_inputs && st == EPCAL_OK; i++) {
    st = run_input(opts, inputs[i], seen, finales, audit, emit, prefetch,
                   left_out, emit_ctx, stats, &invalid, err);
  }
  if (st == EPCAL_OK && invalid.count > 0) {
    st = EPCAL_EDATA;
    if (err != NULL) {
      *err = invalid.first;
    }
  }
  /* A named show or season that matched nothing: nothing is published
   * (the caller commits only on success). */
  if (st == EPCAL_OK) {
    st = epcal_selection_audit_end(audit, err);
  }
  epcal_selection_audit_free(audit);
  epcal__seen_free(seen);
  epcal__finales_free(finales);
  return st;
}

/*
 * The largest previous feed a run reads: 32 times the input's bytes, and
 * at least 64 MiB. epcal's feeds are about 5 times their CSV (550 MB for a
 * million rows of 110 bytes); 32 leaves room for long templates, alarms
 * and categories. An input that cannot be sized (a pipe) counts as 128
 * MiB, so a piped run may read a previous feed of up to 4 GiB. A previous
 * feed larger than that means the input lost most of its rows (or the
 * file is not this input's feed), and reading it would cost memory and
 * time out of all proportion to the run.
 */
#define PREVIOUS_CAP_MIN (64ull << 20)
#define PREVIOUS_CAP_RATIO 32u
#define PREVIOUS_CAP_UNSIZED (128ull << 20)

uint64_t epcal__previous_cap(const epcal_generate_options *opts) {
  uint64_t in = 0;
  size_t n = opts->n_inputs > 0 ? opts->n_inputs : 1;
  for (size_t i = 0; i < n; i++) {
    const char *path = opts->n_inputs > 0 ? opts->inputs[i] : "-";
    struct stat st;
    int rc = strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st)
                                    : stat(path, &st);
    in += rc == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size
                                         : PREVIOUS_CAP_UNSIZED;
  }
  uint64_t cap = in * PREVIOUS_CAP_RATIO;
  return cap > PREVIOUS_CAP_MIN ? cap : PREVIOUS_CAP_MIN;
}

epcal_status epcal__previous_load_or_warn(const epcal_generate_options *opts,
                                          const char *path, uint64_t cap,
                                          epcal_previous *shared,
                                          uint64_t salt, epcal_previous **out,
                                          epcal_error *err) {
  epcal_error perr;
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
      (uint64_t)sb.st_size > cap) {
    if (opts->shrink.allow) {
      /* Replaced without change tracking: every event is new. */
      *out = NULL;
      if (opts->warn != NULL) {
        epcal__fail(&perr, EPCAL_OK, path, 0, 0,
                    "previous feed not read: %llu bytes, more than this "
                    "input's cap of %llu",
                    (unsigned long long)sb.st_size, (unsigned long long)cap);
        opts->warn(opts->warn_ctx, &perr);
      }
      return EPCAL_OK;
    }
    return epcal__fail(err, EPCAL_EDATA, path, 0, 0,
                       "the feed being replaced is %llu bytes, more than "
                       "%u times this input (cap %llu bytes): is the input "
                       "cut short? Not replaced; --allow-shrink replaces it "
                       "without reading it",
                       (unsigned long long)sb.st_size, PREVIOUS_CAP_RATIO,
                       (unsigned long long)cap);
  }
  epcal_status st =
      shared != NULL
          ? epcal__previous_load_view(shared, path, salt, cap, opts->cancel,
                                      out, &perr)
          : epcal__previous_load_capped(out, path, cap, opts->cancel, &perr);
  if (st == EPCAL_EDATA) {
    /* A damaged previous feed must not stop a regeneration: it is only a
     * hint for stable stamps. */
    *out = NULL;
    if (opts->warn != NULL) {
      prefix_message(&perr, "previous feed ignored: ");
      opts->warn(opts->warn_ctx, &perr);
    }
    return EPCAL_OK;
  }
  if (st != EPCAL_OK && err != NULL) {
    *err = perr;
  }
  return st;
}

epcal_status epcal__shrink_check(const epcal_shrink_policy *policy,
                                 const char *feed, unsigned long previous,
                                 unsigned long removed, epcal_error *err) {
  if (!epcal_shrink_refused(previous, removed, policy)) {
    return EPCAL_OK;
  }
  char limit[64];
  if (policy->set && policy->percent) {
    snprintf(limit, sizeof limit, "more than %lu%%", policy->max_removed);
  } else if (policy->set) {
    snprintf(limit, sizeof limit, "more than %lu", policy->max_removed);
  } else {
    snprintf(limit, sizeof limit, "more than half");
  }
  return epcal__fail(err, EPCAL_EDATA, feed, 0, 0,
                     "this run would remove %lu of the feed's %lu events "
                     "(%s): is the input cut short? The feed is left as it "
                     "was; --allow-shrink (or --max-removed N|P%%) lets "
                     "such a run through",
                     removed, previous, limit);
}

/* The renderer, and how many previous events left the feed because the
 * selection left their episodes out. */
typedef struct single {
  epcal_renderer *ren;
  unsigned long left_out;
} single;

static epcal_status emit_single(void *ctx, const epcal_episode *ep,
                                epcal_error *err) {
  return epcal__renderer_add_read(((single *)ctx)->ren, ep, err);
}

static void prefetch_single(void *ctx, uint64_t uid_key) {
  epcal__renderer_prefetch(((single *)ctx)->ren, uid_key);
}

static void left_out_single(void *ctx, const epcal_episode *ep,
                            uint64_t uid_key) {
  single *s = ctx;
  s->left_out += epcal__renderer_left_out(s->ren, ep, uid_key);
}

epcal_status epcal_generate(const epcal_generate_options *opts,
                            epcal_write_fn write, void *ctx,
                            epcal_generate_stats *stats, epcal_error *err) {
  epcal_generate_stats local;
  if (stats == NULL) {
    stats = &local;
  }
  memset(stats, 0, sizeof *stats);
  epcal_render_options ro = opts->render;
  epcal_previous *prev = NULL;
  if (opts->previous != NULL && ro.previous == NULL) {
    epcal_status st = epcal__previous_load_or_warn(
        opts, opts->previous, epcal__previous_cap(opts), NULL, 0, &prev, err);
    if (st != EPCAL_OK) {
      return st;
    }
    ro.previous = prev;
  }
  epcal_renderer *ren;
  epcal_status st = epcal_renderer_new(&ren, &ro, write, ctx, err);
  if (st != EPCAL_OK) {
    epcal_previous_free(prev);
    return st;
  }
  st = epcal_renderer_begin(ren, err);
  /* An episode the selection leaves out is still in the input: its event
   * leaves the feed, but the shrink guard does not count it, so that a
   * rolling --past-days window (a ten-episode drop leaving it at once)
   * never trips the guard. */
  single one = {ren, 0};
  if (st == EPCAL_OK) {
    st = epcal__pipeline_run_with(
        opts, emit_single, ro.previous != NULL ? prefetch_single : NULL,
        ro.previous != NULL ? left_out_single : NULL, &one, stats, err);
  }
  if (st == EPCAL_OK) {
    st = epcal_renderer_end(ren, err);
  }
  stats->events = epcal_renderer_events(ren);
  stats->counts = epcal_renderer_counts(ren);
  unsigned long lost = epcal_previous_unseen(ro.previous);
  stats->removed = lost + one.left_out;
  if (st == EPCAL_OK && ro.previous != NULL) {
    st = epcal__shrink_check(&opts->shrink, opts->previous,
                             epcal_previous_events(ro.previous), lost, err);
  }
  epcal_renderer_free(ren);
  epcal_previous_free(prev);
  return st;
}
