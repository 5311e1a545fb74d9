/* `epcal generate`: options -> epcal_generate() -> messages and exit code. */
#include "cli.h"
#include "filter_opts.h"
#include "progress.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_text[] =
    "Usage: epcal generate [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Reads episode CSV (standard input when no FILE or '-') and writes one\n"
    "iCalendar feed: an event per release date (all-day, or timed when an\n"
    "air_time column gives a time).\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        write FILE atomically (default: standard "
    "output);\n"
    "                           an unchanged feed is left untouched\n"
    "      --split season|show  one feed per season or per show, written to\n"
    "      --output-dir DIR     DIR/SHOW/season-NN.ics or DIR/SHOW.ics, with\n"
    "                           index.json and index.html\n"
    "      --prune              with --split: remove the feeds of seasons\n"
    "                           gone from the input\n"
    "      --calendar-name NAME calendar name (default: from the selection)\n"
    "      --previous FEED      the feed being replaced (default: the -o "
    "file):\n"
    "                           unchanged events keep DTSTAMP and SEQUENCE,\n"
    "                           changed ones get SEQUENCE+1\n"
    "\n"
    "Feed metadata:\n"
    "      --calendar-description TEXT\n"
    "                           DESCRIPTION and X-WR-CALDESC of the calendar\n"
    "      --refresh DURATION   how often clients should poll, e.g. PT6H\n"
    "                           (REFRESH-INTERVAL and X-PUBLISHED-TTL)\n"
    "      --color COLOR        CSS colour name or #RRGGBB (COLOR and\n"
    "                           X-APPLE-CALENDAR-COLOR)\n"
    "      --url URL            where the feed is published (URL and SOURCE)\n"
    "\n"
    "Events:\n"
    "      --timezone ZONE      IANA zone for rows with an air_time but no\n"
    "                           timezone, e.g. America/New_York\n"
    "      --runtime MINUTES    length of timed events without a runtime\n"
    "                           (default 60)\n"
    "      --all-day            all-day events even for rows with a time\n"
    "      --alarm DURATION     a reminder before the start, e.g. -PT30M or\n"
    "                           -P1D (repeatable)\n"
    "      --summary TEMPLATE   event title, e.g. '{show} {season}x{episode:02}'\n"
    "      --description TEMPLATE\n"
    "                           event description; fields: {show} {season}\n"
    "                           {episode} {title} {code} {network}\n"
    "                           {description} {url}; {season:02} pads\n"
    "      --category TEXT      a category beside the network (repeatable)\n"
    "\n";

/* The rest of the help (one literal would be longer than C11 promises to
 * support). */
static const char usage_text_input[] =
    "Selection:\n"
    "      --show NAME          only this show (repeatable; case-insensitive);\n"
    "                           one --show is also the show of every row of a\n"
    "                           table without a show column\n"
    "      --season N|N-M       only these seasons (repeatable); one --season N\n"
    "                           is also the season of rows that give none\n"
    "      --from DATE          only episodes on or after DATE\n"
    "      --to DATE            only episodes on or before DATE\n"
    "      --past-days N        only episodes from N days ago on\n"
    "      --future-days N      only episodes up to N days ahead\n"
    "      --premieres-only     only the first episode of each season\n"
    "      --finales-only       only the last episode of each season\n"
    "      --no-specials        leave out season 0\n"
    "\n"
    "Input:\n"
    "      --delimiter C        ',' ';' '|' or 'tab' (default: detected)\n"
    "      --date-format FMT    strptime format for numeric dates, e.g. "
    "%d/%m/%Y\n"
    "      --encoding NAME      input encoding, e.g. WINDOWS-1252 (default "
    "UTF-8)\n"
    "      --column FIELD=HEADER\n"
    "                           the column named HEADER holds FIELD, e.g.\n"
    "                           air_date='Aired (UK)' (repeatable)\n"
    "      --skip-invalid       publish the valid rows, warn about the rest\n"
    "                           (without it every invalid row is named, up\n"
    "                           to 20, and nothing is written)\n"
    "      --wait SECONDS       wait for another run writing the same output\n"
    "                           (default 0: fail at once with status 5)\n"
    "\n"
    "      --progress WHEN      auto (a terminal, runs over a second), "
    "always\n"
    "                           or never\n"
    "      --threads N          1: one thread; auto (default): a second thread\n"
    "                           reads files ahead when there are two CPUs\n"
    "  -v, --verbose            list unscheduled rows and print a summary "
    "line\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 feed written (or unchanged); 1 invalid data (nothing\n"
    "written); 2 usage; 3 input/output error; 4 feed written but invalid\n"
    "rows were skipped; 5 another run holds the output's lock.\n";

typedef struct generate_args {
  const char *output;
  bool verbose;
  epcal_cli_filters f;
  const char **alarms;
  size_t n_alarms;
  const char **categories;
  size_t n_categories;
} generate_args;

static void on_warning(void *ctx, const epcal_error *w) {
  (void)ctx;
  epcal_cli_report("warning", w);
}

static void on_note(void *ctx, const epcal_error *w) {
  (void)ctx;
  epcal_cli_report("note", w);
}

/* "Star Trek: Picard, Season 2": what was selected, for the calendar name. */
static char *default_name(const epcal_cli_filters *a) {
  char buf[1024];
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < a->n_shows; i++) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i > 0 ? ", " : "",
                          a->shows[i]);
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

int epcal_cli_generate(int argc, char **argv) {
  enum {
    OPT_NAME = EPCAL_CLI_OPT_FREE,
    OPT_PREVIOUS,
    OPT_FINALES,
    OPT_WAIT,
    OPT_SPLIT,
    OPT_OUTPUT_DIR,
    OPT_PRUNE,
    OPT_PROGRESS,
    OPT_TIMEZONE,
    OPT_RUNTIME,
    OPT_ALL_DAY,
    OPT_ALARM,
    OPT_SUMMARY,
    OPT_DESCRIPTION,
    OPT_CATEGORY,
    OPT_CALDESC,
    OPT_REFRESH,
    OPT_COLOR,
    OPT_URL,
    OPT_THREADS
  };
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      EPCAL_CLI_FILTER_LONGOPTS,
      {"calendar-name", required_argument, NULL, OPT_NAME},
      {"previous", required_argument, NULL, OPT_PREVIOUS},
      {"finales-only", no_argument, NULL, OPT_FINALES},
      {"wait", required_argument, NULL, OPT_WAIT},
      {"split", required_argument, NULL, OPT_SPLIT},
      {"output-dir", required_argument, NULL, OPT_OUTPUT_DIR},
      {"prune", no_argument, NULL, OPT_PRUNE},
      {"progress", required_argument, NULL, OPT_PROGRESS},
      {"threads", required_argument, NULL, OPT_THREADS},
      {"timezone", required_argument, NULL, OPT_TIMEZONE},
      {"runtime", required_argument, NULL, OPT_RUNTIME},
      {"all-day", no_argument, NULL, OPT_ALL_DAY},
      {"alarm", required_argument, NULL, OPT_ALARM},
      {"summary", required_argument, NULL, OPT_SUMMARY},
      {"description", required_argument, NULL, OPT_DESCRIPTION},
      {"category", required_argument, NULL, OPT_CATEGORY},
      {"calendar-description", required_argument, NULL, OPT_CALDESC},
      {"refresh", required_argument, NULL, OPT_REFRESH},
      {"color", required_argument, NULL, OPT_COLOR},
      {"url", required_argument, NULL, OPT_URL},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};

  generate_args a;
  memset(&a, 0, sizeof a);
  epcal_generate_options g;
  memset(&g, 0, sizeof g);
  const char *calendar_name = NULL;
  long wait_seconds = 0;
  epcal_split_options split;
  memset(&split, 0, sizeof split);
  bool splitting = false;
  progress_mode progress_wanted = PROGRESS_AUTO;
  progress prog;
  int code = EPCAL_EXIT_USAGE;
  bool filters_ok = epcal_cli_filters_init(&a.f, argc);
  a.alarms = calloc((size_t)argc, sizeof *a.alarms);
  a.categories = calloc((size_t)argc, sizeof *a.categories);
  if (!filters_ok || a.alarms == NULL || a.categories == NULL) {
    epcal_cli_message("out of memory");
    code = EPCAL_EXIT_IO;
    goto done;
  }

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:vh", longopts, NULL)) != -1) {
    int handled = epcal_cli_filters_option(&a.f, "generate", c, optarg);
    if (handled < 0) {
      goto done;
    }
    if (handled > 0) {
      continue;
    }
    switch (c) {
    case 'o':
      a.output = optarg;
      break;
    case OPT_NAME:
      calendar_name = optarg;
      break;
    case OPT_PREVIOUS:
      g.previous = optarg;
      break;
    case OPT_FINALES:
      g.finales_only = true;
      break;
    case OPT_SPLIT:
      if (strcmp(optarg, "season") == 0) {
        split.by = EPCAL_SPLIT_SEASON;
      } else if (strcmp(optarg, "show") == 0) {
        split.by = EPCAL_SPLIT_SHOW;
      } else {
        epcal_cli_usage_error("generate",
                              "--split takes season or show, not \"%s\"",
                              optarg);
        goto done;
      }
      splitting = true;
      break;
    case OPT_OUTPUT_DIR:
      split.dir = optarg;
      break;
    case OPT_PRUNE:
      split.prune = true;
      break;
    case OPT_PROGRESS:
      if (strcmp(optarg, "auto") == 0) {
        progress_wanted = PROGRESS_AUTO;
      } else if (strcmp(optarg, "always") == 0) {
        progress_wanted = PROGRESS_ALWAYS;
      } else if (strcmp(optarg, "never") == 0) {
        progress_wanted = PROGRESS_NEVER;
      } else {
        epcal_cli_usage_error("generate",
                              "--progress takes auto, always or never");
        goto done;
      }
      break;
    case OPT_THREADS:
      if (strcmp(optarg, "auto") == 0) {
        g.threads = 0;
      } else if (strcmp(optarg, "1") == 0 || strcmp(optarg, "2") == 0) {
        g.threads = (unsigned)(optarg[0] - '0');
      } else {
        epcal_cli_usage_error("generate",
                              "--threads takes 1, 2 or auto, not \"%s\"",
                              optarg);
        goto done;
      }
      break;
    case OPT_WAIT:
      if (epcal_cli_parse_count(optarg, &wait_seconds) != 0) {
        epcal_cli_usage_error("generate", "--wait needs a number of seconds, "
                              "not \"%s\"",
                              optarg);
        goto done;
      }
      break;
    /* Timed events, reminders, templates and feed metadata: the library
     * checks the values (zone, durations, templates, colour). */
    case OPT_TIMEZONE:
      g.render.timezone = optarg;
      break;
    case OPT_RUNTIME: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (end == optarg || *end != '\0' || v < 1 || v > 100000) {
        epcal_cli_usage_error("generate",
                              "invalid --runtime \"%s\" (minutes, 1 to "
                              "100000)",
                              optarg);
        goto done;
      }
      g.render.runtime = v;
      break;
    }
    case OPT_ALL_DAY:
      g.render.all_day = true;
      break;
    case OPT_ALARM:
      a.alarms[a.n_alarms++] = optarg;
      break;
    case OPT_SUMMARY:
      g.render.summary_template = optarg;
      break;
    case OPT_DESCRIPTION:
      g.render.description_template = optarg;
      break;
    case OPT_CATEGORY:
      a.categories[a.n_categories++] = optarg;
      break;
    case OPT_CALDESC:
      g.render.calendar_description = optarg;
      break;
    case OPT_REFRESH:
      g.render.refresh = optarg;
      break;
    case OPT_COLOR:
      g.render.color = optarg;
      break;
    case OPT_URL:
      g.render.url = optarg;
      break;
    case 'v':
      a.verbose = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      fputs(usage_text_input, stdout);
      code = EPCAL_EXIT_OK;
      goto done;
    default:
      epcal_cli_bad_option("generate", c, argv, longopts);
      goto done;
    }
  }

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
  g.render.now = epcal_now();
  g.read = a.f.read;
  g.skip_invalid = a.f.skip_invalid;
  epcal_cli_filters_select(&a.f, g.render.now, &g.select);
  g.inputs = (const char *const *)argv + optind;
  g.n_inputs = (size_t)(argc - optind);
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
  if (g.previous == NULL && a.output != NULL && strcmp(a.output, "-") != 0) {
    g.previous = a.output;
  }
  g.render.now = epcal_now();
  g.render.alarms = a.alarms;
  g.render.n_alarms = a.n_alarms;
  g.render.categories = a.categories;
  g.render.n_categories = a.n_categories;
  char *name = calendar_name != NULL ? strdup(calendar_name) : default_name(&a.f);
  g.render.calendar_name = name;

  epcal_output *out = NULL;
  epcal_lock *lock = NULL;
  epcal_error err;
  epcal_generate_stats stats;
  memset(&stats, 0, sizeof stats);
  epcal_status st = EPCAL_OK;
  epcal_cli_catch_signals();
  static const char *const stdin_only[] = {"-"};
  progress_init(&prog, progress_wanted,
                g.n_inputs > 0 ? g.inputs : stdin_only,
                g.n_inputs > 0 ? g.n_inputs : 1);
  g.progress = progress_update;
  g.progress_ctx = &prog;
  char lock_target[4096];
  if (splitting) {
    snprintf(lock_target, sizeof lock_target, "%s/index.json", split.dir);
    mkdir(split.dir, 0755); /* for the lock file; errors come below */
  } else {
    snprintf(lock_target, sizeof lock_target, "%s",
             a.output != NULL ? a.output : "-");
  }
  if (strcmp(lock_target, "-") != 0) {
    st = epcal_lock_acquire(&lock, lock_target, (double)wait_seconds, &err);
    if (st == EPCAL_OK && !splitting) {
      /* Under the lock no other run is writing: what a killed run left
       * behind can go. */
      epcal_output_remove_stale(lock_target);
    }
  }
  bool changed = false;
  if (st == EPCAL_OK && splitting) {
    st = epcal_generate_split(&g, &split, &stats, &err);
    changed = stats.feeds_changed > 0;
  } else if (st == EPCAL_OK) {
    st = epcal_output_open(&out, a.output, &err);
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
            stats.rows, stats.events, stats.counts.added,
            stats.counts.changed, stats.counts.unchanged, stats.removed,
            stats.unscheduled, stats.filtered, stats.skipped,
            stats.duplicates,
            splitting ? split.dir
                      : (a.output != NULL ? a.output : "standard output"),
            changed ? "written" : "unchanged");
    if (splitting) {
      fprintf(stderr, "epcal: %lu feeds (%lu changed, %lu pruned) in %s\n",
              stats.feeds, stats.feeds_changed, stats.feeds_pruned,
              split.dir);
    }
  }
  code = stats.skipped > 0 ? EPCAL_EXIT_SKIPPED : EPCAL_EXIT_OK;

done:
  epcal_cli_filters_free(&a.f);
  free(a.alarms);
  free(a.categories);
  return code;
}
