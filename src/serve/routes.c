#include "routes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* "season-N.ics" -> N; up to six digits, leading zeros allowed. */
static bool parse_season_file(const char *s, long *out) {
  static const char prefix[] = "season-";
  size_t n = strlen(s);
  if (strncmp(s, prefix, sizeof prefix - 1) != 0 || !ends_with(s, n, ".ics")) {
    return false;
  }
  const char *d = s + sizeof prefix - 1;
  size_t digits = n - (sizeof prefix - 1) - 4;
  if (digits == 0 || digits > 6) {
    return false;
  }
  long v = 0;
  for (size_t i = 0; i < digits; i++) {
    if (!isdigit((unsigned char)d[i])) {
      return false;
    }
    v = v * 10 + (d[i] - '0');
  }
  *out = v;
  return true;
}

serve_route serve_route_match(const char *path, const serve_catalog *cat) {
  serve_route r;
  memset(&r, 0, sizeof r);
  r.kind = SERVE_ROUTE_NONE;
  if (strcmp(path, "/") == 0) {
    r.kind = SERVE_ROUTE_INDEX;
    return r;
  }
  if (strcmp(path, "/calendar.ics") == 0) {
    r.kind = SERVE_ROUTE_ALL;
    return r;
  }
  if (path[0] != '/') {
    return r;
  }
  const char *rest = path + 1;
  const char *slash = strchr(rest, '/');
  char slug[SERVE_SLUG_MAX + 8];
  size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
  if (slash == NULL) {
    if (!ends_with(rest, n, ".ics") || n - 4 >= sizeof slug || n == 4) {
      return r;
    }
    memcpy(slug, rest, n - 4);
    slug[n - 4] = '\0';
    r.show = serve_catalog_find(cat, slug);
    r.kind = r.show != NULL ? SERVE_ROUTE_SHOW : SERVE_ROUTE_NONE;
    return r;
  }
  if (n == 0 || n >= sizeof slug || strchr(slash + 1, '/') != NULL) {
    return r;
  }
  memcpy(slug, rest, n);
  slug[n] = '\0';
  long season;
  if (!parse_season_file(slash + 1, &season)) {
    return r;
  }
  r.show = serve_catalog_find(cat, slug);
  if (r.show == NULL || serve_show_season(cat, r.show, season) == NULL) {
    r.show = NULL;
    return r;
  }
  r.kind = SERVE_ROUTE_SEASON;
  r.season = season;
  return r;
}

void serve_route_select(serve_route *r, epcal_selection *sel) {
  if (r->kind != SERVE_ROUTE_SHOW && r->kind != SERVE_ROUTE_SEASON) {
    return;
  }
  r->show_names[0] = r->show->name;
  sel->shows = r->show_names;
  sel->n_shows = 1;
  if (r->kind == SERVE_ROUTE_SEASON) {
    r->range.first = r->season;
    r->range.last = r->season;
    sel->seasons = &r->range;
    sel->n_seasons = 1;
  }
}

int serve_route_path(const serve_route *r, serve_buf *out) {
  switch (r->kind) {
  case SERVE_ROUTE_INDEX:
    return serve_buf_puts(out, "/");
  case SERVE_ROUTE_ALL:
    return serve_buf_puts(out, "/calendar.ics");
  case SERVE_ROUTE_SHOW:
    return serve_buf_printf(out, "/%s.ics", r->show->slug);
  case SERVE_ROUTE_SEASON:
    return serve_buf_printf(out, "/%s/season-%ld.ics", r->show->slug,
                            r->season);
  case SERVE_ROUTE_NONE:
    break;
  }
  return -1;
}

int serve_route_filename(const serve_route *r, serve_buf *out) {
  switch (r->kind) {
  case SERVE_ROUTE_ALL:
    return serve_buf_puts(out, "calendar.ics");
  case SERVE_ROUTE_SHOW:
    return serve_buf_printf(out, "%s.ics", r->show->slug);
  case SERVE_ROUTE_SEASON:
    return serve_buf_printf(out, "%s-season-%ld.ics", r->show->slug, r->season);
  case SERVE_ROUTE_INDEX:
  case SERVE_ROUTE_NONE:
    break;
  }
  return -1;
}

int serve_route_calendar_name(const serve_route *r, const char *all_name,
                              serve_buf *out) {
  switch (r->kind) {
  case SERVE_ROUTE_ALL:
    return serve_buf_puts(out, all_name);
  case SERVE_ROUTE_SHOW:
    return serve_buf_puts(out, r->show->name);
  case SERVE_ROUTE_SEASON:
    if (r->season == 0) {
      return serve_buf_printf(out, "%s, Specials", r->show->name);
    }
    return serve_buf_printf(out, "%s, Season %ld", r->show->name, r->season);
  case SERVE_ROUTE_INDEX:
  case SERVE_ROUTE_NONE:
    break;
  }
  return -1;
}
