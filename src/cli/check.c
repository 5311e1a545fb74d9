/* `epcal check`: judges feeds with epcal_feed_check() and prints each
 * problem as "FILE:LINE: message" on standard output, one per line, so the
 * output reads like a compiler's and greps like one. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "Usage: epcal check [OPTIONS] FEED.ics ...\n"
    "\n"
    "Judges iCalendar feeds, whoever wrote them: libical parse errors\n"
    "(X-LIC-ERROR), CRLF line ends, lines over 75 octets, folds that split a\n"
    "UTF-8 character, unbalanced BEGIN/END, events without UID, DTSTAMP or\n"
    "DTSTART, duplicate UIDs, impossible dates, DTEND not after DTSTART.\n"
    "Each problem is printed as FILE:LINE: message ('-' reads standard "
    "input).\n"
    "\n"
    "  -q, --quiet     print nothing; the exit status tells\n"
    "  -v, --verbose   also print a verdict line for every feed\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: 0 every feed is clean; 1 problems found; 2 usage;\n"
    "3 a feed could not be read.\n";

typedef struct check_ctx {
  bool quiet;
} check_ctx;

static void on_problem(void *ctx, const epcal_error *p) {
  const check_ctx *c = ctx;
  if (c->quiet) {
    return;
  }
  if (p->line > 0) {
    printf("%s:%lu: %s\n", p->file, p->line, p->msg);
  } else {
    printf("%s: %s\n", p->file, p->msg);
  }
}

int epcal_cli_check(int argc, char **argv) {
  static const struct option longopts[] = {{"quiet", no_argument, NULL, 'q'},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  check_ctx ctx = {false};
  bool verbose = false;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":qvh", longopts, NULL)) != -1) {
    switch (c) {
    case 'q':
      ctx.quiet = true;
      break;
    case 'v':
      verbose = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return EPCAL_EXIT_OK;
    default:
      epcal_cli_bad_option("check", c, argv, longopts);
      return EPCAL_EXIT_USAGE;
    }
  }
  if (optind == argc) {
    epcal_cli_usage_error("check", "no feed to check");
    return EPCAL_EXIT_USAGE;
  }
  int code = EPCAL_EXIT_OK;
  for (int i = optind; i < argc; i++) {
    epcal_check_stats stats;
    epcal_error err;
    epcal_status st = epcal_feed_check(argv[i], on_problem, &ctx, &stats, &err);
    if (st != EPCAL_OK) {
      epcal_cli_report(NULL, &err);
      code = EPCAL_EXIT_IO;
      continue;
    }
    if (stats.problems > 0 && code == EPCAL_EXIT_OK) {
      code = EPCAL_EXIT_DATA;
    }
    if (verbose && !ctx.quiet) {
      printf("%s: %s: %lu problem%s, %lu event%s, %lu lines\n", argv[i],
             stats.problems == 0 ? "ok" : "FAILED", stats.problems,
             stats.problems == 1 ? "" : "s", stats.events,
             stats.events == 1 ? "" : "s", stats.lines);
    }
  }
  /* Problems go to standard output: make sure they got there. */
  if (fflush(stdout) != 0 && code == EPCAL_EXIT_OK) {
    code = EPCAL_EXIT_IO;
  }
  return code;
}
