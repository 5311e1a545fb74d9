/*
 * render: episodes -> VCALENDAR bytes, one VEVENT at a time.
 *
 * Each event is written through the content-line writer (icsout) and
 * handed to the output before the next one is built: memory does not grow
 * with the number of events. The calendar's header and footer are written
 * around the stream.
 */
#include "read/date.h"
#include "error.h"
#include "keytab.h"
#include "icsout.h"
#include "previous.h"
#include "render_ext.h"
#include "render.h"
#include "uid.h"
#include "read/utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUFFER (64 * 1024)
#define PRODID "-//epcal//epcal " EPCAL_VERSION "//EN"

/* A growable byte buffer that an icsout can write into. */
typedef struct scratch {
  char *data;
  size_t len;
  size_t cap;
} scratch;

/* Makes room for `len` more bytes. Returns 0, or -1 (errno ENOMEM). */
static int scratch_reserve(scratch *s, size_t len) {
  if (s->cap - s->len < len) {
    size_t cap = s->cap != 0 ? s->cap : 4096;
    while (cap - s->len < len) {
      if (cap > SIZE_MAX / 2) {
        errno = ENOMEM;
        return -1;
      }
      cap *= 2;
    }
    char *p = realloc(s->data, cap);
    if (p == NULL) {
      errno = ENOMEM;
      return -1;
    }
    s->data = p;
    s->cap = cap;
  }
  return 0;
}

static int scratch_write(void *ctx, const char *buf, size_t len) {
  scratch *s = ctx;
  if (scratch_reserve(s, len) != 0) {
    return -1;
  }
  memcpy(s->data + s->len, buf, len);
  s->len += len;
  return 0;
}

struct epcal_renderer {
  epcal__icsout out;
  epcal__uid_memo uid_memo; /* calloc: remembers no show yet */
  /* Each event's body (every line but BEGIN, UID, DTSTAMP, SEQUENCE,
   * LAST-MODIFIED and END) is rendered here first, so that it can be
   * fingerprinted and compared with the previous feed before the stamps
   * that depend on the comparison are written. */
  epcal__icsout body_out;
  scratch body;
  scratch uid;
  char *calendar_name;
  int64_t now;
  char now_text[17]; /* YYYYMMDDTHHMMSSZ */
  epcal_previous *previous;
  epcal_render_counts counts;
  unsigned long events;
  epcal__render_ext *ext; /* times, zones, templates, alarms, metadata */
};

/* YYYYMMDDTHHMMSSZ, NUL-terminated. */
static void format_utc(int64_t t, char out[17]) {
  epcal__format_datetime(t, out);
  out[15] = 'Z';
  out[16] = '\0';
}

epcal_status epcal_renderer_new(epcal_renderer **out,
                                const epcal_render_options *opts,
                                epcal_write_fn write, void *ctx,
                                epcal_error *err) {
  epcal_renderer *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  const char *name = opts != NULL && opts->calendar_name != NULL
                         ? opts->calendar_name
                         : "Episodes";
  r->calendar_name = strdup(name);
  if (r->calendar_name == NULL ||
      !epcal__icsout_init(&r->out, OUT_BUFFER, write, ctx) ||
      !epcal__icsout_init(&r->body_out, 4096, scratch_write, &r->body)) {
    epcal_renderer_free(r);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  if (epcal__utf8_valid_prefix(name, strlen(name)) != strlen(name)) {
    epcal_renderer_free(r);
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "calendar name is not valid UTF-8");
  }
  r->now = opts != NULL ? opts->now : 0;
  r->previous = opts != NULL ? opts->previous : NULL;
  format_utc(r->now, r->now_text);
  epcal_status st = epcal__render_ext_new(&r->ext, opts, err);
  if (st != EPCAL_OK) {
    epcal_renderer_free(r);
    return st;
  }
  *out = r;
  return EPCAL_OK;
}

static epcal_status io_status(epcal_renderer *r, epcal_error *err) {
  if (r->out.failed) {
    return epcal__fail(err, EPCAL_EIO, NULL, 0, 0, "cannot write: %s",
                       strerror(r->out.saved_errno));
  }
  return EPCAL_OK;
}

epcal_status epcal_renderer_begin(epcal_renderer *r, epcal_error *err) {
  epcal__icsout *o = &r->out;
  epcal__icsout_line(o, "BEGIN:VCALENDAR");
  epcal__icsout_line(o, "VERSION:2.0");
  epcal__icsout_line(o, "PRODID:" PRODID);
  epcal__icsout_line(o, "CALSCALE:GREGORIAN");
  size_t n = strlen(r->calendar_name);
  epcal__icsout_begin(o, "NAME");
  epcal__icsout_text_line(o, r->calendar_name, n);
  epcal__icsout_end(o);
  epcal__icsout_begin(o, "X-WR-CALNAME");
  epcal__icsout_text_line(o, r->calendar_name, n);
  epcal__icsout_end(o);
  epcal__render_ext_header(r->ext, o);
  return io_status(r, err);
}

/* Checks that an optional string is valid UTF-8. */
static bool valid_text(const char *s) {
  if (s == NULL) {
    return true;
  }
  size_t n = strlen(s);
  return epcal__utf8_valid_prefix(s, n) == n;
}

/* Writes an optional TEXT property. A value of blanks and control
 * characters only is left out: written, it would be empty or blank, and
 * libical drops an empty value with an X-LIC-ERROR. */
static void text_property(epcal__icsout *o, const char *name,
                          const char *value) {
  if (value != NULL && epcal__has_visible(value)) {
    epcal__icsout_begin(o, name);
    epcal__icsout_text(o, value, strlen(value));
    epcal__icsout_end(o);
  }
}

/* Writes the event's body into r->body. */
static bool render_body(epcal_renderer *r, const epcal_episode *ep,
                        const epcal__when *when, const char *summary,
                        const char *description) {
  epcal__icsout *o = &r->body_out;
  r->body.len = 0;
  if (!epcal__render_ext_write_when(r->ext, o, ep, when)) {
    return false;
  }
  epcal__icsout_begin(o, "SUMMARY");
  epcal__icsout_text_line(o, summary, strlen(summary));
  epcal__icsout_end(o);
  text_property(o, "DESCRIPTION", description);
  if (ep->url != NULL && *ep->url != '\0') {
    epcal__icsout_begin(o, "URL");
    epcal__icsout_uri(o, ep->url, strlen(ep->url));
    epcal__icsout_end(o);
  }
  epcal__render_ext_categories(r->ext, o, ep);
  epcal__icsout_line(o, "TRANSP:TRANSPARENT");
  epcal__render_ext_alarms(r->ext, o);
  return epcal__icsout_flush(o);
}

/* The fingerprint of the body: each physical line without its CRLF, the
 * way the previous-feed scanner hashes it. */
static uint64_t body_fingerprint(const scratch *b) {
  uint64_t fp = 0x9E3779B97F4A7C15ULL;
  const char *p = b->data, *end = b->data + b->len;
  while (p < end) {
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    size_t n = cr != NULL ? (size_t)(cr - p) : (size_t)(end - p);
    fp = epcal__hash64(p, n) ^ (fp * 0x100000001B3ULL);
    p += n + 2;
  }
  return fp;
}

/* The UID value as written: TEXT-escaped, unfolded (it is folded when
 * written out). Its hash is the key into the previous feed. */
static bool render_uid(epcal_renderer *r, const epcal_episode *ep) {
  char buf[512];
  size_t n = epcal__uid_derive(&r->uid_memo, ep, buf, sizeof buf);
  const char *uid = n < sizeof buf ? buf : ep->uid;
  n = strlen(uid);
  r->uid.len = 0;
  /* A derived UID is slug characters, digits, '-' and '@': nothing to
   * escape. Only a uid column's text goes through TEXT escaping. */
  if (ep->uid == NULL || !epcal__has_visible(ep->uid)) {
    return scratch_write(&r->uid, uid, n) == 0;
  }
  /* Escaping at most doubles the text. */
  if (n > SIZE_MAX / 2 || scratch_reserve(&r->uid, 2 * n) != 0) {
    return false;
  }
  r->uid.len = epcal__text_escape(uid, n, r->uid.data);
  return true;
}

/* Decimal digits of v into out (room for 20); returns the length. Not
 * snprintf: this is once per event. */
static size_t format_ulong(unsigned long v, char *out) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; i++) {
    out[i] = tmp[n - 1 - i];
  }
  return n;
}

epcal_status epcal_renderer_add(epcal_renderer *r, const epcal_episode *ep,
                                epcal_error *err) {
  if (!valid_text(ep->show) || !valid_text(ep->title) ||
      !valid_text(ep->description) || !valid_text(ep->network) ||
      !valid_text(ep->url) || !valid_text(ep->uid) ||
      !valid_text(ep->timezone)) {
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                       "episode text is not valid UTF-8");
  }
  return epcal__renderer_add_read(r, ep, err);
}

epcal_status epcal__renderer_add_read(epcal_renderer *r,
                                      const epcal_episode *ep,
                                      epcal_error *err) {
  if (!ep->scheduled) {
    return epcal__fail(err, EPCAL_EUSAGE, ep->file, ep->line, 0,
                       "episode has no date: nothing to render");
  }
  /* DTEND is the next day: 9999-12-31 has none with a four-digit year
   * (the reader refuses it too). */
  if (!epcal__date_valid(ep->date.year, ep->date.month, ep->date.day) ||
      (ep->date.year == 9999 && ep->date.month == 12 && ep->date.day == 31)) {
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                       "episode date is not a real calendar date");
  }
  epcal__when when;
  epcal_status st = epcal__render_ext_when(r->ext, ep, &when, err);
  if (st != EPCAL_OK) {
    return st;
  }
  const char *summary = epcal__render_ext_summary(r->ext, ep);
  const char *description = epcal__render_ext_description(r->ext, ep);
  if (summary == NULL || (description == NULL && ep->description != NULL) ||
      !render_body(r, ep, &when, summary, description) ||
      !render_uid(r, ep)) {
    return epcal__fail(err, EPCAL_ENOMEM, ep->file, ep->line, 0,
                       "out of memory");
  }

  /* Stamps: kept for an unchanged event, renewed for a changed one. */
  const char *dtstamp = r->now_text;
  char kept[17];
  const char *last_modified = NULL;
  unsigned long sequence = 0;
  epcal__prev_event *prev = NULL;
  if (r->previous != NULL) {
    prev = epcal__previous_find(r->previous,
                                epcal__hash64(r->uid.data, r->uid.len));
  }
  if (prev == NULL) {
    r->counts.added++;
  } else if (!prev->restamp &&
             prev->fingerprint == body_fingerprint(&r->body)) {
    format_utc(prev->dtstamp, kept);
    dtstamp = kept;
    if (prev->modified) {
      last_modified = kept; /* epcal writes it equal to DTSTAMP */
    }
    sequence = prev->sequence;
    r->counts.unchanged++;
  } else {
    last_modified = r->now_text;
    sequence = prev->sequence + 1UL;
    r->counts.changed++;
  }
  if (prev != NULL) {
    prev->seen = true;
  }

  epcal__icsout *o = &r->out;
  char buf[32];
  epcal__icsout_line(o, "BEGIN:VEVENT");
  epcal__icsout_begin(o, "UID");
  epcal__icsout_raw(o, r->uid.data, r->uid.len);
  epcal__icsout_end(o);
  epcal__icsout_begin(o, "DTSTAMP");
  epcal__icsout_raw(o, dtstamp, 16);
  epcal__icsout_end(o);
  epcal__icsout_begin(o, "SEQUENCE");
  epcal__icsout_raw(o, buf, format_ulong(sequence, buf));
  epcal__icsout_end(o);
  if (last_modified != NULL) {
    epcal__icsout_begin(o, "LAST-MODIFIED");
    epcal__icsout_raw(o, last_modified, 16);
    epcal__icsout_end(o);
  }
  epcal__icsout_bytes(o, r->body.data, r->body.len);
  epcal__icsout_line(o, "END:VEVENT");
  r->events++;
  return io_status(r, err);
}

epcal_status epcal_renderer_end(epcal_renderer *r, epcal_error *err) {
  /* The zones are known only now: VTIMEZONEs go after the events (RFC 5545
   * allows them anywhere in the VCALENDAR; see epcal_renderer_new()). */
  if (!epcal__render_ext_zones(r->ext, &r->out)) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  epcal__icsout_line(&r->out, "END:VCALENDAR");
  epcal__icsout_flush(&r->out);
  return io_status(r, err);
}

epcal_status epcal_renderer_retarget(epcal_renderer *r, epcal_write_fn write,
                                     void *ctx, const char *calendar_name,
                                     epcal_previous *previous,
                                     epcal_error *err) {
  epcal__icsout_flush(&r->out);
  epcal_status st = io_status(r, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (calendar_name != NULL) {
    size_t n = strlen(calendar_name);
    if (epcal__utf8_valid_prefix(calendar_name, n) != n) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "calendar name is not valid UTF-8");
    }
    char *copy = strdup(calendar_name);
    if (copy == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
    free(r->calendar_name);
    r->calendar_name = copy;
  }
  r->out.write = write;
  r->out.ctx = ctx;
  r->previous = previous;
  return EPCAL_OK;
}

bool epcal__renderer_left_out(epcal_renderer *r, const epcal_episode *ep,
                              uint64_t uid_hash) {
  if (r->previous == NULL) {
    return false;
  }
  if (uid_hash == 0) {
    /* The UID as an event would write it (a uid column's text escaped);
     * no event is being rendered, so the UID scratch is free. */
    if (!render_uid(r, ep)) {
      return false;
    }
    uid_hash = epcal__hash64(r->uid.data, r->uid.len);
  }
  epcal__prev_event *prev = epcal__previous_find(r->previous, uid_hash);
  if (prev == NULL || prev->seen) {
    return false;
  }
  prev->seen = true;
  return true;
}

void epcal__renderer_prefetch(const epcal_renderer *r, uint64_t uid_hash) {
  epcal__previous_prefetch(r->previous, uid_hash);
}

epcal_status epcal__renderer_flush(epcal_renderer *r, epcal_error *err) {
  epcal__icsout_flush(&r->out);
  return io_status(r, err);
}

void epcal__renderer_swap_zones(epcal_renderer *r, epcal__zoneset *z) {
  epcal__render_ext_swap_zones(r->ext, z);
}

unsigned long epcal_renderer_events(const epcal_renderer *r) {
  return r->events;
}

epcal_render_counts epcal_renderer_counts(const epcal_renderer *r) {
  return r->counts;
}

void epcal_renderer_free(epcal_renderer *r) {
  if (r == NULL) {
    return;
  }
  epcal__icsout_free(&r->out);
  epcal__icsout_free(&r->body_out);
  free(r->body.data);
  free(r->uid.data);
  epcal__render_ext_free(r->ext);
  free(r->calendar_name);
  free(r);
}
