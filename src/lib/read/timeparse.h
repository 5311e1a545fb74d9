/* Times of day and RFC 5545 durations: parsing only, no time zones, no
 * libc time functions. */
#ifndef EPCAL_TIMEPARSE_H
#define EPCAL_TIMEPARSE_H

#include "epcal/epcal.h"

/* Result of epcal__time_parse(). */
typedef enum epcal__time_result {
  EPCAL__TIME_OK,
  EPCAL__TIME_SYNTAX, /* not H:MM, HH:MM or HH:MM:SS with an optional Z */
  EPCAL__TIME_RANGE,  /* hour > 23, minute or second > 59 */
} epcal__time_result;

/*
 * Parses a 24-hour time of day: "21:00", "9:30", "21:00:30", each with an
 * optional "Z" (UTC). On success *secs is the seconds after midnight and
 * *utc tells whether it ended in Z.
 */
epcal__time_result epcal__time_parse(const char *s, int32_t *secs, bool *utc);

/*
 * Parses an RFC 5545 DURATION value, strictly: [+|-]P then nW, or nD with an
 * optional time part, or a time part alone (T nH [nM [nS]], T nM [nS] or
 * T nS). Letters may be in either case. On success *secs holds its signed
 * length in seconds (a day counts 86400) and canon[] (at least `cap`
 * bytes) the value in upper case, as it is to be written. Returns false on
 * malformed input (such as "P1DT" or "PT"), a component over 9 digits or
 * when canon would not fit.
 */
bool epcal__duration_parse(const char *s, int64_t *secs, char *canon,
                           size_t cap);

#endif
