/* The option table: see options.h. */
#include "options.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct row row;

/* A kind of value: reads `arg` into the field at `field`. Returns 0, -1
 * when the value is invalid (with a message in msg[], or none: then the
 * row's hint says what it takes), -2 when out of memory. */
typedef int (*setter)(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap);

struct row {
  const char *name;
  char short_name;     /* or 0 */
  const char *metavar; /* NULL: a flag */
  setter set;
  size_t field; /* offsetof(epcal_cli_opts, ...) */
  long min, max;
  const char *const *choices; /* for set_choice; NULL-terminated */
  const char *hint;           /* what a valid value is, for messages */
  const char *help;           /* '\n' starts a continuation line */
};

/* ------------------------------------------------------- kinds of value */

static int set_text(const row *r, epcal_cli_opts *o, void *field,
                    const char *arg, char *msg, size_t cap) {
  (void)r, (void)o, (void)msg, (void)cap;
  *(const char **)field = arg;
  return 0;
}

static int set_flag(const row *r, epcal_cli_opts *o, void *field,
                    const char *arg, char *msg, size_t cap) {
  (void)r, (void)o, (void)arg, (void)msg, (void)cap;
  *(bool *)field = true;
  return 0;
}

/* A repeatable option: one more value. The list has room for every word
 * of the command line. */
static int add_text(const row *r, epcal_cli_opts *o, void *field,
                    const char *arg, char *msg, size_t cap) {
  (void)r, (void)o, (void)msg, (void)cap;
  epcal_cli_texts *t = field;
  t->v[t->n++] = arg;
  return 0;
}

int epcal_cli_parse_long(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

/* A whole number from r->min to r->max. */
static int set_number(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap) {
  (void)o;
  if (epcal_cli_parse_long(arg, r->min, r->max, field) != 0) {
    snprintf(msg, cap, "%s, %ld to %ld", r->hint, r->min, r->max);
    return -1;
  }
  return 0;
}

/* "auto" (0) or a number of threads. */
static int set_threads(const row *r, epcal_cli_opts *o, void *field,
                       const char *arg, char *msg, size_t cap) {
  (void)o;
  if (strcmp(arg, "auto") == 0) {
    *(long *)field = 0;
    return 0;
  }
  if (epcal_cli_parse_long(arg, r->min, r->max, field) != 0) {
    snprintf(msg, cap, "%ld to %ld, or auto", r->min, r->max);
    return -1;
  }
  return 0;
}

/* Whole seconds as RFC 5545, in the largest whole unit ("PT6H"). */
static void seconds_text(long secs, char *buf, size_t cap) {
  const char *sign = secs < 0 ? "-" : "";
  long a = secs < 0 ? -secs : secs;
  if (a != 0 && a % 3600 == 0) {
    snprintf(buf, cap, "%sPT%ldH", sign, a / 3600);
  } else if (a != 0 && a % 60 == 0) {
    snprintf(buf, cap, "%sPT%ldM", sign, a / 60);
  } else {
    snprintf(buf, cap, "%sPT%ldS", sign, a);
  }
}

/* True when s is a whole number of seconds, with an optional sign. */
static bool is_seconds(const char *s) {
  const char *p = s + (*s == '-' || *s == '+');
  size_t n = strspn(p, "0123456789");
  return n > 0 && n <= 9 && p[n] == '\0';
}

/* A duration, "PT6H" or "21600", from r->min to r->max seconds. */
static int set_duration(const row *r, epcal_cli_opts *o, void *field,
                        const char *arg, char *msg, size_t cap) {
  (void)o;
  epcal_cli_duration *d = field;
  int64_t secs;
  if (is_seconds(arg)) {
    secs = strtol(arg, NULL, 10);
  } else if (epcal_duration_parse(arg, &secs) != 0) {
    secs = (int64_t)r->min - 1;
  }
  if (secs < r->min || secs > r->max) {
    snprintf(msg, cap, "a duration such as %s, or seconds; %ld to %ld seconds",
             r->hint, r->min, r->max);
    return -1;
  }
  d->given = true;
  d->seconds = (long)secs;
  if (is_seconds(arg)) {
    seconds_text(d->seconds, d->buf, sizeof d->buf);
    d->text = d->buf;
  } else {
    d->text = arg;
  }
  return 0;
}

/* A reminder: an RFC 5545 duration, which the library checks (its sign
 * too), or seconds relative to the start ("-1800"), written as one
 * ("-PT30M"). Seconds after the start need their "+", as a duration does:
 * "1800" is a reminder meant before the start with its minus forgotten. */
static int add_offset(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap) {
  if (is_seconds(arg)) {
    long v = strtol(arg, NULL, 10);
    if (v != 0 && arg[0] != '+' && arg[0] != '-') {
      snprintf(msg, cap,
               "no sign: -%s for a reminder before the start, +%s after it",
               arg, arg);
      return -1;
    }
    char buf[32];
    buf[0] = '+';
    seconds_text(v, buf + (v > 0), sizeof buf - 1);
    char *copy = strdup(buf);
    if (copy == NULL) {
      return -2;
    }
    o->owned[o->n_owned++] = copy;
    arg = copy;
  }
  return add_text(r, o, field, arg, msg, cap);
}

/* Bytes, with K, M or G (powers of 1024), from r->min to r->max. */
static int set_size(const row *r, epcal_cli_opts *o, void *field,
                    const char *arg, char *msg, size_t cap) {
  (void)o;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  unsigned long long unit = 1;
  if (*end == 'K' || *end == 'k') {
    unit = 1ULL << 10;
  } else if (*end == 'M' || *end == 'm') {
    unit = 1ULL << 20;
  } else if (*end == 'G' || *end == 'g') {
    unit = 1ULL << 30;
  }
  end += unit > 1;
  if (errno != 0 || end == arg || *arg < '0' || *arg > '9' || *end != '\0' ||
      v > (unsigned long long)r->max / unit ||
      v * unit < (unsigned long long)r->min) {
    snprintf(msg, cap, "bytes, with K, M or G, %s", r->hint);
    return -1;
  }
  *(size_t *)field = (size_t)(v * unit);
  return 0;
}

/* One of r->choices; the field is its index. */
static int set_choice(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap) {
  (void)o;
  size_t n = 0;
  while (r->choices[n] != NULL) {
    if (strcmp(arg, r->choices[n]) == 0) {
      *(int *)field = (int)n;
      return 0;
    }
    n++;
  }
  /* "use table, csv or json" */
  size_t len = (size_t)snprintf(msg, cap, "use ");
  for (size_t i = 0; i < n && len < cap; i++) {
    len += (size_t)snprintf(msg + len, cap - len, "%s%s",
                            i == 0 ? "" : (i + 1 == n ? " or " : ", "),
                            r->choices[i]);
  }
  return -1;
}

static int add_season(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap) {
  (void)r, (void)field;
  epcal_error err;
  if (epcal_season_range_parse(arg, &o->seasons[o->n_seasons], &err) !=
      EPCAL_OK) {
    snprintf(msg, cap, "expected N or N-M, N <= M");
    return -1;
  }
  o->n_seasons++;
  return 0;
}

/* --max-removed: "N" events or "P%" (epcal_shrink_policy_parse()). */
static int set_max_removed(const row *r, epcal_cli_opts *o, void *field,
                           const char *arg, char *msg, size_t cap) {
  (void)r, (void)o;
  if (epcal_shrink_policy_parse(arg, field) != 0) {
    snprintf(msg, cap, "use a number of events N or a percentage P%% "
                       "(0-100%%)");
    return -1;
  }
  return 0;
}

static int set_date(const row *r, epcal_cli_opts *o, void *field,
                    const char *arg, char *msg, size_t cap) {
  (void)r, (void)o;
  epcal_cli_date *d = field;
  epcal_error err;
  if (epcal_date_parse(arg, NULL, &d->date, &err) != EPCAL_OK) {
    snprintf(msg, cap, "%s", err.msg);
    return -1;
  }
  d->given = true;
  return 0;
}

/* FIELD=HEADER, checked by the library's rule. */
static int add_column(const row *r, epcal_cli_opts *o, void *field,
                      const char *arg, char *msg, size_t cap) {
  epcal_error err;
  if (epcal_column_spec_check(arg, &err) != EPCAL_OK) {
    snprintf(msg, cap, "%s", err.msg);
    return -1;
  }
  return add_text(r, o, field, arg, msg, cap);
}

static int set_delimiter(const row *r, epcal_cli_opts *o, void *field,
                         const char *arg, char *msg, size_t cap) {
  (void)r, (void)o, (void)msg, (void)cap;
  return epcal_delimiter_parse(arg, field) == 0 ? 0 : -1;
}

/* -------------------------------------------------------------- the table */

#define AT(member) offsetof(epcal_cli_opts, member)

static const char *const split_choices[] = {"season", "show", NULL};
static const char *const format_choices[] = {"table", "csv", "json", NULL};
static const char *const progress_choices[] = {"auto", "always", "never", NULL};

/* Indexed by epcal_cli_opt_id. */
static const row rows[EPCAL_CLI_N_OPTIONS] = {
    [EPCAL_CLI_SHOW] = {"show", 0, "NAME", add_text, AT(shows), 0, 0, NULL,
                        NULL,
                        "only this show (repeatable; case-insensitive);\n"
                        "one --show is also the show of every row of a\n"
                        "table without a show column"},
    [EPCAL_CLI_SEASON] = {"season", 0, "N|N-M", add_season, 0, 0, 0, NULL, NULL,
                          "only these seasons (repeatable); one --season N\n"
                          "is also the season of rows that give none"},
    [EPCAL_CLI_FROM] = {"from", 0, "DATE", set_date, AT(from), 0, 0, NULL, NULL,
                        "only episodes on or after DATE"},
    [EPCAL_CLI_TO] = {"to", 0, "DATE", set_date, AT(to), 0, 0, NULL, NULL,
                      "only episodes on or before DATE"},
    [EPCAL_CLI_PAST_DAYS] = {"past-days", 0, "N", set_number, AT(past_days), 0,
                             100000, NULL, "days",
                             "only episodes from N days ago on"},
    [EPCAL_CLI_FUTURE_DAYS] = {"future-days", 0, "N", set_number,
                               AT(future_days), 0, 100000, NULL, "days",
                               "only episodes up to N days ahead"},
    [EPCAL_CLI_PREMIERES_ONLY] = {"premieres-only", 0, NULL, set_flag,
                                  AT(premieres_only), 0, 0, NULL, NULL,
                                  "only the first episode of each season"},
    [EPCAL_CLI_FINALES_ONLY] = {"finales-only", 0, NULL, set_flag,
                                AT(finales_only), 0, 0, NULL, NULL,
                                "only the last episode of each season"},
    [EPCAL_CLI_NO_SPECIALS] = {"no-specials", 0, NULL, set_flag,
                               AT(no_specials), 0, 0, NULL, NULL,
                               "leave out season 0"},
    [EPCAL_CLI_DELIMITER] = {"delimiter", 0, "C", set_delimiter,
                             AT(read.delimiter), 0, 0, NULL, "use , ; | or tab",
                             "',' ';' '|' or 'tab' (default: detected)"},
    [EPCAL_CLI_DATE_FORMAT] = {"date-format", 0, "FMT", set_text,
                               AT(read.date_format), 0, 0, NULL, NULL,
                               "strptime format tried before the built-in\n"
                               "date forms, e.g. %d/%m/%Y or %d-%b-%y"},
    [EPCAL_CLI_ENCODING] = {"encoding", 0, "NAME", set_text, AT(read.encoding),
                            0, 0, NULL, NULL,
                            "input encoding, e.g. WINDOWS-1252 (default:\n"
                            "UTF-8, or UTF-16/32 by its byte-order mark)"},
    [EPCAL_CLI_COLUMN] = {"column", 0, "FIELD=HEADER", add_column, AT(columns),
                          0, 0, NULL, NULL,
                          "the column named HEADER holds FIELD, e.g.\n"
                          "air_date='Aired (UK)' (repeatable)"},
    [EPCAL_CLI_KEEP_TITLES] = {"keep-titles", 0, NULL, set_flag,
                               AT(read.keep_titles), 0, 0, NULL, NULL,
                               "keep a wiki's footnote marks ([a]) and the\n"
                               "quotes around titles (default: removed)"},
    [EPCAL_CLI_SKIP_INVALID] = {"skip-invalid", 0, NULL, set_flag,
                                AT(skip_invalid), 0, 0, NULL, NULL,
                                "go on without invalid rows, with a warning\n"
                                "about each (exit status 4)"},
    [EPCAL_CLI_TIMEZONE] = {"timezone", 0, "ZONE", set_text,
                            AT(render.timezone), 0, 0, NULL, NULL,
                            "IANA zone for rows with an air_time but no\n"
                            "timezone, e.g. America/New_York"},
    [EPCAL_CLI_RUNTIME] = {"runtime", 0, "MINUTES", set_number,
                           AT(render.runtime), 1, 100000, NULL, "minutes",
                           "length of timed events without a runtime\n"
                           "(default 60)"},
    [EPCAL_CLI_ALL_DAY] = {"all-day", 0, NULL, set_flag, AT(render.all_day), 0,
                           0, NULL, NULL,
                           "all-day events even for rows with a time"},
    [EPCAL_CLI_ALARM] = {"alarm", 0, "DURATION", add_offset, AT(alarms), 0, 0,
                         NULL, NULL,
                         "a reminder before the start, e.g. -PT30M, -P1D\n"
                         "or -1800 (seconds; repeatable)"},
    [EPCAL_CLI_SUMMARY] = {"summary", 0, "TEMPLATE", set_text,
                           AT(render.summary_template), 0, 0, NULL, NULL,
                           "event title, e.g. '{show} {season}x{episode:02}'"},
    [EPCAL_CLI_DESCRIPTION] = {"description", 0, "TEMPLATE", set_text,
                               AT(render.description_template), 0, 0, NULL,
                               NULL,
                               "event description; fields: {show} {season}\n"
                               "{episode} {title} {code} {network}\n"
                               "{description} {url}; {season:02} pads"},
    [EPCAL_CLI_CATEGORY] = {"category", 0, "TEXT", add_text, AT(categories), 0,
                            0, NULL, NULL,
                            "a category beside the network (repeatable)"},
    [EPCAL_CLI_CALENDAR_NAME] = {"calendar-name", 0, "NAME", set_text,
                                 AT(calendar_name), 0, 0, NULL, NULL,
                                 "calendar name (default: from the "
                                 "selection)"},
    [EPCAL_CLI_CALENDAR_DESCRIPTION] = {"calendar-description", 0, "TEXT",
                                        set_text,
                                        AT(render.calendar_description), 0, 0,
                                        NULL, NULL,
                                        "DESCRIPTION and X-WR-CALDESC of the "
                                        "calendar"},
    [EPCAL_CLI_REFRESH] = {"refresh", 0, "DURATION", set_duration, AT(refresh),
                           0, 31536000, NULL, "PT6H",
                           "how often clients should poll, e.g. PT6H or\n"
                           "21600 (seconds): REFRESH-INTERVAL and\n"
                           "X-PUBLISHED-TTL, and serve's Cache-Control\n"
                           "(serve's default PT1H); 0: none"},
    [EPCAL_CLI_COLOR] = {"color", 0, "COLOR", set_text, AT(render.color), 0, 0,
                         NULL, NULL,
                         "CSS colour name or #RRGGBB (COLOR and\n"
                         "X-APPLE-CALENDAR-COLOR)"},
    [EPCAL_CLI_URL] = {"url", 0, "URL", set_text, AT(render.url), 0, 0, NULL,
                       NULL, "where the feed is published (URL and SOURCE)"},
    [EPCAL_CLI_OUTPUT] = {"output", 'o', "FILE", set_text, AT(output), 0, 0,
                          NULL, NULL,
                          "write FILE atomically (default: standard "
                          "output);\n"
                          "an unchanged feed is left untouched; through\n"
                          "a symlink, the file it points to is replaced;\n"
                          "a device, FIFO or socket is written straight\n"
                          "through; a directory or an input is refused"},
    [EPCAL_CLI_SPLIT] = {"split", 0, "season|show", set_choice, AT(split), 0, 0,
                         split_choices, NULL,
                         "one feed per season or per show, written to\n"
                         "DIR/SHOW/season-NN.ics or DIR/SHOW.ics, with\n"
                         "index.json and index.html"},
    [EPCAL_CLI_OUTPUT_DIR] = {"output-dir", 0, "DIR", set_text, AT(output_dir),
                              0, 0, NULL, NULL,
                              "where --split writes (created when missing)"},
    [EPCAL_CLI_PRUNE] = {"prune", 0, NULL, set_flag, AT(prune), 0, 0, NULL,
                         NULL,
                         "with --split: remove the feeds of seasons\n"
                         "gone from the input"},
    [EPCAL_CLI_PREVIOUS] = {"previous", 0, "FEED", set_text, AT(previous), 0, 0,
                            NULL, NULL,
                            "the feed being replaced (default: the -o "
                            "file):\n"
                            "unchanged events keep DTSTAMP and SEQUENCE,\n"
                            "changed ones get SEQUENCE+1"},
    [EPCAL_CLI_WAIT] = {"wait", 0, "DURATION", set_duration, AT(wait), 0,
                        100000, NULL, "PT5M",
                        "wait for another run writing the same output,\n"
                        "e.g. PT5M or 300 (default 0: fail at once with\n"
                        "status 5)"},
    [EPCAL_CLI_FORCE] = {"force", 0, NULL, set_flag, AT(force), 0, 0, NULL,
                         NULL,
                         "replace FILE even if it is not an iCalendar\n"
                         "feed (default: such a file is left alone)"},
    [EPCAL_CLI_ALLOW_SHRINK] = {"allow-shrink", 0, NULL, set_flag,
                                AT(shrink.allow), 0, 0, NULL, NULL,
                                "publish even when the feed would lose more\n"
                                "than half of its events (default: refused\n"
                                "when 10 or more would go, exit 1; serve:\n"
                                "the reload is refused)"},
    [EPCAL_CLI_MAX_REMOVED] = {"max-removed", 0, "N|P%", set_max_removed,
                               AT(shrink), 0, 0, NULL, NULL,
                               "refuse only when more than N events (or P%)\n"
                               "would be removed (serve: by a reload)"},
    [EPCAL_CLI_FORMAT] = {"format", 0, "FMT", set_choice, AT(format), 0, 0,
                          format_choices, NULL, "table (default), csv or json"},
    [EPCAL_CLI_LISTEN] = {"listen", 0, "ADDR:PORT", set_text, AT(listen), 0, 0,
                          NULL, NULL,
                          "address to listen on (default 127.0.0.1:8080;\n"
                          "port 0 picks a free one; [::1]:PORT for IPv6)"},
    [EPCAL_CLI_TOKEN] = {"token", 0, "TOKEN", set_text, AT(token), 0, 0, NULL,
                         NULL,
                         "require ?token=TOKEN on every request\n"
                         "(default: the EPCAL_TOKEN environment variable)"},
    [EPCAL_CLI_MAX_CONNECTIONS] = {"max-connections", 0, "N", set_number,
                                   AT(max_connections), 1, 100000, NULL,
                                   "connections",
                                   "connections at once (default 512)"},
    [EPCAL_CLI_TIMEOUT] = {"timeout", 0, "DURATION", set_duration, AT(timeout),
                           1, 3600, NULL, "PT30S",
                           "idle time before a connection is closed,\n"
                           "e.g. PT1M or 60 (default 30 seconds)"},
    [EPCAL_CLI_STATE] = {"state", 0, "DIR", set_text, AT(state_dir), 0, 0, NULL,
                         NULL,
                         "keep each feed's last bytes in DIR, so an\n"
                         "unchanged event keeps its DTSTAMP and\n"
                         "SEQUENCE, and a changed one gets SEQUENCE+1,\n"
                         "across reloads and restarts (feeds without\n"
                         "parameters only); and the shows' paths\n"
                         "(DIR/index.json), so a show keeps its path\n"
                         "when others are added"},
    [EPCAL_CLI_MAX_FEED_EVENTS] = {"max-feed-events", 0, "N", set_number,
                                   AT(max_feed_events), 0, 100000000, NULL,
                                   "events",
                                   "the most events a feed rendered in\n"
                                   "memory holds (default 50000; 0: no\n"
                                   "limit); /calendar.ics past it is\n"
                                   "streamed, any other feed refused (413)"},
    [EPCAL_CLI_NO_STREAM] = {"no-stream", 0, NULL, set_flag, AT(no_stream), 0,
                             0, NULL, NULL,
                             "refuse /calendar.ics past --max-feed-events\n"
                             "too, rather than stream it"},
    [EPCAL_CLI_BASE_URL] = {"base-url", 0, "URL", set_text, AT(base_url), 0, 0,
                            NULL, NULL,
                            "the server's public address, e.g.\n"
                            "https://cal.example.org, for absolute and\n"
                            "webcal:// links on the page (default: links\n"
                            "relative to the page)"},
    [EPCAL_CLI_PER_ADDRESS_LIMIT] = {"per-address-limit", 0, "N", set_number,
                                     AT(per_address_limit), 0, 100000, NULL,
                                     "connections",
                                     "connections at once from one address\n"
                                     "(default 32; 0: no limit, e.g. behind "
                                     "a\nreverse proxy)"},
    [EPCAL_CLI_HEADER_TIMEOUT] = {"header-timeout", 0, "DURATION",
                                  set_duration, AT(header_timeout), 1, 3600,
                                  NULL, "PT10S",
                                  "time a connection has to send a whole\n"
                                  "request line and headers, counted from "
                                  "the\nconnection or its previous "
                                  "response\n(default 10 seconds)"},
    [EPCAL_CLI_CACHE_SIZE] = {"cache-size", 0, "BYTES", set_size,
                              AT(cache_size), 1L << 20, 64L << 30, NULL,
                              "1M to 64G",
                              "memory for rendered feeds, with K, M or G\n"
                              "(default 16M)"},
    [EPCAL_CLI_PROGRESS] = {"progress", 0, "WHEN", set_choice, AT(progress), 0,
                            0, progress_choices, NULL,
                            "auto (a terminal, runs over a second), always\n"
                            "or never"},
    [EPCAL_CLI_THREADS] = {"threads", 0, "N|auto", set_threads, AT(threads), 1,
                           256, NULL, NULL,
                           "threads at work: generate reads files ahead on\n"
                           "a second one (auto: when two CPUs are free; 1:\n"
                           "never); serve renders or compresses N feeds\n"
                           "at once (auto: 2)"},
    [EPCAL_CLI_VERBOSE] = {"verbose", 'v', NULL, set_flag, AT(verbose), 0, 0,
                           NULL, NULL,
                           "list unscheduled rows and print a summary line"},
    [EPCAL_CLI_HELP] = {"help", 'h', NULL, NULL, 0, 0, 0, NULL, NULL,
                        "show this help"},
};

/* ------------------------------------------------------------------ API */

bool epcal_cli_opts_init(epcal_cli_opts *o, int argc) {
  memset(o, 0, sizeof *o);
  o->past_days = -1;
  o->future_days = -1;
  o->split = -1;
  o->max_feed_events = -1;
  o->per_address_limit = -1;
  size_t n = argc > 0 ? (size_t)argc : 1;
  o->shows.v = calloc(n, sizeof *o->shows.v);
  o->seasons = calloc(n, sizeof *o->seasons);
  o->alarms.v = calloc(n, sizeof *o->alarms.v);
  o->categories.v = calloc(n, sizeof *o->categories.v);
  o->columns.v = calloc(n, sizeof *o->columns.v);
  o->owned = calloc(n, sizeof *o->owned);
  return o->shows.v != NULL && o->seasons != NULL && o->alarms.v != NULL &&
         o->categories.v != NULL && o->columns.v != NULL && o->owned != NULL;
}

void epcal_cli_opts_free(epcal_cli_opts *o) {
  free(o->shows.v);
  free(o->seasons);
  free(o->alarms.v);
  free(o->categories.v);
  free(o->columns.v);
  for (size_t i = 0; i < o->n_owned; i++) {
    free(o->owned[i]);
  }
  free(o->owned);
  memset(o, 0, sizeof *o);
}

const char *epcal_cli_option_name(epcal_cli_opt_id id) { return rows[id].name; }

/* Help lines start here; a longer option and value get a line of their
 * own. */
#define HELP_COLUMN 27

static void print_row(const row *r) {
  char left[96];
  int n;
  if (r->short_name) {
    n = snprintf(left, sizeof left, "  -%c, --%s%s%s", r->short_name, r->name,
                 r->metavar ? " " : "", r->metavar ? r->metavar : "");
  } else {
    n = snprintf(left, sizeof left, "      --%s%s%s", r->name,
                 r->metavar ? " " : "", r->metavar ? r->metavar : "");
  }
  fputs(left, stdout);
  if (n < HELP_COLUMN) {
    printf("%*s", HELP_COLUMN - n, "");
  } else {
    printf("\n%*s", HELP_COLUMN, "");
  }
  for (const char *p = r->help; *p != '\0'; p++) {
    putchar(*p);
    if (*p == '\n') {
      printf("%*s", HELP_COLUMN, "");
    }
  }
  putchar('\n');
}

void epcal_cli_print_help(const epcal_cli_command *cmd) {
  fputs(cmd->intro, stdout);
  for (size_t s = 0; s < cmd->n_sections; s++) {
    const epcal_cli_section *sec = &cmd->sections[s];
    putchar('\n');
    if (sec->heading != NULL) {
      printf("%s:\n", sec->heading);
    }
    for (const epcal_cli_opt_id *id = sec->rows; *id != EPCAL_CLI_END; id++) {
      print_row(&rows[*id]);
    }
  }
  if (cmd->epilogue != NULL) {
    printf("\n%s", cmd->epilogue);
  }
  printf("\n%s", cmd->exit_status);
}

/* getopt_long's value for a row without a short name. */
#define LONG_VAL(id) (256 + (int)(id))

int epcal_cli_parse(const epcal_cli_command *cmd, int argc, char **argv,
                    epcal_cli_opts *o, int *first) {
  struct option longopts[EPCAL_CLI_N_OPTIONS + 1];
  char shortopts[2 * EPCAL_CLI_N_OPTIONS + 2];
  size_t nl = 0, ns = 0;
  shortopts[ns++] = ':';
  for (size_t s = 0; s < cmd->n_sections; s++) {
    for (const epcal_cli_opt_id *id = cmd->sections[s].rows;
         *id != EPCAL_CLI_END; id++) {
      const row *r = &rows[*id];
      int has_arg = r->metavar != NULL ? required_argument : no_argument;
      longopts[nl].name = r->name;
      longopts[nl].has_arg = has_arg;
      longopts[nl].flag = NULL;
      longopts[nl].val = r->short_name ? r->short_name : LONG_VAL(*id);
      nl++;
      if (r->short_name) {
        shortopts[ns++] = r->short_name;
        if (has_arg == required_argument) {
          shortopts[ns++] = ':';
        }
      }
    }
  }
  memset(&longopts[nl], 0, sizeof longopts[nl]);
  shortopts[ns] = '\0';

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
    /* ':' (a value missing) and '?' (unknown) fall through to id -1. */
    int id = -1;
    if (c >= 256) {
      id = c - 256;
    } else if (c != ':' && c != '?') {
      for (int k = 0; k < EPCAL_CLI_N_OPTIONS; k++) {
        if (rows[k].short_name == c) {
          id = k;
        }
      }
    }
    if (id < 0) {
      epcal_cli_bad_option(cmd->name, c, argv, longopts);
      return EPCAL_EXIT_USAGE;
    }
    if (id == EPCAL_CLI_HELP) {
      epcal_cli_print_help(cmd);
      return EPCAL_EXIT_OK;
    }
    const row *r = &rows[id];
    char msg[256];
    msg[0] = '\0';
    int rc = r->set(r, o, (char *)o + r->field, optarg, msg, sizeof msg);
    if (rc == -2) {
      epcal_cli_message("out of memory");
      return EPCAL_EXIT_IO;
    }
    if (rc != 0) {
      epcal_cli_usage_error(cmd->name, "invalid --%s \"%s\" (%s)", r->name,
                            optarg, msg[0] != '\0' ? msg : r->hint);
      return EPCAL_EXIT_USAGE;
    }
  }
  /* A window that ends before it starts is a slip (the dates swapped),
   * not a request for an empty calendar. */
  if (o->from.given && o->to.given &&
      epcal_date_cmp(o->from.date, o->to.date) > 0) {
    epcal_cli_usage_error(cmd->name,
                          "--from %04d-%02d-%02d is after --to "
                          "%04d-%02d-%02d",
                          o->from.date.year, o->from.date.month,
                          o->from.date.day, o->to.date.year,
                          o->to.date.month, o->to.date.day);
    return EPCAL_EXIT_USAGE;
  }
  o->render.alarms = o->alarms.v;
  o->render.n_alarms = o->alarms.n;
  o->render.categories = o->categories.v;
  o->render.n_categories = o->categories.n;
  o->render.refresh =
      o->refresh.given && o->refresh.seconds > 0 ? o->refresh.text : NULL;
  o->read.columns = o->columns.v;
  o->read.n_columns = o->columns.n;
  /* A table copied from a page about one show has no show column: one
   * --show names it (with several, which one a row is about cannot be
   * known). Likewise one --season N for rows that give no season. */
  o->read.default_show = o->shows.n == 1 ? o->shows.v[0] : NULL;
  o->read.has_default_season =
      o->n_seasons == 1 && o->seasons[0].first == o->seasons[0].last;
  o->read.default_season = o->n_seasons == 1 ? o->seasons[0].first : 0;
  *first = optind;
  return -1;
}

/* Today's date in the local time zone, from the one source of "now". */
static epcal_date local_date(int64_t now) {
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  epcal_date d = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
  return d;
}

void epcal_cli_opts_select(const epcal_cli_opts *o, int64_t now,
                           epcal_selection *sel) {
  sel->shows = o->shows.v;
  sel->n_shows = o->shows.n;
  sel->seasons = o->seasons;
  sel->n_seasons = o->n_seasons;
  sel->has_from = o->from.given;
  sel->from = o->from.date;
  sel->has_to = o->to.given;
  sel->to = o->to.date;
  sel->premieres_only = o->premieres_only;
  sel->no_specials = o->no_specials;
  if (o->past_days >= 0) {
    sel->has_from = true;
    sel->from = epcal_date_add_days(local_date(now), -o->past_days);
  }
  if (o->future_days >= 0) {
    sel->has_to = true;
    sel->to = epcal_date_add_days(local_date(now), o->future_days);
  }
}

const epcal_cli_opt_id epcal_cli_input_rows[] = {
    EPCAL_CLI_DELIMITER, EPCAL_CLI_DATE_FORMAT, EPCAL_CLI_ENCODING,
    EPCAL_CLI_COLUMN,    EPCAL_CLI_KEEP_TITLES, EPCAL_CLI_SKIP_INVALID,
    EPCAL_CLI_END};

const epcal_cli_opt_id epcal_cli_event_rows[] = {
    EPCAL_CLI_TIMEZONE, EPCAL_CLI_RUNTIME, EPCAL_CLI_ALL_DAY,
    EPCAL_CLI_ALARM,    EPCAL_CLI_SUMMARY, EPCAL_CLI_DESCRIPTION,
    EPCAL_CLI_CATEGORY, EPCAL_CLI_END};

const epcal_cli_opt_id epcal_cli_selection_rows[] = {
    EPCAL_CLI_SHOW,           EPCAL_CLI_SEASON,
    EPCAL_CLI_FROM,           EPCAL_CLI_TO,
    EPCAL_CLI_PAST_DAYS,      EPCAL_CLI_FUTURE_DAYS,
    EPCAL_CLI_PREMIERES_ONLY, EPCAL_CLI_FINALES_ONLY,
    EPCAL_CLI_NO_SPECIALS,    EPCAL_CLI_END};
