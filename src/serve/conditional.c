#include "conditional.h"

#include "timeutil.h"

#include <string.h>

/* Compares the opaque part of a quoted tag, ignoring a W/ prefix on either
 * side (weak comparison). */
static bool same_opaque(const char *tag, size_t n, const char *ours) {
  if (ours == NULL) {
    return false;
  }
  if (strncmp(ours, "W/", 2) == 0) {
    ours += 2;
  }
  return strlen(ours) == n && memcmp(tag, ours, n) == 0;
}

bool serve_etag_matches(const char *header, const char *etag,
                        const char *etag2) {
  const char *p = header;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == ',') {
      p++;
    }
    if (*p == '\0') {
      return false;
    }
    if (*p == '*') {
      return true;
    }
    if (strncmp(p, "W/", 2) == 0) {
      p += 2;
    }
    if (*p != '"') {
      return false; /* malformed: match nothing, serve the full body */
    }
    const char *close = strchr(p + 1, '"');
    if (close == NULL) {
      return false;
    }
    size_t n = (size_t)(close - p) + 1; /* quotes included */
    if (same_opaque(p, n, etag) || same_opaque(p, n, etag2)) {
      return true;
    }
    p = close + 1;
  }
}

bool serve_not_modified(const char *if_none_match,
                        const char *if_modified_since, const char *etag,
                        const char *etag2, int64_t last_modified) {
  if (if_none_match != NULL) {
    return serve_etag_matches(if_none_match, etag, etag2);
  }
  int64_t since;
  if (if_modified_since != NULL &&
      serve_http_date_parse(if_modified_since, &since)) {
    return last_modified <= since;
  }
  return false;
}
