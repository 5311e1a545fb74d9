/*
 * render: episodes -> VCALENDAR bytes, one VEVENT at a time.
 *
 * Each event is written through the content-line writer (icsout) and
 * handed to the output before the next one is built: memory does not grow
 * with the number of events. The calendar's header and footer are written
 * around the stream.
 */
#include "date.h"
#include "error.h"
#include "icsout.h"
#include "render_ext.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUFFER (64 * 1024)
#define PRODID "-//epcal//epcal " EPCAL_VERSION "//EN"

struct epcal_renderer {
  epcal__icsout out;
  char *calendar_name;
  char dtstamp[17]; /* YYYYMMDDTHHMMSSZ */
  unsigned long events;
  epcal__render_ext *ext; /* times, zones, templates, alarms, metadata */
};

static void format_utc(int64_t t, char out[17]) {
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  epcal_date d = epcal__date_from_days(days);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02dZ", d.year % 10000,
           d.month, d.day, (int)(secs / 3600), (int)(secs / 60 % 60),
           (int)(secs % 60));
  memcpy(out, tmp, 17);
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
      !epcal__icsout_init(&r->out, OUT_BUFFER, write, ctx)) {
    epcal_renderer_free(r);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  if (epcal__utf8_valid_prefix(name, strlen(name)) != strlen(name)) {
    epcal_renderer_free(r);
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "calendar name is not valid UTF-8");
  }
  format_utc(opts != NULL ? opts->now : 0, r->dtstamp);
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

static void text_property(epcal__icsout *o, const char *name,
                          const char *value) {
  if (value != NULL && *value != '\0') {
    epcal__icsout_begin(o, name);
    epcal__icsout_text(o, value, strlen(value));
    epcal__icsout_end(o);
  }
}

epcal_status epcal_renderer_add(epcal_renderer *r, const epcal_episode *ep,
                                epcal_error *err) {
  if (!ep->scheduled) {
    return epcal__fail(err, EPCAL_EUSAGE, ep->file, ep->line, 0,
                       "episode has no date: nothing to render");
  }
  if (!valid_text(ep->show) || !valid_text(ep->title) ||
      !valid_text(ep->description) || !valid_text(ep->network) ||
      !valid_text(ep->url) || !valid_text(ep->uid) ||
      !valid_text(ep->timezone)) {
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                       "episode text is not valid UTF-8");
  }
  if (!epcal__date_valid(ep->date.year, ep->date.month, ep->date.day) ||
      ep->date.year > 9998) {
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
  if (summary == NULL || (description == NULL && ep->description != NULL)) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  epcal__icsout *o = &r->out;
  char buf[512];

  epcal__icsout_line(o, "BEGIN:VEVENT");

  size_t n = epcal_episode_uid(ep, buf, sizeof buf);
  epcal__icsout_begin(o, "UID");
  if (n < sizeof buf) {
    epcal__icsout_text(o, buf, n);
  } else {
    epcal__icsout_text(o, ep->uid, strlen(ep->uid)); /* a long uid column */
  }
  epcal__icsout_end(o);

  epcal__icsout_begin(o, "DTSTAMP");
  epcal__icsout_raw(o, r->dtstamp, 16);
  epcal__icsout_end(o);

  if (!epcal__render_ext_write_when(r->ext, o, ep, &when)) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
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

unsigned long epcal_renderer_events(const epcal_renderer *r) {
  return r->events;
}

void epcal_renderer_free(epcal_renderer *r) {
  if (r == NULL) {
    return;
  }
  epcal__icsout_free(&r->out);
  epcal__render_ext_free(r->ext);
  free(r->calendar_name);
  free(r);
}
