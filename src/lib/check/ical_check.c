/*
 * check, part two: content lines -> the iCalendar verdict, as a stream.
 *
 * Structure (BEGIN/END, one VCALENDAR with VERSION and PRODID) and the
 * rules calendar apps rely on (every VEVENT has UID, DTSTAMP and DTSTART;
 * UIDs are unique; DTEND is after DTSTART as an instant) are judged here on
 * the content lines that check_lines.c unfolds, so every finding has a line
 * number. Nothing of the feed is kept but the content line at hand, the
 * event being read (a few fields), the VTIMEZONEs, and 16 bytes per UID.
 *
 * libical is the judge of each property: every content line is parsed on
 * its own (wrapped in a VCALENDAR), and the X-LIC-ERROR properties libical
 * inserts instead of failing (3.0.x never fails a parse) are reported on
 * that line. Handing it one line rather than one event keeps the line
 * number of each error, and never gives it more than one content line
 * (EPCAL__CONTENT_CAP octets) at once: its whole-feed parse is quadratic in
 * a line's length and holds the whole tree. Lines libical 3.0.16 cannot
 * parse although the RFCs allow them (RFC 9253 LINK, RELATED-TO;VALUE=URI,
 * an X- property with an empty value, ...) are not given to it; nor is
 * BEGIN or END with parameters, which libical cannot parse and on which it
 * leaked.
 *
 * Time zones: a regular file is read twice, first for its VTIMEZONEs (epcal
 * and others write them after the events), so every TZID resolves through
 * the feed's own definition. A pipe cannot be read again: there a TZID
 * resolves through the VTIMEZONEs seen so far, then the system's zoneinfo,
 * and an event whose zone is known by neither yet is compared at the end
 * (a few dozen bytes each, at most EPCAL__DEFER_MAX events).
 */
#define _GNU_SOURCE /* memmem */
#include "check_lines.h"
#include "check_zones.h"
#include "error.h"
#include "keytab.h"

#include <libical/ical.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 32
#define NAME_CAP 64
/* A feed names itself in its first bytes; anything else is not one. */
#define SNIFF_BYTES 4096
#define CHUNK_BYTES (256 * 1024)
#define EPCAL__DEFER_MAX 16384

/* One end of an event: DTSTART or DTEND as written. */
typedef struct event_time {
  bool ok; /* a real date or date-time, seen once */
  struct icaltimetype t;
  char tzid[64]; /* "" when none (UTC or floating); longer ones cut */
  bool tzid_cut;
} event_time;

/* What the event checks need of the VEVENT being read. */
typedef struct event_state {
  bool active;
  unsigned long begin_line;
  uint64_t uid_hash; /* of UID and RECURRENCE-ID */
  char uid[208];     /* for the message, cut */
  bool has_uid;
  unsigned long uid_line;
  char *recurrence_id; /* owned: a UID may repeat with a RECURRENCE-ID */
  unsigned n_uid, n_dtstamp, n_start, n_end; /* each at most once */
  unsigned long repeat_line[4];              /* where each first repeated */
  bool has_duration;
  event_time start, end;
  unsigned long end_line;
} event_state;

/* A comparison waiting for a zone a pipe has not defined yet. */
typedef struct deferred {
  event_time start, end;
  unsigned long line;
} deferred;

/* The first line a UID (+ RECURRENCE-ID) was seen on, by its hash. */
typedef struct uid_record {
  uint64_t key;
  uint64_t line;
} uid_record;

typedef struct checker {
  const char *name;
  epcal_finding_fn finding;
  void *ctx;
  epcal_check_stats stats;
  bool nomem;
  icalparser *parser;
  /* Open components, outermost first. */
  char stack[MAX_DEPTH][NAME_CAP];
  unsigned long stack_line[MAX_DEPTH];
  size_t depth;
  size_t overflow; /* components nested deeper than MAX_DEPTH */
  unsigned long calendars;
  bool calendar_done; /* the first VCALENDAR ended */
  bool saw_outside;   /* reported a line outside the calendar */
  bool has_version;
  bool has_prodid;
  event_state ev;
  epcal__keytab uids;
  epcal__zones zones;
  bool zones_first; /* the VTIMEZONEs were collected before this pass */
  deferred *defer;
  size_t n_defer;
  size_t defer_cap;
  unsigned long defer_dropped;
} checker;

static void finding(checker *c, unsigned long line, const char *rule,
                    epcal_check_severity sev, const char *fmt, ...)
    EPCAL__PRINTF(5, 6);

static void finding(checker *c, unsigned long line, const char *rule,
                    epcal_check_severity sev, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->stats.problems++;
  if (sev == EPCAL_CHECK_ERROR) {
    c->stats.errors++;
  }
  if (c->finding != NULL) {
    epcal_finding f = {c->name, line, rule, sev, msg};
    c->finding(c->ctx, &f);
  }
}

#define ERROR EPCAL_CHECK_ERROR
#define FORMAT EPCAL_CHECK_FORMAT

static void report_line(void *ctx, unsigned long line, const char *rule,
                        epcal_check_severity sev, const char *msg) {
  finding(ctx, line, rule, sev, "%s", msg);
}

/* ---------------------------------------------------------------- times */

/* A date libical accepted but the calendar does not have (20220230). */
static bool real_date(struct icaltimetype t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= icaltime_days_in_month(t.month, t.year);
}

/* "20220303T200000Z", "20220303T200000 (Europe/London)", "20220303". */
static void time_text(const event_time *e, char *buf, size_t cap) {
  char *s = icaltime_as_ical_string_r(e->t);
  if (e->tzid[0] != '\0') {
    snprintf(buf, cap, "%s (%s%s)", s != NULL ? s : "?", e->tzid,
             e->tzid_cut ? "..." : "");
  } else {
    snprintf(buf, cap, "%s", s != NULL ? s : "?");
  }
  free(s);
}

typedef enum { T_DATE, T_FLOATING, T_INSTANT, T_UNKNOWN } time_kind;

/* Seconds since the epoch of a date-time, its zone resolved now. */
static time_kind instant(checker *c, const event_time *e, int64_t *out) {
  if (e->t.is_date) {
    return T_DATE;
  }
  if (icaltime_is_utc(e->t)) {
    *out = (int64_t)icaltime_as_timet(e->t);
    return T_INSTANT;
  }
  if (e->tzid[0] == '\0') {
    return T_FLOATING;
  }
  /* libical expands a zone's rules from 1970 up to the year asked for:
   * years no feed means are not worth the wait. */
  if (e->t.year < 1800 || e->t.year > 2400) {
    return T_UNKNOWN;
  }
  icaltimezone *z =
      e->tzid_cut ? NULL : epcal__zones_find(&c->zones, e->tzid);
  if (z == NULL) {
    return T_UNKNOWN;
  }
  *out = epcal__zones_to_utc(z, e->t);
  return T_INSTANT;
}

static void compare_times(checker *c, const event_time *start,
                          const event_time *end, unsigned long line,
                          bool at_end) {
  char a[128], b[128];
  time_text(start, a, sizeof a);
  time_text(end, b, sizeof b);
  if (start->t.is_date != end->t.is_date) {
    finding(c, line, "date-type", ERROR,
            "DTEND %s and DTSTART %s are not both dates or both date-times",
            b, a);
    return;
  }
  int64_t s = 0, e = 0;
  time_kind ks = instant(c, start, &s);
  time_kind ke = instant(c, end, &e);
  int cmp;
  if (ks == T_INSTANT && ke == T_INSTANT) {
    cmp = s < e ? -1 : s > e ? 1 : 0;
  } else if ((ks == T_DATE && ke == T_DATE) ||
             (ks == T_FLOATING && ke == T_FLOATING)) {
    cmp = icaltime_compare(start->t, end->t);
  } else if (!at_end && !c->zones_first &&
             (ks == T_UNKNOWN || ke == T_UNKNOWN)) {
    /* A pipe may define the zone later: compare then. */
    if (c->n_defer == EPCAL__DEFER_MAX) {
      c->defer_dropped++;
      return;
    }
    if (c->n_defer == c->defer_cap) {
      size_t cap = c->defer_cap == 0 ? 64 : c->defer_cap * 2;
      deferred *p = realloc(c->defer, cap * sizeof *p);
      if (p == NULL) {
        c->nomem = true;
        return;
      }
      c->defer = p;
      c->defer_cap = cap;
    }
    c->defer[c->n_defer++] = (deferred){*start, *end, line};
    return;
  } else {
    return; /* floating against zoned, or a zone known nowhere */
  }
  if (cmp > 0) {
    finding(c, line, "end-before-start", ERROR,
            "DTEND %s is before DTSTART %s (calcurse drops the event)", b, a);
  } else if (cmp == 0) {
    finding(c, line, "end-before-start", ERROR,
            "DTEND %s is not after DTSTART %s", b, a);
  }
}

/* ------------------------------------------------------------- UID table */

static void event_reset(event_state *ev) {
  free(ev->recurrence_id);
  memset(ev, 0, sizeof *ev);
}

static void event_end(checker *c) {
  event_state *ev = &c->ev;
  c->stats.events++;
  if (!ev->has_uid) {
    finding(c, ev->begin_line, "missing-uid", ERROR, "VEVENT has no UID");
  } else {
    uint64_t key = ev->uid_hash;
    if (ev->recurrence_id != NULL) {
      key ^= epcal__hash64(ev->recurrence_id, strlen(ev->recurrence_id)) *
             0x9E3779B97F4A7C15ULL;
    }
    key |= key == 0; /* 0 marks an empty slot */
    bool added;
    uid_record *r = epcal__keytab_put(&c->uids, key, &added);
    if (r == NULL) {
      c->nomem = true;
    } else if (added) {
      r->line = ev->uid_line;
    } else {
      finding(c, ev->uid_line, "duplicate-uid", ERROR,
              "duplicate UID \"%s\" (first on line %lu)", ev->uid,
              (unsigned long)r->line);
    }
  }
  if (ev->n_dtstamp == 0) {
    finding(c, ev->begin_line, "missing-dtstamp", ERROR,
            "VEVENT has no DTSTAMP");
  }
  if (ev->n_start == 0) {
    finding(c, ev->begin_line, "missing-dtstart", ERROR,
            "VEVENT has no DTSTART");
  }
  static const char *const once[4] = {"UID", "DTSTAMP", "DTSTART", "DTEND"};
  for (size_t i = 0; i < 4; i++) {
    if (ev->repeat_line[i] != 0) {
      finding(c, ev->repeat_line[i], "repeated-property", ERROR,
              "a second %s in one VEVENT", once[i]);
    }
  }
  if (ev->n_end > 0 && ev->has_duration) {
    finding(c, ev->end_line, "dtend-and-duration", ERROR,
            "VEVENT has both DTEND and DURATION");
  }
  if (ev->start.ok && ev->end.ok) {
    compare_times(c, &ev->start, &ev->end, ev->end_line, false);
  }
  event_reset(ev);
}

/* Counts a property that may occur once; remembers where it first
 * repeated. */
static void count_once(unsigned *n, unsigned long *repeat_line,
                       unsigned long line) {
  *n += 1;
  if (*n == 2) {
    *repeat_line = line;
  }
}

/* Takes DTSTART or DTEND, parsed by libical or by the fast path. */
static void take_time_value(checker *c, bool start, struct icaltimetype t,
                            const char *tzid, unsigned long line) {
  event_state *ev = &c->ev;
  if (start) {
    count_once(&ev->n_start, &ev->repeat_line[2], line);
  } else {
    count_once(&ev->n_end, &ev->repeat_line[3], line);
    ev->end_line = line;
  }
  if (icaltime_is_null_time(t)) {
    return; /* libical already reported the value */
  }
  event_time e;
  memset(&e, 0, sizeof e);
  e.t = t;
  if (!real_date(t)) {
    char v[128];
    time_text(&e, v, sizeof v);
    finding(c, line, "impossible-date", ERROR,
            "%s %s is not a real calendar date", start ? "DTSTART" : "DTEND",
            v);
    return;
  }
  if (tzid != NULL && !icaltime_is_utc(t) && !t.is_date) {
    size_t n = strlen(tzid);
    e.tzid_cut = n >= sizeof e.tzid;
    snprintf(e.tzid, sizeof e.tzid, "%s", tzid);
    epcal__zones_use(&c->zones, tzid, line, NULL, &c->nomem);
  }
  e.ok = (start ? ev->n_start : ev->n_end) == 1;
  if (start) {
    ev->start = e;
  } else {
    ev->end = e;
  }
}

static void take_time(checker *c, icalproperty *p, bool start,
                      unsigned long line) {
  struct icaltimetype t =
      start ? icalproperty_get_dtstart(p) : icalproperty_get_dtend(p);
  icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
  take_time_value(c, start, t, tz != NULL ? icalparameter_get_tzid(tz) : NULL,
                  line);
}

/* Takes what the event checks need from one parsed property. */
static void event_property(checker *c, icalproperty *p, unsigned long line) {
  event_state *ev = &c->ev;
  switch (icalproperty_isa(p)) {
  case ICAL_RECURRENCEID_PROPERTY: {
    char *v = icalproperty_get_value_as_string_r(p);
    free(ev->recurrence_id);
    ev->recurrence_id = v;
    break;
  }
  case ICAL_DTSTAMP_PROPERTY:
    count_once(&ev->n_dtstamp, &ev->repeat_line[1], line);
    break;
  case ICAL_DURATION_PROPERTY:
    ev->has_duration = true;
    break;
  case ICAL_DTSTART_PROPERTY:
    take_time(c, p, true, line);
    break;
  case ICAL_DTEND_PROPERTY:
    take_time(c, p, false, line);
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------ raw content line */

/* A content line's parts: NAME, the parameters after it, the value. */
typedef struct raw_line {
  const char *text;
  size_t name_len;
  size_t value;         /* offset of the value, after the ':'; 0 when none */
  char upper[NAME_CAP]; /* the name in upper case ("" when longer) */
} raw_line;

static void split_line(const char *text, raw_line *out) {
  raw_line r;
  r.text = text;
  r.name_len = strcspn(text, ";:");
  r.value = 0;
  r.upper[0] = '\0';
  if (r.name_len < NAME_CAP) {
    for (size_t i = 0; i < r.name_len; i++) {
      char ch = text[i];
      r.upper[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    r.upper[r.name_len] = '\0';
  }
  bool quoted = false;
  for (size_t i = r.name_len; text[i] != '\0'; i++) {
    if (text[i] == '"') {
      quoted = !quoted;
    } else if (text[i] == ':' && !quoted) {
      r.value = i + 1;
      break;
    }
  }
  *out = r;
}

/* (The first letters are compared first: most lines differ there, and
 * every line is compared with a few dozen names.) */
static bool name_is(const raw_line *r, const char *name) {
  return r->upper[0] == name[0] && strcmp(r->upper, name) == 0;
}

/* The parameter `param` is set to `value` (both case-insensitive). */
static bool has_param(const raw_line *r, const char *param,
                      const char *value) {
  size_t end = r->value != 0 ? r->value - 1 : strlen(r->text);
  size_t pn = strlen(param), vn = strlen(value);
  for (size_t i = r->name_len; i + pn + vn + 2 <= end; i++) {
    if (r->text[i] == ';' && strncasecmp(r->text + i + 1, param, pn) == 0 &&
        r->text[i + 1 + pn] == '=' &&
        strncasecmp(r->text + i + 2 + pn, value, vn) == 0) {
      char next = r->text[i + 2 + pn + vn];
      if (next == ';' || next == ':' || next == ',') {
        return true;
      }
    }
  }
  return false;
}

/*
 * Properties the RFCs define and calendar apps write that libical 3.0.16
 * rejects as "Parse error in property name": RFC 9253 (LINK, CONCEPT,
 * REFID), RFC 9073 (STYLED-DESCRIPTION, STRUCTURED-DATA and the properties
 * of its new components), RFC 7808 TZ-info. They are accepted unparsed.
 */
static bool libical_cannot_parse(const raw_line *r) {
  static const char *const names[] = {
      "LINK",          "CONCEPT",           "REFID",
      "STYLED-DESCRIPTION", "STRUCTURED-DATA", "PARTICIPANT-TYPE",
      "CALENDAR-ADDRESS",   "LOCATION-TYPE",   "RESOURCE-TYPE",
      "PROXIMITY",     "TZID-ALIAS-OF",     "TZUNTIL"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (name_is(r, names[i])) {
      return true;
    }
  }
  /* RFC 9253 3.1: RELATED-TO may hold a URI or an XML reference. */
  if (name_is(r, "RELATED-TO") && (has_param(r, "VALUE", "URI") ||
                                   has_param(r, "VALUE", "XML-REFERENCE"))) {
    return true;
  }
  /* An X- property may have an empty value (RFC 5545 3.8.8.2). */
  if (r->upper[0] == 'X' && r->upper[1] == '-' &&
      r->value != 0 && r->text[r->value] == '\0') {
    return true;
  }
  return false;
}

/* RFC 5545 3.3.11: in TEXT, "\\", "\;", "\," and "\n" are the escapes, and
 * ";" and "," must be escaped. calcurse drops an event whose SUMMARY holds
 * a bare ",", whose DESCRIPTION holds a bare ";", or whose text holds an
 * escape it does not know. */
static void text_value(checker *c, const raw_line *r, unsigned long line) {
  static const char *const names[] = {"SUMMARY", "DESCRIPTION", "LOCATION",
                                      "COMMENT", "CATEGORIES", "RESOURCES",
                                      "CONTACT"};
  size_t k = 0;
  while (k < sizeof names / sizeof names[0] && !name_is(r, names[k])) {
    k++;
  }
  if (k == sizeof names / sizeof names[0] || r->value == 0) {
    return;
  }
  const char *name = names[k];
  bool list = k == 4 || k == 5; /* CATEGORIES, RESOURCES: "," separates */
  bool comma = false, semicolon = false, escape = false;
  for (const char *s = r->text + r->value; *s != '\0'; s++) {
    if (*s == '\\') {
      char e = s[1];
      if (e == '\\' || e == ';' || e == ',' || e == 'n' || e == 'N') {
        s++;
      } else if (!escape) {
        escape = true;
        if (e == '\0') {
          finding(c, line, "invalid-escape", ERROR,
                  "%s ends in a lone \"\\\" (RFC 5545 3.3.11; calcurse "
                  "drops the event)",
                  name);
        } else {
          finding(c, line, "invalid-escape", ERROR,
                  "invalid escape \"\\%c\" in %s (RFC 5545 3.3.11 allows "
                  "\\\\ \\; \\, \\n; calcurse drops the event)",
                  e, name);
        }
      }
      if (s[0] == '\0' || (s[0] == '\\' && s[1] == '\0')) {
        break;
      }
    } else if (*s == ',' && !list && !comma) {
      comma = true;
      if (k == 0) {
        finding(c, line, "unescaped-comma", ERROR,
                "unescaped \",\" in SUMMARY (RFC 5545 3.3.11: \"\\,\"; "
                "calcurse drops the event)");
      } else {
        finding(c, line, "unescaped-comma", FORMAT,
                "unescaped \",\" in %s (RFC 5545 3.3.11: \"\\,\")", name);
      }
    } else if (*s == ';' && !semicolon) {
      semicolon = true;
      finding(c, line, "unescaped-semicolon", ERROR,
              "unescaped \";\" in %s (RFC 5545 3.3.11: \"\\;\"%s)", name,
              k == 1 ? "; calcurse drops the event" : "");
    }
  }
}

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

/* The rules that look at the line as written, before libical reads it. */
static void raw_rules(checker *c, const raw_line *r, unsigned long line,
                      bool in_event) {
  if (r->value == 0) {
    return;
  }
  const char *v = r->text + r->value;
  text_value(c, r, line);
  if (!in_event) {
    return;
  }
  if (name_is(r, "UID") && v[0] != '\0') {
    /* By the text as written: the fast path and libical's path agree. */
    event_state *ev = &c->ev;
    count_once(&ev->n_uid, &ev->repeat_line[0], line);
    if (!ev->has_uid) {
      ev->has_uid = true;
      ev->uid_hash = epcal__hash64(v, strlen(v));
      size_t n = strlen(v);
      n = n < 200 ? n : 200;
      memcpy(ev->uid, v, n);
      ev->uid[n] = '\0';
      ev->uid_line = line;
    }
    return;
  }
  bool start = name_is(r, "DTSTART");
  if ((start || name_is(r, "DTEND") || name_is(r, "RECURRENCE-ID")) &&
      strlen(v) == 8 && all_digits(v, 8) && !has_param(r, "VALUE", "DATE")) {
    finding(c, line, "bare-date", ERROR,
            "%.*s:%s is a date without VALUE=DATE (RFC 5545 3.3.4; ical.js "
            "throws, calcurse skips the event)",
            (int)r->name_len, r->text, v);
  } else if (name_is(r, "DTSTAMP")) {
    size_t n = strlen(v);
    if (n == 0 || (v[n - 1] != 'Z' && v[n - 1] != 'z')) {
      finding(c, line, "dtstamp-not-utc", ERROR,
              "DTSTAMP %.40s is not in UTC (RFC 5545 3.8.7.2: it ends in Z)",
              v);
    }
  } else if (name_is(r, "DURATION") && v[0] == '-') {
    finding(c, line, "negative-duration", ERROR,
            "DURATION %.40s is negative: the event would end before it "
            "starts",
            v);
  }
}

/* ------------------------------------------------------------ fast path */

/* v[0, n) as a DATE (n == 8) or DATE-TIME (n == 15, or 16 ending in Z),
 * accepted only when libical would accept it without a word. */
static bool fast_time(const char *v, size_t n, bool date,
                      struct icaltimetype *out) {
  if (date ? n != 8 : (n != 15 && !(n == 16 && v[15] == 'Z'))) {
    return false;
  }
  if (!all_digits(v, 8) || (!date && (v[8] != 'T' || !all_digits(v + 9, 6)))) {
    return false;
  }
  struct icaltimetype t = icaltime_null_time();
  t.year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 +
           (v[3] - '0');
  t.month = (v[4] - '0') * 10 + (v[5] - '0');
  t.day = (v[6] - '0') * 10 + (v[7] - '0');
  t.is_date = date;
  if (!date) {
    t.hour = (v[9] - '0') * 10 + (v[10] - '0');
    t.minute = (v[11] - '0') * 10 + (v[12] - '0');
    t.second = (v[13] - '0') * 10 + (v[14] - '0');
    if (t.hour > 23 || t.minute > 59 || t.second > 59) {
      return false;
    }
    if (n == 16) {
      t.zone = icaltimezone_get_utc_timezone();
    }
  }
  if (t.year < 1 || !real_date(t)) {
    return false;
  }
  *out = t;
  return true;
}

/* One of the upper-case `words`, NULL-terminated. */
static bool one_of_name(const char *name, const char *const *words) {
  for (; *words != NULL; words++) {
    if (name[0] == (*words)[0] && strcmp(name, *words) == 0) {
      return true;
    }
  }
  return false;
}

/* One of `words`, NULL-terminated, case-insensitively. */
static bool one_of(const char *v, const char *const *words) {
  for (; *words != NULL; words++) {
    if (strcasecmp(v, *words) == 0) {
      return true;
    }
  }
  return false;
}

/*
 * The properties nearly every event holds, in the forms libical accepts
 * without a word, judged without it: parsing each line with libical costs
 * ten times the rest of the check. Anything else (parameters other than
 * VALUE=DATE or a plain TZID on DTSTART/DTEND, an empty value, an unusual
 * form) returns false and goes to libical.
 */
static bool fast_line(checker *c, const raw_line *r, unsigned long line,
                      bool in_event) {
  static const char *const text[] = {"SUMMARY",  "DESCRIPTION", "LOCATION",
                                     "COMMENT",  "UID",         "CATEGORIES",
                                     "CONTACT",  "URL",         NULL};
  static const char *const stamps[] = {"DTSTAMP", "LAST-MODIFIED", "CREATED",
                                       NULL};
  static const char *const transp[] = {"OPAQUE", "TRANSPARENT", NULL};
  static const char *const status[] = {"TENTATIVE", "CONFIRMED", "CANCELLED",
                                       NULL};
  if (r->value == 0 || r->text[r->value] == '\0' || r->name_len >= NAME_CAP) {
    return false;
  }
  const char *v = r->text + r->value;
  size_t n = strlen(v);
  bool plain = r->value == r->name_len + 1;
  const char *name = r->upper;
  bool start = strcmp(name, "DTSTART") == 0;
  if (start || strcmp(name, "DTEND") == 0) {
    if (!in_event) {
      return false;
    }
    const char *params = r->text + r->name_len;
    size_t plen = r->value - 1 - r->name_len;
    char tzid[128];
    const char *zone = NULL;
    bool date = false;
    if (plen == 11 && strncasecmp(params, ";VALUE=DATE", 11) == 0) {
      date = true;
    } else if (plen > 6 && plen - 6 < sizeof tzid &&
               strncasecmp(params, ";TZID=", 6) == 0 &&
               memchr(params + 6, '"', plen - 6) == NULL &&
               memchr(params + 6, ';', plen - 6) == NULL) {
      memcpy(tzid, params + 6, plen - 6);
      tzid[plen - 6] = '\0';
      zone = tzid;
      if (v[n - 1] == 'Z') {
        return false; /* a TZID on a UTC time: libical judges */
      }
    } else if (!plain) {
      return false;
    }
    struct icaltimetype t;
    if (!fast_time(v, n, date, &t)) {
      return false;
    }
    take_time_value(c, start, t, zone, line);
    return true;
  }
  if (!plain) {
    return false;
  }
  if (one_of_name(name, text)) {
    return true; /* TEXT (and URI): libical objects only to an empty one */
  }
  if (name[0] == 'X' && name[1] == '-') {
    return true;
  }
  if (one_of_name(name, stamps)) {
    struct icaltimetype t;
    if (n != 16 || !fast_time(v, n, false, &t)) {
      return false;
    }
    if (in_event && strcmp(name, "DTSTAMP") == 0) {
      count_once(&c->ev.n_dtstamp, &c->ev.repeat_line[1], line);
    }
    return true;
  }
  if (strcmp(name, "SEQUENCE") == 0 || strcmp(name, "PRIORITY") == 0) {
    return n <= 9 && all_digits(v, n);
  }
  if (strcmp(name, "TRANSP") == 0) {
    return one_of(v, transp);
  }
  if (strcmp(name, "STATUS") == 0) {
    return one_of(v, status);
  }
  return false;
}

/* ------------------------------------------------------------ properties */

/* Parses one content line with libical, reports its X-LIC-ERRORs, and
 * feeds what the structure and event checks need. */
static void property_line(checker *c, unsigned long line, char *text) {
  if (c->parser == NULL) {
    return; /* out of memory: reported when the scan ends */
  }
  const char *top = c->overflow > 0 ? "" : c->stack[c->depth - 1];
  bool in_event = strcmp(top, "VEVENT") == 0;
  raw_line r;
  split_line(text, &r);
  raw_rules(c, &r, line, in_event);
  if (libical_cannot_parse(&r) || fast_line(c, &r, line, in_event)) {
    return;
  }
  char begin[] = "BEGIN:VCALENDAR";
  char end[] = "END:VCALENDAR";
  icalparser_add_line(c->parser, begin);
  icalparser_add_line(c->parser, text);
  icalcomponent *root = icalparser_add_line(c->parser, end);
  if (root == NULL) {
    /* The line left libical's parser inside a component of its own: start
     * over with a fresh one, so that the next line is judged on its own. */
    finding(c, line, "libical", ERROR, "libical could not parse this line");
    icalparser_free(c->parser);
    c->parser = icalparser_new();
    c->nomem |= c->parser == NULL;
    return;
  }
  for (icalproperty *p =
           icalcomponent_get_first_property(root, ICAL_ANY_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property(root, ICAL_ANY_PROPERTY)) {
    icalproperty_kind kind = icalproperty_isa(p);
    if (kind == ICAL_XLICERROR_PROPERTY) {
      const char *msg = icalproperty_get_xlicerror(p);
      finding(c, line, "libical", ERROR, "libical: %.400s",
              msg != NULL ? msg : "parse error");
    } else if (c->overflow > 0) {
      continue;
    }
    /* Any TZID needs its VTIMEZONE (DTSTART and DTEND count theirs when
     * the event takes them). */
    icalparameter *tz =
        icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    if (tz != NULL && icalparameter_get_tzid(tz) != NULL &&
        !(in_event && (kind == ICAL_DTSTART_PROPERTY ||
                       kind == ICAL_DTEND_PROPERTY))) {
      epcal__zones_use(&c->zones, icalparameter_get_tzid(tz), line, NULL,
                       &c->nomem);
    }
    if (in_event) {
      event_property(c, p, line);
    } else if (c->depth == 1 && kind == ICAL_VERSION_PROPERTY) {
      c->has_version = true;
      const char *v = icalproperty_get_version(p);
      if (v == NULL || strcmp(v, "2.0") != 0) {
        finding(c, line, "version", ERROR, "VERSION is \"%.40s\", not 2.0",
                v != NULL ? v : "");
      }
    } else if (c->depth == 1 && kind == ICAL_PRODID_PROPERTY) {
      c->has_prodid = true;
    }
  }
  icalcomponent_free(root);
}

/* ------------------------------------------------------------ structure */

static void begin_component(checker *c, unsigned long line, const char *name) {
  if (c->depth == 0) {
    if (strcasecmp(name, "VCALENDAR") != 0) {
      finding(c, line, "structure", ERROR, "BEGIN:%.64s outside a VCALENDAR",
              name);
    } else {
      c->calendars++;
      if (c->calendars > 1) {
        finding(c, line, "structure", ERROR,
                "a second VCALENDAR (a feed holds one)");
      }
    }
  }
  if (c->depth == MAX_DEPTH) {
    c->overflow++;
    if (c->overflow == 1) {
      finding(c, line, "structure", ERROR,
              "components nested more than %d deep", MAX_DEPTH);
    }
    return;
  }
  char *top = c->stack[c->depth];
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < NAME_CAP; i++) {
    char ch = name[i];
    top[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
  }
  top[i] = '\0';
  c->stack_line[c->depth] = line;
  c->depth++;
  if (c->depth == 1) {
    c->has_version = false;
    c->has_prodid = false;
  }
  if (c->depth == 2 && strcmp(c->stack[1], "VEVENT") == 0) {
    event_reset(&c->ev);
    c->ev.active = true;
    c->ev.begin_line = line;
  }
}

static void end_component(checker *c, unsigned long line, const char *name) {
  if (c->overflow > 0) {
    c->overflow--;
    return;
  }
  if (c->depth == 0) {
    finding(c, line, "structure", ERROR, "END:%.64s without a BEGIN", name);
    return;
  }
  const char *top = c->stack[c->depth - 1];
  if (strcasecmp(top, name) != 0) {
    finding(c, line, "structure", ERROR,
            "END:%.64s, but BEGIN:%s on line %lu is still open", name, top,
            c->stack_line[c->depth - 1]);
  }
  if (c->depth == 2 && c->ev.active) {
    event_end(c);
  }
  if (c->depth == 1) {
    if (!c->has_version) {
      finding(c, c->stack_line[0], "version", ERROR,
              "VCALENDAR has no VERSION");
    }
    if (!c->has_prodid) {
      finding(c, c->stack_line[0], "prodid", ERROR, "VCALENDAR has no PRODID");
    }
    c->calendar_done = true;
  }
  c->depth--;
}

static void content_line(void *ctx, unsigned long line, char *text,
                         size_t len, size_t full_len) {
  checker *c = ctx;
  if (!c->zones_first && !epcal__zones_collect(&c->zones, text, len)) {
    c->nomem = true;
  }
  raw_line r;
  split_line(text, &r);
  bool begin = name_is(&r, "BEGIN"), end = name_is(&r, "END");
  if (full_len > len) {
    finding(c, line, "content-line-too-long", ERROR,
            "content line of %zu octets (unfolded): over the %zu this check "
            "reads, so it was not checked",
            full_len, EPCAL__CONTENT_CAP);
    if (!begin && !end) {
      return;
    }
  }
  if ((begin || end) && (r.value == 0 || text[r.name_len] == ';')) {
    /* libical cannot parse it (and 3.0.16 leaks what it parsed of it):
     * judged here, and left out of the structure as libical leaves it. */
    if (r.value == 0) {
      finding(c, line, "structure", ERROR,
              "%s without \":\" and a component name (libical cannot parse "
              "this line)",
              begin ? "BEGIN" : "END");
    } else {
      finding(c, line, "structure", ERROR,
              "%s takes no parameters (libical cannot parse this line)",
              begin ? "BEGIN" : "END");
    }
    return;
  }
  if ((begin || end) && r.value != 0) {
    const char *comp = text + r.value;
    if (begin) {
      begin_component(c, line, comp);
    } else {
      end_component(c, line, comp);
    }
    return;
  }
  if (c->depth == 0) {
    if (!c->saw_outside) {
      c->saw_outside = true;
      finding(c, line, "structure", ERROR, "%s",
              c->calendar_done ? "content after END:VCALENDAR"
                               : "content before BEGIN:VCALENDAR");
    }
    return;
  }
  property_line(c, line, text);
}

/* What only the end of the feed tells: the TZIDs without a VTIMEZONE, and
 * the comparisons that waited for one. */
static void zones_verdict(checker *c) {
  for (size_t i = 0; i < c->zones.n_uses; i++) {
    const epcal__tzid_use *u = &c->zones.uses[i];
    if (epcal__zones_in_feed(&c->zones, u->tzid)) {
      continue;
    }
    char times[48] = "";
    if (u->uses > 1) {
      snprintf(times, sizeof times, ", used %lu times", u->uses);
    }
    if (icaltimezone_get_builtin_timezone(u->tzid) != NULL) {
      finding(c, u->first_line, "tzid-no-vtimezone", ERROR,
              "TZID \"%.100s\" has no VTIMEZONE in the feed (RFC 5545 "
              "3.2.19)%s",
              u->tzid, times);
    } else {
      finding(c, u->first_line, "tzid-unknown", ERROR,
              "TZID \"%.100s\" is defined nowhere: no VTIMEZONE in the feed, "
              "no such zone in the system's zoneinfo%s",
              u->tzid, times);
    }
  }
  for (size_t i = 0; i < c->n_defer; i++) {
    compare_times(c, &c->defer[i].start, &c->defer[i].end, c->defer[i].line,
                  true);
  }
  if (c->defer_dropped > 0) {
    finding(c, 0, "not-compared", ERROR,
            "%lu events read from a pipe were not compared: their zones "
            "came after %d others waiting for theirs",
            c->defer_dropped, EPCAL__DEFER_MAX);
  }
}

/* ---------------------------------------------------------------- input */

/* Reads up to `cap` bytes, fewer only at the end of the input. */
static ssize_t read_full(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n < cap) {
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return -1;
    }
    if (got == 0) {
      break;
    }
    n += (size_t)got;
  }
  return (ssize_t)n;
}

/* The first bytes name an iCalendar feed: BEGIN:VCALENDAR at the start of
 * a line, in any case. */
static bool looks_like_feed(const char *data, size_t len) {
  static const char word[] = "BEGIN:VCALENDAR";
  size_t n = sizeof word - 1;
  for (size_t i = 0; i + n <= len; i++) {
    if ((i == 0 || data[i - 1] == '\n' || data[i - 1] == '\r' ||
         (i == 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)) &&
        strncasecmp(data + i, word, n) == 0) {
      return true;
    }
  }
  return false;
}

static epcal_status not_a_feed(const char *name, size_t len,
                               epcal_error *err) {
  if (len == 0) {
    return epcal__fail(err, EPCAL_EDATA, name, 0, 0,
                       "not an iCalendar feed: the file is empty");
  }
  return epcal__fail(err, EPCAL_EDATA, name, 0, 0,
                     "not an iCalendar feed: no BEGIN:VCALENDAR in its "
                     "first %d bytes",
                     SNIFF_BYTES);
}

/* Where the bytes come from: memory, or a file descriptor read in chunks
 * after the first SNIFF_BYTES (already in `head`). */
typedef struct source {
  const char *data; /* memory: all of it */
  size_t len;
  int fd; /* -1 for memory */
  const char *head;
  size_t head_len;
  char *buf;
} source;

static void collect_zone_line(void *ctx, unsigned long line, char *text,
                              size_t len, size_t full_len) {
  checker *c = ctx;
  (void)line;
  if (full_len == len && !epcal__zones_collect(&c->zones, text, len)) {
    c->nomem = true;
  }
}

/* Pushes the whole source through a scanner. */
static epcal_status run_pass(checker *c, source *src, epcal__lines *scan,
                             epcal_error *err) {
  if (src->fd < 0) {
    if (!epcal__lines_feed(scan, src->data, src->len)) {
      c->nomem = true;
    }
    return EPCAL_OK;
  }
  if (!epcal__lines_feed(scan, src->head, src->head_len)) {
    c->nomem = true;
    return EPCAL_OK;
  }
  for (;;) {
    ssize_t got = read_full(src->fd, src->buf, CHUNK_BYTES);
    if (got < 0) {
      return epcal__fail(err, EPCAL_EIO, c->name, 0, 0, "cannot read: %s",
                         strerror(errno));
    }
    if (got == 0) {
      return EPCAL_OK;
    }
    if (!epcal__lines_feed(scan, src->buf, (size_t)got) || c->nomem) {
      c->nomem = true;
      return EPCAL_OK;
    }
  }
}

/* "TIMEZONE" in either case anywhere in data[0, n): all the first pass
 * looks for first, at the speed of memmem. */
static bool mentions_timezone(const char *data, size_t n) {
  return memmem(data, n, "TIMEZONE", 8) != NULL ||
         memmem(data, n, "timezone", 8) != NULL ||
         memmem(data, n, "Timezone", 8) != NULL;
}

/* Whether the source may hold a VTIMEZONE (a word cut by a chunk's end
 * is found across it); leaves a file where its head ends. */
static epcal_status source_mentions_timezone(checker *c, source *src,
                                             bool *found, epcal_error *err) {
  *found = false;
  if (src->fd < 0) {
    *found = mentions_timezone(src->data, src->len);
    return EPCAL_OK;
  }
  if (mentions_timezone(src->head, src->head_len)) {
    *found = true;
    return EPCAL_OK;
  }
  /* The last 7 octets of what came before, then the chunk. */
  size_t keep = src->head_len < 7 ? src->head_len : 7;
  memcpy(src->buf, src->head + src->head_len - keep, keep);
  for (;;) {
    ssize_t got = read_full(src->fd, src->buf + keep, CHUNK_BYTES - 7);
    if (got < 0) {
      return epcal__fail(err, EPCAL_EIO, c->name, 0, 0, "cannot read: %s",
                         strerror(errno));
    }
    if (got == 0) {
      break;
    }
    size_t n = keep + (size_t)got;
    if (mentions_timezone(src->buf, n)) {
      *found = true;
      break;
    }
    keep = n < 7 ? n : 7;
    memmove(src->buf, src->buf + n - keep, keep);
  }
  if (lseek(src->fd, (off_t)src->head_len, SEEK_SET) < 0) {
    return epcal__fail(err, EPCAL_EIO, c->name, 0, 0, "cannot seek: %s",
                       strerror(errno));
  }
  return EPCAL_OK;
}

/* The first pass of a regular file: its VTIMEZONEs, nothing else. Most
 * feeds of all-day events have none: then it is one memmem of the file. */
static epcal_status zones_pass(checker *c, source *src, epcal_error *err) {
  bool found;
  epcal_status st = source_mentions_timezone(c, src, &found, err);
  if (st != EPCAL_OK || !found) {
    c->zones_first = st == EPCAL_OK;
    return st;
  }
  epcal__lines *scan = epcal__lines_new(NULL, collect_zone_line, c);
  if (scan == NULL) {
    c->nomem = true;
    return EPCAL_OK;
  }
  st = run_pass(c, src, scan, err);
  if (st == EPCAL_OK) {
    epcal__lines_end(scan, NULL);
  }
  epcal__lines_free(scan);
  if (st == EPCAL_OK && src->fd >= 0 &&
      lseek(src->fd, (off_t)src->head_len, SEEK_SET) < 0) {
    return epcal__fail(err, EPCAL_EIO, c->name, 0, 0, "cannot seek: %s",
                       strerror(errno));
  }
  c->zones_first = true;
  return st;
}

static epcal_status check_source(const char *name, source *src, bool seekable,
                                 epcal_finding_fn finding_fn, void *ctx,
                                 epcal_check_stats *stats, epcal_error *err) {
  checker c;
  memset(&c, 0, sizeof c);
  c.name = name;
  c.finding = finding_fn;
  c.ctx = ctx;
  epcal__keytab_init(&c.uids, sizeof(uid_record));
  epcal__lines *scan = NULL;
  epcal_status st = EPCAL_OK;
  c.parser = icalparser_new();
  if (c.parser == NULL) {
    c.nomem = true;
    goto done;
  }
  if (seekable) {
    st = zones_pass(&c, src, err);
    if (st != EPCAL_OK || c.nomem) {
      goto done;
    }
  }
  scan = epcal__lines_new(report_line, content_line, &c);
  if (scan == NULL) {
    c.nomem = true;
    goto done;
  }
  st = run_pass(&c, src, scan, err);
  if (st != EPCAL_OK || c.nomem) {
    goto done;
  }
  epcal__lines_end(scan, &c.stats.lines);
  for (size_t i = c.depth; i > 0; i--) {
    finding(&c, c.stack_line[i - 1], "structure", ERROR,
            "BEGIN:%s is never closed", c.stack[i - 1]);
  }
  zones_verdict(&c);
  if (stats != NULL && !c.nomem) {
    *stats = c.stats;
  }

done:
  if (st == EPCAL_OK && c.nomem) {
    st = epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
  }
  epcal__lines_free(scan);
  event_reset(&c.ev);
  epcal__keytab_free(&c.uids);
  epcal__zones_free(&c.zones);
  free(c.defer);
  if (c.parser != NULL) {
    icalparser_free(c.parser);
  }
  return st;
}

epcal_status epcal_feed_check_mem(const char *name, const char *data,
                                  size_t len, epcal_finding_fn finding_fn,
                                  void *ctx, epcal_check_stats *stats,
                                  epcal_error *err) {
  name = name != NULL ? name : "-";
  if (!looks_like_feed(data, len < SNIFF_BYTES ? len : SNIFF_BYTES)) {
    return not_a_feed(name, len, err);
  }
  source src = {data, len, -1, NULL, 0, NULL};
  return check_source(name, &src, true, finding_fn, ctx, stats, err);
}

epcal_status epcal_feed_check(const char *path, epcal_finding_fn finding_fn,
                              void *ctx, epcal_check_stats *stats,
                              epcal_error *err) {
  bool is_stdin = path == NULL || strcmp(path, "-") == 0;
  const char *name = is_stdin ? "-" : path;
  int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot open: %s",
                       strerror(errno));
  }
  epcal_status st = EPCAL_OK;
  char *buf = malloc(CHUNK_BYTES);
  char head[SNIFF_BYTES];
  struct stat sb;
  if (buf == NULL) {
    st = epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
    goto done;
  }
  if (fstat(fd, &sb) != 0) {
    st = epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot read: %s",
                     strerror(errno));
    goto done;
  }
  if (S_ISDIR(sb.st_mode)) {
    st = epcal__fail(err, EPCAL_EIO, name, 0, 0,
                     "cannot read: Is a directory");
    goto done;
  }
  ssize_t got = read_full(fd, head, sizeof head);
  if (got < 0) {
    st = epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot read: %s",
                     strerror(errno));
    goto done;
  }
  if (!looks_like_feed(head, (size_t)got)) {
    st = not_a_feed(name, (size_t)got, err);
    goto done;
  }
  /* A regular file can be read again from where the head ends; a pipe
   * cannot (nor a file not opened at its start). */
  bool seekable = S_ISREG(sb.st_mode) &&
                  lseek(fd, 0, SEEK_CUR) == (off_t)got;
  source src = {NULL, 0, fd, head, (size_t)got, buf};
  st = check_source(name, &src, seekable, finding_fn, ctx, stats, err);

done:
  free(buf);
  if (!is_stdin) {
    close(fd);
  }
  return st;
}
