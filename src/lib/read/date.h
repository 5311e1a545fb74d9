/* Calendar arithmetic on epcal_date: no time zones, no libc time functions,
 * so a date never shifts with the machine's zone. */
#ifndef EPCAL_DATE_H
#define EPCAL_DATE_H

#include "epcal/epcal.h"

/* True when y-m-d is a real date between 0001-01-01 and 9999-12-31. */
bool epcal__date_valid(int year, int month, int day);

/* Days since 1970-01-01 (negative before). */
int64_t epcal__date_to_days(epcal_date d);

/* The inverse of epcal__date_to_days(). */
epcal_date epcal__date_from_days(int64_t days);

/* The day after d (may step past 9999-12-31 into year 10000). */
epcal_date epcal__date_next(epcal_date d);

/* -1, 0 or 1 as a is before, equal to or after b. */
int epcal__date_cmp(epcal_date a, epcal_date b);

/*
 * Case-insensitive match of a "not scheduled yet" marker: empty or blank,
 * TBA, TBD, unknown, N/A. Such a date is not an error: the row has no event.
 */
bool epcal__date_is_unscheduled(const char *text);

/* Splits seconds since the epoch into whole days and the seconds of the
 * day (0..86399), rounding down for times before 1970. */
int64_t epcal__time_split(int64_t t, int *secs);

/* YYYYMMDD of a date (years 0..9999), or of days since the epoch (no NUL),
 * without snprintf: this is on the hot path. */
void epcal__format_date(epcal_date d, char out[8]);
void epcal__format_days(int64_t days, char out[8]);

/* YYYYMMDDTHHMMSS from seconds since the epoch (no NUL). */
void epcal__format_datetime(int64_t t, char out[15]);

#endif
