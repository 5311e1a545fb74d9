#include "render_ext.h"

#include "color.h"
#include "error.h"
#include "read/date.h"
#include "read/row.h"
#include "read/timeparse.h"
#include "read/utf8.h"

#include <stdlib.h>
#include <string.h>

#define DURATION_MAX 32

struct epcal__render_ext {
  const epcal__zone *zone; /* default zone, or NULL */
  long runtime;            /* minutes */
  bool all_day;
  char (*alarms)[DURATION_MAX];
  size_t n_alarms;
  epcal__template *summary;
  epcal__template *description;
  char **categories;
  size_t n_categories;
  char *calendar_description;
  char refresh[DURATION_MAX]; /* "" when not set */
  const char *color_name;     /* NULL when not set */
  char color_hex[8];
  char *url;
  epcal__zoneset zones;
  epcal__buf summary_buf;
  epcal__buf description_buf;
};

void epcal__render_ext_free(epcal__render_ext *x) {
  if (x == NULL) {
    return;
  }
  free(x->alarms);
  epcal__template_free(x->summary);
  epcal__template_free(x->description);
  for (size_t i = 0; i < x->n_categories; i++) {
    free(x->categories[i]);
  }
  free(x->categories);
  free(x->calendar_description);
  free(x->url);
  epcal__zoneset_free(&x->zones);
  epcal__buf_free(&x->summary_buf);
  epcal__buf_free(&x->description_buf);
  free(x);
}

static bool utf8_ok(const char *s) {
  size_t n = strlen(s);
  return epcal__utf8_valid_prefix(s, n) == n;
}

/* strdup of an optional, UTF-8-checked option; *ok turns false on either
 * failure (err says which). */
static epcal_status copy_text(char **dst, const char *src, const char *what,
                              epcal_error *err) {
  if (src == NULL) {
    *dst = NULL;
    return EPCAL_OK;
  }
  if (!utf8_ok(src)) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0, "%s is not valid UTF-8",
                       what);
  }
  *dst = strdup(src);
  if (*dst == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  return EPCAL_OK;
}

static epcal_status setup(epcal__render_ext *x,
                          const epcal_render_options *opts, epcal_error *err) {
  epcal_status st;
  if (opts->timezone != NULL) {
    x->zone = epcal__zone_find(opts->timezone);
    if (x->zone == NULL) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "unknown time zone \"%s\" (use an IANA name such "
                         "as America/New_York)",
                         opts->timezone);
    }
  }
  if (opts->runtime < 0 || opts->runtime > 100000) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "runtime %ld is not a number of minutes from 1 to "
                       "100000",
                       opts->runtime);
  }
  x->runtime = opts->runtime > 0 ? opts->runtime : EPCAL__DEFAULT_RUNTIME;
  x->all_day = opts->all_day;

  if (opts->n_alarms > 0) {
    x->alarms = calloc(opts->n_alarms, sizeof *x->alarms);
    if (x->alarms == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
  }
  for (size_t i = 0; i < opts->n_alarms; i++) {
    int64_t secs;
    if (!epcal__duration_parse(opts->alarms[i], &secs, x->alarms[i],
                               DURATION_MAX)) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "alarm \"%s\" is not an RFC 5545 duration such as "
                         "-PT30M, -PT1H30M or -P1D",
                         opts->alarms[i]);
    }
    /* RFC 5545 reads an unsigned offset as after the start: PT30M rings
     * half an hour into the episode, which nobody writing it means. */
    char first = opts->alarms[i][0];
    if (secs != 0 && first != '+' && first != '-') {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "alarm \"%s\" has no sign: write -%s for a reminder "
                         "before the start (+%s: after it)",
                         opts->alarms[i], opts->alarms[i], opts->alarms[i]);
    }
    x->n_alarms++;
  }

  if (opts->summary_template != NULL) {
    if (!utf8_ok(opts->summary_template)) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "--summary is not valid UTF-8");
    }
    st = epcal__template_compile(&x->summary, opts->summary_template,
                                 "--summary", err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  if (opts->description_template != NULL) {
    if (!utf8_ok(opts->description_template)) {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "--description is not valid UTF-8");
    }
    st = epcal__template_compile(&x->description, opts->description_template,
                                 "--description", err);
    if (st != EPCAL_OK) {
      return st;
    }
  }

  if (opts->n_categories > 0) {
    x->categories = calloc(opts->n_categories, sizeof *x->categories);
    if (x->categories == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
  }
  for (size_t i = 0; i < opts->n_categories; i++) {
    st = copy_text(&x->categories[i], opts->categories[i], "--category", err);
    if (st != EPCAL_OK) {
      return st;
    }
    x->n_categories++;
  }

  st = copy_text(&x->calendar_description, opts->calendar_description,
                 "--calendar-description", err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (opts->refresh != NULL) {
    int64_t secs;
    if (!epcal__duration_parse(opts->refresh, &secs, x->refresh,
                               DURATION_MAX) ||
        secs <= 0 || opts->refresh[0] == '-') {
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "refresh \"%s\" is not a positive RFC 5545 duration "
                         "such as PT1H or P1D",
                         opts->refresh);
    }
  }
  if (opts->color != NULL &&
      !epcal__color_parse(opts->color, &x->color_name, x->color_hex)) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "colour \"%s\" is neither a CSS colour name nor "
                       "#RRGGBB",
                       opts->color);
  }
  return copy_text(&x->url, opts->url, "--url", err);
}

epcal_status epcal__render_ext_new(epcal__render_ext **out,
                                   const epcal_render_options *opts,
                                   epcal_error *err) {
  epcal__render_ext *x = calloc(1, sizeof *x);
  if (x == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  if (opts != NULL) {
    epcal_status st = setup(x, opts, err);
    if (st != EPCAL_OK) {
      epcal__render_ext_free(x);
      return st;
    }
  } else {
    x->runtime = EPCAL__DEFAULT_RUNTIME;
  }
  *out = x;
  return EPCAL_OK;
}

static void text_prop(epcal__icsout *o, const char *name, const char *value) {
  epcal__icsout_begin(o, name);
  epcal__icsout_text(o, value, strlen(value));
  epcal__icsout_end(o);
}

void epcal__render_ext_header(epcal__render_ext *x, epcal__icsout *o) {
  if (x->calendar_description != NULL) {
    /* X- properties too go through TEXT escaping: libical 3.0 leaves ','
     * and ';' bare there, and clients then split the value. */
    text_prop(o, "DESCRIPTION", x->calendar_description);
    text_prop(o, "X-WR-CALDESC", x->calendar_description);
  }
  if (x->url != NULL) {
    epcal__icsout_begin(o, "URL");
    epcal__icsout_uri(o, x->url, strlen(x->url));
    epcal__icsout_end(o);
    epcal__icsout_begin(o, "SOURCE;VALUE=URI");
    epcal__icsout_uri(o, x->url, strlen(x->url));
    epcal__icsout_end(o);
  }
  if (x->refresh[0] != '\0') {
    epcal__icsout_begin(o, "REFRESH-INTERVAL;VALUE=DURATION");
    epcal__icsout_raw(o, x->refresh, strlen(x->refresh));
    epcal__icsout_end(o);
    epcal__icsout_begin(o, "X-PUBLISHED-TTL");
    epcal__icsout_raw(o, x->refresh, strlen(x->refresh));
    epcal__icsout_end(o);
  }
  if (x->color_name != NULL) {
    epcal__icsout_begin(o, "COLOR");
    epcal__icsout_raw(o, x->color_name, strlen(x->color_name));
    epcal__icsout_end(o);
    epcal__icsout_begin(o, "X-APPLE-CALENDAR-COLOR");
    epcal__icsout_raw(o, x->color_hex, 7);
    epcal__icsout_end(o);
  }
}

/* ------------------------------------------------------------ start, end */

epcal_status epcal__render_ext_when(epcal__render_ext *x,
                                    const epcal_episode *ep, epcal__when *w,
                                    epcal_error *err) {
  memset(w, 0, sizeof *w);
  int64_t day = epcal__date_to_days(ep->date);
  if (!ep->timed || x->all_day) {
    w->start_wall = day * 86400;
    return EPCAL_OK;
  }
  if (ep->time < 0 || ep->time >= 86400 || ep->runtime < 0) {
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                       "episode time or runtime out of range");
  }
  w->timed = true;
  int64_t local = day * 86400 + ep->time;
  const epcal__zone *z = NULL;
  if (!ep->utc) {
    if (ep->timezone != NULL) {
      z = epcal__zone_find(ep->timezone);
      if (z == NULL) {
        return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                           "unknown time zone \"%s\"", ep->timezone);
      }
    } else if (x->zone != NULL) {
      z = x->zone;
    } else {
      return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                         "air_time has no time zone: add a timezone column, "
                         "use --timezone, or end the time with Z for UTC");
    }
    if (epcal__zone_is_utc(z)) {
      z = NULL;
    }
  }
  long runtime = ep->runtime > 0 ? ep->runtime : x->runtime;
  epcal__span span;
  epcal__zone_span(z, local, (int64_t)runtime * 60, &span);
  if (!epcal__span_in_years(&span)) {
    return epcal__fail(err, EPCAL_EDATA, ep->file, ep->line, 0,
                       "the event would reach outside the years 0001 to "
                       "9999 (in its time zone or in UTC)");
  }
  w->start_utc = span.start_utc;
  w->end_utc = span.end_utc;
  if (z == NULL || !span.start_once) {
    /* A wall-clock time that this day repeats (a backward change) or skips
     * (a forward one) is read differently by different clients, whatever
     * RFC 5545 says: such a start, and then its end too, is written in UTC,
     * which every client reads the same way. */
    w->zone = NULL;
    w->start_wall = span.start_utc;
    w->end_wall = span.end_utc;
    w->end_in_utc = true;
    return EPCAL_OK;
  }
  w->zone = z;
  w->start_wall = span.start_wall;
  w->end_wall = span.end_wall;
  /* Likewise an end whose wall-clock time is repeated. */
  w->end_in_utc = !span.end_once;
  return EPCAL_OK;
}

/* Writes "DTSTART;TZID=Zone/Name:" (the name is plain ASCII). */
static void begin_tzid(epcal__icsout *o, const char *prop,
                       const epcal__zone *z) {
  const char *zone = epcal__zone_name(z);
  o->col = 0;
  epcal__icsout_raw(o, prop, strlen(prop));
  epcal__icsout_raw(o, ";TZID=", 6);
  epcal__icsout_raw(o, zone, strlen(zone));
  epcal__icsout_raw(o, ":", 1);
}

bool epcal__render_ext_write_when(epcal__render_ext *x, epcal__icsout *o,
                                  const epcal_episode *ep,
                                  const epcal__when *w) {
  char value[16];
  if (!w->timed) {
    /* DTEND is exclusive: the next day makes a one-day event that reads as
     * the same date in every time zone. */
    epcal__format_date(ep->date, value);
    epcal__icsout_begin(o, "DTSTART;VALUE=DATE");
    epcal__icsout_raw(o, value, 8);
    epcal__icsout_end(o);
    epcal__format_date(epcal__date_next(ep->date), value);
    epcal__icsout_begin(o, "DTEND;VALUE=DATE");
    epcal__icsout_raw(o, value, 8);
    epcal__icsout_end(o);
    return true;
  }
  epcal__format_datetime(w->start_wall, value);
  if (w->zone == NULL) {
    value[15] = 'Z';
    epcal__icsout_begin(o, "DTSTART");
    epcal__icsout_raw(o, value, 16);
    epcal__icsout_end(o);
  } else {
    begin_tzid(o, "DTSTART", w->zone);
    epcal__icsout_raw(o, value, 15);
    epcal__icsout_end(o);
  }
  if (w->end_in_utc) {
    epcal__format_datetime(w->end_utc, value);
    value[15] = 'Z';
    epcal__icsout_begin(o, "DTEND");
    epcal__icsout_raw(o, value, 16);
  } else {
    epcal__format_datetime(w->end_wall, value);
    begin_tzid(o, "DTEND", w->zone);
    epcal__icsout_raw(o, value, 15);
  }
  epcal__icsout_end(o);
  return w->zone == NULL ||
         epcal__zoneset_add(&x->zones, w->zone, w->start_wall, w->end_wall);
}

/* ------------------------------------------------------------------ text */

const char *epcal__render_ext_summary(epcal__render_ext *x,
                                      const epcal_episode *ep) {
  if (x->summary != NULL) {
    epcal__template_expand(x->summary, ep, &x->summary_buf);
  } else {
    epcal__summary_default(ep, &x->summary_buf);
  }
  return x->summary_buf.oom ? NULL : x->summary_buf.data;
}

const char *epcal__render_ext_description(epcal__render_ext *x,
                                          const epcal_episode *ep) {
  if (x->description == NULL) {
    return ep->description;
  }
  epcal__buf *b = &x->description_buf;
  epcal__template_expand(x->description, ep, b);
  if (b->oom) {
    return NULL;
  }
  /* Fields left empty ("{title}\n{url}" without a URL) leave blank lines
   * at the end: drop them. */
  while (b->len > 0 &&
         (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' ' ||
          b->data[b->len - 1] == '\t')) {
    b->data[--b->len] = '\0';
  }
  return b->data;
}

void epcal__render_ext_categories(epcal__render_ext *x, epcal__icsout *o,
                                  const epcal_episode *ep) {
  bool open = false;
  /* A value of blanks and control characters would come out empty, which
   * libical reports as an error: such a category is left out. */
  if (ep->network != NULL && epcal__has_visible(ep->network)) {
    epcal__icsout_begin(o, "CATEGORIES");
    epcal__icsout_text(o, ep->network, strlen(ep->network));
    open = true;
  }
  for (size_t i = 0; i < x->n_categories; i++) {
    const char *c = x->categories[i];
    if (!epcal__has_visible(c)) {
      continue;
    }
    if (open) {
      epcal__icsout_raw(o, ",", 1); /* the list separator, unescaped */
    } else {
      epcal__icsout_begin(o, "CATEGORIES");
      open = true;
    }
    epcal__icsout_text(o, c, strlen(c));
  }
  if (open) {
    epcal__icsout_end(o);
  }
  static const char *const status[] = {
      [EPCAL_EVENT_STATUS_CONFIRMED] = "STATUS:CONFIRMED",
      [EPCAL_EVENT_STATUS_TENTATIVE] = "STATUS:TENTATIVE",
      [EPCAL_EVENT_STATUS_CANCELLED] = "STATUS:CANCELLED",
  };
  if (ep->status > EPCAL_EVENT_STATUS_NONE &&
      ep->status <= EPCAL_EVENT_STATUS_CANCELLED) {
    epcal__icsout_line(o, status[ep->status]);
  }
}

void epcal__render_ext_alarms(epcal__render_ext *x, epcal__icsout *o) {
  const char *what = x->summary_buf.data;
  if (what == NULL || *what == '\0') {
    what = "Reminder";
  }
  for (size_t i = 0; i < x->n_alarms; i++) {
    epcal__icsout_line(o, "BEGIN:VALARM");
    epcal__icsout_line(o, "ACTION:DISPLAY");
    epcal__icsout_begin(o, "DESCRIPTION");
    epcal__icsout_text_line(o, what, strlen(what));
    epcal__icsout_end(o);
    epcal__icsout_begin(o, "TRIGGER");
    epcal__icsout_raw(o, x->alarms[i], strlen(x->alarms[i]));
    epcal__icsout_end(o);
    epcal__icsout_line(o, "END:VALARM");
  }
}

void epcal__render_ext_swap_zones(epcal__render_ext *x, epcal__zoneset *z) {
  epcal__zoneset t = x->zones;
  x->zones = *z;
  *z = t;
}

bool epcal__render_ext_zones(epcal__render_ext *x, epcal__icsout *o) {
  return epcal__zoneset_write(&x->zones, o);
}
