/* The `epcal` command: shared helpers for its subcommands. The CLI turns
 * library results into messages and exit codes; it uses only the public
 * header. */
#ifndef EPCAL_CLI_H
#define EPCAL_CLI_H

#include "epcal/epcal.h"

#include <getopt.h>

enum {
  EPCAL_EXIT_OK = 0,
  EPCAL_EXIT_DATA = 1,    /* invalid input data: nothing written */
  EPCAL_EXIT_USAGE = 2,   /* bad command line */
  EPCAL_EXIT_IO = 3,      /* reading or writing failed */
  EPCAL_EXIT_SKIPPED = 4, /* written, but invalid rows were skipped */
  EPCAL_EXIT_LOCKED = 5,  /* another run holds the output's lock */
};

#include <signal.h>

/* The signal that asked us to stop (SIGINT, SIGTERM, SIGHUP), or 0. The
 * library checks it between rows and stops; the temporary file is removed
 * on the normal error path. */
extern volatile sig_atomic_t epcal_cli_signal;

/* Installs the handlers that set epcal_cli_signal (without SA_RESTART, so a
 * blocking read returns). */
void epcal_cli_catch_signals(void);

/* If a signal stopped the run, re-raises it with its default action, so
 * the exit status says so (128 + signal) as the shell expects. */
void epcal_cli_reraise_signal(void);

/* Maps a library status to the exit code documented in --help. */
int epcal_cli_exit_code(epcal_status st);

/* "epcal: FILE:LINE:COLUMN: [prefix: ]message" on standard error. */
void epcal_cli_report(const char *prefix, const epcal_error *err);

/* At most this many invalid rows are printed; the rest are counted. */
#define EPCAL_CLI_MAX_ERRORS 20

/* The invalid rows of a run that reports them all. */
typedef struct epcal_cli_errors {
  unsigned long count;
  epcal_error first;
} epcal_cli_errors;

/* An epcal_warn_fn (ctx: epcal_cli_errors): prints the error as
 * epcal_cli_report() does while fewer than EPCAL_CLI_MAX_ERRORS were, and
 * counts it. */
void epcal_cli_errors_add(void *ctx, const epcal_error *err);

/* Ends a run that failed with `err`: prints it unless it is the first
 * invalid row (printed already), and how many invalid rows were not
 * printed. */
void epcal_cli_errors_finish(const epcal_cli_errors *e, const epcal_error *err);

/* "epcal: message" on standard error. */
void epcal_cli_message(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* "epcal: message" plus a pointer to the command's --help. */
void epcal_cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reports the option getopt_long just rejected with `c` (':' missing value,
 * '?' unknown), suggesting the closest known long option. */
void epcal_cli_bad_option(const char *command, int c, char **argv,
                          const struct option *longopts);

/* The choice closest to `word` by edit distance, or NULL when none is close
 * enough to be a likely typo. Borrowed from `choices`. */
const char *epcal_cli_closest(const char *word, const char *const *choices,
                              size_t n);

/* Subcommands: argv[0] is the command's name; each returns an exit code. */
int epcal_cli_generate(int argc, char **argv);
int epcal_cli_list(int argc, char **argv);
int epcal_cli_check(int argc, char **argv);

#endif
