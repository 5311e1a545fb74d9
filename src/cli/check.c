/* `epcal check`: judges feeds with epcal_feed_check() and prints each
 * finding as "FILE:LINE: error: message [rule]" (or "format:") on standard
 * output, one per line, so the output reads like a compiler's and greps
 * like one; --json prints the same findings as JSON records, one a line. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX 100

static const char usage_text[] =
    "Usage: epcal check [OPTIONS] FEED.ics ...\n"
    "\n"
    "Judges iCalendar feeds, whoever wrote them, a component at a time (a\n"
    "feed of any size is read in bounded memory). Two kinds of findings:\n"
    "  error   a calendar client rejects the feed or drops the event: libical\n"
    "          parse errors, unbalanced BEGIN/END, events without UID,\n"
    "          DTSTAMP or DTSTART, a property allowed once repeated,\n"
    "          duplicate UIDs, impossible dates, a date without VALUE=DATE,\n"
    "          unescaped ',' or ';' and invalid escapes in text, a TZID\n"
    "          without a VTIMEZONE, a negative DURATION, a DTSTAMP not in\n"
    "          UTC, DTEND not after DTSTART (as instants)\n"
    "  format  formatting parsers forgive: CRLF line ends, lines over 75\n"
    "          octets, empty lines, folds that split a UTF-8 character\n"
    "Each is printed as FILE:LINE: error|format: message [rule] ('-' reads\n"
    "standard input).\n"
    "\n"
    "  --json            print each finding as a JSON record, one a line:\n"
    "                    file, line, rule, severity, message\n"
    "  --max-errors N    print the first N findings of a feed and a count of\n"
    "                    the rest (default 100; 0: all)\n"
    "  -q, --quiet       print nothing; the exit status tells\n"
    "  -v, --verbose     also print a verdict line for every feed\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 every feed is clean; 1 findings; 2 usage;\n"
    "3 a feed could not be read, or is not an iCalendar feed.\n";

typedef struct check_ctx {
  bool quiet;
  bool json;
  unsigned long max; /* 0: no limit */
  unsigned long shown;
  unsigned long hidden;
} check_ctx;

/* Writes s as the inside of a JSON string. */
static void json_string(const char *s) {
  putchar('"');
  for (; *s != '\0'; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      putchar('\\');
      putchar(ch);
    } else if (ch == '\n') {
      fputs("\\n", stdout);
    } else if (ch < 0x20 || ch == 0x7F) {
      printf("\\u%04x", ch);
    } else {
      putchar(ch);
    }
  }
  putchar('"');
}

static void print_json(const char *file, unsigned long line, const char *rule,
                       const char *severity, const char *msg) {
  fputs("{\"file\":", stdout);
  json_string(file);
  printf(",\"line\":%lu,\"rule\":", line);
  json_string(rule);
  fputs(",\"severity\":", stdout);
  json_string(severity);
  fputs(",\"message\":", stdout);
  json_string(msg);
  fputs("}\n", stdout);
}

static void on_finding(void *ctx, const epcal_finding *f) {
  check_ctx *c = ctx;
  if (c->quiet) {
    return;
  }
  if (c->max > 0 && c->shown >= c->max) {
    c->hidden++;
    return;
  }
  c->shown++;
  const char *sev = f->severity == EPCAL_CHECK_ERROR ? "error" : "format";
  if (c->json) {
    print_json(f->file, f->line, f->rule, sev, f->msg);
  } else if (f->line > 0) {
    printf("%s:%lu: %s: %s [%s]\n", f->file, f->line, sev, f->msg, f->rule);
  } else {
    printf("%s: %s: %s [%s]\n", f->file, sev, f->msg, f->rule);
  }
}

static bool parse_max(const char *text, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
      v > INT_MAX) {
    return false;
  }
  *out = v;
  return true;
}

int epcal_cli_check(int argc, char **argv) {
  enum { OPT_JSON = 256, OPT_MAX };
  static const struct option longopts[] = {
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"json", no_argument, NULL, OPT_JSON},
      {"max-errors", required_argument, NULL, OPT_MAX},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  check_ctx ctx = {false, false, DEFAULT_MAX, 0, 0};
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
    case OPT_JSON:
      ctx.json = true;
      break;
    case OPT_MAX:
      if (!parse_max(optarg, &ctx.max)) {
        epcal_cli_usage_error("check",
                              "--max-errors wants a number (0: no limit)");
        return EPCAL_EXIT_USAGE;
      }
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
    ctx.shown = 0;
    ctx.hidden = 0;
    epcal_status st = epcal_feed_check(argv[i], on_finding, &ctx, &stats, &err);
    if (st != EPCAL_OK) {
      /* Unreadable, or not a feed at all: one line, whatever it holds. */
      fflush(stdout);
      epcal_cli_report(NULL, &err);
      code = EPCAL_EXIT_IO;
      continue;
    }
    if (stats.problems > 0 && code == EPCAL_EXIT_OK) {
      code = EPCAL_EXIT_DATA;
    }
    if (ctx.hidden > 0) {
      char msg[128];
      snprintf(msg, sizeof msg,
               "%lu more finding%s not shown (--max-errors %lu)", ctx.hidden,
               ctx.hidden == 1 ? "" : "s", ctx.max);
      if (ctx.json) {
        print_json(argv[i], 0, "more", "note", msg);
      } else {
        printf("%s: %s\n", argv[i], msg);
      }
    }
    if (verbose && !ctx.quiet) {
      printf("%s: %s: %lu problem%s (%lu error%s), %lu event%s, %lu lines\n",
             argv[i], stats.problems == 0 ? "ok" : "FAILED", stats.problems,
             stats.problems == 1 ? "" : "s", stats.errors,
             stats.errors == 1 ? "" : "s", stats.events,
             stats.events == 1 ? "" : "s", stats.lines);
    }
  }
  /* Findings go to standard output: make sure they got there. */
  if (fflush(stdout) != 0 && code == EPCAL_EXIT_OK) {
    code = EPCAL_EXIT_IO;
  }
  return code;
}
