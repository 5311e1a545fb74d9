#include "list_store.h"

#include <stdlib.h>
#include <string.h>

/* Appends s with its NUL; *off receives where it starts. */
static bool arena_add(epcal_list_store *st, const char *s, uint32_t *off) {
  size_t n = strlen(s) + 1;
  if (st->text_len + n >= EPCAL_LIST_NO_TEXT) {
    return false;
  }
  if (st->text_cap - st->text_len < n) {
    size_t cap = st->text_cap == 0 ? 4096 : st->text_cap;
    while (cap - st->text_len < n) {
      cap *= 2;
    }
    char *p = realloc(st->text, cap);
    if (p == NULL) {
      return false;
    }
    st->text = p;
    st->text_cap = cap;
  }
  memcpy(st->text + st->text_len, s, n);
  *off = (uint32_t)st->text_len;
  st->text_len += n;
  return true;
}

bool epcal_list_store_add(epcal_list_store *s, const epcal_episode *ep) {
  if (s->n == s->cap) {
    size_t cap = s->cap == 0 ? 256 : s->cap * 2;
    if (cap >= UINT32_MAX) {
      return false;
    }
    epcal_list_row *p = realloc(s->rows, cap * sizeof *p);
    if (p == NULL) {
      return false;
    }
    s->rows = p;
    s->cap = cap;
  }
  epcal_list_row r;
  r.date =
      (uint32_t)(ep->date.year * 10000 + ep->date.month * 100 + ep->date.day);
  r.season = (int32_t)ep->season;
  r.number = (int32_t)ep->number;
  r.seq = (uint32_t)s->n;
  /* Input is usually grouped by show: keep one copy per run of rows. */
  if (s->n > 0 && strcmp(s->text + s->last_show, ep->show) == 0) {
    r.show = s->last_show;
  } else if (!arena_add(s, ep->show, &r.show)) {
    return false;
  }
  s->last_show = r.show;
  r.title = EPCAL_LIST_NO_TEXT;
  if (ep->title != NULL && !arena_add(s, ep->title, &r.title)) {
    return false;
  }
  s->rows[s->n++] = r;
  return true;
}

/* qsort has no context argument: the arena is passed through a file-level
 * pointer, set only for the duration of one sort. */
static const char *sort_text;

static int cmp_rows(const void *pa, const void *pb) {
  const epcal_list_row *a = pa, *b = pb;
  if (a->date != b->date) {
    return a->date < b->date ? -1 : 1;
  }
  if (a->show != b->show) {
    int c = strcmp(sort_text + a->show, sort_text + b->show);
    if (c != 0) {
      return c;
    }
  }
  if (a->season != b->season) {
    return a->season < b->season ? -1 : 1;
  }
  if (a->number != b->number) {
    return a->number < b->number ? -1 : 1;
  }
  return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

void epcal_list_store_sort(epcal_list_store *s) {
  if (s->n < 2) {
    return;
  }
  sort_text = s->text;
  qsort(s->rows, s->n, sizeof *s->rows, cmp_rows);
  sort_text = NULL;
}

const char *epcal_list_store_text(const epcal_list_store *s, uint32_t off) {
  return off == EPCAL_LIST_NO_TEXT ? NULL : s->text + off;
}

void epcal_list_store_free(epcal_list_store *s) {
  free(s->rows);
  free(s->text);
  memset(s, 0, sizeof *s);
}
