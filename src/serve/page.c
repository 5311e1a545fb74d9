#include "page.h"

#include "epcal/epcal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Link parameters for a page of the list: the search and the page
 * number, then the filters and token as target() adds them. */
static void page_href(serve_buf *b, const serve_page *p, unsigned long page) {
  bool q = false;
  serve_buf_puts(b, "/");
  if (p->search != NULL && p->search[0] != '\0') {
    serve_buf_puts(b, "?q=");
    url_value(b, p->search);
    q = true;
  }
  if (page > 1) {
    serve_buf_printf(b, "%spage=%lu", q ? "&amp;" : "?", page);
    q = true;
  }
  if (p->query[0] != '\0') {
    serve_buf_puts(b, q ? "&amp;" : "?");
    html(b, p->query);
    q = true;
  }
  if (p->token != NULL) {
    serve_buf_puts(b, q ? "&amp;token=" : "?token=");
    url_value(b, p->token);
  }
}

static void day_text(serve_buf *b, int32_t days) {
  epcal_date d = epcal_date_from_days(days);
  serve_buf_printf(b, "%04d-%02d-%02d", d.year, d.month, d.day);
}

static void date_range(serve_buf *b, unsigned long events, int32_t first,
                       int32_t last) {
  if (events == 0) {
    serve_buf_puts(b, "dates to be announced");
    return;
  }
  day_text(b, first);
  if (first != last) {
    serve_buf_puts(b, " &ndash; ");
    day_text(b, last);
  }
}

/* "webcal://host[/prefix]" of --base-url before a path; nothing without
 * it (the link is then relative to the page). */
static void webcal_base(serve_buf *b, const serve_page *p) {
  if (p->base != NULL) {
    const char *authority = strstr(p->base, "://");
    serve_buf_puts(b, "webcal://");
    html(b, authority != NULL ? authority + 3 : p->base);
  }
}

static void links(serve_buf *b, const serve_page *p, const char *path,
                  const char *filename) {
  serve_buf_puts(b, "<td class=\"links\"><a class=\"subscribe\" "
                    "href=\"");
  webcal_base(b, p);
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

/* ASCII case-insensitive substring search (names are UTF-8: other bytes
 * compare as they are). */
static bool holds(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay != '\0'; hay++) {
    if (strncasecmp(hay, needle, n) == 0) {
      return true;
    }
  }
  return n == 0;
}

static bool listed(const serve_page *p, const serve_show *s) {
  return p->search == NULL || p->search[0] == '\0' ||
         holds(s->name, p->search) || holds(s->slug, p->search);
}

/* One show: its row (name, count, dates, links), then a row of its
 * seasons, each a subscribe link. */
static void show_rows(serve_buf *b, const serve_page *p, const serve_show *s) {
  char path[SERVE_SLUG_MAX + 40], file[SERVE_SLUG_MAX + 40];
  snprintf(path, sizeof path, "/%s.ics", s->slug);
  snprintf(file, sizeof file, "%s.ics", s->slug);
  serve_buf_printf(b, "<tr class=\"show\" id=\"%s\"><td>", s->slug);
  html(b, s->name);
  serve_buf_printf(b, "</td><td class=\"num\">%lu</td><td>", s->events);
  date_range(b, s->events, s->first, s->last);
  serve_buf_puts(b, "</td>");
  links(b, p, path, file);
  serve_buf_puts(b, "</tr>\n<tr class=\"seasons\"><td colspan=\"4\">");
  for (size_t k = 0; k < s->n_seasons; k++) {
    const serve_season *se = serve_show_season_at(p->catalog, s, k);
    snprintf(path, sizeof path, "/%s/season-%ld.ics", s->slug,
             (long)se->number);
    serve_buf_puts(b, "<a class=\"subscribe\" href=\"");
    webcal_base(b, p);
    target(b, p, path);
    serve_buf_puts(b, "\" title=\"");
    if (se->events > 0) {
      serve_buf_printf(b, "%lu episode%s, ", (unsigned long)se->events,
                       se->events == 1 ? "" : "s");
    }
    date_range(b, se->events, se->first, se->last);
    if (se->number == 0) {
      serve_buf_puts(b, "\">Specials</a> ");
    } else {
      serve_buf_printf(b, "\">Season %ld</a> ", (long)se->number);
    }
  }
  serve_buf_puts(b, "</td></tr>\n");
}

static const char style[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;"
    "padding:0 1em;color:#222}table{border-collapse:collapse;width:100%}"
    "td,th{padding:.3em .6em;text-align:left}tr.show td{font-weight:600;"
    "padding-top:.8em;border-top:1px solid #ddd}tr.seasons td{padding-left:"
    "2em}tr.seasons a{margin-right:.8em;white-space:nowrap}td.num{text-align:"
    "right}.links a{margin-right:.6em}code{background:#f4f4f4;padding:0 .2em}"
    "nav a,nav b{margin-right:.5em}";

static void pages_nav(serve_buf *b, const serve_page *p, unsigned long page,
                      unsigned long pages) {
  if (pages <= 1) {
    return;
  }
  serve_buf_puts(b, "<nav><p>Page: ");
  for (unsigned long i = 1; i <= pages; i++) {
    if (i == page) {
      serve_buf_printf(b, "<b>%lu</b> ", i);
      continue;
    }
    serve_buf_puts(b, "<a href=\"");
    page_href(b, p, i);
    serve_buf_printf(b, "\">%lu</a> ", i);
  }
  serve_buf_puts(b, "</p></nav>\n");
}

int serve_page_render(const serve_page *p, serve_buf *b) {
  const serve_catalog *c = p->catalog;
  serve_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                    "<meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<title>");
  html(b, p->title);
  serve_buf_printf(b, "</title><style>%s</style></head><body>\n<h1>", style);
  html(b, p->title);
  serve_buf_puts(b,
                 "</h1>\n<p>Subscribe in a calendar app to get new "
                 "episodes as they are announced: <em>Subscribe</em> "
                 "opens your calendar app; or copy the <em>Link</em> into "
                 "its \"subscribe to a calendar from a URL\" setting.</p>\n");
  /* The search: a plain GET form, so it works without JavaScript; the
   * filters and the token ride along as hidden fields. */
  serve_buf_puts(b, "<form method=\"get\" action=\"/\" role=\"search\">"
                    "<input type=\"search\" name=\"q\" value=\"");
  html(b, p->search != NULL ? p->search : "");
  serve_buf_puts(b, "\" placeholder=\"Show name\" aria-label=\"Search "
                    "shows\"> <button type=\"submit\">Search</button>");
  if (p->token != NULL) {
    serve_buf_puts(b, "<input type=\"hidden\" name=\"token\" value=\"");
    html(b, p->token);
    serve_buf_puts(b, "\">");
  }
  serve_buf_puts(b, "</form>\n");

  size_t n = serve_catalog_count(c);
  unsigned long matches = 0;
  for (size_t i = 0; i < n; i++) {
    matches += listed(p, serve_catalog_at(c, i));
  }
  unsigned long pages = (matches + SERVE_PAGE_SHOWS - 1) / SERVE_PAGE_SHOWS;
  unsigned long page = p->page >= 1 ? p->page : 1;
  if (p->search != NULL && p->search[0] != '\0') {
    serve_buf_printf(b, "<p>%lu show%s found.</p>\n", matches,
                     matches == 1 ? "" : "s");
  }
  pages_nav(b, p, page, pages);
  serve_buf_puts(b, "<table>\n<thead><tr><th>Calendar</th><th>Episodes</th>"
                    "<th>Dates</th><th></th></tr></thead>\n<tbody>\n");
  /* The whole-calendar row spans every show. */
  unsigned long all = serve_catalog_events(c);
  int32_t first = 0, last = 0;
  bool any = serve_catalog_span(c, &first, &last);
  serve_buf_puts(b, "<tr class=\"all\"><td>All episodes</td>");
  serve_buf_printf(b, "<td class=\"num\">%lu</td><td>", all);
  date_range(b, any ? all : 0, first, last);
  serve_buf_puts(b, "</td>");
  if (p->all_limit > 0 && all > p->all_limit) {
    serve_buf_printf(b,
                     "<td>more than one feed may hold (%lu events): "
                     "subscribe to shows, or add "
                     "<code>future_days=N</code></td></tr>\n",
                     p->all_limit);
  } else {
    links(b, p, "/calendar.ics", "calendar.ics");
    serve_buf_puts(b, "</tr>\n");
  }
  unsigned long skip = (page - 1) * SERVE_PAGE_SHOWS, shown = 0;
  for (size_t i = 0; i < n && shown < SERVE_PAGE_SHOWS; i++) {
    const serve_show *s = serve_catalog_at(c, i);
    if (!listed(p, s)) {
      continue;
    }
    if (skip > 0) {
      skip--;
      continue;
    }
    show_rows(b, p, s);
    shown++;
  }
  serve_buf_puts(b, "</tbody></table>\n");
  pages_nav(b, p, page, pages);
  serve_buf_puts(b, "<h2>Coming up</h2>\n");
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
         "every link.</p>\n<p>Several shows in one feed: "
         "<code>/calendar.ics?shows=SHOW,SHOW</code>, with the names in "
         "the shows' addresses (<code>/SHOW.ics</code>).</p>\n"
         "<p><small>epcal " EPCAL_VERSION "</small></p>\n</body></html>\n");
  return b->failed ? -1 : 0;
}
