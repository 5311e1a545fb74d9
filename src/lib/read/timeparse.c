#include "timeparse.h"

#include <ctype.h>
#include <string.h>

/* Reads 1..max digits into *v; returns how many were read (0: none). */
static int digits(const char *s, int max, long *v) {
  int n = 0;
  long x = 0;
  while (n < max && isdigit((unsigned char)s[n])) {
    x = x * 10 + (s[n] - '0');
    n++;
  }
  *v = x;
  return n;
}

epcal__time_result epcal__time_parse(const char *s, int32_t *secs, bool *utc) {
  long h, m, sec = 0;
  int n = digits(s, 2, &h);
  if (n == 0 || s[n] != ':') {
    return EPCAL__TIME_SYNTAX;
  }
  s += n + 1;
  if (digits(s, 2, &m) != 2) {
    return EPCAL__TIME_SYNTAX;
  }
  s += 2;
  if (*s == ':') {
    if (digits(s + 1, 2, &sec) != 2) {
      return EPCAL__TIME_SYNTAX;
    }
    s += 3;
  }
  bool z = false;
  if (*s == 'Z' || *s == 'z') {
    z = true;
    s++;
  }
  if (*s != '\0') {
    return EPCAL__TIME_SYNTAX;
  }
  if (h > 23 || m > 59 || sec > 59) {
    return EPCAL__TIME_RANGE;
  }
  *secs = (int32_t)(h * 3600 + m * 60 + sec);
  *utc = z;
  return EPCAL__TIME_OK;
}

/* Reads "<digits><unit>" where unit is upper-cased `unit`; false if the
 * next thing is not exactly that. */
static bool component(const char **p, char unit, long *v) {
  int n = digits(*p, 9, v);
  if (n == 0 || toupper((unsigned char)(*p)[n]) != unit) {
    return false;
  }
  *p += n + 1;
  return true;
}

/* Peeks: does *p hold digits followed by `unit`? */
static bool next_is(const char *p, char unit) {
  while (isdigit((unsigned char)*p)) {
    p++;
  }
  return toupper((unsigned char)*p) == unit;
}

static bool time_part(const char **p, int64_t *total) {
  long v;
  bool any = false;
  if (next_is(*p, 'H')) {
    if (!component(p, 'H', &v)) {
      return false;
    }
    *total += (int64_t)v * 3600;
    any = true;
    if (**p == '\0') {
      return true;
    }
    /* dur-hour = 1*DIGIT "H" [dur-minute]: seconds need minutes first. */
    if (!next_is(*p, 'M')) {
      return false;
    }
  }
  if (next_is(*p, 'M')) {
    if (!component(p, 'M', &v)) {
      return false;
    }
    *total += (int64_t)v * 60;
    any = true;
    if (**p == '\0') {
      return true;
    }
    if (!next_is(*p, 'S')) {
      return false;
    }
  }
  if (next_is(*p, 'S')) {
    if (!component(p, 'S', &v)) {
      return false;
    }
    *total += v;
    any = true;
  }
  return any;
}

bool epcal__duration_parse(const char *s, int64_t *secs, char *canon,
                           size_t cap) {
  size_t len = strlen(s);
  if (len + 1 > cap) {
    return false;
  }
  const char *p = s;
  int sign = 1;
  if (*p == '+' || *p == '-') {
    sign = *p == '-' ? -1 : 1;
    p++;
  }
  if (toupper((unsigned char)*p) != 'P') {
    return false;
  }
  p++;
  int64_t total = 0;
  long v;
  if (toupper((unsigned char)*p) == 'T') {
    p++;
    if (!time_part(&p, &total)) {
      return false;
    }
  } else if (next_is(p, 'W')) {
    if (!component(&p, 'W', &v)) {
      return false;
    }
    total = (int64_t)v * 7 * 86400;
  } else {
    if (!component(&p, 'D', &v)) {
      return false;
    }
    total = (int64_t)v * 86400;
    if (toupper((unsigned char)*p) == 'T') {
      p++;
      if (!time_part(&p, &total)) {
        return false; /* "P1DT": a T must be followed by a time */
      }
    }
  }
  if (*p != '\0') {
    return false;
  }
  for (size_t i = 0; i <= len; i++) {
    canon[i] = (char)toupper((unsigned char)s[i]);
  }
  *secs = sign * total;
  return true;
}

int epcal_duration_parse(const char *text, int64_t *seconds) {
  char canon[64];
  int64_t secs;
  if (!epcal__duration_parse(text, &secs, canon, sizeof canon)) {
    return -1;
  }
  *seconds = secs;
  return 0;
}
