/* Options that choose and read CSV rows (--show, --season, the date window,
 * --premieres-only, --no-specials, --delimiter, --date-format, --encoding,
 * --column, --skip-invalid), for the commands that read episode CSV. They
 * mean exactly the same to every command. One --show (one --season N) also
 * gives the show (season) of a table without that column. */
#ifndef EPCAL_CLI_FILTER_OPTS_H
#define EPCAL_CLI_FILTER_OPTS_H

#include "epcal/epcal.h"

#include <getopt.h>

/* getopt_long values of the filter options; a command numbers its own long
 * options from EPCAL_CLI_OPT_FREE. */
enum {
  EPCAL_CLI_OPT_SHOW = 256,
  EPCAL_CLI_OPT_SEASON,
  EPCAL_CLI_OPT_DELIM,
  EPCAL_CLI_OPT_DATEFMT,
  EPCAL_CLI_OPT_SKIP,
  EPCAL_CLI_OPT_FROM,
  EPCAL_CLI_OPT_TO,
  EPCAL_CLI_OPT_PAST,
  EPCAL_CLI_OPT_FUTURE,
  EPCAL_CLI_OPT_PREMIERES,
  EPCAL_CLI_OPT_NO_SPECIALS,
  EPCAL_CLI_OPT_ENCODING,
  EPCAL_CLI_OPT_COLUMN,
  EPCAL_CLI_OPT_FREE
};

/* Entries for a command's `struct option` table. */
#define EPCAL_CLI_FILTER_LONGOPTS                                              \
  {"show", required_argument, NULL, EPCAL_CLI_OPT_SHOW},                       \
      {"season", required_argument, NULL, EPCAL_CLI_OPT_SEASON},               \
      {"delimiter", required_argument, NULL, EPCAL_CLI_OPT_DELIM},             \
      {"date-format", required_argument, NULL, EPCAL_CLI_OPT_DATEFMT},         \
      {"skip-invalid", no_argument, NULL, EPCAL_CLI_OPT_SKIP},                 \
      {"from", required_argument, NULL, EPCAL_CLI_OPT_FROM},                   \
      {"to", required_argument, NULL, EPCAL_CLI_OPT_TO},                       \
      {"past-days", required_argument, NULL, EPCAL_CLI_OPT_PAST},              \
      {"future-days", required_argument, NULL, EPCAL_CLI_OPT_FUTURE},          \
      {"premieres-only", no_argument, NULL, EPCAL_CLI_OPT_PREMIERES},          \
      {"no-specials", no_argument, NULL, EPCAL_CLI_OPT_NO_SPECIALS},           \
      {"encoding", required_argument, NULL, EPCAL_CLI_OPT_ENCODING}, {         \
    "column", required_argument, NULL, EPCAL_CLI_OPT_COLUMN                    \
  }

typedef struct epcal_cli_filters {
  const char **shows; /* borrowed from argv */
  size_t n_shows;
  epcal_season_range *seasons;
  size_t n_seasons;
  epcal_read_options read; /* strings borrowed from argv; columns from
                              `columns` */
  const char **columns;     /* --column FIELD=HEADER, borrowed from argv */
  bool skip_invalid;
  bool has_from, has_to;
  epcal_date from, to;
  long past_days, future_days; /* -1: not given */
  bool premieres_only;
  bool no_specials;
} epcal_cli_filters;

/* Prepares *f for a command line of argc words (no option repeats more
 * often). Returns false when out of memory. Free with
 * epcal_cli_filters_free() either way. */
bool epcal_cli_filters_init(epcal_cli_filters *f, int argc);

void epcal_cli_filters_free(epcal_cli_filters *f);

/* Takes getopt_long's `c` and `arg`. Returns 1 when it was a filter option,
 * 0 when it was not, -1 when its value is invalid (a usage error naming
 * `command` has been printed). */
int epcal_cli_filters_option(epcal_cli_filters *f, const char *command, int c,
                             const char *arg);

/* Fills sel from the filters (shows and seasons borrowed from f); the
 * --past-days/--future-days window is counted from the local date of
 * `now`. */
void epcal_cli_filters_select(const epcal_cli_filters *f, int64_t now,
                              epcal_selection *sel);

/* Parses a whole number from 0 to 100000 (days, seconds). 0 or -1. */
int epcal_cli_parse_count(const char *s, long *out);

#endif
