#include "accesslog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct line {
  char *p;
  size_t n, cap;
} line;

static void put(line *l, const char *s, size_t n) {
  for (size_t i = 0; i < n && l->n + 1 < l->cap; i++) {
    l->p[l->n++] = s[i];
  }
  l->p[l->n] = '\0';
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* Request text is attacker-controlled: escape what could forge a line or a
 * field (quotes, backslashes, control and non-ASCII bytes) as \xHH. */
static void put_escaped(line *l, const char *s) {
  for (; s != NULL && *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02X", c);
      puts_(l, hex);
    } else {
      put(l, (const char *)&c, 1);
    }
  }
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* How many bytes of `s` spell `secret`, each of its characters written as
 * itself or percent-encoded (either case, as in a Referer); 0: none. */
static size_t spells(const char *s, const char *secret) {
  const char *p = s;
  for (; *secret != '\0'; secret++) {
    if (*p == *secret) {
      p++;
    } else if (p[0] == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0 &&
               hex_value(p[1]) * 16 + hex_value(p[2]) ==
                   (unsigned char)*secret) {
      p += 3;
    } else if (*secret == ' ' && *p == '+') {
      p++;
    } else {
      return 0;
    }
  }
  return (size_t)(p - s);
}

/* Copies `s` into out (NUL-terminated, cut to cap) with every occurrence
 * of `secret` (plain or percent-encoded) and, when `query_tokens`, every
 * `token=` value of a query (up to '&', '#' or the end) replaced by REDACTED.
 */
static void redact(const char *s, const char *secret, bool query_tokens,
                   char *out, size_t cap) {
  size_t n = 0;
  bool any = secret != NULL && *secret != '\0';
  static const char mark[] = "REDACTED";
  while (*s != '\0' && n + 1 < cap) {
    size_t slen = any ? spells(s, secret) : 0;
    if (slen > 0) {
      for (size_t i = 0; mark[i] != '\0' && n + 1 < cap; i++) {
        out[n++] = mark[i];
      }
      s += slen;
      continue;
    }
    if (query_tokens && strncmp(s, "token=", 6) == 0 && n > 0 &&
        (out[n - 1] == '?' || out[n - 1] == '&' || out[n - 1] == ';')) {
      for (size_t i = 0; i < 6 && n + 1 < cap; i++) {
        out[n++] = s[i];
      }
      for (size_t i = 0; mark[i] != '\0' && n + 1 < cap; i++) {
        out[n++] = mark[i];
      }
      s += 6;
      while (*s != '\0' && *s != '&' && *s != '#') {
        s++;
      }
      continue;
    }
    out[n++] = *s++;
  }
  out[n] = '\0';
}

/* Percent-encodes a decoded query component back for the log. */
static void put_query_part(line *l, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
      put(l, (const char *)&c, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      put(l, e, 3);
    }
  }
}

void serve_access_format(const serve_access *a, char *out, size_t cap) {
  line l = {out, 0, cap};
  out[0] = '\0';
  put_escaped(&l, a->client != NULL ? a->client : "-");
  puts_(&l, " - - [");
  char when[64];
  time_t t = (time_t)a->time;
  struct tm tm;
  if (gmtime_r(&t, &tm) != NULL &&
      strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm) > 0) {
    puts_(&l, when);
  } else {
    puts_(&l, "-");
  }
  puts_(&l, "] \"");
  put_escaped(&l, a->method);
  puts_(&l, " ");
  char clean[2048];
  redact(a->path, a->secret, false, clean, sizeof clean);
  put_escaped(&l, clean);
  for (size_t i = 0; i < a->n_params; i++) {
    puts_(&l, i == 0 ? "?" : "&");
    put_query_part(&l, a->params[i].key);
    if (strcmp(a->params[i].key, "token") == 0) {
      puts_(&l, "=REDACTED");
    } else if (a->params[i].value != NULL) {
      puts_(&l, "=");
      redact(a->params[i].value, a->secret, false, clean, sizeof clean);
      put_query_part(&l, clean);
    }
  }
  puts_(&l, " ");
  put_escaped(&l, a->version);
  char tail[64];
  snprintf(tail, sizeof tail, "\" %d %zu \"", a->status, a->bytes);
  puts_(&l, tail);
  redact(a->referer != NULL ? a->referer : "-", a->secret, true, clean,
         sizeof clean);
  put_escaped(&l, clean);
  puts_(&l, "\" \"");
  redact(a->user_agent != NULL ? a->user_agent : "-", a->secret, false, clean,
         sizeof clean);
  put_escaped(&l, clean);
  puts_(&l, "\"");
}

void serve_access_log(const serve_access *a) {
  char buf[4096];
  serve_access_format(a, buf, sizeof buf - 1);
  size_t n = strlen(buf);
  buf[n++] = '\n';
  /* One write(2) of a line shorter than PIPE_BUF is atomic on a pipe. */
  ssize_t rc = write(STDERR_FILENO, buf, n);
  (void)rc; /* nowhere left to report a failing standard error */
}
