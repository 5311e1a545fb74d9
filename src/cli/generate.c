/* `epcal generate`: options -> epcal_generate() -> messages and exit code. */
#include "cli.h"
#include "filter_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "Usage: epcal generate [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Reads episode CSV (standard input when no FILE or '-') and writes one\n"
    "iCalendar feed: an all-day event per release date.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        write FILE atomically (default: standard "
    "output);\n"
    "                           an unchanged feed is left untouched\n"
    "      --calendar-name NAME calendar name (default: from the selection)\n"
    "\n"
    "Selection:\n"
    "      --show NAME          only this show (repeatable; case-insensitive)\n"
    "      --season N|N-M       only these seasons (repeatable)\n"
    "\n"
    "Input:\n"
    "      --delimiter C        ',' ';' or 'tab' (default: detected)\n"
    "      --date-format FMT    strptime format for numeric dates, e.g. "
    "%d/%m/%Y\n"
    "      --skip-invalid       publish the valid rows, warn about the rest\n"
    "\n"
    "  -v, --verbose            print a summary line and unscheduled rows\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 feed written; 1 invalid data (nothing written); 2 usage;\n"
    "3 input/output error; 4 feed written but invalid rows were skipped.\n";

typedef struct generate_args {
  const char *output;
  bool verbose;
  epcal_cli_filters f;
} generate_args;

static void on_warning(void *ctx, const epcal_error *w) {
  (void)ctx;
  epcal_cli_report("warning: skipped row", w);
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
  enum { OPT_NAME = EPCAL_CLI_OPT_FREE };
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      EPCAL_CLI_FILTER_LONGOPTS,
      {"calendar-name", required_argument, NULL, OPT_NAME},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};

  generate_args a;
  memset(&a, 0, sizeof a);
  epcal_generate_options g;
  memset(&g, 0, sizeof g);
  const char *calendar_name = NULL;
  int code = EPCAL_EXIT_USAGE;
  if (!epcal_cli_filters_init(&a.f, argc)) {
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
    case 'v':
      a.verbose = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      code = EPCAL_EXIT_OK;
      goto done;
    default:
      epcal_cli_bad_option("generate", c, argv, longopts);
      goto done;
    }
  }

  g.inputs = (const char *const *)argv + optind;
  g.n_inputs = (size_t)(argc - optind);
  g.read = a.f.read;
  g.skip_invalid = a.f.skip_invalid;
  epcal_cli_filters_select(&a.f, &g.select);
  g.warn = on_warning;
  g.render.now = epcal_now();
  char *name = calendar_name != NULL ? strdup(calendar_name) : default_name(&a.f);
  g.render.calendar_name = name;

  epcal_output *out = NULL;
  epcal_error err;
  epcal_generate_stats stats;
  memset(&stats, 0, sizeof stats);
  epcal_status st = epcal_output_open(&out, a.output, &err);
  if (st == EPCAL_OK) {
    st = epcal_generate(&g, epcal_output_write, out, &stats, &err);
  }
  bool changed = false;
  if (st == EPCAL_OK) {
    st = epcal_output_commit(out, &changed, &err);
  }
  epcal_output_free(out);
  free(name);

  if (st != EPCAL_OK) {
    epcal_cli_report(NULL, &err);
    code = epcal_cli_exit_code(st);
    goto done;
  }
  if (stats.events == 0) {
    epcal_cli_message("note: no episodes selected; the calendar is empty");
  }
  if (a.verbose) {
    fprintf(stderr,
            "epcal: %lu rows read, %lu events written, %lu unscheduled, "
            "%lu filtered out, %lu skipped; %s %s\n",
            stats.rows, stats.events, stats.unscheduled, stats.filtered,
            stats.skipped, a.output != NULL ? a.output : "standard output",
            changed ? "written" : "unchanged");
  }
  code = stats.skipped > 0 ? EPCAL_EXIT_SKIPPED : EPCAL_EXIT_OK;

done:
  epcal_cli_filters_free(&a.f);
  return code;
}
