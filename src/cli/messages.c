#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int epcal_cli_exit_code(epcal_status st) {
  switch (st) {
  case EPCAL_OK:
    return EPCAL_EXIT_OK;
  case EPCAL_EDATA:
    return EPCAL_EXIT_DATA;
  case EPCAL_EUSAGE:
    return EPCAL_EXIT_USAGE;
  case EPCAL_EIO:
  case EPCAL_ENOMEM:
    return EPCAL_EXIT_IO;
  case EPCAL_ELOCKED:
    return EPCAL_EXIT_LOCKED;
  }
  return EPCAL_EXIT_IO;
}

void epcal_cli_report(const char *prefix, const epcal_error *err) {
  fputs("epcal: ", stderr);
  if (err->file[0] != '\0') {
    fputs(err->file, stderr);
    if (err->line > 0) {
      fprintf(stderr, ":%lu", err->line);
      if (err->column > 0) {
        fprintf(stderr, ":%lu", err->column);
      }
    }
    fputs(": ", stderr);
  }
  if (prefix != NULL) {
    fprintf(stderr, "%s: ", prefix);
  }
  fprintf(stderr, "%s\n", err->msg);
}

void epcal_cli_errors_add(void *ctx, const epcal_error *err) {
  epcal_cli_errors *e = ctx;
  if (e->count++ == 0) {
    e->first = *err;
  }
  if (e->count <= EPCAL_CLI_MAX_ERRORS) {
    epcal_cli_report(NULL, err);
  }
}

void epcal_cli_errors_finish(const epcal_cli_errors *e,
                             const epcal_error *err) {
  bool printed = e->count > 0 && err->code == e->first.code &&
                 err->line == e->first.line && err->column == e->first.column &&
                 strcmp(err->file, e->first.file) == 0 &&
                 strcmp(err->msg, e->first.msg) == 0;
  if (!printed) {
    epcal_cli_report(NULL, err);
  }
  if (e->count > EPCAL_CLI_MAX_ERRORS) {
    epcal_cli_message("%lu more invalid rows not shown (%lu in all)",
                      e->count - EPCAL_CLI_MAX_ERRORS, e->count);
  }
}

void epcal_cli_message(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("epcal: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void epcal_cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("epcal: ", stderr);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry 'epcal %s --help'.\n", command);
  va_end(ap);
}

static size_t min3(size_t a, size_t b, size_t c) {
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Edit distance with transpositions (optimal string alignment), for "did
 * you mean": "--fromat" is one step from "--format", two from "--from". */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) {
    return 99;
  }
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= lb; j++) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] != b[j - 1];
      d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < d[i][j]) {
        d[i][j] = d[i - 2][j - 2] + 1;
      }
    }
  }
  return d[la][lb];
}

const char *epcal_cli_closest(const char *word, const char *const *choices,
                              size_t n) {
  const char *best = NULL;
  size_t best_d = 99;
  for (size_t i = 0; i < n; i++) {
    size_t d = distance(word, choices[i]);
    if (d < best_d) {
      best_d = d;
      best = choices[i];
    }
  }
  /* A suggestion further away than three edits, or as far as the word is
   * long, is noise, not help. */
  if (best != NULL && best_d <= 3 && best_d < strlen(word)) {
    return best;
  }
  return NULL;
}

void epcal_cli_bad_option(const char *command, int c, char **argv,
                          const struct option *longopts) {
  const char *arg = argv[optind - 1];
  if (c == ':') {
    epcal_cli_usage_error(command, "option '%s' needs a value", arg);
    return;
  }
  if (strncmp(arg, "--", 2) != 0) {
    epcal_cli_usage_error(command, "unknown option '-%c'", optopt);
    return;
  }
  char name[128];
  snprintf(name, sizeof name, "%s", arg + 2);
  char *eq = strchr(name, '=');
  if (eq != NULL) {
    *eq = '\0';
  }
  const char *best = NULL;
  size_t best_d = 99;
  for (const struct option *o = longopts; o->name != NULL; o++) {
    size_t d = distance(name, o->name);
    if (d < best_d) {
      best_d = d;
      best = o->name;
    }
  }
  if (best != NULL && best_d <= 3 && best_d < strlen(name)) {
    epcal_cli_usage_error(command, "unknown option '%s'; did you mean '--%s'?",
                          arg, best);
  } else {
    epcal_cli_usage_error(command, "unknown option '%s'", arg);
  }
}
