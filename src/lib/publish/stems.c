/* Path stems of split output, stable from run to run (see stems.h). */
#define _GNU_SOURCE /* getline() */

#include "stems.h"

#include "epcal/epcal.h"
#include "keytab.h" /* epcal__hash64 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- index lines */

/* Appends code point c as UTF-8; false for one that is no character. */
static bool put_utf8(char *out, size_t *n, unsigned long c) {
  if (c == 0 || (c >= 0xD800 && c <= 0xDFFF)) {
    return false;
  }
  if (c < 0x80) {
    out[(*n)++] = (char)c;
  } else if (c < 0x800) {
    out[(*n)++] = (char)(0xC0 | c >> 6);
    out[(*n)++] = (char)(0x80 | (c & 0x3F));
  } else {
    out[(*n)++] = (char)(0xE0 | c >> 12);
    out[(*n)++] = (char)(0x80 | (c >> 6 & 0x3F));
    out[(*n)++] = (char)(0x80 | (c & 0x3F));
  }
  return true;
}

/*
 * Parses the JSON string at *p (at its opening quote) into out, of `cap`
 * bytes (NUL-terminated); moves *p past it. False when it is not a
 * string, does not fit, or holds a bad escape.
 */
static bool json_string(const char **p, char *out, size_t cap) {
  const char *s = *p;
  if (*s++ != '"') {
    return false;
  }
  size_t n = 0;
  while (*s != '"') {
    if (*s == '\0' || *s == '\n' || n + 4 >= cap) {
      return false;
    }
    if (*s != '\\') {
      out[n++] = *s++;
      continue;
    }
    s++;
    const char *simple = strchr("\"\\/bfnrt", *s);
    if (*s != '\0' && simple != NULL) {
      out[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      s++;
    } else if (*s == 'u') {
      char hex[5] = {0};
      for (size_t k = 0; k < 4 && s[1 + k] != '\0'; k++) {
        hex[k] = s[1 + k]; /* never past the end of the line */
      }
      char *end;
      unsigned long c = strtoul(hex, &end, 16);
      if (strlen(hex) != 4 || *end != '\0' || !put_utf8(out, &n, c)) {
        return false;
      }
      s += 5;
    } else {
      return false;
    }
  }
  out[n] = '\0';
  *p = s + 1;
  return true;
}

static const char *skip_blanks(const char *s) {
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  return s;
}

/*
 * One feed of index.json, a flat object on a line of its own:
 * {"name": "...", "show": "...", "season": N, "path": "...", ...}.
 * Fills show and path; false for any other line.
 */
static bool parse_feed_line(const char *line, char *show, size_t show_cap,
                            char *path, size_t path_cap, bool *has_show) {
  const char *s = strchr(line, '{');
  if (s == NULL) {
    return false;
  }
  s = skip_blanks(s + 1);
  bool have_show = false, have_path = false;
  while (*s == '"') {
    char key[64];
    if (!json_string(&s, key, sizeof key)) {
      return false;
    }
    s = skip_blanks(s);
    if (*s++ != ':') {
      return false;
    }
    s = skip_blanks(s);
    if (strcmp(key, "show") == 0) {
      have_show = json_string(&s, show, show_cap);
    } else if (strcmp(key, "path") == 0) {
      have_path = json_string(&s, path, path_cap);
    } else if (*s == '"') {
      char value[1024];
      if (!json_string(&s, value, sizeof value)) {
        return false;
      }
    } else {
      s += strcspn(s, ",}");
    }
    s = skip_blanks(s);
    if (*s != ',') {
      break;
    }
    s = skip_blanks(s + 1);
  }
  *has_show = have_show;
  return have_path && *s == '}';
}

/* The stem of a feed's path: up to its '/', or without ".ics". */
static bool stem_of(const char *path, char out[EPCAL__STEM_MAX]) {
  size_t n = strcspn(path, "/");
  if (path[n] != '/') {
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 4, ".ics") != 0) {
      return false;
    }
    n = len - 4;
  }
  if (n == 0 || n >= EPCAL__STEM_MAX ||
      strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789-") < n) {
    return false; /* not a stem epcal makes (a slug: a-z, 0-9, '-') */
  }
  memcpy(out, path, n);
  out[n] = '\0';
  return true;
}

/* ------------------------------------------------------------------ public */

bool epcal__stems_each(const char *index_path,
                       bool (*fn)(void *ctx, const char *show,
                                  const char *stem),
                       void *ctx) {
  FILE *f = fopen(index_path, "rb");
  if (f == NULL) {
    return true; /* the first run, or a directory without one: none */
  }
  char *line = NULL;
  size_t line_cap = 0;
  char show[1024], path[256], stem[EPCAL__STEM_MAX];
  bool go_on = true;
  while (go_on && getline(&line, &line_cap, f) >= 0) {
    bool has_show;
    if (parse_feed_line(line, show, sizeof show, path, sizeof path,
                        &has_show) &&
        has_show && stem_of(path, stem)) {
      go_on = fn(ctx, show, stem);
    }
  }
  free(line);
  fclose(f);
  return go_on;
}

bool epcal__index_paths_each(const char *index_path,
                             bool (*fn)(void *ctx, const char *show,
                                        const char *path),
                             void *ctx) {
  FILE *f = fopen(index_path, "rb");
  if (f == NULL) {
    return true;
  }
  char *line = NULL;
  size_t line_cap = 0;
  char show[1024], path[256], stem[EPCAL__STEM_MAX];
  bool go_on = true;
  while (go_on && getline(&line, &line_cap, f) >= 0) {
    bool has_show;
    if (parse_feed_line(line, show, sizeof show, path, sizeof path,
                        &has_show) &&
        epcal__feed_path_ok(path) && stem_of(path, stem)) {
      go_on = fn(ctx, has_show ? show : NULL, path);
    }
  }
  free(line);
  fclose(f);
  return go_on;
}

bool epcal__feed_path_ok(const char *path) {
  char stem[EPCAL__STEM_MAX];
  if (!stem_of(path, stem)) {
    return false;
  }
  const char *rest = path + strlen(stem);
  if (strcmp(rest, ".ics") == 0) {
    return true;
  }
  if (strncmp(rest, "/season-", 8) != 0) {
    return false;
  }
  rest += 8;
  size_t digits = strspn(rest, "0123456789");
  return digits >= 2 && digits <= 6 && strcmp(rest + digits, ".ics") == 0;
}

void epcal__stems_choose(const char *name,
                         bool (*taken)(void *ctx, const char *stem),
                         void *ctx, char out[EPCAL__STEM_MAX]) {
  char slug[41];
  epcal_slug(name, slug, sizeof slug);
  uint32_t h = (uint32_t)epcal__hash64(name, strlen(name));
  for (unsigned k = 0;; k++) {
    if (k == 0) {
      snprintf(out, EPCAL__STEM_MAX, "%s", slug);
    } else if (k == 1) {
      snprintf(out, EPCAL__STEM_MAX, "%s-%08x", slug, h);
    } else { /* even the hash is taken */
      snprintf(out, EPCAL__STEM_MAX, "%s-%08x-%u", slug, h, k);
    }
    /* "calendar" is nobody's: `epcal serve` answers /calendar.ics with
     * every show, and serve and split name shows alike. */
    if (strcmp(out, "calendar") != 0 && !taken(ctx, out)) {
      return;
    }
  }
}

void epcal_stem_choose(const char *name, epcal_stem_taken_fn taken,
                       void *ctx, char out[EPCAL_STEM_MAX]) {
  epcal__stems_choose(name, taken, ctx, out);
}

bool epcal_stems_each(const char *index_path, epcal_stem_fn fn, void *ctx) {
  return epcal__stems_each(index_path, fn, ctx);
}
