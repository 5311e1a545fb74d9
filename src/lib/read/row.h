/* One CSV record (after the header) -> a typed, validated episode. */
#ifndef EPCAL_ROW_H
#define EPCAL_ROW_H

#include "header.h"
#include "ical_tz.h"

/* Minutes a timed event lasts when neither its row nor the renderer's
 * options say. */
#define EPCAL__DEFAULT_RUNTIME 60

/*
 * What the renderer will make of a timed row, when the pipeline that drives
 * the reader says (the reader alone cannot know the renderer's options): a
 * row whose event would reach outside the years 0001 to 9999 is then
 * refused here, at its air_time cell, where the message can name the place.
 * The renderer refuses it too, for episodes that do not come from a reader.
 */
typedef struct epcal__event_rules {
  bool all_day;            /* every event is all-day (times ignored) */
  const epcal__zone *zone; /* for rows without one; NULL: none */
  long runtime;            /* minutes, for rows without one */
} epcal__event_rules;

/*
 * Converts the record's cells (cells[i] = data + off[i], len[i] bytes, each
 * NUL-terminated and writable) into *ep, whose strings point into `data`.
 * Fails with EPCAL_EDATA placed at the offending cell. `text_ok`: the
 * record's bytes are known to be valid UTF-8 without NUL, so its cells
 * (pieces of it) need no check of their own. From `opts`: the date format,
 * and the show and season of a row that gives none (default_show,
 * default_season); the episode's show may point at opts->default_show.
 */
epcal_status epcal__row_convert(const epcal__place *place,
                                const epcal__header *h, char *data,
                                const size_t *off, const size_t *len, size_t n,
                                bool text_ok, const epcal_read_options *opts,
                                const epcal__event_rules *rules,
                                epcal_episode *ep, epcal_error *err);

/*
 * Reads the optional timing columns (air_time, timezone, runtime, status)
 * from the trimmed cells (NULL when absent or empty) into *e. Fails with
 * EPCAL_EDATA placed at the offending cell (an unknown zone, a malformed
 * time, with `rules` (optional) an event outside the years 0001..9999).
 */
epcal_status epcal__row_timing(const epcal__place *place,
                               const epcal__header *h, char *const *cell,
                               const epcal__event_rules *rules,
                               epcal_episode *e, epcal_error *err);

#endif
