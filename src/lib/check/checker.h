/*
 * check: the state of one check as it streams through a feed, shared by
 * ical_check.c (structure, events, input) and check_props.c (what each
 * content line says: the rules on the line as written, the fast path, and
 * libical's verdict).
 */
#ifndef EPCAL_CHECKER_H
#define EPCAL_CHECKER_H

#include "check_zones.h"
#include "error.h"
#include "keytab.h"

#include <libical/ical.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 32
#define NAME_CAP 64
#define EPCAL__DEFER_MAX 16384

/* How many properties RFC 5545 3.6.1 allows at most once in a VEVENT. */
#define EPCAL__ONCE_N 19

/* Their names: UID, DTSTAMP, DTSTART and DTEND first (the order in which a
 * second one is reported). */
extern const char *const epcal__check_once[EPCAL__ONCE_N];

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
  unsigned long repeat_line[4]; /* where each first repeated (unused) */
  uint32_t once_seen;           /* the properties of epcal__check_once seen */
  unsigned long once_repeat[EPCAL__ONCE_N]; /* where each first repeated */
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

/* A content line's parts: NAME, the parameters after it, the value. */
typedef struct raw_line {
  const char *text;
  size_t name_len;
  size_t value;         /* offset of the value, after the ':'; 0 when none */
  char upper[NAME_CAP]; /* the name in upper case ("" when longer) */
} raw_line;

#define ERROR EPCAL_CHECK_ERROR
#define FORMAT EPCAL_CHECK_FORMAT

/* Reports a finding on `line` (0: about the whole feed) and counts it. */
void epcal__check_finding(checker *c, unsigned long line, const char *rule,
                          epcal_check_severity sev, const char *fmt, ...)
    EPCAL__PRINTF(5, 6);

/* Splits a content line into name, parameters and value. */
void epcal__check_split(const char *text, raw_line *out);

/* The line's name is `name` (upper case). The first letters are compared
 * first: most lines differ there, and every line meets a few dozen names. */
static inline bool epcal__check_name_is(const raw_line *r, const char *name) {
  return r->upper[0] == name[0] && strcmp(r->upper, name) == 0;
}

/* Judges one content line inside a component (not BEGIN or END) and feeds
 * what the structure and event checks need. */
void epcal__check_property(checker *c, unsigned long line, char *text);

/* Compares an event's DTSTART and DTEND as instants and reports an end not
 * after its start. `at_end`: the feed has ended, so a zone still unknown
 * will stay so (otherwise, from a pipe, the comparison may wait for it). */
void epcal__check_compare_times(checker *c, const event_time *start,
                                const event_time *end, unsigned long line,
                                bool at_end);

#endif
