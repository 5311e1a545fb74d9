/* `epcal list`: what `generate` would publish, as a table in date order
 * (or CSV/JSON for scripts). Reads and filters exactly like generate; the
 * selected rows are held in memory (compactly, see list_store.h) because
 * date order needs them all. Nothing is printed unless every input was read
 * without error, so a failed run prints no half list. */
#include "cli.h"
#include "filter_opts.h"
#include "list_format.h"
#include "list_store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: epcal list [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Shows what 'epcal generate' would publish from the same input and\n"
    "filters: date, code (S02E01), show and title, in date order. On a\n"
    "terminal, upcoming episodes (today or later) are marked with '*'.\n"
    "Reads standard input when no FILE or '-'.\n"
    "\n"
    "Output:\n"
    "      --format FMT         table (default), csv or json\n"
    "\n"
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
    "      --skip-invalid       list the valid rows, warn about the rest\n"
    "\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 listed; 1 invalid data (nothing listed); 2 usage;\n"
    "3 input/output error; 4 listed but invalid rows were skipped.\n";

/* Reads one input to its end, keeping the rows the selection keeps. */
static epcal_status read_input(const char *path, const epcal_cli_filters *f,
                               const epcal_selection *sel,
                               epcal_list_store *store, unsigned long *skipped,
                               epcal_cli_errors *invalid, epcal_error *err) {
  epcal_reader *rd;
  epcal_status st = epcal_reader_open(&rd, path, &f->read, err);
  if (st != EPCAL_OK) {
    return st;
  }
  for (;;) {
    const epcal_episode *ep;
    epcal_error row_err;
    st = epcal_reader_next(rd, &ep, &row_err);
    if (st == EPCAL_EDATA && f->skip_invalid && epcal_reader_columns(rd) > 0) {
      (*skipped)++;
      epcal_cli_report("warning: skipped row", &row_err);
      continue;
    }
    /* Every invalid row is named, then the run fails (as generate). */
    if (st == EPCAL_EDATA && epcal_reader_columns(rd) > 0) {
      epcal_cli_errors_add(invalid, &row_err);
      continue;
    }
    if (st != EPCAL_OK) {
      *err = row_err;
      break;
    }
    if (ep == NULL) {
      break;
    }
    if (!epcal_selection_matches(sel, ep)) {
      continue;
    }
    if (!epcal_list_store_add(store, ep)) {
      st = EPCAL_ENOMEM;
      snprintf(err->file, sizeof err->file, "%s", ep->file);
      err->line = ep->line;
      err->column = 0;
      snprintf(err->msg, sizeof err->msg, "out of memory");
      break;
    }
  }
  epcal_reader_free(rd);
  return st;
}

/* Today as YYYYMMDD in local time: "upcoming" is about the viewer's day.
 * "Now" honours SOURCE_DATE_EPOCH like everything else. */
static uint32_t today(void) {
  time_t now = (time_t)epcal_now();
  struct tm tm;
  if (localtime_r(&now, &tm) == NULL) {
    return 0;
  }
  return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
                    tm.tm_mday);
}

int epcal_cli_list(int argc, char **argv) {
  enum { OPT_FORMAT = EPCAL_CLI_OPT_FREE };
  static const struct option longopts[] = {
      EPCAL_CLI_FILTER_LONGOPTS,
      {"format", required_argument, NULL, OPT_FORMAT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};

  epcal_list_format format = EPCAL_LIST_TABLE;
  epcal_list_store store;
  memset(&store, 0, sizeof store);
  epcal_cli_filters f;
  int code = EPCAL_EXIT_USAGE;
  if (!epcal_cli_filters_init(&f, argc)) {
    epcal_cli_message("out of memory");
    code = EPCAL_EXIT_IO;
    goto done;
  }

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    int handled = epcal_cli_filters_option(&f, "list", c, optarg);
    if (handled < 0) {
      goto done;
    }
    if (handled > 0) {
      continue;
    }
    switch (c) {
    case OPT_FORMAT:
      if (epcal_list_format_parse(optarg, &format) != 0) {
        epcal_cli_usage_error("list",
                              "invalid --format \"%s\" (use table, csv or "
                              "json)",
                              optarg);
        goto done;
      }
      break;
    case 'h':
      fputs(usage_text, stdout);
      code = EPCAL_EXIT_OK;
      goto done;
    default:
      epcal_cli_bad_option("list", c, argv, longopts);
      goto done;
    }
  }

  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  epcal_cli_filters_select(&f, epcal_now(), &sel);
  static const char *const stdin_only[] = {"-"};
  const char *const *inputs =
      optind < argc ? (const char *const *)argv + optind : stdin_only;
  size_t n_inputs = optind < argc ? (size_t)(argc - optind) : 1;
  unsigned long skipped = 0;
  epcal_cli_errors invalid;
  memset(&invalid, 0, sizeof invalid);
  for (size_t i = 0; i < n_inputs; i++) {
    epcal_error err;
    epcal_error_clear(&err);
    epcal_status st =
        read_input(inputs[i], &f, &sel, &store, &skipped, &invalid, &err);
    if (st == EPCAL_OK && i + 1 == n_inputs && invalid.count > 0) {
      st = EPCAL_EDATA;
      err = invalid.first;
    }
    if (st != EPCAL_OK) {
      epcal_cli_errors_finish(&invalid, &err);
      code = epcal_cli_exit_code(st);
      goto done;
    }
  }

  epcal_list_store_sort(&store);
  uint32_t mark =
      format == EPCAL_LIST_TABLE && isatty(STDOUT_FILENO) ? today() : 0;
  epcal_list_print(stdout, &store, format, mark);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    epcal_cli_message("cannot write to standard output");
    code = EPCAL_EXIT_IO;
    goto done;
  }
  if (store.n == 0) {
    epcal_cli_message("note: no episodes selected");
  }
  code = skipped > 0 ? EPCAL_EXIT_SKIPPED : EPCAL_EXIT_OK;

done:
  epcal_list_store_free(&store);
  epcal_cli_filters_free(&f);
  return code;
}
