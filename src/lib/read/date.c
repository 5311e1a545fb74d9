#define _XOPEN_SOURCE 700 /* strptime */
#include "date.h"

#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool epcal__date_valid(int year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= days_in_month(year, month);
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t epcal__date_to_days(epcal_date d) {
  int64_t y = d.year - (d.month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (d.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

epcal_date epcal__date_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  epcal_date d;
  d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
  d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
  d.year = (int)(yoe + era * 400 + (d.month <= 2));
  return d;
}

epcal_date epcal__date_next(epcal_date d) {
  if (d.day < days_in_month(d.year, d.month)) {
    d.day++;
  } else if (d.month < 12) {
    d.month++;
    d.day = 1;
  } else {
    d.year++;
    d.month = 1;
    d.day = 1;
  }
  return d;
}

int64_t epcal_date_to_days(epcal_date d) { return epcal__date_to_days(d); }

epcal_date epcal_date_from_days(int64_t days) {
  return epcal__date_from_days(days);
}

int epcal_date_cmp(epcal_date a, epcal_date b) { return epcal__date_cmp(a, b); }

epcal_date epcal_date_add_days(epcal_date d, long days) {
  return epcal__date_from_days(epcal__date_to_days(d) + days);
}

int epcal__date_cmp(epcal_date a, epcal_date b) {
  int64_t x = (int64_t)a.year * 10000 + a.month * 100 + a.day;
  int64_t y = (int64_t)b.year * 10000 + b.month * 100 + b.day;
  return (x > y) - (x < y);
}

bool epcal__date_is_unscheduled(const char *text) {
  while (*text == ' ' || *text == '\t') {
    text++;
  }
  if (*text == '\0') {
    return true;
  }
  static const char *const markers[] = {"tba", "tbd", "unknown", "n/a", "?"};
  size_t len = strlen(text);
  while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t')) {
    len--;
  }
  for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
    if (strlen(markers[i]) == len && strncasecmp(text, markers[i], len) == 0) {
      return true;
    }
  }
  return false;
}

/* ------------------------------------------------------------- parsing */

/* A cursor over the text being parsed. */
typedef struct scan {
  const char *p;
} scan;

static void skip_spaces(scan *s) {
  while (*s->p == ' ' || *s->p == '\t') {
    s->p++;
  }
}

/* Reads 1..maxd digits; returns the count read (0: none). */
static int read_number(scan *s, int maxd, int *out) {
  int n = 0, v = 0;
  while (n < maxd && isdigit((unsigned char)s->p[n])) {
    v = v * 10 + (s->p[n] - '0');
    n++;
  }
  if (n > 0 && isdigit((unsigned char)s->p[n])) {
    return 0; /* more digits than allowed: not this form */
  }
  s->p += n;
  *out = v;
  return n;
}

/* Reads an English month name, full or three-letter (optionally "Sept" and a
 * trailing '.'). Returns 1..12, or 0. */
static int read_month(scan *s) {
  static const char *const names[] = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  size_t len = 0;
  while (isalpha((unsigned char)s->p[len])) {
    len++;
  }
  if (len < 3) {
    return 0;
  }
  for (int m = 0; m < 12; m++) {
    size_t full = strlen(names[m]);
    bool whole = len == full && strncasecmp(s->p, names[m], len) == 0;
    bool abbrev = len == 3 && strncasecmp(s->p, names[m], 3) == 0;
    bool sept = m == 8 && len == 4 && strncasecmp(s->p, "sept", 4) == 0;
    if (whole || abbrev || sept) {
      s->p += len;
      if (*s->p == '.' && !whole) {
        s->p++;
      }
      return m + 1;
    }
  }
  return 0;
}

static bool at_end(scan *s) {
  skip_spaces(s);
  return *s->p == '\0';
}

/* "March 3, 2022", "Mar 3 2022", "March 3rd, 2022" */
static bool parse_month_day_year(const char *text, int *y, int *m, int *d) {
  scan s = {text};
  skip_spaces(&s);
  if ((*m = read_month(&s)) == 0) {
    return false;
  }
  skip_spaces(&s);
  if (read_number(&s, 2, d) == 0) {
    return false;
  }
  if (strncasecmp(s.p, "st", 2) == 0 || strncasecmp(s.p, "nd", 2) == 0 ||
      strncasecmp(s.p, "rd", 2) == 0 || strncasecmp(s.p, "th", 2) == 0) {
    s.p += 2;
  }
  skip_spaces(&s);
  if (*s.p == ',') {
    s.p++;
  }
  skip_spaces(&s);
  return read_number(&s, 4, y) == 4 && at_end(&s);
}

/* "3 March 2022", "3 Mar. 2022", "3 March, 2022" */
static bool parse_day_month_year(const char *text, int *y, int *m, int *d) {
  scan s = {text};
  skip_spaces(&s);
  if (read_number(&s, 2, d) == 0) {
    return false;
  }
  skip_spaces(&s);
  if ((*m = read_month(&s)) == 0) {
    return false;
  }
  skip_spaces(&s);
  if (*s.p == ',') {
    s.p++;
  }
  skip_spaces(&s);
  return read_number(&s, 4, y) == 4 && at_end(&s);
}

/* "2022-03-03", "2022/03/03", "20220303" */
static bool parse_ymd(const char *text, int *y, int *m, int *d) {
  scan s = {text};
  skip_spaces(&s);
  const char *start = s.p;
  if (strspn(start, "0123456789") == 8) {
    *y = (start[0] - '0') * 1000 + (start[1] - '0') * 100 +
         (start[2] - '0') * 10 + (start[3] - '0');
    *m = (start[4] - '0') * 10 + (start[5] - '0');
    *d = (start[6] - '0') * 10 + (start[7] - '0');
    s.p += 8;
    return at_end(&s);
  }
  if (read_number(&s, 4, y) != 4) {
    return false;
  }
  char sep = *s.p;
  if (sep != '-' && sep != '/' && sep != '.') {
    return false;
  }
  s.p++;
  if (read_number(&s, 2, m) == 0 || *s.p != sep) {
    return false;
  }
  s.p++;
  return read_number(&s, 2, d) != 0 && at_end(&s);
}

/* "03/04/2022", "3.4.2022": day and month cannot be told apart. */
static bool looks_numeric_ambiguous(const char *text) {
  scan s = {text};
  int a, b, c;
  skip_spaces(&s);
  if (read_number(&s, 2, &a) == 0 || (*s.p != '/' && *s.p != '.' && *s.p != '-')) {
    return false;
  }
  s.p++;
  if (read_number(&s, 2, &b) == 0 || (*s.p != '/' && *s.p != '.' && *s.p != '-')) {
    return false;
  }
  s.p++;
  return read_number(&s, 4, &c) >= 2 && at_end(&s);
}

/*
 * Checks that y-m-d is a real date an all-day event can stand on: its DTEND
 * is the next day, and 9999-12-31 has none with a four-digit year.
 */
static epcal_status check_date(const char *text, int y, int m, int d,
                               epcal_date *out, epcal_error *err) {
  if (!epcal__date_valid(y, m, d)) {
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" is not a real calendar date", text);
  }
  if (y == 9999 && m == 12 && d == 31) {
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" is too late: the last date a feed can "
                       "hold is 9999-12-30",
                       text);
  }
  out->year = y;
  out->month = m;
  out->day = d;
  return EPCAL_OK;
}

static epcal_status parse_with_format(const char *text, const char *format,
                                      epcal_date *out, epcal_error *err) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_mday = 0;
  const char *end = strptime(text, format, &tm);
  if (end == NULL) {
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" does not match --date-format \"%s\"", text,
                       format);
  }
  scan s = {end};
  if (!at_end(&s)) {
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" has extra text after --date-format \"%s\"",
                       text, format);
  }
  return check_date(text, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, out,
                    err);
}

epcal_status epcal_date_parse(const char *text, const char *format,
                              epcal_date *out, epcal_error *err) {
  if (format != NULL) {
    return parse_with_format(text, format, out, err);
  }
  int y = 0, m = 0, d = 0;
  bool ok = parse_ymd(text, &y, &m, &d) ||
            parse_month_day_year(text, &y, &m, &d) ||
            parse_day_month_year(text, &y, &m, &d);
  if (!ok) {
    if (looks_numeric_ambiguous(text)) {
      return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                         "ambiguous date \"%s\" (day/month or month/day?); "
                         "use YYYY-MM-DD or --date-format",
                         text);
    }
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "unrecognised date \"%s\" (expected YYYY-MM-DD or "
                       "a form like \"March 3, 2022\")",
                       text);
  }
  return check_date(text, y, m, d, out, err);
}

/* Two decimal digits. */
static void put2(char *out, int v) {
  out[0] = (char)('0' + v / 10 % 10);
  out[1] = (char)('0' + v % 10);
}

void epcal__format_date(epcal_date d, char out[8]) {
  put2(out, d.year / 100);
  put2(out + 2, d.year % 100);
  put2(out + 4, d.month);
  put2(out + 6, d.day);
}

void epcal__format_days(int64_t days, char out[8]) {
  epcal__format_date(epcal__date_from_days(days), out);
}

int64_t epcal__time_split(int64_t t, int *secs) {
  int64_t days = t / 86400;
  int64_t s = t % 86400;
  if (s < 0) {
    s += 86400;
    days--;
  }
  *secs = (int)s;
  return days;
}

void epcal__format_datetime(int64_t t, char out[15]) {
  int secs;
  epcal__format_days(epcal__time_split(t, &secs), out);
  out[8] = 'T';
  put2(out + 9, secs / 3600);
  put2(out + 11, secs / 60 % 60);
  put2(out + 13, secs % 60);
}

int64_t epcal_now(void) {
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde != NULL && *sde != '\0') {
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (errno == 0 && *end == '\0' && v >= 0 && v < 253402300800LL) {
      return (int64_t)v;
    }
  }
  return (int64_t)time(NULL);
}
