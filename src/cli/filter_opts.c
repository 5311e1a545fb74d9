#include "filter_opts.h"

#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool epcal_cli_filters_init(epcal_cli_filters *f, int argc) {
  memset(f, 0, sizeof *f);
  f->past_days = -1;
  f->future_days = -1;
  size_t n = argc > 0 ? (size_t)argc : 1;
  f->shows = calloc(n, sizeof *f->shows);
  f->seasons = calloc(n, sizeof *f->seasons);
  f->columns = calloc(n, sizeof *f->columns);
  f->read.columns = f->columns;
  return f->shows != NULL && f->seasons != NULL && f->columns != NULL;
}

void epcal_cli_filters_free(epcal_cli_filters *f) {
  free(f->shows);
  free(f->seasons);
  free(f->columns);
  memset(f, 0, sizeof *f);
}

int epcal_cli_filters_option(epcal_cli_filters *f, const char *command, int c,
                             const char *arg) {
  epcal_error err;
  switch (c) {
  case EPCAL_CLI_OPT_SHOW:
    f->shows[f->n_shows++] = arg;
    /* A table about one show has no show column: one --show names it.
     * With several, which one a row is about cannot be known. */
    f->read.default_show = f->n_shows == 1 ? arg : NULL;
    return 1;
  case EPCAL_CLI_OPT_SEASON:
    if (epcal_season_range_parse(arg, &f->seasons[f->n_seasons], &err) !=
        EPCAL_OK) {
      epcal_cli_usage_error(command, "%s", err.msg);
      return -1;
    }
    f->n_seasons++;
    /* Likewise one --season N for rows that give no season. */
    f->read.has_default_season =
        f->n_seasons == 1 && f->seasons[0].first == f->seasons[0].last;
    f->read.default_season = f->seasons[0].first;
    return 1;
  case EPCAL_CLI_OPT_DELIM:
    if (epcal_delimiter_parse(arg, &f->read.delimiter) != 0) {
      epcal_cli_usage_error(
          command, "invalid --delimiter \"%s\" (use , ; | or tab)", arg);
      return -1;
    }
    return 1;
  case EPCAL_CLI_OPT_DATEFMT:
    f->read.date_format = arg;
    return 1;
  case EPCAL_CLI_OPT_SKIP:
    f->skip_invalid = true;
    return 1;
  case EPCAL_CLI_OPT_FROM:
  case EPCAL_CLI_OPT_TO:
    if (epcal_date_parse(arg, NULL, c == EPCAL_CLI_OPT_FROM ? &f->from : &f->to,
                         &err) != EPCAL_OK) {
      epcal_cli_usage_error(command, "--%s: %s",
                            c == EPCAL_CLI_OPT_FROM ? "from" : "to", err.msg);
      return -1;
    }
    *(c == EPCAL_CLI_OPT_FROM ? &f->has_from : &f->has_to) = true;
    return 1;
  case EPCAL_CLI_OPT_PAST:
  case EPCAL_CLI_OPT_FUTURE:
    if (epcal_cli_parse_count(arg, c == EPCAL_CLI_OPT_PAST ? &f->past_days
                                                           : &f->future_days) !=
        0) {
      epcal_cli_usage_error(command,
                            "--%s needs a number of days, not \"%s\"",
                            c == EPCAL_CLI_OPT_PAST ? "past-days" : "future-days",
                            arg);
      return -1;
    }
    return 1;
  case EPCAL_CLI_OPT_PREMIERES:
    f->premieres_only = true;
    return 1;
  case EPCAL_CLI_OPT_NO_SPECIALS:
    f->no_specials = true;
    return 1;
  case EPCAL_CLI_OPT_ENCODING:
    f->read.encoding = arg;
    return 1;
  case EPCAL_CLI_OPT_COLUMN:
    if (epcal_column_spec_check(arg, &err) != EPCAL_OK) {
      epcal_cli_usage_error(command, "%s", err.msg);
      return -1;
    }
    f->columns[f->read.n_columns++] = arg;
    return 1;
  default:
    return 0;
  }
}

int epcal_cli_parse_count(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 100000) {
    return -1;
  }
  *out = v;
  return 0;
}

/* Today's date in the local time zone, from the one source of "now". */
static epcal_date local_date(int64_t now) {
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  epcal_date d = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
  return d;
}

void epcal_cli_filters_select(const epcal_cli_filters *f, int64_t now,
                              epcal_selection *sel) {
  sel->shows = f->shows;
  sel->n_shows = f->n_shows;
  sel->seasons = f->seasons;
  sel->n_seasons = f->n_seasons;
  sel->has_from = f->has_from;
  sel->from = f->from;
  sel->has_to = f->has_to;
  sel->to = f->to;
  sel->premieres_only = f->premieres_only;
  sel->no_specials = f->no_specials;
  if (f->past_days >= 0) {
    sel->has_from = true;
    sel->from = epcal_date_add_days(local_date(now), -f->past_days);
  }
  if (f->future_days >= 0) {
    sel->has_to = true;
    sel->to = epcal_date_add_days(local_date(now), f->future_days);
  }
}
