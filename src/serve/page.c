#include "page.h"

#include "epcal/epcal.h"

#include <stdio.h>
#include <string.h>

/* Text into HTML element content or a quoted attribute. */
static void html(serve_buf *b, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      serve_buf_puts(b, "&amp;");
      break;
    case '<':
      serve_buf_puts(b, "&lt;");
      break;
    case '>':
      serve_buf_puts(b, "&gt;");
      break;
    case '"':
      serve_buf_puts(b, "&quot;");
      break;
    case '\'':
      serve_buf_puts(b, "&#39;");
      break;
    default:
      serve_buf_append(b, s, 1);
    }
  }
}

/* A query-string value, percent-encoded (then HTML-escaped by the caller's
 * context: the result has no characters HTML cares about). */
static void url_value(serve_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
      serve_buf_append(b, s, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      serve_buf_append(b, e, 3);
    }
  }
}

/* path + "?filters&token=..." as the links need it. */
static void target(serve_buf *b, const serve_page *p, const char *path) {
  serve_buf_puts(b, path);
  bool q = false;
  if (p->query[0] != '\0') {
    serve_buf_puts(b, "?");
    html(b, p->query);
    q = true;
  }
  if (p->token != NULL) {
    serve_buf_puts(b, q ? "&amp;token=" : "?token=");
    url_value(b, p->token);
  }
}

static void date_range(serve_buf *b, unsigned long events, epcal_date first,
                       epcal_date last) {
  if (events == 0) {
    serve_buf_puts(b, "dates to be announced");
    return;
  }
  serve_buf_printf(b, "%04d-%02d-%02d", first.year, first.month, first.day);
  if (first.year != last.year || first.month != last.month ||
      first.day != last.day) {
    serve_buf_printf(b, " &ndash; %04d-%02d-%02d", last.year, last.month,
                     last.day);
  }
}

static void links(serve_buf *b, const serve_page *p, const char *path,
                  const char *filename) {
  serve_buf_puts(b, "<td class=\"links\"><a class=\"subscribe\" "
                    "href=\"");
  if (p->base != NULL) {
    const char *authority = strstr(p->base, "://");
    serve_buf_puts(b, "webcal://");
    html(b, authority != NULL ? authority + 3 : p->base);
  }
  target(b, p, path);
  serve_buf_puts(b, "\">Subscribe</a> <a class=\"plain\" href=\"");
  if (p->base != NULL) {
    html(b, p->base);
  }
  target(b, p, path);
  serve_buf_puts(b, "\">Link</a> <a class=\"download\" href=\"");
  target(b, p, path);
  serve_buf_puts(b, "\" download=\"");
  html(b, filename);
  serve_buf_puts(b, "\">Download</a></td>");
}

static void row(serve_buf *b, const serve_page *p, const char *cls,
                const char *label, unsigned long events, epcal_date first,
                epcal_date last, const char *path, const char *filename) {
  serve_buf_printf(b, "<tr class=\"%s\"><td>", cls);
  html(b, label);
  serve_buf_printf(b, "</td><td class=\"num\">%lu</td><td>", events);
  date_range(b, events, first, last);
  serve_buf_puts(b, "</td>");
  links(b, p, path, filename);
  serve_buf_puts(b, "</tr>\n");
}

static const char style[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;"
    "padding:0 1em;color:#222}table{border-collapse:collapse;width:100%}"
    "td,th{padding:.3em .6em;text-align:left;border-bottom:1px solid #ddd}"
    "tr.show td{font-weight:600;padding-top:1em}tr.season td:first-child"
    "{padding-left:2em}td.num{text-align:right}.links a{margin-right:.6em}"
    "code{background:#f4f4f4;padding:0 .2em}";

int serve_page_render(const serve_page *p, serve_buf *b) {
  const serve_catalog *c = p->catalog;
  serve_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                    "<meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<title>");
  html(b, p->title);
  serve_buf_printf(b, "</title><style>%s</style></head><body>\n<h1>", style);
  html(b, p->title);
  serve_buf_puts(b, "</h1>\n<p>Subscribe in a calendar app to get new "
                    "episodes as they are announced: <em>Subscribe</em> "
                    "opens your calendar app; or copy the <em>Link</em> into "
                    "its \"subscribe to a calendar from a URL\" setting.</p>\n"
                    "<table>\n<thead><tr><th>Calendar</th><th>Episodes</th>"
                    "<th>Dates</th><th></th></tr></thead>\n<tbody>\n");
  /* The whole-calendar row spans every show. */
  unsigned long all = serve_catalog_events(c);
  epcal_date first = {0, 0, 0}, last = {0, 0, 0};
  bool any = false;
  for (size_t i = 0; i < serve_catalog_count(c); i++) {
    const serve_show *s = serve_catalog_at(c, i);
    if (s->events == 0) {
      continue;
    }
    if (!any || s->first.year * 10000 + s->first.month * 100 + s->first.day <
                    first.year * 10000 + first.month * 100 + first.day) {
      first = s->first;
    }
    if (!any || s->last.year * 10000 + s->last.month * 100 + s->last.day >
                    last.year * 10000 + last.month * 100 + last.day) {
      last = s->last;
    }
    any = true;
  }
  row(b, p, "all", "All episodes", all, first, last, "/calendar.ics",
      "calendar.ics");
  char path[SERVE_SLUG_MAX + 32], file[SERVE_SLUG_MAX + 32];
  for (size_t i = 0; i < serve_catalog_count(c); i++) {
    const serve_show *s = serve_catalog_at(c, i);
    snprintf(path, sizeof path, "/%s.ics", s->slug);
    snprintf(file, sizeof file, "%s.ics", s->slug);
    row(b, p, "show", s->name, s->events, s->first, s->last, path, file);
    for (size_t k = 0; k < s->n_seasons; k++) {
      const serve_season *se = &s->seasons[k];
      char label[32];
      if (se->number == 0) {
        snprintf(label, sizeof label, "Specials");
      } else {
        snprintf(label, sizeof label, "Season %ld", se->number);
      }
      snprintf(path, sizeof path, "/%s/season-%ld.ics", s->slug, se->number);
      snprintf(file, sizeof file, "%s-season-%ld.ics", s->slug, se->number);
      row(b, p, "season", label, se->events, se->first, se->last, path, file);
    }
  }
  serve_buf_puts(b, "</tbody></table>\n<h2>Coming up</h2>\n");
  if (p->upcoming->n == 0) {
    serve_buf_puts(b, "<p>No episodes are scheduled yet.</p>\n");
  } else {
    serve_buf_puts(b, "<table class=\"upcoming\">\n<tbody>\n");
    for (size_t i = 0; i < p->upcoming->n; i++) {
      const serve_upcoming_item *it = &p->upcoming->items[i];
      serve_buf_printf(b, "<tr><td>%04d-%02d-%02d</td><td>", it->date.year,
                       it->date.month, it->date.day);
      html(b, it->show);
      serve_buf_printf(b, "</td><td>S%02ldE%02ld</td><td>", it->season,
                       it->number);
      html(b, it->title != NULL ? it->title : "");
      serve_buf_puts(b, "</td></tr>\n");
    }
    serve_buf_puts(b, "</tbody></table>\n");
  }
  serve_buf_puts(
      b, "<h2>Options</h2>\n<p>Add these to a feed's URL: "
         "<code>past_days=N</code> and <code>future_days=N</code> (a window "
         "around today), <code>premieres_only=true</code>, "
         "<code>specials=false</code>. On this page they carry over into "
         "every link.</p>\n<p><small>epcal " EPCAL_VERSION
         "</small></p>\n</body></html>\n");
  return b->failed ? -1 : 0;
}
