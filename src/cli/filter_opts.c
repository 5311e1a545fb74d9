#include "filter_opts.h"

#include "cli.h"

#include <stdlib.h>
#include <string.h>

bool epcal_cli_filters_init(epcal_cli_filters *f, int argc) {
  memset(f, 0, sizeof *f);
  size_t n = argc > 0 ? (size_t)argc : 1;
  f->shows = calloc(n, sizeof *f->shows);
  f->seasons = calloc(n, sizeof *f->seasons);
  return f->shows != NULL && f->seasons != NULL;
}

void epcal_cli_filters_free(epcal_cli_filters *f) {
  free(f->shows);
  free(f->seasons);
  memset(f, 0, sizeof *f);
}

int epcal_cli_parse_delimiter(const char *s, char *out) {
  if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0) {
    *out = '\t';
  } else if (strcmp(s, ",") == 0 || strcmp(s, ";") == 0 ||
             strcmp(s, "|") == 0) {
    *out = s[0];
  } else {
    return -1;
  }
  return 0;
}

int epcal_cli_filters_option(epcal_cli_filters *f, const char *command, int c,
                             const char *arg) {
  epcal_error err;
  switch (c) {
  case EPCAL_CLI_OPT_SHOW:
    f->shows[f->n_shows++] = arg;
    return 1;
  case EPCAL_CLI_OPT_SEASON:
    if (epcal_season_range_parse(arg, &f->seasons[f->n_seasons], &err) !=
        EPCAL_OK) {
      epcal_cli_usage_error(command, "%s", err.msg);
      return -1;
    }
    f->n_seasons++;
    return 1;
  case EPCAL_CLI_OPT_DELIM:
    if (epcal_cli_parse_delimiter(arg, &f->read.delimiter) != 0) {
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
  default:
    return 0;
  }
}

void epcal_cli_filters_select(const epcal_cli_filters *f,
                              epcal_selection *sel) {
  sel->shows = f->shows;
  sel->n_shows = f->n_shows;
  sel->seasons = f->seasons;
  sel->n_seasons = f->n_seasons;
}
