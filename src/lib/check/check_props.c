/*
 * check: what each content line says. The rules that look at the line as
 * written (text escaping, bare dates, DTSTAMP in UTC, a negative
 * DURATION), the fast path for the properties nearly every event holds in
 * plain forms, and libical's verdict on the rest, one line at a time so
 * that each of its errors keeps its line number, never more than one
 * content line (EPCAL__CONTENT_CAP octets) at once: its whole-feed parse
 * is quadratic in a line's length and holds the whole tree. Lines libical
 * 3.0.16 cannot parse although the RFCs allow them (RFC 9253 LINK,
 * RELATED-TO;VALUE=URI, an X- property with an empty value, ...) are not
 * given to it. Also the time arithmetic that compares an event's DTSTART
 * and DTEND as instants.
 */
#include "checker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

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
  icaltimezone *z = e->tzid_cut ? NULL : epcal__zones_find(&c->zones, e->tzid);
  if (z == NULL) {
    return T_UNKNOWN;
  }
  *out = epcal__zones_to_utc(z, e->t);
  return T_INSTANT;
}

void epcal__check_compare_times(checker *c, const event_time *start,
                                const event_time *end, unsigned long line,
                                bool at_end) {
  char a[128], b[128];
  time_text(start, a, sizeof a);
  time_text(end, b, sizeof b);
  if (start->t.is_date != end->t.is_date) {
    epcal__check_finding(
        c, line, "date-type", ERROR,
        "DTEND %s and DTSTART %s are not both dates or both date-times", b, a);
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
    epcal__check_finding(
        c, line, "end-before-start", ERROR,
        "DTEND %s is before DTSTART %s (calcurse drops the event)", b, a);
  } else if (cmp == 0) {
    epcal__check_finding(c, line, "end-before-start", ERROR,
                         "DTEND %s is not after DTSTART %s", b, a);
  }
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
    epcal__check_finding(c, line, "impossible-date", ERROR,
                         "%s %s is not a real calendar date",
                         start ? "DTSTART" : "DTEND", v);
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

void epcal__check_split(const char *text, raw_line *out) {
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

/* The parameter `param` is set to `value` (both case-insensitive). */
static bool has_param(const raw_line *r, const char *param, const char *value) {
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
  static const char *const names[] = {"LINK",
                                      "CONCEPT",
                                      "REFID",
                                      "STYLED-DESCRIPTION",
                                      "STRUCTURED-DATA",
                                      "PARTICIPANT-TYPE",
                                      "CALENDAR-ADDRESS",
                                      "LOCATION-TYPE",
                                      "RESOURCE-TYPE",
                                      "PROXIMITY",
                                      "TZID-ALIAS-OF",
                                      "TZUNTIL"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (epcal__check_name_is(r, names[i])) {
      return true;
    }
  }
  /* RFC 9253 3.1: RELATED-TO may hold a URI or an XML reference. */
  if (epcal__check_name_is(r, "RELATED-TO") &&
      (has_param(r, "VALUE", "URI") ||
       has_param(r, "VALUE", "XML-REFERENCE"))) {
    return true;
  }
  /* An X- property may have an empty value (RFC 5545 3.8.8.2). */
  if (r->upper[0] == 'X' && r->upper[1] == '-' && r->value != 0 &&
      r->text[r->value] == '\0') {
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
                                      "COMMENT", "CATEGORIES",  "RESOURCES",
                                      "CONTACT"};
  size_t k = 0;
  while (k < sizeof names / sizeof names[0] &&
         !epcal__check_name_is(r, names[k])) {
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
          epcal__check_finding(
              c, line, "invalid-escape", ERROR,
              "%s ends in a lone \"\\\" (RFC 5545 3.3.11; calcurse "
              "drops the event)",
              name);
        } else {
          epcal__check_finding(
              c, line, "invalid-escape", ERROR,
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
        epcal__check_finding(
            c, line, "unescaped-comma", ERROR,
            "unescaped \",\" in SUMMARY (RFC 5545 3.3.11: \"\\,\"; "
            "calcurse drops the event)");
      } else {
        epcal__check_finding(c, line, "unescaped-comma", FORMAT,
                             "unescaped \",\" in %s (RFC 5545 3.3.11: \"\\,\")",
                             name);
      }
    } else if (*s == ';' && !semicolon) {
      semicolon = true;
      epcal__check_finding(c, line, "unescaped-semicolon", ERROR,
                           "unescaped \";\" in %s (RFC 5545 3.3.11: \"\\;\"%s)",
                           name, k == 1 ? "; calcurse drops the event" : "");
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

const char *const epcal__check_once[EPCAL__ONCE_N] = {
    "UID",       "DTSTAMP",     "DTSTART",       "DTEND",         "CLASS",
    "CREATED",   "DESCRIPTION", "GEO",           "LAST-MODIFIED", "LOCATION",
    "ORGANIZER", "PRIORITY",    "SEQUENCE",      "STATUS",        "SUMMARY",
    "TRANSP",    "URL",         "RECURRENCE-ID", "DURATION"};

/* Remembers where a property allowed once in a VEVENT first repeats
 * (vobject rejects a feed that repeats one). */
static void once_only(checker *c, const raw_line *r, unsigned long line) {
  for (size_t i = 0; i < EPCAL__ONCE_N; i++) {
    if (epcal__check_name_is(r, epcal__check_once[i])) {
      uint32_t bit = (uint32_t)1 << i;
      if ((c->ev.once_seen & bit) == 0) {
        c->ev.once_seen |= bit;
      } else if (c->ev.once_repeat[i] == 0) {
        c->ev.once_repeat[i] = line;
      }
      return;
    }
  }
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
  once_only(c, r, line);
  if (epcal__check_name_is(r, "UID") && v[0] != '\0') {
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
  bool start = epcal__check_name_is(r, "DTSTART");
  if ((start || epcal__check_name_is(r, "DTEND") ||
       epcal__check_name_is(r, "RECURRENCE-ID")) &&
      strlen(v) == 8 && all_digits(v, 8) && !has_param(r, "VALUE", "DATE")) {
    epcal__check_finding(
        c, line, "bare-date", ERROR,
        "%.*s:%s is a date without VALUE=DATE (RFC 5545 3.3.4; ical.js "
        "throws, calcurse skips the event)",
        (int)r->name_len, r->text, v);
  } else if (epcal__check_name_is(r, "DTSTAMP")) {
    size_t n = strlen(v);
    if (n == 0 || (v[n - 1] != 'Z' && v[n - 1] != 'z')) {
      epcal__check_finding(
          c, line, "dtstamp-not-utc", ERROR,
          "DTSTAMP %.40s is not in UTC (RFC 5545 3.8.7.2: it ends in Z)", v);
    }
  } else if (epcal__check_name_is(r, "DURATION") && v[0] == '-') {
    epcal__check_finding(
        c, line, "negative-duration", ERROR,
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
  static const char *const text[] = {"SUMMARY", "DESCRIPTION", "LOCATION",
                                     "COMMENT", "UID",         "CATEGORIES",
                                     "CONTACT", "URL",         NULL};
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
void epcal__check_property(checker *c, unsigned long line, char *text) {
  if (c->parser == NULL) {
    return; /* out of memory: reported when the scan ends */
  }
  const char *top = c->overflow > 0 ? "" : c->stack[c->depth - 1];
  bool in_event = strcmp(top, "VEVENT") == 0;
  raw_line r;
  epcal__check_split(text, &r);
  /* RFC 5545 3.1: a name is letters, digits and '-'. Anything else (a bare
   * CR inside "END\r\r:VEVENT", a space) is judged here: libical 3.0.16
   * mis-parses such lines and leaks what it built of them. */
  bool name_ok = r.name_len > 0;
  for (size_t i = 0; i < r.name_len && name_ok; i++) {
    char ch = text[i];
    name_ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-';
  }
  if (!name_ok) {
    epcal__check_finding(c, line, "invalid-name", ERROR,
                         "the property name is not letters, digits and '-' "
                         "(RFC 5545 3.1): clients drop the line or the "
                         "feed");
    return;
  }
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
    epcal__check_finding(c, line, "libical", ERROR,
                         "libical could not parse this line");
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
      epcal__check_finding(c, line, "libical", ERROR, "libical: %.400s",
                           msg != NULL ? msg : "parse error");
    } else if (c->overflow > 0) {
      continue;
    }
    /* Any TZID needs its VTIMEZONE (DTSTART and DTEND count theirs when
     * the event takes them). */
    icalparameter *tz =
        icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    if (tz != NULL && icalparameter_get_tzid(tz) != NULL &&
        !(in_event &&
          (kind == ICAL_DTSTART_PROPERTY || kind == ICAL_DTEND_PROPERTY))) {
      epcal__zones_use(&c->zones, icalparameter_get_tzid(tz), line, NULL,
                       &c->nomem);
    }
    if (in_event) {
      event_property(c, p, line);
    } else if (c->depth == 1 && kind == ICAL_VERSION_PROPERTY) {
      c->has_version = true;
      const char *v = icalproperty_get_version(p);
      if (v == NULL || strcmp(v, "2.0") != 0) {
        epcal__check_finding(c, line, "version", ERROR,
                             "VERSION is \"%.40s\", not 2.0",
                             v != NULL ? v : "");
      }
    } else if (c->depth == 1 && kind == ICAL_PRODID_PROPERTY) {
      c->has_prodid = true;
    }
  }
  icalcomponent_free(root);
}
