/*
 * check, part two: content lines -> the iCalendar verdict, as a stream.
 *
 * Structure (BEGIN/END, one VCALENDAR with VERSION and PRODID) and the
 * rules calendar apps rely on (every VEVENT has UID, DTSTAMP and DTSTART;
 * UIDs are unique; DTEND is after DTSTART as an instant) are judged here on
 * the content lines that check_lines.c unfolds, so every finding has a line
 * number; what each property line says is judged in check_props.c. Nothing
 * of the feed is kept but the content line at hand, the event being read (a
 * few fields), the VTIMEZONEs, and 16 bytes per UID.
 *
 * BEGIN or END with parameters or without a colon is judged here and never
 * given to libical, which cannot parse it and leaked 160 bytes on each.
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
#include "checker.h"

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

/* A feed names itself in its first bytes; anything else is not one. */
#define SNIFF_BYTES 4096
#define CHUNK_BYTES (256 * 1024)

void epcal__check_finding(checker *c, unsigned long line, const char *rule,
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

static void report_line(void *ctx, unsigned long line, const char *rule,
                        epcal_check_severity sev, const char *msg) {
  epcal__check_finding(ctx, line, rule, sev, "%s", msg);
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
    epcal__check_finding(c, ev->begin_line, "missing-uid", ERROR,
                         "VEVENT has no UID");
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
      epcal__check_finding(c, ev->uid_line, "duplicate-uid", ERROR,
                           "duplicate UID \"%s\" (first on line %lu)", ev->uid,
                           (unsigned long)r->line);
    }
  }
  if (ev->n_dtstamp == 0) {
    epcal__check_finding(c, ev->begin_line, "missing-dtstamp", ERROR,
                         "VEVENT has no DTSTAMP");
  }
  if (ev->n_start == 0) {
    epcal__check_finding(c, ev->begin_line, "missing-dtstart", ERROR,
                         "VEVENT has no DTSTART");
  }
  /* In line order: the smallest line left, each time. */
  for (;;) {
    size_t first = EPCAL__ONCE_N;
    for (size_t i = 0; i < EPCAL__ONCE_N; i++) {
      if (ev->once_repeat[i] != 0 &&
          (first == EPCAL__ONCE_N ||
           ev->once_repeat[i] < ev->once_repeat[first])) {
        first = i;
      }
    }
    if (first == EPCAL__ONCE_N) {
      break;
    }
    epcal__check_finding(c, ev->once_repeat[first], "repeated-property", ERROR,
                         "a second %s in one VEVENT (RFC 5545 3.6.1; "
                         "vobject rejects the feed)",
                         epcal__check_once[first]);
    ev->once_repeat[first] = 0;
  }
  if (ev->n_end > 0 && ev->has_duration) {
    epcal__check_finding(c, ev->end_line, "dtend-and-duration", ERROR,
                         "VEVENT has both DTEND and DURATION");
  }
  if (ev->start.ok && ev->end.ok) {
    epcal__check_compare_times(c, &ev->start, &ev->end, ev->end_line, false);
  }
  event_reset(ev);
}

/* ------------------------------------------------------------ structure */

static void begin_component(checker *c, unsigned long line, const char *name) {
  if (c->depth == 0) {
    if (strcasecmp(name, "VCALENDAR") != 0) {
      epcal__check_finding(c, line, "structure", ERROR,
                           "BEGIN:%.64s outside a VCALENDAR", name);
    } else {
      c->calendars++;
      if (c->calendars > 1) {
        epcal__check_finding(c, line, "structure", ERROR,
                             "a second VCALENDAR (a feed holds one)");
      }
    }
  }
  if (c->depth == MAX_DEPTH) {
    c->overflow++;
    if (c->overflow == 1) {
      epcal__check_finding(c, line, "structure", ERROR,
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
    epcal__check_finding(c, line, "structure", ERROR,
                         "END:%.64s without a BEGIN", name);
    return;
  }
  const char *top = c->stack[c->depth - 1];
  if (strcasecmp(top, name) != 0) {
    epcal__check_finding(c, line, "structure", ERROR,
                         "END:%.64s, but BEGIN:%s on line %lu is still open",
                         name, top, c->stack_line[c->depth - 1]);
  }
  if (c->depth == 2 && c->ev.active) {
    event_end(c);
  }
  if (c->depth == 1) {
    if (!c->has_version) {
      epcal__check_finding(c, c->stack_line[0], "version", ERROR,
                           "VCALENDAR has no VERSION");
    }
    if (!c->has_prodid) {
      epcal__check_finding(c, c->stack_line[0], "prodid", ERROR,
                           "VCALENDAR has no PRODID");
    }
    c->calendar_done = true;
  }
  c->depth--;
}

static void content_line(void *ctx, unsigned long line, char *text, size_t len,
                         size_t full_len) {
  checker *c = ctx;
  if (!c->zones_first && !epcal__zones_collect(&c->zones, text, len)) {
    c->nomem = true;
  }
  raw_line r;
  epcal__check_split(text, &r);
  bool begin = epcal__check_name_is(&r, "BEGIN"),
       end = epcal__check_name_is(&r, "END");
  if (full_len > len) {
    epcal__check_finding(
        c, line, "content-line-too-long", ERROR,
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
      epcal__check_finding(
          c, line, "structure", ERROR,
          "%s without \":\" and a component name (libical cannot parse "
          "this line)",
          begin ? "BEGIN" : "END");
    } else {
      epcal__check_finding(
          c, line, "structure", ERROR,
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
      epcal__check_finding(c, line, "structure", ERROR, "%s",
                           c->calendar_done ? "content after END:VCALENDAR"
                                            : "content before BEGIN:VCALENDAR");
    }
    return;
  }
  epcal__check_property(c, line, text);
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
      epcal__check_finding(
          c, u->first_line, "tzid-no-vtimezone", ERROR,
          "TZID \"%.100s\" has no VTIMEZONE in the feed (RFC 5545 "
          "3.2.19)%s",
          u->tzid, times);
    } else {
      epcal__check_finding(
          c, u->first_line, "tzid-unknown", ERROR,
          "TZID \"%.100s\" is defined nowhere: no VTIMEZONE in the feed, "
          "no such zone in the system's zoneinfo%s",
          u->tzid, times);
    }
  }
  for (size_t i = 0; i < c->n_defer; i++) {
    epcal__check_compare_times(c, &c->defer[i].start, &c->defer[i].end,
                               c->defer[i].line, true);
  }
  if (c->defer_dropped > 0) {
    epcal__check_finding(
        c, 0, "not-compared", ERROR,
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

static epcal_status not_a_feed(const char *name, size_t len, epcal_error *err) {
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
    epcal__check_finding(&c, c.stack_line[i - 1], "structure", ERROR,
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
    st = epcal__fail(err, EPCAL_EIO, name, 0, 0, "cannot read: Is a directory");
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
  bool seekable = S_ISREG(sb.st_mode) && lseek(fd, 0, SEEK_CUR) == (off_t)got;
  source src = {NULL, 0, fd, head, (size_t)got, buf};
  st = check_source(name, &src, seekable, finding_fn, ctx, stats, err);

done:
  free(buf);
  if (!is_stdin) {
    close(fd);
  }
  return st;
}
