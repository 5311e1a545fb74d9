/* `epcal generate`: options -> epcal_generate() -> messages and exit code. */
#include "cli.h"
#include "options.h"
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const epcal_cli_opt_id output_rows[] = {
    EPCAL_CLI_OUTPUT,        EPCAL_CLI_SPLIT,
    EPCAL_CLI_OUTPUT_DIR,    EPCAL_CLI_PRUNE,
    EPCAL_CLI_CALENDAR_NAME, EPCAL_CLI_PREVIOUS,
    EPCAL_CLI_WAIT,          EPCAL_CLI_FORCE,
    EPCAL_CLI_ALLOW_SHRINK,  EPCAL_CLI_MAX_REMOVED,
    EPCAL_CLI_END};
static const epcal_cli_opt_id feed_rows[] = {EPCAL_CLI_CALENDAR_DESCRIPTION,
                                             EPCAL_CLI_REFRESH, EPCAL_CLI_COLOR,
                                             EPCAL_CLI_URL, EPCAL_CLI_END};
static const epcal_cli_opt_id run_rows[] = {
    EPCAL_CLI_PROGRESS, EPCAL_CLI_THREADS, EPCAL_CLI_VERBOSE, EPCAL_CLI_HELP,
    EPCAL_CLI_END};

static const epcal_cli_section sections[] = {
    {"Output", output_rows}, {"Feed metadata", feed_rows},
    {"Events", epcal_cli_event_rows},
    {"Selection", epcal_cli_selection_rows},
    {"Input", epcal_cli_input_rows},
    {NULL, run_rows},
};

static const epcal_cli_command command = {
    "generate",
    "Usage: epcal generate [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Reads episode CSV (standard input when no FILE or '-') and writes one\n"
    "iCalendar feed: an event per release date (all-day, or timed when an\n"
    "air_time column gives a time).\n",
    sections,
    sizeof sections / sizeof sections[0],
    "Without --skip-invalid, every invalid row is reported (the first 20,\n"
    "then how many more) and nothing is written.\n",
    "Exit status: 0 feed written (or unchanged); 1 invalid data, an empty\n"
    "input or a refused shrink (nothing written); 2 usage (also a target that\n"
    "is not a feed, a directory or an input); 3 input/output error; 4 feed\n"
    "written but invalid rows were skipped; 5 another run holds the output's\n"
    "lock.\n"};

static void on_warning(void *ctx, const epcal_error *w) {
  (void)ctx;
  epcal_cli_report("warning", w);
}

static void on_note(void *ctx, const epcal_error *w) {
  (void)ctx;
  epcal_cli_report("note", w);
}

/* "Star Trek: Picard, Season 2": what was selected, for the calendar name. */
static char *default_name(const epcal_cli_opts *a) {
  char buf[1024];
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < a->shows.n; i++) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i > 0 ? ", " : "",
                          a->shows.v[i]);
    if (n >= sizeof buf) {
      n = sizeof buf - 1;
    }
  }
  if (n == 0) {
    n = (size_t)snprintf(buf, sizeof buf, "Episodes");
  }
  if (a->n_seasons == 1 && a->seasons[0].first == a->seasons[0].last) {
    snprintf(buf + n, sizeof buf - n, ", Season %ld", a->seasons[0].first);
  } else if (a->n_seasons == 1) {
    snprintf(buf + n, sizeof buf - n, ", Seasons %ld\xE2\x80\x93%ld",
             a->seasons[0].first, a->seasons[0].last);
  } else if (a->n_seasons > 1) {
    snprintf(buf + n, sizeof buf - n, ", selected seasons");
  }
  return strdup(buf);
}

/* The input that -o names (the same file, whatever the names: a symlink or
 * hard link too), or NULL. Standard input counts when it is read. */
static const char *output_is_input(const char *output,
                                   const char *const *inputs, size_t n) {
  struct stat out, in;
  if (output == NULL || strcmp(output, "-") == 0 || stat(output, &out) != 0) {
    return NULL;
  }
  static const char *const stdin_only[] = {"-"};
  if (n == 0) {
    inputs = stdin_only;
    n = 1;
  }
  for (size_t i = 0; i < n; i++) {
    bool is_stdin = strcmp(inputs[i], "-") == 0;
    int rc = is_stdin ? fstat(0, &in) : stat(inputs[i], &in);
    if (rc == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
      return is_stdin ? "(standard input)" : inputs[i];
    }
  }
  return NULL;
}

int epcal_cli_generate(int argc, char **argv) {
  char *out_file = NULL; /* what -o names, resolved */
  epcal_cli_opts a;
  epcal_generate_options g;
  memset(&g, 0, sizeof g);
  epcal_split_options split;
  memset(&split, 0, sizeof split);
  progress prog;
  int first = 0;
  int code;
  if (!epcal_cli_opts_init(&a, argc)) {
    epcal_cli_message("out of memory");
    code = EPCAL_EXIT_IO;
    goto done;
  }
  code = epcal_cli_parse(&command, argc, argv, &a, &first);
  if (code >= 0) {
    goto done;
  }
  code = EPCAL_EXIT_USAGE;
  bool splitting = a.split >= 0;
  split.by = splitting ? (epcal_split_by)a.split : EPCAL_SPLIT_SEASON;
  split.dir = a.output_dir;
  split.prune = a.prune;
  long wait_seconds = a.wait.given ? a.wait.seconds : 0;
  progress_mode progress_wanted = (progress_mode)a.progress;
  g.previous = a.previous;
  g.finales_only = a.finales_only;
  /* A second thread, reading ahead, is all that generate can use. */
  g.threads = a.threads > 2 ? 2 : (unsigned)a.threads;
  g.render = a.render;
  g.shrink = a.shrink;

  if (splitting && (split.dir == NULL || a.output != NULL)) {
    epcal_cli_usage_error("generate", "--split writes into --output-dir DIR "
                                      "(and not to -o)");
    goto done;
  }
  if (!splitting && (split.dir != NULL || split.prune)) {
    epcal_cli_usage_error("generate",
                          "--output-dir and --prune go with --split");
    goto done;
  }
  if (splitting && a.force) {
    epcal_cli_usage_error("generate", "--force goes with -o FILE");
    goto done;
  }
  /* What -o names decides everything else: a file is replaced atomically
   * under a lock and compared with what it held; a device, FIFO or socket
   * is written straight through, with no lock and no previous feed. */
  epcal_output_kind out_kind = EPCAL_OUTPUT_STDOUT;
  if (!splitting) {
    epcal_error rerr;
    epcal_status rst =
        epcal_output_resolve(a.output, &out_kind, &out_file, &rerr);
    if (rst == EPCAL_EUSAGE) {
      epcal_cli_usage_error("generate", "-o %s: %s", a.output, rerr.msg);
      goto done;
    }
    if (rst != EPCAL_OK) {
      epcal_cli_report(NULL, &rerr);
      code = epcal_cli_exit_code(rst);
      goto done;
    }
    const char *input = output_is_input(
        a.output, (const char *const *)argv + first, (size_t)(argc - first));
    if (input != NULL) {
      epcal_cli_usage_error("generate",
                            "-o %s is the input %s: writing the feed there "
                            "would destroy it",
                            a.output, input);
      goto done;
    }
  }
  g.render.now = epcal_now();
  g.read = a.read;
  g.skip_invalid = a.skip_invalid;
  epcal_cli_opts_select(&a, g.render.now, &g.select);
  g.inputs = (const char *const *)argv + first;
  g.n_inputs = (size_t)(argc - first);
  g.warn = on_warning;
  epcal_cli_errors invalid;
  memset(&invalid, 0, sizeof invalid);
  g.error = epcal_cli_errors_add;
  g.error_ctx = &invalid;
  g.cancel = &epcal_cli_signal;
  if (a.verbose) {
    g.note = on_note;
  }
  /* The feed being replaced is the natural previous feed. */
  if (g.previous == NULL && out_kind == EPCAL_OUTPUT_FILE) {
    g.previous = out_file;
  }
  char *name =
      a.calendar_name != NULL ? strdup(a.calendar_name) : default_name(&a);
  g.render.calendar_name = name;

  epcal_output *out = NULL;
  epcal_lock *lock = NULL;
  epcal_error err;
  epcal_generate_stats stats;
  memset(&stats, 0, sizeof stats);
  epcal_status st = EPCAL_OK;
  epcal_cli_catch_signals();
  static const char *const stdin_only[] = {"-"};
  progress_init(&prog, progress_wanted, g.n_inputs > 0 ? g.inputs : stdin_only,
                g.n_inputs > 0 ? g.n_inputs : 1);
  g.progress = progress_update;
  g.progress_ctx = &prog;
  char lock_target[4096];
  if (splitting) {
    snprintf(lock_target, sizeof lock_target, "%s/index.json", split.dir);
    mkdir(split.dir, 0755); /* to lock it; errors come below */
  } else {
    snprintf(lock_target, sizeof lock_target, "%s",
             out_kind == EPCAL_OUTPUT_FILE ? out_file : "-");
  }
  if (strcmp(lock_target, "-") != 0) {
    st = epcal_lock_acquire(&lock, lock_target, (double)wait_seconds, &err);
    if (st == EPCAL_OK) {
      /* Under the lock no other run is writing: what a killed run left
       * behind can go. */
      if (splitting) {
        epcal_split_remove_stale(split.dir);
      } else {
        epcal_output_remove_stale(lock_target);
      }
    }
  }
  bool changed = false;
  if (st == EPCAL_OK && splitting) {
    st = epcal_generate_split(&g, &split, &stats, &err);
    changed = stats.feeds_changed > 0;
  } else if (st == EPCAL_OK) {
    st = epcal_output_open_flags(&out, a.output,
                                 a.force ? EPCAL_OUTPUT_FORCE : 0, &err);
    if (st == EPCAL_OK) {
      st = epcal_generate(&g, epcal_output_write, out, &stats, &err);
    }
    if (st == EPCAL_OK) {
      st = epcal_output_commit(out, &changed, &err);
    }
  }
  progress_finish(&prog);
  epcal_output_free(out);
  epcal_lock_release(lock);
  free(name);
  epcal_cli_reraise_signal();

  if (st != EPCAL_OK) {
    if (st == EPCAL_EIO && err.file[0] == '\0' && !splitting) {
      /* A failed write names no file: it is the output's. */
      snprintf(err.file, sizeof err.file, "%s",
               a.output != NULL ? a.output : "-");
    }
    epcal_cli_errors_finish(&invalid, &err);
    code = epcal_cli_exit_code(st);
    goto done;
  }
  if (stats.events == 0) {
    epcal_cli_message("note: no episodes selected; the calendar is empty");
  }
  if (a.verbose) {
    fprintf(stderr,
            "epcal: %lu rows read, %lu events (%lu new, %lu changed, %lu "
            "unchanged, %lu removed), %lu unscheduled, %lu filtered out, "
            "%lu skipped, %lu repeats dropped; %s %s\n",
            stats.rows, stats.events, stats.counts.added, stats.counts.changed,
            stats.counts.unchanged, stats.removed, stats.unscheduled,
            stats.filtered, stats.skipped, stats.duplicates,
            splitting ? split.dir
                      : (a.output != NULL ? a.output : "standard output"),
            changed ? "written" : "unchanged");
    if (splitting) {
      fprintf(stderr, "epcal: %lu feeds (%lu changed, %lu pruned) in %s\n",
              stats.feeds, stats.feeds_changed, stats.feeds_pruned, split.dir);
    }
  }
  code = stats.skipped > 0 ? EPCAL_EXIT_SKIPPED : EPCAL_EXIT_OK;

done:
  free(out_file);
  epcal_cli_opts_free(&a);
  return code;
}
