#include "template.h"

#include "error.h"

#include "read/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void epcal__buf_append(epcal__buf *b, const char *s, size_t n) {
  if (b->oom) {
    return;
  }
  if (b->cap - b->len < n + 1) {
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap - b->len < n + 1) {
      cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void epcal__buf_free(epcal__buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

static void buf_reset(epcal__buf *b) {
  b->len = 0;
  epcal__buf_append(b, "", 0);
}

enum field {
  F_LITERAL,
  F_SHOW,
  F_SEASON,
  F_EPISODE,
  F_TITLE,
  F_CODE,
  F_NETWORK,
  F_DESCRIPTION,
  F_URL
};

static const struct {
  const char *name;
  enum field field;
  bool numeric;
} fields[] = {
    {"show", F_SHOW, false},
    {"season", F_SEASON, true},
    {"episode", F_EPISODE, true},
    {"title", F_TITLE, false},
    {"code", F_CODE, false},
    {"network", F_NETWORK, false},
    {"description", F_DESCRIPTION, false},
    {"url", F_URL, false},
};

/* A literal run (text[off, off + len)) or a field with its width. */
typedef struct piece {
  enum field field;
  size_t off;
  size_t len;
  int width;
} piece;

struct epcal__template {
  char *text; /* literals, with {{ and }} already made single */
  piece *pieces;
  size_t n;
};

void epcal__template_free(epcal__template *t) {
  if (t == NULL) {
    return;
  }
  free(t->text);
  free(t->pieces);
  free(t);
}

epcal_status epcal__template_compile(epcal__template **out, const char *text,
                                     const char *what, epcal_error *err) {
  size_t n = strlen(text);
  epcal__template *t = calloc(1, sizeof *t);
  if (t != NULL) {
    t->text = malloc(n + 1);
    /* At most one piece per input byte, plus one. */
    t->pieces = malloc((n + 1) * sizeof *t->pieces);
  }
  if (t == NULL || t->text == NULL || t->pieces == NULL) {
    epcal__template_free(t);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  size_t lit = 0; /* bytes of literal text so far */
  piece *cur = NULL;
  for (size_t i = 0; i < n;) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < n && text[i + 1] == c) {
      i++; /* a doubled brace is one literal brace */
    } else if (c == '}') {
      epcal__template_free(t);
      return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                         "%s: unmatched '}' at character %zu (write }} for "
                         "a brace)",
                         what, i + 1);
    } else if (c == '{') {
      const char *close = strchr(text + i, '}');
      if (close == NULL) {
        epcal__template_free(t);
        return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                           "%s: unmatched '{' at character %zu (write {{ "
                           "for a brace)",
                           what, i + 1);
      }
      size_t inner = (size_t)(close - (text + i)) - 1;
      const char *name = text + i + 1;
      const char *colon = memchr(name, ':', inner);
      size_t name_len = colon != NULL ? (size_t)(colon - name) : inner;
      int k = -1;
      for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        if (strlen(fields[f].name) == name_len &&
            memcmp(fields[f].name, name, name_len) == 0) {
          k = (int)f;
        }
      }
      if (k < 0) {
        epcal__template_free(t);
        return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                           "%s: unknown field {%.*s} (known: {show} {season} "
                           "{episode} {title} {code} {network} {description} "
                           "{url})",
                           what, (int)inner, name);
      }
      int width = 0;
      if (colon != NULL) {
        /* Only zero padding of numbers: {season:02}. */
        const char *w = colon + 1;
        size_t wl = (size_t)(close - w);
        bool ok = fields[k].numeric && wl == 2 && w[0] == '0' && w[1] >= '1' &&
                  w[1] <= '9';
        if (!ok) {
          epcal__template_free(t);
          return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                             "%s: bad format in {%.*s} (only {season:0N} and "
                             "{episode:0N}, N from 1 to 9)",
                             what, (int)inner, name);
        }
        width = w[1] - '0';
      }
      t->pieces[t->n++] = (piece){fields[k].field, 0, 0, width};
      cur = NULL;
      i = (size_t)(close - text) + 1;
      continue;
    }
    if (cur == NULL) {
      cur = &t->pieces[t->n++];
      *cur = (piece){F_LITERAL, lit, 0, 0};
    }
    t->text[lit++] = text[i];
    cur->len++;
    i++;
  }
  t->text[lit] = '\0';
  *out = t;
  return EPCAL_OK;
}

static void append_str(epcal__buf *b, const char *s) {
  if (s != NULL) {
    epcal__buf_append(b, s, strlen(s));
  }
}

/* Writes v as snprintf's "%0*ld" with `width` would; returns the length.
 * By hand for 0..99 at width 2 or less, nearly every season and episode
 * number: the default summary formats two per event. */
static size_t format_num(char *out, long v, int width) {
  if (v >= 0 && v <= 99 && width <= 2) {
    size_t n = 0;
    if (v >= 10 || width == 2) {
      out[n++] = (char)('0' + v / 10);
    }
    out[n++] = (char)('0' + v % 10);
    return n;
  }
  return (size_t)snprintf(out, 32, "%0*ld", width, v);
}

static void append_num(epcal__buf *b, long v, int width) {
  char num[32];
  epcal__buf_append(b, num, format_num(num, v, width));
}

static void append_code(epcal__buf *b, const epcal_episode *ep) {
  char code[70];
  size_t n = 0;
  code[n++] = 'S';
  n += format_num(code + n, ep->season, 2);
  code[n++] = 'E';
  n += format_num(code + n, ep->number, 2);
  epcal__buf_append(b, code, n);
}

void epcal__template_expand(const epcal__template *t, const epcal_episode *ep,
                            epcal__buf *b) {
  buf_reset(b);
  for (size_t i = 0; i < t->n; i++) {
    const piece *p = &t->pieces[i];
    switch (p->field) {
    case F_LITERAL:
      epcal__buf_append(b, t->text + p->off, p->len);
      break;
    case F_SHOW:
      append_str(b, ep->show);
      break;
    case F_SEASON:
      append_num(b, ep->season, p->width);
      break;
    case F_EPISODE:
      append_num(b, ep->number, p->width);
      break;
    case F_TITLE:
      append_str(b, ep->title);
      break;
    case F_CODE:
      append_code(b, ep);
      break;
    case F_NETWORK:
      append_str(b, ep->network);
      break;
    case F_DESCRIPTION:
      append_str(b, ep->description);
      break;
    case F_URL:
      append_str(b, ep->url);
      break;
    }
  }
}

void epcal__summary_default(const epcal_episode *ep, epcal__buf *b) {
  buf_reset(b);
  append_str(b, ep->show);
  epcal__buf_append(b, " ", 1);
  append_code(b, ep);
  /* A title of control characters would leave a dangling dash. */
  if (ep->title != NULL && epcal__has_visible(ep->title)) {
    epcal__buf_append(b, " \xE2\x80\x93 ", 5); /* en dash */
    append_str(b, ep->title);
  }
}
