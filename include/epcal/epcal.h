/*
 * epcal: episode CSV to iCalendar (RFC 5545) feeds.
 *
 * The public API of libepcal. Data flows one way:
 *
 *   read (epcal_reader) -> select (epcal_selection) -> render (epcal_renderer)
 *   -> publish (epcal_output)
 *
 * Conventions, everywhere in this header:
 * - Fallible functions return an epcal_status: EPCAL_OK (0) or a negative
 *   code. They take an optional `epcal_error *err`; when it is non-NULL and
 *   the call fails, it is filled with the code, the place (file, line,
 *   column) and a message. The library never prints, exits or aborts on bad
 *   input.
 * - Out-parameters are written only on success.
 * - `_new`/`_open` pairs with `_free`; `_free(NULL)` is a no-op.
 * - Objects are not thread-safe; distinct objects may be used from distinct
 *   threads.
 */
#ifndef EPCAL_EPCAL_H
#define EPCAL_EPCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EPCAL_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

/** Status codes. EPCAL_OK is zero, every failure is negative. */
typedef enum epcal_status {
  EPCAL_OK = 0,
  EPCAL_EDATA = -1,   /**< the input data is invalid (CSV, date, ...) */
  EPCAL_EUSAGE = -2,  /**< an option or argument is invalid */
  EPCAL_EIO = -3,     /**< reading or writing a file failed */
  EPCAL_ENOMEM = -4,  /**< out of memory, or a size limit was exceeded */
  EPCAL_ELOCKED = -5, /**< another run holds the output's lock */
} epcal_status;

/** Where and why a call failed. Plain data: copy it freely. */
typedef struct epcal_error {
  epcal_status code;
  char file[512];       /**< input name ("-" for standard input), or "" */
  unsigned long line;   /**< 1-based line, 0 when not about a place */
  unsigned long column; /**< 1-based column in characters, 0 when unknown */
  char msg[512];        /**< what is wrong, one line, no trailing period */
} epcal_error;

/** Returns a static, human-readable name for a status. Never NULL. */
const char *epcal_strerror(epcal_status code);

/** Resets *err to "no error". */
void epcal_error_clear(epcal_error *err);

/* ---------------------------------------------------------------- episodes */

/** A calendar date (proleptic Gregorian). */
typedef struct epcal_date {
  int year;  /**< 1..9999 */
  int month; /**< 1..12 */
  int day;   /**< 1..31, valid for the month */
} epcal_date;

/**
 * One row of input, typed and validated.
 *
 * Every string is NUL-terminated valid UTF-8, borrowed from the reader: it
 * stays valid until the next call to epcal_reader_next() or
 * epcal_reader_free(). Optional strings are NULL when the column is absent
 * or empty.
 */
typedef struct epcal_episode {
  const char *show;        /**< never NULL, never empty */
  long season;             /**< 0 means "specials" */
  long number;             /**< episode number within the season */
  const char *title;       /**< optional */
  const char *description; /**< optional; may hold '\n' */
  const char *url;         /**< optional */
  const char *network;     /**< optional */
  const char *uid;         /**< optional: overrides the derived UID */
  bool scheduled;          /**< false: TBA/empty date; `date` is unset */
  epcal_date date;         /**< release date, when scheduled */
  /* Where the row came from, for messages. */
  const char *file;        /**< input name */
  unsigned long line;      /**< line the row starts on */
} epcal_episode;

/* ------------------------------------------------------------------- read */

typedef struct epcal_reader epcal_reader;

/**
 * Reads up to `cap` bytes into `buf`. Returns the number read, 0 at end of
 * input, or -1 on error (with errno set).
 */
typedef long (*epcal_read_fn)(void *ctx, char *buf, size_t cap);

/** How to read CSV. Zero-initialise, then set what you need. */
typedef struct epcal_read_options {
  char delimiter;          /**< 0: detect `,` `;` or TAB from the header */
  const char *date_format; /**< strptime-style format for numeric dates */
} epcal_read_options;

/**
 * Opens `path` ("-" or NULL for standard input) for reading episodes.
 * `opts` may be NULL for defaults; it is copied. On success *out owns the
 * reader (free it with epcal_reader_free()).
 * Returns EPCAL_OK, or EPCAL_EIO / EPCAL_ENOMEM.
 */
epcal_status epcal_reader_open(epcal_reader **out, const char *path,
                               const epcal_read_options *opts,
                               epcal_error *err);

/**
 * Like epcal_reader_open(), but input comes from `read` called with `ctx`
 * (which must outlive the reader); `name` is used in messages.
 */
epcal_status epcal_reader_open_fn(epcal_reader **out, epcal_read_fn read,
                                  void *ctx, const char *name,
                                  const epcal_read_options *opts,
                                  epcal_error *err);

/**
 * Reads the next episode. On success *out points at an episode owned by the
 * reader (valid until the next call), or is NULL at the end of input.
 * Returns EPCAL_OK, EPCAL_EDATA for invalid input (err names the line and
 * column; the reader may be called again to go on with the next row),
 * EPCAL_EIO or EPCAL_ENOMEM (fatal: do not call again).
 */
epcal_status epcal_reader_next(epcal_reader *r, const epcal_episode **out,
                               epcal_error *err);

/** Number of data rows read so far (header and blank lines excluded). */
unsigned long epcal_reader_rows(const epcal_reader *r);

/**
 * Number of columns of a valid header, 0 before it is read or when it was
 * invalid. An EDATA error while this is 0 is final: without a header no row
 * can be read.
 */
size_t epcal_reader_columns(const epcal_reader *r);

/** Frees the reader and closes its file. NULL is a no-op. */
void epcal_reader_free(epcal_reader *r);

/* ------------------------------------------------------------------ select */

/** An inclusive range of seasons. */
typedef struct epcal_season_range {
  long first;
  long last;
} epcal_season_range;

/**
 * Which episodes to publish. Zero-initialised, it selects every scheduled
 * episode. Pointers are borrowed.
 */
typedef struct epcal_selection {
  const char *const *shows; /**< show names (exact, case-insensitive) */
  size_t n_shows;           /**< 0: every show */
  const epcal_season_range *seasons;
  size_t n_seasons;    /**< 0: every season */
  bool has_from;       /**< only episodes on or after `from` */
  epcal_date from;
  bool has_to;         /**< only episodes on or before `to` */
  epcal_date to;
  bool premieres_only; /**< only episode 1 of each season */
  bool no_specials;    /**< leave out season 0 */
} epcal_selection;

/** True when `ep` is scheduled and matches every filter of `sel`. */
bool epcal_selection_matches(const epcal_selection *sel,
                             const epcal_episode *ep);

/**
 * Parses a season filter: "2" or "1-3". Returns EPCAL_OK or EPCAL_EUSAGE.
 */
epcal_status epcal_season_range_parse(const char *text,
                                      epcal_season_range *out,
                                      epcal_error *err);

/* ------------------------------------------------------------------ render */

/**
 * Receives rendered bytes. Returns 0, or -1 on error (with errno set; the
 * renderer reports EPCAL_EIO).
 */
typedef int (*epcal_write_fn)(void *ctx, const char *buf, size_t len);

/** Calendar-level settings. Zero-initialise, then set what you need. */
typedef struct epcal_render_options {
  const char *calendar_name; /**< NAME / X-WR-CALNAME; NULL: "Episodes" */
  int64_t now;               /**< DTSTAMP, seconds since the epoch (UTC) */
} epcal_render_options;

typedef struct epcal_renderer epcal_renderer;

/**
 * Creates a renderer that writes to `write(ctx, ...)`. `opts` is copied
 * (its strings too). Nothing is written until epcal_renderer_begin().
 */
epcal_status epcal_renderer_new(epcal_renderer **out,
                                const epcal_render_options *opts,
                                epcal_write_fn write, void *ctx,
                                epcal_error *err);

/** Writes the calendar's header (BEGIN:VCALENDAR and its properties). */
epcal_status epcal_renderer_begin(epcal_renderer *r, epcal_error *err);

/**
 * Renders one VEVENT for `ep` and hands it to the write function before
 * returning: memory does not grow with the number of events.
 */
epcal_status epcal_renderer_add(epcal_renderer *r, const epcal_episode *ep,
                                epcal_error *err);

/** Writes END:VCALENDAR and flushes. */
epcal_status epcal_renderer_end(epcal_renderer *r, epcal_error *err);

/** Number of events written so far. */
unsigned long epcal_renderer_events(const epcal_renderer *r);

/** Frees the renderer (it does not end the calendar). NULL is a no-op. */
void epcal_renderer_free(epcal_renderer *r);

/**
 * Writes the UID that identifies `ep` into buf (NUL-terminated). It depends
 * only on the show, season and episode number (or the episode's own uid):
 * never on row order, date or time. Returns the length it needs (excluding
 * the NUL), like snprintf.
 */
size_t epcal_episode_uid(const epcal_episode *ep, char *buf, size_t cap);

/**
 * Writes a URL- and file-name-safe slug of `text` into buf (NUL-terminated):
 * ASCII letters and digits in lower case, every other run of characters as
 * one '-', no leading or trailing '-'; "show" when nothing is left. At most
 * 40 characters. Returns its length. `cap` must be at least 41.
 */
size_t epcal_slug(const char *text, char *buf, size_t cap);

/* ----------------------------------------------------------------- publish */

typedef struct epcal_output epcal_output;

/**
 * Opens an output. `path` NULL or "-" means standard output; anything else
 * is a file replaced atomically. Either way nothing reaches the target
 * before epcal_output_commit(): bytes are spooled to a temporary file (in
 * the target's directory for a file, so the final step is a rename).
 * Returns EPCAL_OK or EPCAL_EIO.
 */
epcal_status epcal_output_open(epcal_output **out, const char *path,
                               epcal_error *err);

/** An epcal_write_fn that appends to an epcal_output (ctx). */
int epcal_output_write(void *ctx, const char *buf, size_t len);

/**
 * Publishes what was written: fsync + rename over the target (a target whose
 * bytes would not change is left untouched: same inode and mtime), or copies
 * the spool to standard output. *changed (optional) tells whether the
 * target's bytes changed. Returns EPCAL_OK or EPCAL_EIO.
 */
epcal_status epcal_output_commit(epcal_output *o, bool *changed,
                                 epcal_error *err);

/**
 * Frees the output. If it was not committed, the temporary file is removed
 * and the target is left as it was. NULL is a no-op.
 */
void epcal_output_free(epcal_output *o);

/* --------------------------------------------------------------- generate */

/** Receives a warning (a skipped row, a dropped repeat). */
typedef void (*epcal_warn_fn)(void *ctx, const epcal_error *warning);

/** The whole pipeline: inputs, filters, calendar settings. */
typedef struct epcal_generate_options {
  const char *const *inputs; /**< file names ("-": standard input) */
  size_t n_inputs;           /**< 0: standard input */
  epcal_read_options read;
  epcal_selection select;
  epcal_render_options render;
  bool skip_invalid;    /**< skip invalid rows (with a warning) */
  epcal_warn_fn warn;   /**< optional */
  void *warn_ctx;
} epcal_generate_options;

/** What a run did. */
typedef struct epcal_generate_stats {
  unsigned long rows;        /**< data rows read */
  unsigned long events;      /**< events written */
  unsigned long unscheduled; /**< rows without a date (TBA, empty) */
  unsigned long filtered;    /**< scheduled rows left out by the filters */
  unsigned long skipped;     /**< invalid rows skipped (skip_invalid) */
} epcal_generate_stats;

/**
 * Reads every input, selects, and renders one calendar to write(ctx, ...),
 * streaming: memory does not grow with the number of rows. Returns EPCAL_OK
 * or the first error (invalid data unless skip_invalid, I/O, memory); on an
 * error some bytes may have been written, so write to an epcal_output and
 * commit only on success. `stats` (optional) is filled either way.
 */
epcal_status epcal_generate(const epcal_generate_options *opts,
                            epcal_write_fn write, void *ctx,
                            epcal_generate_stats *stats, epcal_error *err);

/* ------------------------------------------------------------------- check */

/**
 * Receives one problem found in a feed, borrowed for the call: `code` is
 * EPCAL_EDATA, `file` the feed's name, `line` the 1-based physical line the
 * problem is on (0 when it is about the whole feed), `msg` what is wrong.
 */
typedef void (*epcal_problem_fn)(void *ctx, const epcal_error *problem);

/** What a check saw. */
typedef struct epcal_check_stats {
  unsigned long lines;    /**< physical lines */
  unsigned long events;   /**< VEVENT components */
  unsigned long problems; /**< problems reported */
} epcal_check_stats;

/**
 * Judges an iCalendar feed that any program may have written: libical's
 * parse errors (its X-LIC-ERROR properties, each on the line it came from),
 * CRLF line ends, lines longer than 75 octets, folds that split a UTF-8
 * character, invalid UTF-8, unbalanced BEGIN/END, a VCALENDAR without
 * VERSION or PRODID, events without UID, DTSTAMP or DTSTART, duplicate UIDs,
 * impossible dates, and DTEND not after DTSTART.
 *
 * `problem` (optional) is called for each problem in the order found, which
 * is mostly line order. `stats` (optional) is filled on EPCAL_OK.
 * `path` "-" or NULL reads standard input. The feed is held in memory while
 * it is judged. Returns EPCAL_OK when the feed could be read and judged,
 * whatever the verdict (a clean feed has stats->problems == 0), or
 * EPCAL_EIO / EPCAL_ENOMEM. Uses libical's parser, which touches global
 * state: call from one thread at a time.
 */
epcal_status epcal_feed_check(const char *path, epcal_problem_fn problem,
                              void *ctx, epcal_check_stats *stats,
                              epcal_error *err);

/**
 * Like epcal_feed_check(), but judges the `len` bytes at `data` (borrowed;
 * they may hold NUL bytes); `name` is used in problems. Returns EPCAL_OK or
 * EPCAL_ENOMEM.
 */
epcal_status epcal_feed_check_mem(const char *name, const char *data,
                                  size_t len, epcal_problem_fn problem,
                                  void *ctx, epcal_check_stats *stats,
                                  epcal_error *err);

/* ---------------------------------------------------------------- utilities */

/**
 * Parses a date in one of the accepted forms ("2022-03-03", "March 3, 2022",
 * "May 5 2022", "3 March 2022", "Mar 3, 2022", "2022/03/03", "20220303"),
 * or with `format` (strptime-style) when non-NULL. Returns EPCAL_OK, or
 * EPCAL_EDATA with a message in err (line and column left 0).
 */
epcal_status epcal_date_parse(const char *text, const char *format,
                              epcal_date *out, epcal_error *err);

/**
 * Returns "now" for DTSTAMP: SOURCE_DATE_EPOCH when set and valid, else the
 * system clock. The single source of "now" for the whole program.
 */
int64_t epcal_now(void);

#ifdef __cplusplus
}
#endif

#endif /* EPCAL_EPCAL_H */
