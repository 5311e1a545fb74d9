/* The HTML page at "/": every show and season with its subscribe links,
 * and the episodes coming up. */
#ifndef EPCAL_SERVE_PAGE_H
#define EPCAL_SERVE_PAGE_H

#include "buf.h"
#include "catalog.h"
#include "upcoming.h"

typedef struct serve_page {
  const serve_catalog *catalog;
  const serve_upcoming *upcoming;
  /* --base-url ("https://host[/prefix]", no trailing '/') for absolute
   * links and webcal:// ones; NULL: links relative to the page, so that
   * nothing on it comes from the client's Host header. */
  const char *base;
  const char *query; /* canonical filters, "" for none: kept in every link */
  const char *token; /* NULL, or the token to put in every link */
  const char *title; /* the page's heading */
} serve_page;

/* Appends the page. Returns 0, or -1 when the buffer's cap is reached. */
int serve_page_render(const serve_page *p, serve_buf *out);

#endif
