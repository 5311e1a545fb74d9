#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

epcal_date serve_local_date(int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  epcal_date d = {1970, 1, 1};
  if (localtime_r(&tt, &tm) != NULL) {
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
  }
  return d;
}

static const char wdays[7][4] = {"Thu", "Fri", "Sat", "Sun",
                                 "Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void serve_http_date_format(int64_t t, char out[30]) {
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  epcal_date d = epcal_date_from_days(days);
  int wd = (int)(((days % 7) + 7) % 7); /* 1970-01-01 was a Thursday */
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[wd],
           d.day, months[d.month - 1], d.year % 10000, (int)(secs / 3600),
           (int)(secs / 60 % 60), (int)(secs % 60));
  memcpy(out, tmp, 30);
  out[29] = '\0';
}

/* Reads exactly `n` digits. */
static bool digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return true;
}

static bool literal(const char **p, const char *lit) {
  size_t n = strlen(lit);
  if (strncmp(*p, lit, n) != 0) {
    return false;
  }
  *p += n;
  return true;
}

static bool month(const char **p, int *out) {
  for (int i = 0; i < 12; i++) {
    if (strncmp(*p, months[i], 3) == 0) {
      *p += 3;
      *out = i + 1;
      return true;
    }
  }
  return false;
}

static bool clock_time(const char **p, int *h, int *m, int *s) {
  return digits(p, 2, h) && literal(p, ":") && digits(p, 2, m) &&
         literal(p, ":") && digits(p, 2, s) && *h < 24 && *m < 60 && *s < 61;
}

bool serve_http_date_parse(const char *s, int64_t *out) {
  const char *comma = strchr(s, ',');
  const char *p;
  /* Zero: every path sets them before use, but not in a way every
   * compiler's flow analysis can see. */
  int day = 0, mon = 0, year = 0, h = 0, m = 0, sec = 0;
  bool ok;
  if (comma != NULL && comma - s == 3) {
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    p = comma + 1;
    ok = literal(&p, " ") && digits(&p, 2, &day) && literal(&p, " ") &&
         month(&p, &mon) && literal(&p, " ") && digits(&p, 4, &year) &&
         literal(&p, " ") && clock_time(&p, &h, &m, &sec) &&
         literal(&p, " GMT") && *p == '\0';
  } else if (comma != NULL) {
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are
     * read as 1970-2069, which is all an HTTP date can be here. */
    p = comma + 1;
    ok = literal(&p, " ") && digits(&p, 2, &day) && literal(&p, "-") &&
         month(&p, &mon) && literal(&p, "-") && digits(&p, 2, &year) &&
         literal(&p, " ") && clock_time(&p, &h, &m, &sec) &&
         literal(&p, " GMT") && *p == '\0';
    year += year < 70 ? 2000 : 1900;
  } else {
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    p = s + 3;
    ok = strlen(s) == 24 && literal(&p, " ") && month(&p, &mon) &&
         literal(&p, " ");
    if (ok && *p == ' ') {
      p++;
      ok = digits(&p, 1, &day);
    } else if (ok) {
      ok = digits(&p, 2, &day);
    }
    ok = ok && literal(&p, " ") && clock_time(&p, &h, &m, &sec) &&
         literal(&p, " ") && digits(&p, 4, &year) && *p == '\0';
  }
  if (!ok || day < 1 || day > 31) {
    return false;
  }
  epcal_date d = {year, mon, day};
  int64_t days = epcal_date_to_days(d);
  if (epcal_date_cmp(epcal_date_from_days(days), d) != 0) {
    return false; /* "31 Feb" */
  }
  *out = days * 86400 + h * 3600 + m * 60 + sec;
  return true;
}

int64_t serve_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
