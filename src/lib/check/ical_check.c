/*
 * check, part two: content lines -> the iCalendar verdict.
 *
 * Structure (BEGIN/END, one VCALENDAR with VERSION and PRODID) and the
 * rules calendar apps rely on (every VEVENT has UID, DTSTAMP and DTSTART;
 * UIDs are unique; DTEND is after DTSTART) are judged here on the content
 * lines that check_lines.c unfolded, so every problem has a line number.
 *
 * libical is the judge of each property: every content line is parsed on
 * its own (wrapped in a VCALENDAR), and the X-LIC-ERROR properties libical
 * inserts instead of failing (3.0.x never fails a parse) are reported on
 * that line. The parsed DTSTART/DTEND values are compared with libical's
 * own time arithmetic. A final whole-feed parse catches what libical only
 * sees in context.
 */
#include "check_lines.h"
#include "error.h"

#include <libical/ical.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 32
#define NAME_CAP 64
#define MAX_FEED_BYTES ((size_t)1 << 30)

/* Which event properties were seen, and where. */
typedef struct event_state {
  bool active;
  unsigned long begin_line;
  char *uid; /* owned */
  unsigned long uid_line;
  char *recurrence_id; /* owned: a UID may repeat with a RECURRENCE-ID */
  unsigned n_uid, n_dtstamp, n_start, n_end; /* each at most once */
  unsigned long repeat_line[4];              /* where each first repeated */
  bool has_duration;
  bool start_ok; /* a real date: comparable */
  struct icaltimetype start;
  bool end_ok;
  struct icaltimetype end;
  unsigned long end_line;
} event_state;

/* UID (+ RECURRENCE-ID) -> the line it was first seen on: open addressing,
 * doubled at half load. */
typedef struct uid_entry {
  char *key; /* owned; NULL: empty slot */
  unsigned long line;
} uid_entry;

typedef struct checker {
  const char *name;
  epcal_problem_fn problem;
  void *ctx;
  epcal_check_stats stats;
  bool nomem;
  icalparser *parser;
  unsigned long libical_errors;
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
  uid_entry *uids;
  size_t uids_cap;
  size_t uids_len;
} checker;

static void problem(checker *c, unsigned long line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void problem(checker *c, unsigned long line, const char *fmt, ...) {
  epcal_error e;
  memset(&e, 0, sizeof e);
  e.code = EPCAL_EDATA;
  snprintf(e.file, sizeof e.file, "%s", c->name);
  e.line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e.msg, sizeof e.msg, fmt, ap);
  va_end(ap);
  c->stats.problems++;
  if (c->problem != NULL) {
    c->problem(c->ctx, &e);
  }
}

static void report_line(void *ctx, unsigned long line, const char *msg) {
  problem(ctx, line, "%s", msg);
}

/* ------------------------------------------------------------- UID table */

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s != '\0'; s++) {
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  }
  return h;
}

static bool uids_grow(checker *c) {
  size_t cap = c->uids_cap == 0 ? 64 : c->uids_cap * 2;
  uid_entry *t = calloc(cap, sizeof *t);
  if (t == NULL) {
    return false;
  }
  for (size_t i = 0; i < c->uids_cap; i++) {
    if (c->uids[i].key != NULL) {
      size_t j = (size_t)hash(c->uids[i].key) & (cap - 1);
      while (t[j].key != NULL) {
        j = (j + 1) & (cap - 1);
      }
      t[j] = c->uids[i];
    }
  }
  free(c->uids);
  c->uids = t;
  c->uids_cap = cap;
  return true;
}

/* Records `key` first seen on `line`. Returns the earlier line when the key
 * was already there, else 0. Takes ownership of key. */
static unsigned long uids_add(checker *c, char *key, unsigned long line) {
  if ((c->uids_len + 1) * 2 > c->uids_cap && !uids_grow(c)) {
    c->nomem = true;
    free(key);
    return 0;
  }
  size_t j = (size_t)hash(key) & (c->uids_cap - 1);
  while (c->uids[j].key != NULL) {
    if (strcmp(c->uids[j].key, key) == 0) {
      free(key);
      return c->uids[j].line;
    }
    j = (j + 1) & (c->uids_cap - 1);
  }
  c->uids[j].key = key;
  c->uids[j].line = line;
  c->uids_len++;
  return 0;
}

static void uids_free(checker *c) {
  for (size_t i = 0; i < c->uids_cap; i++) {
    free(c->uids[i].key);
  }
  free(c->uids);
}

/* ---------------------------------------------------------------- events */

static void event_reset(event_state *ev) {
  free(ev->uid);
  free(ev->recurrence_id);
  memset(ev, 0, sizeof *ev);
}

/* A date libical accepted but the calendar does not have (20220230). */
static bool real_date(struct icaltimetype t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= icaltime_days_in_month(t.month, t.year);
}

static void time_text(struct icaltimetype t, char *buf, size_t cap) {
  char *s = icaltime_as_ical_string_r(t);
  snprintf(buf, cap, "%s", s != NULL ? s : "?");
  free(s);
}

static void event_end(checker *c) {
  event_state *ev = &c->ev;
  c->stats.events++;
  if (ev->uid == NULL) {
    problem(c, ev->begin_line, "VEVENT has no UID");
  } else {
    size_t n = strlen(ev->uid) + 2 +
               (ev->recurrence_id != NULL ? strlen(ev->recurrence_id) : 0);
    char *key = malloc(n);
    if (key == NULL) {
      c->nomem = true;
    } else {
      snprintf(key, n, "%s\n%s", ev->uid,
               ev->recurrence_id != NULL ? ev->recurrence_id : "");
      unsigned long first = uids_add(c, key, ev->uid_line);
      if (first != 0) {
        problem(c, ev->uid_line, "duplicate UID \"%.200s\" (first on line %lu)",
                ev->uid, first);
      }
    }
  }
  if (ev->n_dtstamp == 0) {
    problem(c, ev->begin_line, "VEVENT has no DTSTAMP");
  }
  if (ev->n_start == 0) {
    problem(c, ev->begin_line, "VEVENT has no DTSTART");
  }
  static const char *const once[4] = {"UID", "DTSTAMP", "DTSTART", "DTEND"};
  for (size_t i = 0; i < 4; i++) {
    if (ev->repeat_line[i] != 0) {
      problem(c, ev->repeat_line[i], "a second %s in one VEVENT", once[i]);
    }
  }
  if (ev->n_end > 0 && ev->has_duration) {
    problem(c, ev->end_line, "VEVENT has both DTEND and DURATION");
  }
  if (ev->start_ok && ev->end_ok) {
    char a[64], b[64];
    time_text(ev->start, a, sizeof a);
    time_text(ev->end, b, sizeof b);
    if (ev->start.is_date != ev->end.is_date) {
      problem(c, ev->end_line,
              "DTEND %s and DTSTART %s are not both dates or both "
              "date-times",
              b, a);
    } else if (icaltime_compare(ev->end, ev->start) <= 0) {
      problem(c, ev->end_line, "DTEND %s is not after DTSTART %s", b, a);
    }
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

/* Takes what the event checks need from one parsed property. */
static void event_property(checker *c, icalproperty *p, unsigned long line) {
  event_state *ev = &c->ev;
  switch (icalproperty_isa(p)) {
  case ICAL_UID_PROPERTY: {
    count_once(&ev->n_uid, &ev->repeat_line[0], line);
    const char *uid = icalproperty_get_uid(p);
    if (uid != NULL && ev->uid == NULL) {
      ev->uid = strdup(uid);
      ev->uid_line = line;
      c->nomem |= ev->uid == NULL;
    }
    break;
  }
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
  case ICAL_DTEND_PROPERTY: {
    bool start = icalproperty_isa(p) == ICAL_DTSTART_PROPERTY;
    if (start) {
      count_once(&ev->n_start, &ev->repeat_line[2], line);
    } else {
      count_once(&ev->n_end, &ev->repeat_line[3], line);
      ev->end_line = line;
    }
    struct icaltimetype t =
        start ? icalproperty_get_dtstart(p) : icalproperty_get_dtend(p);
    if (icaltime_is_null_time(t)) {
      break; /* libical already reported the value */
    }
    if (!real_date(t)) {
      char v[64];
      time_text(t, v, sizeof v);
      problem(c, line, "%s %s is not a real calendar date",
              start ? "DTSTART" : "DTEND", v);
      break;
    }
    if (start) {
      ev->start_ok = ev->n_start == 1;
      ev->start = t;
    } else {
      ev->end_ok = ev->n_end == 1;
      ev->end = t;
    }
    break;
  }
  default:
    break;
  }
}

/* ------------------------------------------------------------ properties */

/* Parses one content line with libical, reports its X-LIC-ERRORs, and
 * feeds what the structure and event checks need. */
static void property_line(checker *c, unsigned long line, char *text) {
  if (c->parser == NULL) {
    return; /* out of memory: reported when the scan ends */
  }
  char begin[] = "BEGIN:VCALENDAR";
  char end[] = "END:VCALENDAR";
  icalparser_add_line(c->parser, begin);
  icalparser_add_line(c->parser, text);
  icalcomponent *root = icalparser_add_line(c->parser, end);
  if (root == NULL) {
    /* The line left libical's parser inside a component of its own (say,
     * "BEGIN;X=1:VEVENT"): start over with a fresh one, so that the next
     * line is judged on its own. */
    problem(c, line, "libical could not parse this line");
    c->libical_errors++;
    icalparser_free(c->parser);
    c->parser = icalparser_new();
    c->nomem |= c->parser == NULL;
    return;
  }
  const char *top = c->stack[c->depth - 1];
  for (icalproperty *p =
           icalcomponent_get_first_property(root, ICAL_ANY_PROPERTY);
       p != NULL;
       p = icalcomponent_get_next_property(root, ICAL_ANY_PROPERTY)) {
    icalproperty_kind kind = icalproperty_isa(p);
    if (kind == ICAL_XLICERROR_PROPERTY) {
      const char *msg = icalproperty_get_xlicerror(p);
      problem(c, line, "libical: %.400s", msg != NULL ? msg : "parse error");
      c->libical_errors++;
    } else if (c->overflow > 0) {
      continue;
    } else if (strcmp(top, "VEVENT") == 0) {
      event_property(c, p, line);
    } else if (c->depth == 1 && kind == ICAL_VERSION_PROPERTY) {
      c->has_version = true;
      const char *v = icalproperty_get_version(p);
      if (v == NULL || strcmp(v, "2.0") != 0) {
        problem(c, line, "VERSION is \"%.40s\", not 2.0", v != NULL ? v : "");
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
      problem(c, line, "BEGIN:%.64s outside a VCALENDAR", name);
    } else {
      c->calendars++;
      if (c->calendars > 1) {
        problem(c, line, "a second VCALENDAR (a feed holds one)");
      }
    }
  }
  if (c->depth == MAX_DEPTH) {
    c->overflow++;
    if (c->overflow == 1) {
      problem(c, line, "components nested more than %d deep", MAX_DEPTH);
    }
    return;
  }
  snprintf(c->stack[c->depth], NAME_CAP, "%s", name);
  for (char *s = c->stack[c->depth]; *s != '\0'; s++) {
    if (*s >= 'a' && *s <= 'z') {
      *s = (char)(*s - 'a' + 'A');
    }
  }
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
    problem(c, line, "END:%.64s without a BEGIN", name);
    return;
  }
  const char *top = c->stack[c->depth - 1];
  if (strcasecmp(top, name) != 0) {
    problem(c, line, "END:%.64s, but BEGIN:%s on line %lu is still open", name,
            top, c->stack_line[c->depth - 1]);
  }
  if (c->depth == 2 && c->ev.active) {
    event_end(c);
  }
  if (c->depth == 1) {
    if (!c->has_version) {
      problem(c, c->stack_line[0], "VCALENDAR has no VERSION");
    }
    if (!c->has_prodid) {
      problem(c, c->stack_line[0], "VCALENDAR has no PRODID");
    }
    c->calendar_done = true;
  }
  c->depth--;
}

static void content_line(void *ctx, unsigned long line, char *text,
                         size_t len) {
  checker *c = ctx;
  (void)len;
  size_t name_len = strcspn(text, ";:");
  if (text[name_len] == ':' &&
      ((name_len == 5 && strncasecmp(text, "BEGIN", 5) == 0) ||
       (name_len == 3 && strncasecmp(text, "END", 3) == 0))) {
    const char *comp = text + name_len + 1;
    if (name_len == 5) {
      begin_component(c, line, comp);
    } else {
      end_component(c, line, comp);
    }
    return;
  }
  if (c->depth == 0) {
    if (!c->saw_outside) {
      c->saw_outside = true;
      problem(c, line, "%s",
              c->calendar_done ? "content after END:VCALENDAR"
                               : "content before BEGIN:VCALENDAR");
    }
    return;
  }
  property_line(c, line, text);
}

/* What libical finds only when it sees the whole feed. Run when the line
 * by line pass found nothing libical objects to, so a problem is never
 * reported twice. */
static void whole_feed(checker *c, const char *text) {
  icalcomponent *root = icalparser_parse_string(text);
  if (root == NULL) {
    problem(c, 0, "libical found no calendar in the feed");
    return;
  }
  if (icalcomponent_count_errors(root) > 0) {
    for (icalcomponent *k = root; k != NULL;
         k = k == root
                 ? icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT)
                 : icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
      for (icalproperty *p =
               icalcomponent_get_first_property(k, ICAL_XLICERROR_PROPERTY);
           p != NULL;
           p = icalcomponent_get_next_property(k, ICAL_XLICERROR_PROPERTY)) {
        const char *msg = icalproperty_get_xlicerror(p);
        problem(c, 0, "libical: %.400s", msg != NULL ? msg : "parse error");
      }
    }
  }
  icalcomponent_free(root);
}

epcal_status epcal_feed_check_mem(const char *name, const char *data,
                                  size_t len, epcal_problem_fn problem_fn,
                                  void *ctx, epcal_check_stats *stats,
                                  epcal_error *err) {
  checker c;
  memset(&c, 0, sizeof c);
  c.name = name != NULL ? name : "-";
  c.problem = problem_fn;
  c.ctx = ctx;
  epcal_status st = EPCAL_OK;
  /* libical's parser wants NUL-terminated text; the feed may hold NULs
   * (reported as such), which simply end what libical sees. */
  char *text = malloc(len + 1);
  c.parser = icalparser_new();
  if (text == NULL || c.parser == NULL) {
    st = epcal__fail(err, EPCAL_ENOMEM, c.name, 0, 0, "out of memory");
    goto done;
  }
  memcpy(text, data, len);
  text[len] = '\0';
  if (len == 0) {
    problem(&c, 0, "the feed is empty");
  } else if (!epcal__lines_scan(data, len, report_line, content_line, &c,
                                &c.stats.lines) ||
             c.nomem) {
    st = epcal__fail(err, EPCAL_ENOMEM, c.name, 0, 0, "out of memory");
    goto done;
  }
  if (len > 0 && c.calendars == 0) {
    problem(&c, 0, "no BEGIN:VCALENDAR: this is not an iCalendar feed");
  }
  for (size_t i = c.depth; i > 0; i--) {
    problem(&c, c.stack_line[i - 1], "BEGIN:%s is never closed",
            c.stack[i - 1]);
  }
  /* A broken structure, or a NUL byte (where libical's text would end),
   * has been reported; libical would only say the same less precisely. */
  if (c.calendars > 0 && c.depth == 0 && c.libical_errors == 0 &&
      memchr(data, '\0', len) == NULL) {
    whole_feed(&c, text);
  }
  if (stats != NULL) {
    *stats = c.stats;
  }

done:
  event_reset(&c.ev);
  uids_free(&c);
  if (c.parser != NULL) {
    icalparser_free(c.parser);
  }
  free(text);
  return st;
}

/* Reads all of `fp` into a new buffer (*out, caller frees). */
static epcal_status slurp(FILE *fp, const char *name, char **out, size_t *len,
                          epcal_error *err) {
  size_t cap = 64 * 1024, n = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
  }
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_FEED_BYTES) {
        free(buf);
        return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0,
                           "feed larger than %zu bytes", MAX_FEED_BYTES);
      }
      char *p = realloc(buf, cap * 2);
      if (p == NULL) {
        free(buf);
        return epcal__fail(err, EPCAL_ENOMEM, name, 0, 0, "out of memory");
      }
      buf = p;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) {
      break;
    }
  }
  if (ferror(fp)) {
    int e = errno;
    free(buf);
    return epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot read: %s",
                       strerror(e));
  }
  *out = buf;
  *len = n;
  return EPCAL_OK;
}

epcal_status epcal_feed_check(const char *path, epcal_problem_fn problem_fn,
                              void *ctx, epcal_check_stats *stats,
                              epcal_error *err) {
  bool is_stdin = path == NULL || strcmp(path, "-") == 0;
  const char *name = is_stdin ? "-" : path;
  FILE *fp = is_stdin ? stdin : fopen(path, "rb");
  if (fp == NULL) {
    return epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot open: %s",
                       strerror(errno));
  }
  char *data = NULL;
  size_t len = 0;
  epcal_status st = slurp(fp, name, &data, &len, err);
  if (!is_stdin) {
    fclose(fp);
  }
  if (st == EPCAL_OK) {
    st = epcal_feed_check_mem(name, data, len, problem_fn, ctx, stats, err);
  }
  free(data);
  return st;
}
