/*
 * The command-line options of every command that reads episode CSV
 * (generate, list, serve), declared once: a table of rows (name, value,
 * what it sets, help line), a small function per kind of value, and for
 * each command the list of rows it takes. An option therefore means the
 * same and takes the same syntax everywhere, and its help line is the same
 * in every command's --help.
 *
 * To add an option: a row id below, a field in epcal_cli_opts if no
 * existing one fits, a row in options.c (its kind says how the value is
 * read), and its id in the section lists of the commands that take it.
 *
 * Uses only the public header, so that epcal-serve links it too.
 */
#ifndef EPCAL_CLI_OPTIONS_H
#define EPCAL_CLI_OPTIONS_H

#include "epcal/epcal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One row of the table each. */
typedef enum epcal_cli_opt_id {
  /* Selection: which rows become events. */
  EPCAL_CLI_SHOW,
  EPCAL_CLI_SEASON,
  EPCAL_CLI_FROM,
  EPCAL_CLI_TO,
  EPCAL_CLI_PAST_DAYS,
  EPCAL_CLI_FUTURE_DAYS,
  EPCAL_CLI_PREMIERES_ONLY,
  EPCAL_CLI_FINALES_ONLY,
  EPCAL_CLI_NO_SPECIALS,
  /* Input: how CSV is read. */
  EPCAL_CLI_DELIMITER,
  EPCAL_CLI_DATE_FORMAT,
  EPCAL_CLI_ENCODING,
  EPCAL_CLI_COLUMN,
  EPCAL_CLI_KEEP_TITLES,
  EPCAL_CLI_SKIP_INVALID,
  /* Events. */
  EPCAL_CLI_TIMEZONE,
  EPCAL_CLI_RUNTIME,
  EPCAL_CLI_ALL_DAY,
  EPCAL_CLI_ALARM,
  EPCAL_CLI_SUMMARY,
  EPCAL_CLI_DESCRIPTION,
  EPCAL_CLI_CATEGORY,
  /* Feed metadata. */
  EPCAL_CLI_CALENDAR_NAME,
  EPCAL_CLI_CALENDAR_DESCRIPTION,
  EPCAL_CLI_REFRESH,
  EPCAL_CLI_COLOR,
  EPCAL_CLI_URL,
  /* Where a feed goes (generate). */
  EPCAL_CLI_OUTPUT,
  EPCAL_CLI_SPLIT,
  EPCAL_CLI_OUTPUT_DIR,
  EPCAL_CLI_PRUNE,
  EPCAL_CLI_PREVIOUS,
  EPCAL_CLI_WAIT,
  EPCAL_CLI_FORCE,
  EPCAL_CLI_ALLOW_SHRINK,
  EPCAL_CLI_MAX_REMOVED,
  /* How a list is printed (list). */
  EPCAL_CLI_FORMAT,
  /* The server (serve). */
  EPCAL_CLI_LISTEN,
  EPCAL_CLI_TOKEN,
  EPCAL_CLI_MAX_CONNECTIONS,
  EPCAL_CLI_TIMEOUT,
  EPCAL_CLI_STATE,
  EPCAL_CLI_MAX_FEED_EVENTS,
  EPCAL_CLI_NO_STREAM,
  EPCAL_CLI_BASE_URL,
  EPCAL_CLI_PER_ADDRESS_LIMIT,
  EPCAL_CLI_HEADER_TIMEOUT,
  EPCAL_CLI_CACHE_SIZE,
  /* Running. */
  EPCAL_CLI_PROGRESS,
  EPCAL_CLI_THREADS,
  EPCAL_CLI_VERBOSE,
  EPCAL_CLI_HELP,
  EPCAL_CLI_N_OPTIONS,
  EPCAL_CLI_END = -1 /* ends a section's list of rows */
} epcal_cli_opt_id;

/* A repeatable option's values, in command-line order (borrowed from argv
 * or owned by the epcal_cli_opts). */
typedef struct epcal_cli_texts {
  const char **v;
  size_t n;
} epcal_cli_texts;

/* A duration given as RFC 5545 ("PT6H") or as whole seconds ("21600"). */
typedef struct epcal_cli_duration {
  bool given;
  long seconds;
  /* As RFC 5545 for a feed: the user's text when given so, else made
   * from the seconds in the largest whole unit ("PT6H"). */
  const char *text;
  char buf[32];
} epcal_cli_duration;

typedef struct epcal_cli_date {
  bool given;
  epcal_date date;
} epcal_cli_date;

/* What the options set. Fields a command does not take keep their
 * defaults (from epcal_cli_opts_init). */
typedef struct epcal_cli_opts {
  /* Selection and input. */
  epcal_cli_texts shows;
  epcal_season_range *seasons;
  size_t n_seasons;
  epcal_cli_date from, to;
  long past_days, future_days; /* -1: not given */
  bool premieres_only, finales_only, no_specials;
  /* date_format, encoding borrowed from argv; once parsing is done,
   * columns point into `columns`, and one --show (--season N) is the
   * default show (season) of a table without that column. */
  epcal_read_options read;
  epcal_cli_texts columns; /* --column FIELD=HEADER */
  bool skip_invalid;
  /* Events and feed metadata. render.alarms and render.categories point
   * into the lists below once parsing is done; render.refresh is the
   * --refresh text (NULL when not given or 0). */
  epcal_render_options render;
  epcal_cli_texts alarms;
  epcal_cli_texts categories;
  const char *calendar_name; /* NULL: the command's default */
  epcal_cli_duration refresh;
  /* generate */
  const char *output;
  int split; /* -1: no --split; else an epcal_split_by */
  const char *output_dir;
  bool prune;
  const char *previous;
  epcal_cli_duration wait;
  bool force;                 /* replace an -o file that is not a feed */
  epcal_shrink_policy shrink; /* --allow-shrink, --max-removed (generate's
                                 runs, serve's reloads) */
  int progress; /* index into "auto", "always", "never" */
  long threads; /* 0: auto */
  bool verbose;
  /* list */
  int format; /* index into "table", "csv", "json" */
  /* serve */
  const char *listen, *token, *state_dir, *base_url;
  long max_connections;
  long max_feed_events;   /* -1: not given */
  bool no_stream;
  long per_address_limit; /* -1: not given */
  epcal_cli_duration timeout, header_timeout;
  size_t cache_size; /* 0: not given */
  /* Strings the value functions made (alarms given in seconds). */
  char **owned;
  size_t n_owned;
} epcal_cli_opts;

/* A heading and the rows under it in a command's --help. */
/* Row lists that several commands take whole, so that an input, event or
 * selection option one command reads is one every such command reads. */
extern const epcal_cli_opt_id epcal_cli_input_rows[];     /* CSV commands */
extern const epcal_cli_opt_id epcal_cli_event_rows[];     /* feed makers */
extern const epcal_cli_opt_id epcal_cli_selection_rows[]; /* generate, list */

typedef struct epcal_cli_section {
  const char *heading;          /* "Selection", or NULL for none */
  const epcal_cli_opt_id *rows; /* ends with EPCAL_CLI_END */
} epcal_cli_section;

/* A command that takes options from the table. */
typedef struct epcal_cli_command {
  const char *name;  /* "generate" */
  const char *intro; /* --help before the options, from "Usage:" on */
  const epcal_cli_section *sections;
  size_t n_sections;
  const char *epilogue;    /* --help after the options, before the exit
                              status; may be NULL */
  const char *exit_status; /* "Exit status: ..." paragraph */
} epcal_cli_command;

/*
 * Prepares *o (defaults: nothing selected, --progress auto, --threads
 * auto, ...) for a command line of argc words. Returns false when out of
 * memory. Free with epcal_cli_opts_free() either way.
 */
bool epcal_cli_opts_init(epcal_cli_opts *o, int argc);

void epcal_cli_opts_free(epcal_cli_opts *o);

/*
 * Reads the options of `cmd` from argv (argv[0] is the command's name).
 * Returns -1 when the command should go on, its operands from argv[*first]
 * on; EPCAL_EXIT_OK after printing --help; EPCAL_EXIT_USAGE after printing
 * a usage error ("epcal: ..." and a pointer to --help); EPCAL_EXIT_IO when
 * out of memory.
 */
int epcal_cli_parse(const epcal_cli_command *cmd, int argc, char **argv,
                    epcal_cli_opts *o, int *first);

/* Writes the command's --help to standard output. */
void epcal_cli_print_help(const epcal_cli_command *cmd);

/* Fills sel from the selection options (shows and seasons borrowed from
 * o); the --past-days/--future-days window is counted from the local date
 * of `now`. */
void epcal_cli_opts_select(const epcal_cli_opts *o, int64_t now,
                           epcal_selection *sel);

/* The long name of a row ("refresh"), for messages. */
const char *epcal_cli_option_name(epcal_cli_opt_id id);

/* A whole decimal number from min to max, all of s: 0 and *out, or -1. */
int epcal_cli_parse_long(const char *s, long min, long max, long *out);

#endif
