/* The HTML page at "/": the shows, sorted by name, each with its seasons
 * and subscribe links, a page at a time; a search box that works without
 * JavaScript (?q=); and the episodes coming up. */
#ifndef EPCAL_SERVE_PAGE_H
#define EPCAL_SERVE_PAGE_H

#include "buf.h"
#include "catalog.h"
#include "upcoming.h"

/* Shows on one page: with their seasons, a page stays far below 200 KB. */
#define SERVE_PAGE_SHOWS 25

typedef struct serve_page {
  const serve_catalog *catalog;
  const serve_upcoming *upcoming;
  /* --base-url ("https://host[/prefix]", no trailing '/') for absolute
   * links and webcal:// ones; NULL: links relative to the page, so that
   * nothing on it comes from the client's Host header. */
  const char *base;
  const char *query;  /* canonical filters, "" for none: kept in every link */
  const char *token;  /* NULL, or the token to put in every link */
  const char *title;  /* the page's heading */
  const char *search; /* ?q=: shows whose name holds it; NULL or "": all */
  unsigned long page; /* ?page=, 1-based */
  /* The whole catalogue is over the feed limit: no link to it, but a word
   * on what to do instead. 0: no limit. */
  unsigned long all_limit;
} serve_page;

/* Appends the page. Returns 0, or -1 when the buffer's cap is reached. */
int serve_page_render(const serve_page *p, serve_buf *out);

#endif
