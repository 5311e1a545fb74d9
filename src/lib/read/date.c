#define _XOPEN_SOURCE 700 /* strptime */
#include "date.h"

#include "error.h"
#include "title.h"

#include <ctype.h>
#include <stdio.h>
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
  static const size_t lens[] = {7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8};
  size_t len = 0;
  while (isalpha((unsigned char)s->p[len])) {
    len++;
  }
  if (len < 3 || len > 9) {
    return 0;
  }
  for (int m = 0; m < 12; m++) {
    size_t full = lens[m];
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

/*
 * What a built-in form made of the text. Besides the date: a weekday the
 * text named (checked against the date), and for a text that is almost a
 * date, why it is not one.
 */
typedef enum form_result {
  FORM_OK,
  FORM_NOMATCH,   /* no built-in form */
  FORM_AMBIGUOUS, /* 03/04/2022: day and month could be either way */
  FORM_TWO_DIGIT, /* 3-Mar-22: a two-digit year is never guessed */
} form_result;

typedef struct parsed {
  int y, m, d;
  int weekday;      /* 0 (Monday) .. 6, or -1 when the text names none */
  const char *hint; /* FORM_TWO_DIGIT: a --date-format that reads it */
} parsed;

/* Reads a year: four digits. Two digits are a year only through
 * --date-format: `p->hint` says which one would read this text. */
static form_result read_year(scan *s, parsed *p, const char *hint) {
  const char *start = s->p;
  int n = read_number(s, 4, &p->y);
  if (n == 4) {
    return FORM_OK;
  }
  if (n == 2 && at_end(s)) {
    p->hint = hint;
    return FORM_TWO_DIGIT;
  }
  s->p = start;
  return FORM_NOMATCH;
}

/* Skips an ordinal suffix after a day: "3rd", "21st". */
static void skip_ordinal(scan *s) {
  if (strncasecmp(s->p, "st", 2) == 0 || strncasecmp(s->p, "nd", 2) == 0 ||
      strncasecmp(s->p, "rd", 2) == 0 || strncasecmp(s->p, "th", 2) == 0) {
    if (!isalpha((unsigned char)s->p[2])) {
      s->p += 2;
    }
  }
}

/* "March 3, 2022", "Mar 3 2022", "March 3rd, 2022" */
static form_result parse_month_day_year(const char *text, parsed *p) {
  scan s = {text};
  skip_spaces(&s);
  if ((p->m = read_month(&s)) == 0) {
    return FORM_NOMATCH;
  }
  skip_spaces(&s);
  if (read_number(&s, 2, &p->d) == 0) {
    return FORM_NOMATCH;
  }
  skip_ordinal(&s);
  skip_spaces(&s);
  if (*s.p == ',') {
    s.p++;
  }
  skip_spaces(&s);
  form_result r = read_year(&s, p, "\"%B %d, %y\"");
  return r == FORM_OK && !at_end(&s) ? FORM_NOMATCH : r;
}

/* "3 March 2022", "3 Mar. 2022", "3 March, 2022", "3rd of March 2022",
 * and the spreadsheet's "03-Mar-2022". */
static form_result parse_day_month_year(const char *text, parsed *p) {
  scan s = {text};
  skip_spaces(&s);
  if (read_number(&s, 2, &p->d) == 0) {
    return FORM_NOMATCH;
  }
  if (*s.p == '-') {
    s.p++;
    if ((p->m = read_month(&s)) == 0 || *s.p != '-') {
      return FORM_NOMATCH;
    }
    s.p++;
    form_result r = read_year(&s, p, "\"%d-%b-%y\"");
    return r == FORM_OK && !at_end(&s) ? FORM_NOMATCH : r;
  }
  skip_ordinal(&s);
  skip_spaces(&s);
  if (strncasecmp(s.p, "of", 2) == 0 && (s.p[2] == ' ' || s.p[2] == '\t')) {
    s.p += 2;
    skip_spaces(&s);
  }
  if ((p->m = read_month(&s)) == 0) {
    return FORM_NOMATCH;
  }
  skip_spaces(&s);
  if (*s.p == ',') {
    s.p++;
  }
  skip_spaces(&s);
  form_result r = read_year(&s, p, "\"%d %B %y\"");
  return r == FORM_OK && !at_end(&s) ? FORM_NOMATCH : r;
}

/* "2022-03-03", "2022/03/03", "20220303" */
static form_result parse_ymd(const char *text, parsed *p) {
  scan s = {text};
  skip_spaces(&s);
  const char *start = s.p;
  if (strspn(start, "0123456789") == 8) {
    p->y = (start[0] - '0') * 1000 + (start[1] - '0') * 100 +
           (start[2] - '0') * 10 + (start[3] - '0');
    p->m = (start[4] - '0') * 10 + (start[5] - '0');
    p->d = (start[6] - '0') * 10 + (start[7] - '0');
    s.p += 8;
    return at_end(&s) ? FORM_OK : FORM_NOMATCH;
  }
  if (read_number(&s, 4, &p->y) != 4) {
    return FORM_NOMATCH;
  }
  char sep = *s.p;
  if (sep != '-' && sep != '/' && sep != '.') {
    return FORM_NOMATCH;
  }
  s.p++;
  if (read_number(&s, 2, &p->m) == 0 || *s.p != sep) {
    return FORM_NOMATCH;
  }
  s.p++;
  return read_number(&s, 2, &p->d) != 0 && at_end(&s) ? FORM_OK
                                                        : FORM_NOMATCH;
}

/*
 * "31/01/2025", "01/31/2025", "3.3.2022": day and month in either order.
 * Taken only when a single reading is possible (one of the two is over 12,
 * or both are the same); "03/04/2022" is ambiguous.
 */
static form_result parse_numeric(const char *text, parsed *p) {
  scan s = {text};
  int a, b;
  skip_spaces(&s);
  if (read_number(&s, 2, &a) == 0) {
    return FORM_NOMATCH;
  }
  char sep = *s.p;
  if (sep != '/' && sep != '.' && sep != '-') {
    return FORM_NOMATCH;
  }
  s.p++;
  if (read_number(&s, 2, &b) == 0 || *s.p != sep) {
    return FORM_NOMATCH;
  }
  s.p++;
  static const char *const hints[] = {"\"%d/%m/%y\" or \"%m/%d/%y\"",
                                      "\"%d.%m.%y\" or \"%m.%d.%y\"",
                                      "\"%d-%m-%y\" or \"%m-%d-%y\""};
  form_result r =
      read_year(&s, p, hints[sep == '/' ? 0 : sep == '.' ? 1 : 2]);
  if (r != FORM_OK) {
    return r;
  }
  if (!at_end(&s)) {
    return FORM_NOMATCH;
  }
  if (a > 12 || a == b) {
    p->d = a;
    p->m = b;
  } else if (b > 12) {
    p->m = a;
    p->d = b;
  } else {
    return FORM_AMBIGUOUS;
  }
  return FORM_OK;
}

/* Reads a weekday name ("Thursday", "Thu", "Thurs.", "Tues") and what
 * follows it (a comma, blanks). Returns 0 (Monday) .. 6, or -1. */
static int read_weekday(scan *s) {
  static const char *const names[] = {"monday", "tuesday",  "wednesday",
                                      "thursday", "friday", "saturday",
                                      "sunday"};
  static const size_t lens[] = {6, 7, 9, 8, 6, 8, 6};
  size_t len = 0;
  while (isalpha((unsigned char)s->p[len])) {
    len++;
  }
  if (len < 3 || len > 9) {
    return -1;
  }
  for (int w = 0; w < 7; w++) {
    size_t full = lens[w];
    bool whole = len == full && strncasecmp(s->p, names[w], len) == 0;
    bool abbrev = len == 3 && strncasecmp(s->p, names[w], 3) == 0;
    bool longer = (w == 1 && len == 4 && strncasecmp(s->p, "tues", 4) == 0) ||
                  (w == 3 && (len == 4 || len == 5) &&
                   strncasecmp(s->p, "thurs", len) == 0);
    if (whole || abbrev || longer) {
      s->p += len;
      if (*s->p == '.' && !whole) {
        s->p++;
      }
      skip_spaces(s);
      if (*s->p == ',') {
        s->p++;
      }
      skip_spaces(s);
      return w;
    }
  }
  return -1;
}

/*
 * Cuts a time of day off the end of buf ("2022-03-03 00:00:00",
 * "2022-03-03T00:00", "3/3/2022 0:00:00.000"), as spreadsheets write a date
 * cell. Returns 0 when there is none, 1 when it was midnight, -1 when it
 * was another time: a date column holds no time of day (that is the
 * air_time column's), and dropping it would lose it silently.
 */
static int cut_midnight(char *buf) {
  size_t len = strlen(buf);
  size_t at = len;
  for (size_t i = len; i-- > 1;) {
    bool t = (buf[i] == 'T' || buf[i] == 't') &&
             isdigit((unsigned char)buf[i - 1]) &&
             isdigit((unsigned char)buf[i + 1]);
    if (buf[i] == ' ' || buf[i] == '\t' || t) {
      at = i;
      break;
    }
  }
  if (at == len) {
    return 0;
  }
  scan s = {buf + at + 1};
  int h, mi, se = 0, fr = 0;
  if (read_number(&s, 2, &h) == 0 || *s.p != ':') {
    return 0;
  }
  s.p++;
  if (read_number(&s, 2, &mi) != 2) {
    return 0;
  }
  if (*s.p == ':') {
    s.p++;
    if (read_number(&s, 2, &se) != 2) {
      return 0;
    }
    if (*s.p == '.') {
      s.p++;
      if (read_number(&s, 9, &fr) == 0) {
        return 0;
      }
    }
  }
  if (*s.p != '\0') {
    return 0;
  }
  buf[at] = '\0';
  return h == 0 && mi == 0 && se == 0 && fr == 0 ? 1 : -1;
}

/* Weekday of a valid date, 0 (Monday) .. 6. 1970-01-01 was a Thursday. */
static int weekday_of(int y, int m, int d) {
  epcal_date date = {y, m, d};
  int64_t w = (epcal__date_to_days(date) + 3) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

static const char *const weekday_names[] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday"};

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

/* Longest date text the built-in forms look at; a longer one is no date. */
#define DATE_TEXT_MAX 128

/*
 * One date in a built-in form, with an optional weekday before it and an
 * optional midnight after it, in `buf` (a copy of a part of the cell, cut
 * in place). `text` is the whole cell, for messages.
 * Returns FORM_OK with *out set, another result when no form reads it, or
 * FORM_OK with EPCAL_EDATA in *st when a form read it and found it wrong
 * (not a real date, the wrong weekday, a time of day).
 */
static form_result parse_one(const char *text, char *buf, parsed *p,
                             epcal_date *out, epcal_status *st,
                             epcal_error *err) {
  *st = EPCAL_OK;
  int cut = cut_midnight(buf);
  scan s = {buf};
  skip_spaces(&s);
  p->weekday = read_weekday(&s);
  form_result r = parse_ymd(s.p, p);
  if (r == FORM_NOMATCH) {
    r = parse_month_day_year(s.p, p);
  }
  if (r == FORM_NOMATCH) {
    r = parse_day_month_year(s.p, p);
  }
  if (r == FORM_NOMATCH) {
    r = parse_numeric(s.p, p);
  }
  if (r != FORM_OK) {
    return r;
  }
  if (cut < 0) {
    *st = epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                      "date \"%s\" has a time of day; give the time in an "
                      "air_time column",
                      text);
    return FORM_OK;
  }
  *st = check_date(text, p->y, p->m, p->d, out, err);
  if (*st == EPCAL_OK && p->weekday >= 0) {
    int w = weekday_of(p->y, p->m, p->d);
    if (w != p->weekday) {
      *st = epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                        "date \"%s\" names a %s, but %04d-%02d-%02d is a %s",
                        text, weekday_names[p->weekday], p->y, p->m, p->d,
                        weekday_names[w]);
    }
  }
  return FORM_OK;
}

/*
 * The built-in forms, and a wiki's "March 3, 2022 (2022-03-03)": both
 * halves must be dates, and the same one. Trailing footnote marks
 * ("[12]") are no part of a date.
 */
static form_result parse_builtin(const char *text, parsed *p, epcal_date *out,
                                 epcal_status *st, epcal_error *err) {
  char buf[DATE_TEXT_MAX];
  size_t len = strlen(text);
  if (len >= sizeof buf) {
    return FORM_NOMATCH;
  }
  memcpy(buf, text, len + 1);
  len = epcal__footnotes_cut(buf, len);
  while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) {
    len--;
  }
  buf[len] = '\0';
  char *open = len > 0 && buf[len - 1] == ')' ? strrchr(buf, '(') : NULL;
  if (open != NULL && open > buf) {
    buf[len - 1] = '\0';
    *open = '\0';
    parsed q = *p;
    epcal_date a, b;
    form_result r = parse_one(text, buf, p, &a, st, err);
    if (r != FORM_OK || *st != EPCAL_OK) {
      return r == FORM_OK ? r : FORM_NOMATCH;
    }
    r = parse_one(text, open + 1, &q, &b, st, err);
    if (r != FORM_OK || *st != EPCAL_OK) {
      return r == FORM_OK ? r : FORM_NOMATCH;
    }
    if (epcal__date_cmp(a, b) != 0) {
      char left[DATE_TEXT_MAX];
      snprintf(left, sizeof left, "%s", buf);
      size_t ll = strlen(left);
      while (ll > 0 && (left[ll - 1] == ' ' || left[ll - 1] == '\t')) {
        left[--ll] = '\0';
      }
      *st = epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                        "date \"%s\": \"%s\" and \"%s\" are different days",
                        text, left, open + 1);
      return FORM_OK;
    }
    *out = a;
    return FORM_OK;
  }
  return parse_one(text, buf, p, out, st, err);
}

/* Reads text with the user's format. True when the format reads all of it
 * (*st then says whether it is a real date). */
static bool parse_with_format(const char *text, const char *format,
                              epcal_date *out, epcal_status *st,
                              epcal_error *err) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(text, format, &tm);
  if (end == NULL) {
    return false;
  }
  scan s = {end};
  if (!at_end(&s)) {
    return false;
  }
  *st = check_date(text, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, out,
                   err);
  return true;
}

epcal_status epcal_date_parse(const char *text, const char *format,
                              epcal_date *out, epcal_error *err) {
  epcal_status st;
  epcal_date d;
  /* The user's format first: it settles what the built-in forms would
   * call ambiguous. The built-in forms still read the rest, so one sheet
   * may mix "January 17, 2025", "2025-01-24" and "01/31/2025". */
  if (format != NULL && parse_with_format(text, format, &d, &st, err)) {
    if (st == EPCAL_OK) {
      *out = d;
    }
    return st;
  }
  parsed p;
  memset(&p, 0, sizeof p);
  /* Nearly every date is already ISO: read it without the copies the
   * other forms need. */
  if (parse_ymd(text, &p) == FORM_OK) {
    return check_date(text, p.y, p.m, p.d, out, err);
  }
  switch (parse_builtin(text, &p, &d, &st, err)) {
  case FORM_OK:
    if (st == EPCAL_OK) {
      *out = d;
    }
    return st;
  case FORM_AMBIGUOUS:
    if (format != NULL) {
      return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                         "ambiguous date \"%s\" (day/month or month/day?) "
                         "does not match --date-format \"%s\"",
                         text, format);
    }
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "ambiguous date \"%s\" (day/month or month/day?); "
                       "use YYYY-MM-DD or --date-format",
                       text);
  case FORM_TWO_DIGIT:
    if (format != NULL) {
      return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                         "date \"%s\" has a two-digit year and does not "
                         "match --date-format \"%s\" (%s would read it)",
                         text, format, p.hint);
    }
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" has a two-digit year, which is never "
                       "guessed; use --date-format %s",
                       text, p.hint);
  case FORM_NOMATCH:
    break;
  }
  if (format != NULL) {
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                       "date \"%s\" matches neither --date-format \"%s\" "
                       "nor a built-in form such as YYYY-MM-DD or \"March "
                       "3, 2022\"",
                       text, format);
  }
  return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0,
                     "unrecognised date \"%s\" (expected YYYY-MM-DD or "
                     "a form like \"March 3, 2022\")",
                     text);
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
