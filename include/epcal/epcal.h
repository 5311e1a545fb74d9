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

#include <signal.h>
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

/** An event's STATUS, from the `status` column. */
typedef enum epcal_event_status {
  EPCAL_EVENT_STATUS_NONE = 0, /**< no STATUS property */
  EPCAL_EVENT_STATUS_CONFIRMED,
  EPCAL_EVENT_STATUS_TENTATIVE,
  EPCAL_EVENT_STATUS_CANCELLED,
} epcal_event_status;

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
  /* Timed releases: set from the optional air_time, timezone, runtime and
   * status columns. Without a time the event is all-day. */
  bool timed;              /**< air_time given: `time` is set */
  int32_t time;            /**< seconds after midnight, 0..86399 */
  bool utc;                /**< the time was given in UTC ("21:00Z") */
  const char *timezone;    /**< optional IANA zone name (checked to exist) */
  long runtime;            /**< minutes; 0 when not given */
  epcal_event_status status; /**< from the status column */
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
  char delimiter;          /**< 0: detect `,` `;` TAB or `|` from the header */
  const char *date_format; /**< strptime-style format for numeric dates */
  /**
   * Input encoding for iconv (e.g. "WINDOWS-1252", "LATIN1"); NULL or
   * "UTF-8": the input must be valid UTF-8, unless it starts with a UTF-16
   * or UTF-32 byte-order mark, which selects that encoding.
   */
  const char *encoding;
  /**
   * Single-show tables: the show of every row when the header has no show
   * column (a page about one show lists only its episodes). NULL: such a
   * header is an error. Ignored when there is a show column. Copied.
   */
  const char *default_show;
  /**
   * Likewise the season of a row that gives none (no season column, no
   * code): used when `has_default_season`.
   */
  bool has_default_season;
  long default_season;
  /**
   * Explicit column names, "FIELD=HEADER" each (e.g. "air_date=Aired
   * (UK)"): the header cell HEADER (case-insensitive, blanks around it
   * trimmed) holds FIELD, whatever the built-in names say. FIELD is a
   * column name epcal-csv(5) lists (show, season, episode, code, air_date,
   * title, ...). Copied. See epcal_column_spec_check().
   */
  const char *const *columns;
  size_t n_columns;
  /**
   * Keep titles as written. By default a title loses the wiki markup a
   * copied episode table carries: footnote marks at its end ("[a]",
   * "[12]", "[note 1]") and the quotes around the whole title, so
   * "\"Penance\"[a]" is read as "Penance". Only the title column.
   */
  bool keep_titles;
} epcal_read_options;

/**
 * Checks a "FIELD=HEADER" column name (epcal_read_options.columns): FIELD
 * must name a field epcal reads and HEADER must not be empty. Returns
 * EPCAL_OK or EPCAL_EUSAGE with a message in err.
 */
epcal_status epcal_column_spec_check(const char *spec, epcal_error *err);

/**
 * Parses a delimiter's name as people write it: "," ";" "|", or "tab"
 * ("\\t" and a TAB character too). Returns 0 and sets *out, or -1.
 */
int epcal_delimiter_parse(const char *name, char *out);

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

/** Number of input bytes read so far (as read, before any conversion). */
uint64_t epcal_reader_bytes(const epcal_reader *r);

/**
 * Number of columns of a valid header, 0 before it is read or when it was
 * invalid. An EDATA error while this is 0 is final: without a header no row
 * can be read.
 */
size_t epcal_reader_columns(const epcal_reader *r);

/**
 * Receives the bytes the reader reads, in order and each once, after any
 * conversion (`encoding`): UTF-8 then. Returns 0, or -1 (with errno set) to
 * fail the read with EPCAL_EIO.
 */
typedef int (*epcal_tap_fn)(void *ctx, const char *buf, size_t len);

/**
 * Lets `tap` see every byte the reader reads from now on (call it before
 * the first epcal_reader_next()): with epcal_reader_row_span(), a caller can
 * keep a copy of the input as parsed and read single rows of it again.
 */
void epcal_reader_set_tap(epcal_reader *r, epcal_tap_fn tap, void *ctx);

/**
 * Where the header record ends in the bytes read (after any conversion, as
 * a tap sees them): *offset is 0 and *len covers everything up to the first
 * data row (a byte order mark and the header with its line end). Another
 * reader given these bytes followed by the bytes of some rows
 * (epcal_reader_row_span), with no `encoding`, reads those rows as this one
 * did. Returns false before the header is read.
 */
bool epcal_reader_header_span(const epcal_reader *r, uint64_t *offset,
                              size_t *len);

/**
 * The bytes of the row epcal_reader_next() returned last, in the bytes read
 * (after any conversion, as a tap sees them): from its first byte to its
 * line end included (none at the end of input without one). Lets a caller
 * index its input and read single rows again later. Returns false before
 * the first row.
 */
bool epcal_reader_row_span(const epcal_reader *r, uint64_t *offset,
                           size_t *len);

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
 * Follows the episodes a selection is applied to, so that a selection
 * naming a show or a season the input does not hold is an error rather
 * than an empty calendar (which a person imports, or subscribes to, and
 * sees nothing). It counts, for each show of `sel->shows`, the episodes of
 * that show, and for each range of `sel->seasons`, the episodes of the
 * selected shows in it, whatever their date, and keeps what a message
 * needs: the first few hundred show names, the seasons seen and, for each
 * show that has matched nothing yet, the nearest name. Memory is bounded
 * (under 70 KB), whatever the input.
 */
typedef struct epcal_selection_audit epcal_selection_audit;

/**
 * Starts an audit of `sel` (borrowed: it must outlive the audit). Returns
 * EPCAL_OK or EPCAL_ENOMEM.
 */
epcal_status epcal_selection_audit_new(epcal_selection_audit **out,
                                       const epcal_selection *sel,
                                       epcal_error *err);

/** Counts one episode as read (before any filter), scheduled or not. */
void epcal_selection_audit_add(epcal_selection_audit *a,
                               const epcal_episode *ep);

/**
 * Judges the selection once every episode was added: EPCAL_OK, or
 * EPCAL_EDATA when a named show or a season range matched no episode. The
 * message names them, suggests the nearest show name ("did you mean ...")
 * and lists the shows or seasons the input has. A date window that
 * selects nothing is no error.
 */
epcal_status epcal_selection_audit_end(const epcal_selection_audit *a,
                                       epcal_error *err);

/** Frees the audit. NULL is a no-op. */
void epcal_selection_audit_free(epcal_selection_audit *a);

/**
 * Parses a season filter: "2" or "1-3". Returns EPCAL_OK or EPCAL_EUSAGE.
 */
epcal_status epcal_season_range_parse(const char *text,
                                      epcal_season_range *out,
                                      epcal_error *err);

/* ---------------------------------------------------------------- previous */

/**
 * What a previous feed (the file being replaced) said about its events:
 * their UIDs, DTSTAMP, SEQUENCE, LAST-MODIFIED and a fingerprint of the rest.
 * Holds one small entry per event, never the feed itself.
 */
typedef struct epcal_previous epcal_previous;

/**
 * Loads the previous feed at `path`. A file that does not exist is the
 * first run: EPCAL_OK with *out = NULL. A file that is not a well-formed
 * calendar gives EPCAL_EDATA (callers warn and treat it as absent); an
 * unreadable one EPCAL_EIO; anything but a regular file (a FIFO or device,
 * which could block or never end) EPCAL_EUSAGE, without waiting.
 */
epcal_status epcal_previous_load(epcal_previous **out, const char *path,
                                 epcal_error *err);

/** Number of events the previous feed holds (0 for NULL). */
size_t epcal_previous_events(const epcal_previous *p);

/** Number of previous events no renderer has rendered again (removed). */
unsigned long epcal_previous_unseen(const epcal_previous *p);

/** Frees the index. NULL is a no-op. */
void epcal_previous_free(epcal_previous *p);

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
  /**
   * Optional, borrowed: the feed being replaced. An event whose content is
   * unchanged keeps its DTSTAMP, SEQUENCE and LAST-MODIFIED; a changed one
   * gets SEQUENCE+1 and DTSTAMP = LAST-MODIFIED = now; a new one SEQUENCE 0.
   * The renderer marks the events it renders as seen.
   */
  epcal_previous *previous;
  /* Timed events. */
  const char *timezone; /**< IANA zone for timed rows without one; NULL:
                             such a row is an error (unless all_day) */
  long runtime;         /**< minutes from start to DTEND when a row gives
                             none; 0: 60 */
  bool all_day;         /**< ignore times: every event is all-day */
  /* Reminders: RFC 5545 durations relative to the start ("-PT30M"), one
   * VALARM (ACTION:DISPLAY) each. A non-zero offset needs its sign: "-"
   * before the start, "+" after it ("PT30M" alone is EPCAL_EUSAGE). */
  const char *const *alarms;
  size_t n_alarms;
  /* Templates with {show} {season} {episode} {title} {code} {network}
   * {description} {url}; {season:02} pads with zeros; {{ and }} are
   * braces. NULL: the default summary ("Show S02E01 – Title") and the
   * description column. */
  const char *summary_template;
  const char *description_template;
  const char *const *categories; /**< CATEGORIES beside the network */
  size_t n_categories;
  /* Feed metadata (RFC 7986 and the common X-WR-/X-APPLE- properties);
   * NULL: not written. */
  const char *calendar_description; /**< DESCRIPTION and X-WR-CALDESC */
  const char *refresh;   /**< duration: REFRESH-INTERVAL, X-PUBLISHED-TTL */
  const char *color;     /**< CSS colour name or #RRGGBB: COLOR (a CSS
                              name) and X-APPLE-CALENDAR-COLOR (hex) */
  const char *url;       /**< the feed's own address: URL and SOURCE */
} epcal_render_options;

/** How the rendered events compare with the previous feed. */
typedef struct epcal_render_counts {
  unsigned long added;     /**< not in the previous feed (or no previous) */
  unsigned long changed;   /**< in it, with other content: SEQUENCE+1 */
  unsigned long unchanged; /**< in it, same content: stamps kept */
} epcal_render_counts;

typedef struct epcal_renderer epcal_renderer;

/**
 * Creates a renderer that writes to `write(ctx, ...)`. `opts` is copied
 * (its strings too). Nothing is written until epcal_renderer_begin().
 * Returns EPCAL_OK, EPCAL_ENOMEM, or EPCAL_EUSAGE when an option is invalid
 * (an unknown time zone, a malformed duration, template or colour).
 *
 * Time zones: a timed event is written as DTSTART;TZID=Zone/Name with the
 * plain IANA name, and one VTIMEZONE per zone used (built from the
 * system's zoneinfo, truncated to the years the events cover) is written
 * by epcal_renderer_end(), after the last VEVENT: the zones and years are
 * known only once every event has been seen, and events stream out before
 * that. RFC 5545 allows a VTIMEZONE anywhere in the VCALENDAR. A local
 * time that does not exist (skipped by a spring-forward change) is
 * interpreted with the offset before the gap, as RFC 5545 says, and
 * written as the wall-clock time it names (02:30 EST = 03:30 EDT); an
 * ambiguous one (repeated by a fall-back change) is the first occurrence.
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

/** Writes the VTIMEZONEs of the zones used, END:VCALENDAR, and flushes. */
epcal_status epcal_renderer_end(epcal_renderer *r, epcal_error *err);

/**
 * Sends what follows to another target, so one renderer can write many
 * calendars (split output) without a buffer per calendar: flushes what is
 * buffered to the current target, then switches the write function, the
 * calendar name (copied; NULL keeps it) and the previous feed (borrowed;
 * NULL for none). Call epcal_renderer_begin() next for a new calendar.
 */
epcal_status epcal_renderer_retarget(epcal_renderer *r, epcal_write_fn write,
                                     void *ctx, const char *calendar_name,
                                     epcal_previous *previous,
                                     epcal_error *err);

/** Number of events written so far (to every target). */
unsigned long epcal_renderer_events(const epcal_renderer *r);

/** How the events written so far compare with the previous feed. */
epcal_render_counts epcal_renderer_counts(const epcal_renderer *r);

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

/** What an output path names (see epcal_output_resolve()). */
typedef enum epcal_output_kind {
  EPCAL_OUTPUT_STDOUT, /**< "-", NULL, or the file standard output is */
  EPCAL_OUTPUT_FILE,   /**< a regular file, or nothing yet: replaced
                            atomically */
  EPCAL_OUTPUT_STREAM  /**< a character device, FIFO or socket: written
                            straight through */
} epcal_output_kind;

/**
 * Tells what `path` names once symlinks are followed. *kind: standard
 * output ("-", NULL, or a path that is the file standard output already
 * writes to, such as /dev/stdout); a regular file or a path that does not
 * exist yet (*file: the path of the file to replace, the end of any chain
 * of symlinks, so that a symlink is kept and the file it points to is
 * replaced in its own directory); or a character device, FIFO or socket
 * (*file: `path`). *file is malloc'd (NULL for standard output); the
 * caller frees it. Returns EPCAL_OK, EPCAL_EUSAGE for a directory, a
 * block device or a symlink loop, or EPCAL_ENOMEM. Out-parameters are
 * written only on success.
 */
epcal_status epcal_output_resolve(const char *path, epcal_output_kind *kind,
                                  char **file, epcal_error *err);

/** Flags of epcal_output_open_flags(). */
enum {
  /** Replace an existing file even when it is not an iCalendar feed. */
  EPCAL_OUTPUT_FORCE = 1,
  /**
   * Do not follow a symlink at `path` (it is replaced by the new file, as
   * rename(2) does), and refuse anything but a regular file or nothing:
   * for paths inside a tree epcal owns (split output).
   */
  EPCAL_OUTPUT_NOFOLLOW = 2
};

/**
 * Opens an output on `path`, as epcal_output_resolve() classifies it.
 * Standard output: bytes are spooled to a private temporary file and
 * copied out by epcal_output_commit(), so a failed run prints no half
 * feed. A file: a temporary file in the target's directory, renamed over
 * it on commit (a target whose bytes would not change is left alone); an
 * existing target that is not an iCalendar feed (its first bytes, after
 * an optional UTF-8 byte-order mark, are not BEGIN:VCALENDAR) is refused
 * with EPCAL_EUSAGE unless `flags` has EPCAL_OUTPUT_FORCE; an empty file
 * counts as a feed. A character device, FIFO or socket: written straight
 * through as bytes come (nothing can be atomic there), no temporary file;
 * opening a FIFO waits for a reader, and a signal that interrupts the
 * wait fails the open. Returns EPCAL_OK, EPCAL_EUSAGE, EPCAL_EIO or
 * EPCAL_ENOMEM.
 */
epcal_status epcal_output_open_flags(epcal_output **out, const char *path,
                                     unsigned flags, epcal_error *err);

/** epcal_output_open_flags() with no flags. */
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
 * Removes temporary files that a killed run left beside `target` (the
 * `.NAME.epcal-XXXXXX.tmp` files epcal_output_open() makes: only regular
 * files of exactly that shape, never a link). Only safe while holding
 * the target's lock (epcal_lock_acquire()). Returns how many it removed.
 */
unsigned long epcal_output_remove_stale(const char *target);

/**
 * Frees the output. If it was not committed, the temporary file is removed
 * and the target is left as it was. NULL is a no-op.
 */
void epcal_output_free(epcal_output *o);

/* ------------------------------------------------------------------ shrink */

/**
 * How many of a feed's events one regeneration may remove. An upstream
 * failure that truncates the input must not wipe every subscriber's
 * calendar: a run (or a server reload) that would remove more than this
 * is refused and the old feed kept.
 */
typedef struct epcal_shrink_policy {
  bool allow;        /**< never refuse (--allow-shrink) */
  bool set;          /**< max_removed is given; else the default rule */
  unsigned long max_removed; /**< events, or a percentage when `percent` */
  bool percent;      /**< max_removed is a percentage (0-100) */
} epcal_shrink_policy;

/**
 * True when removing `removed` of `previous` events breaks `policy`. The
 * default rule (policy NULL or not `set`): more than half of the previous
 * events, and at least 10. A percentage P refuses removed > P% of
 * previous; a count N refuses removed > N. Pure; thread-safe.
 */
bool epcal_shrink_refused(unsigned long previous, unsigned long removed,
                          const epcal_shrink_policy *policy);

/**
 * Parses a --max-removed value, "N" or "P%" (P from 0 to 100), into
 * *policy (max_removed, percent and set). Returns 0, or -1 (policy
 * untouched) when it is not one of those forms.
 */
int epcal_shrink_policy_parse(const char *text, epcal_shrink_policy *policy);

/* --------------------------------------------------------------- generate */

/** Receives progress: rows and input bytes read so far, over all inputs. */
typedef void (*epcal_progress_fn)(void *ctx, unsigned long rows,
                                  uint64_t bytes);

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
  /**
   * Optional: the previous feed's path, for change tracking (see
   * epcal_render_options.previous). A missing file is a first run; a damaged
   * one is reported through `warn` and treated as absent.
   */
  const char *previous;
  epcal_warn_fn warn;   /**< optional: skipped rows, dropped repeats */
  void *warn_ctx;
  epcal_warn_fn note;   /**< optional: unscheduled rows (TBA, no date) */
  void *note_ctx;
  /**
   * Optional, without skip_invalid: every invalid row is reported here, in
   * input order, and reading goes on to the end of the input, so one run
   * names all of them; the run then fails with EPCAL_EDATA and `err` holds
   * the first of them. Without it the first invalid row stops the run.
   * Errors that end reading (a bad header, I/O, memory) are not reported
   * here, only returned.
   */
  epcal_warn_fn error;
  void *error_ctx;
  /**
   * Optional: checked between rows; when it becomes non-zero (a signal
   * handler sets it) the run stops with EPCAL_EIO "interrupted".
   */
  const volatile sig_atomic_t *cancel;
  /**
   * Only the last episode of each season (the highest number in the
   * input). Needs a first pass over the inputs, so they must be files.
   */
  bool finales_only;
  epcal_progress_fn progress; /**< optional: called every 4096 rows */
  void *progress_ctx;
  /**
   * 0 (auto): read each input that is a regular file on a second thread,
   * ahead of rendering, when the process may use more than one CPU;
   * 1: do everything on the calling thread. Either way every callback is
   * called on the calling thread, in input order, and the output, messages
   * and statistics are the same.
   */
  unsigned threads;
  /**
   * The shrink guard (see epcal_shrink_refused()): a run that would remove
   * more of the previous feed's events than this allows fails with
   * EPCAL_EDATA before anything is published (with split output: when any
   * feed would, no feed is replaced). Zeroed: the default rule. A previous
   * feed more than 32 times the size of the inputs (and over 64 MiB) is
   * refused the same way, unread; `allow` replaces it without reading it.
   */
  epcal_shrink_policy shrink;
} epcal_generate_options;

/** What a run did. */
typedef struct epcal_generate_stats {
  unsigned long rows;        /**< data rows read */
  uint64_t bytes;            /**< input bytes read */
  unsigned long events;      /**< events written */
  unsigned long unscheduled; /**< rows without a date (TBA, empty) */
  unsigned long filtered;    /**< scheduled rows left out by the filters */
  unsigned long skipped;     /**< invalid rows skipped (skip_invalid) */
  unsigned long duplicates;  /**< identical repeats dropped */
  epcal_render_counts counts; /**< added / changed / unchanged events */
  unsigned long removed;     /**< previous events no longer in the input */
  unsigned long feeds;         /**< split: feeds written or unchanged */
  unsigned long feeds_changed; /**< split: feeds whose bytes changed */
  unsigned long feeds_pruned;  /**< split: old feeds removed (prune) */
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

/* ------------------------------------------------------------------- split */

/** What one feed of a split holds. */
typedef enum epcal_split_by {
  EPCAL_SPLIT_SEASON, /**< DIR/SHOW-SLUG/season-NN.ics */
  EPCAL_SPLIT_SHOW    /**< DIR/SHOW-SLUG.ics */
} epcal_split_by;

typedef struct epcal_split_options {
  epcal_split_by by;
  const char *dir; /**< created when missing */
  bool prune;      /**< remove feeds an earlier run wrote here that this
                        run did not write (the last index.json records
                        them: "feeds" and "kept"); without it they are
                        listed under "kept" */
} epcal_split_options;

/**
 * Like epcal_generate(), but writes one feed per show or per season into
 * so->dir, each replaced atomically and change-aware against the file it
 * replaces (opts->previous is not used), plus index.json and index.html
 * listing every feed written (name, path, events, first and last date).
 * Nothing is replaced before every input has been read without error; a
 * feed whose bytes would not change is left untouched. Two shows whose
 * slugs agree are told apart by a hash of the name in the path.
 */
epcal_status epcal_generate_split(const epcal_generate_options *opts,
                                  const epcal_split_options *so,
                                  epcal_generate_stats *stats,
                                  epcal_error *err);

/* ------------------------------------------------------------------ stems */

/** Room for a show's path stem, NUL included. */
#define EPCAL_STEM_MAX 64

/** Tells whether some show has `stem` already. */
typedef bool (*epcal_stem_taken_fn)(void *ctx, const char *stem);

/**
 * The path stem of show `name` in split output and `epcal serve`
 * (STEM.ics, STEM/season-N.ics), written to `out`: the name's slug
 * (epcal_slug()) unless `taken` says another show has it, then the slug and
 * a hash of the name ("cafe-1beac8c8"), then a number after that. The stem
 * "calendar" is never chosen (serve's /calendar.ics holds every show). A
 * caller that gives shows stems in the order it first meets them, after the
 * shows an earlier run named (epcal_stems_each()), keeps every path on its
 * show from run to run, as split does.
 */
void epcal_stem_choose(const char *name, epcal_stem_taken_fn taken,
                       void *ctx, char out[EPCAL_STEM_MAX]);

/** Receives a show and the stem an index gave it; false stops. */
typedef bool (*epcal_stem_fn)(void *ctx, const char *show, const char *stem);

/**
 * Calls fn(ctx, show, stem) for every feed the index.json at `index_path`
 * lists (as split writes it; a show with several feeds comes once per
 * feed). A missing or unreadable index lists nothing; lines that do not
 * parse, and paths epcal does not make, are passed over. Returns false
 * when fn stopped it.
 */
bool epcal_stems_each(const char *index_path, epcal_stem_fn fn, void *ctx);
/**
 * Removes what killed split runs left in `dir`: the temporary files of
 * index.json, index.html and every feed (`.NAME.epcal-XXXXXX.tmp`, regular
 * files of exactly that shape, in the directory and its show directories,
 * reached through no symbolic link), and a show directory that only such
 * files kept from being empty. Only safe while holding the directory's
 * lock (epcal_lock_acquire() on DIR/index.json), as another run's files
 * look the same. Returns how many files it removed.
 */
unsigned long epcal_split_remove_stale(const char *dir);

/* -------------------------------------------------------------------- lock */

typedef struct epcal_lock epcal_lock;

/**
 * Takes the exclusive lock that serialises runs writing `target` (the
 * file to replace, as epcal_output_resolve() gives it), waiting up to
 * `wait_seconds`. It is flock(2) on the target itself when it exists, else
 * on its directory, so no lock file is made. Returns EPCAL_OK,
 * EPCAL_ELOCKED when another run still holds it, or EPCAL_EIO (also when
 * a signal the caller handles interrupts the wait). The lock ends with
 * epcal_lock_release() or the process.
 */
epcal_status epcal_lock_acquire(epcal_lock **out, const char *target,
                                double wait_seconds, epcal_error *err);

/** Releases the lock. NULL is a no-op. */
void epcal_lock_release(epcal_lock *l);

/* ------------------------------------------------------------------- check */

/** How bad a finding is. */
typedef enum epcal_check_severity {
  /** Formatting (line ends, line length, empty lines): parsers forgive it. */
  EPCAL_CHECK_FORMAT = 0,
  /** A calendar client will reject the feed or drop the event. */
  EPCAL_CHECK_ERROR = 1
} epcal_check_severity;

/**
 * One finding in a feed, borrowed for the call: `file` the feed's name,
 * `line` the 1-based physical line it is on (0 when it is about the whole
 * feed), `rule` a stable name for the kind of finding ("line-length",
 * "end-before-start", ...), `msg` what is wrong, naming a client that fails
 * on it where that is known.
 */
typedef struct epcal_finding {
  const char *file;
  unsigned long line;
  const char *rule;
  epcal_check_severity severity;
  const char *msg;
} epcal_finding;

/** Receives one finding (see epcal_finding). */
typedef void (*epcal_finding_fn)(void *ctx, const epcal_finding *finding);

/** What a check saw. */
typedef struct epcal_check_stats {
  unsigned long lines;    /**< physical lines */
  unsigned long events;   /**< VEVENT components */
  unsigned long problems; /**< findings reported: errors + formatting */
  unsigned long errors;   /**< findings of severity EPCAL_CHECK_ERROR */
} epcal_check_stats;

/**
 * Judges an iCalendar feed that any program may have written, as a stream:
 * one content line and one component at a time, so memory does not grow
 * with the feed (besides about 20 bytes per VEVENT for the duplicate-UID
 * check).
 *
 * Formatting findings: CRLF line ends, lines longer than 75 octets, empty
 * lines, a byte-order mark, folds that split a UTF-8 character. Errors:
 * libical's parse errors (its X-LIC-ERROR properties, each on its line;
 * properties of RFC 7986 and RFC 9253 that libical 3.0 does not know are
 * accepted), invalid UTF-8, unbalanced BEGIN/END, a VCALENDAR without
 * VERSION or PRODID, events without UID, DTSTAMP or DTSTART, a property
 * allowed once repeated in an event, duplicate UIDs, impossible dates, a
 * date without VALUE=DATE, text with an unescaped "," or ";" or an invalid
 * escape, a TZID without a VTIMEZONE (or known
 * nowhere), a negative DURATION, a DTSTAMP not in UTC, and DTEND not after
 * DTSTART, compared as instants (TZIDs resolved through the feed's
 * VTIMEZONEs, then the system's zoneinfo). A content line longer than
 * 1 MiB unfolded is reported and not parsed.
 *
 * `finding` (optional) is called for each finding in the order found,
 * which is mostly line order (per-TZID findings come at the end).
 * `stats` (optional) is filled on EPCAL_OK. `path` "-" or NULL reads
 * standard input. A regular file that mentions a time zone is read twice:
 * first for its VTIMEZONEs, which may come after the events that use them. Returns EPCAL_OK when the
 * feed could be read and judged, whatever the verdict (a clean feed has
 * stats->problems == 0); EPCAL_EDATA when the input is not an iCalendar
 * feed at all (no BEGIN:VCALENDAR in its first 4096 bytes: nothing is
 * reported through `finding`); EPCAL_EIO or EPCAL_ENOMEM. Uses libical's
 * parser, which touches global state: call from one thread at a time.
 */
epcal_status epcal_feed_check(const char *path, epcal_finding_fn finding,
                              void *ctx, epcal_check_stats *stats,
                              epcal_error *err);

/**
 * Like epcal_feed_check(), but judges the `len` bytes at `data` (borrowed;
 * they may hold NUL bytes); `name` is used in findings. Returns EPCAL_OK,
 * EPCAL_EDATA (not a feed) or EPCAL_ENOMEM.
 */
epcal_status epcal_feed_check_mem(const char *name, const char *data,
                                  size_t len, epcal_finding_fn finding,
                                  void *ctx, epcal_check_stats *stats,
                                  epcal_error *err);

/* ---------------------------------------------------------------- utilities */

/**
 * Parses a date. `format` (strptime-style), when non-NULL, is tried first;
 * a text it does not read whole is read in one of the built-in forms:
 * "2022-03-03", "2022/03/03", "20220303", "March 3, 2022", "Mar 3 2022",
 * "March 3rd, 2022", "3 March 2022", "3rd of March, 2022", "03-Mar-2022",
 * a day and month in either order when only one reading is a date
 * ("01/31/2025", "31.01.2025", "03/03/2022"; "03/04/2022" is ambiguous),
 * any of them after a weekday that must agree ("Thu, Mar 3, 2022") or
 * before a midnight ("2022-03-03 00:00:00", "2022-03-03T00:00"), a wiki's
 * "March 3, 2022 (2022-03-03)" whose two halves must agree, and trailing
 * footnote marks ("[12]"). A two-digit year is read only by `format`.
 * Returns EPCAL_OK, or EPCAL_EDATA with a message in err (line and column
 * left 0).
 */
epcal_status epcal_date_parse(const char *text, const char *format,
                              epcal_date *out, epcal_error *err);

/**
 * Parses an RFC 5545 DURATION value ("PT6H", "-PT30M", "P1DT2H", "P1W";
 * letters in either case), strictly, into its signed length in seconds (a
 * day counts 86400). Returns 0, or -1 (*seconds untouched) when it is not
 * one. Pure; thread-safe.
 */
int epcal_duration_parse(const char *text, int64_t *seconds);

/** The date `days` days after `d` (before, when negative). */
epcal_date epcal_date_add_days(epcal_date d, long days);

/** Days since 1970-01-01 (negative before), proleptic Gregorian. */
int64_t epcal_date_to_days(epcal_date d);

/** The inverse of epcal_date_to_days(). */
epcal_date epcal_date_from_days(int64_t days);

/** -1, 0 or 1 as `a` is before, equal to or after `b`. */
int epcal_date_cmp(epcal_date a, epcal_date b);

/**
 * Returns "now" for DTSTAMP: SOURCE_DATE_EPOCH when set and valid, else the
 * system clock. The single source of "now" for the whole program.
 */
int64_t epcal_now(void);

#ifdef __cplusplus
}
#endif

#endif /* EPCAL_EPCAL_H */
