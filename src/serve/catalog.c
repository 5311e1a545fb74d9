#include "catalog.h"

#include "timeutil.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct serve_catalog {
  serve_show *shows;
  size_t n_shows, cap_shows;
  /* Open addressing over show indexes + 1 (0: empty), keyed by the name
   * folded to lower case: a million rows must not cost a million scans. */
  size_t *slots;
  size_t n_slots;
  size_t last_hit; /* rows usually come grouped by show */
  size_t *by_slug; /* show indexes sorted by slug, after finish */
  unsigned long events;
};

static uint64_t fold_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)tolower((unsigned char)*s);
    h *= 1099511628211ULL;
  }
  return h;
}

serve_catalog *serve_catalog_new(void) {
  serve_catalog *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return NULL;
  }
  c->n_slots = 64;
  c->slots = calloc(c->n_slots, sizeof *c->slots);
  if (c->slots == NULL) {
    free(c);
    return NULL;
  }
  return c;
}

static void place(size_t *slots, size_t n_slots, const char *name,
                  size_t index) {
  size_t i = (size_t)(fold_hash(name) & (n_slots - 1));
  while (slots[i] != 0) {
    i = (i + 1) & (n_slots - 1);
  }
  slots[i] = index + 1;
}

static int rehash(serve_catalog *c) {
  size_t n = c->n_slots * 2;
  size_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) {
    return -1;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    place(slots, n, c->shows[i].name, i);
  }
  free(c->slots);
  c->slots = slots;
  c->n_slots = n;
  return 0;
}

static serve_show *find_or_add_show(serve_catalog *c, const char *name) {
  if (c->last_hit < c->n_shows &&
      strcasecmp(c->shows[c->last_hit].name, name) == 0) {
    return &c->shows[c->last_hit];
  }
  size_t i = (size_t)(fold_hash(name) & (c->n_slots - 1));
  while (c->slots[i] != 0) {
    size_t idx = c->slots[i] - 1;
    if (strcasecmp(c->shows[idx].name, name) == 0) {
      c->last_hit = idx;
      return &c->shows[idx];
    }
    i = (i + 1) & (c->n_slots - 1);
  }
  if ((c->n_shows + 1) * 2 > c->n_slots && rehash(c) != 0) {
    return NULL;
  }
  if (c->n_shows == c->cap_shows) {
    size_t cap = c->cap_shows > 0 ? c->cap_shows * 2 : 16;
    serve_show *p = realloc(c->shows, cap * sizeof *p);
    if (p == NULL) {
      return NULL;
    }
    c->shows = p;
    c->cap_shows = cap;
  }
  serve_show *s = &c->shows[c->n_shows];
  memset(s, 0, sizeof *s);
  s->name = strdup(name);
  if (s->name == NULL) {
    return NULL;
  }
  place(c->slots, c->n_slots, name, c->n_shows);
  c->last_hit = c->n_shows;
  c->n_shows++;
  return s;
}

static serve_season *find_or_add_season(serve_show *s, long number) {
  for (size_t i = s->n_seasons; i > 0; i--) {
    if (s->seasons[i - 1].number == number) {
      return &s->seasons[i - 1];
    }
  }
  if (s->n_seasons == s->cap_seasons) {
    size_t cap = s->cap_seasons > 0 ? s->cap_seasons * 2 : 4;
    serve_season *p = realloc(s->seasons, cap * sizeof *p);
    if (p == NULL) {
      return NULL;
    }
    s->seasons = p;
    s->cap_seasons = cap;
  }
  serve_season *se = &s->seasons[s->n_seasons++];
  memset(se, 0, sizeof *se);
  se->number = number;
  return se;
}

static void widen(unsigned long *events, epcal_date *first, epcal_date *last,
                  epcal_date d) {
  if (*events == 0 || epcal_date_cmp(d, *first) < 0) {
    *first = d;
  }
  if (*events == 0 || epcal_date_cmp(d, *last) > 0) {
    *last = d;
  }
  (*events)++;
}

int serve_catalog_add(serve_catalog *c, const epcal_episode *ep) {
  serve_show *s = find_or_add_show(c, ep->show);
  serve_season *se = s != NULL ? find_or_add_season(s, ep->season) : NULL;
  if (se == NULL) {
    return -1;
  }
  if (!ep->scheduled) {
    se->pending++;
    return 0;
  }
  widen(&se->events, &se->first, &se->last, ep->date);
  widen(&s->events, &s->first, &s->last, ep->date);
  c->events++;
  return 0;
}

static int by_name(const void *a, const void *b) {
  const serve_show *x = a, *y = b;
  int d = strcasecmp(x->name, y->name);
  return d != 0 ? d : strcmp(x->name, y->name);
}

static int by_number(const void *a, const void *b) {
  const serve_season *x = a, *y = b;
  return x->number < y->number ? -1 : x->number > y->number;
}

/* qsort has no context argument: the slug index sorts pointers. */
static int by_slug(const void *a, const void *b) {
  const serve_show *const *x = a, *const *y = b;
  return strcmp((*x)->slug, (*y)->slug);
}

/* A set of the slugs given so far: open addressing over show indexes + 1. */
typedef struct slug_set {
  const serve_show *shows;
  size_t *slots;
  size_t n_slots;
} slug_set;

static bool slug_taken(const slug_set *set, const char *slug) {
  if (strcmp(slug, "calendar") == 0) {
    return true; /* /calendar.ics is the feed of everything */
  }
  size_t i = (size_t)(fold_hash(slug) & (set->n_slots - 1));
  while (set->slots[i] != 0) {
    if (strcmp(set->shows[set->slots[i] - 1].slug, slug) == 0) {
      return true;
    }
    i = (i + 1) & (set->n_slots - 1);
  }
  return false;
}

int serve_catalog_finish(serve_catalog *c) {
  /* The name hash table indexes positions that sorting is about to move;
   * it is not needed after the last add. */
  free(c->slots);
  c->slots = NULL;
  c->n_slots = 0;
  if (c->n_shows > 1) {
    qsort(c->shows, c->n_shows, sizeof *c->shows, by_name);
  }
  slug_set set = {c->shows, NULL, 64};
  while (set.n_slots < c->n_shows * 2) {
    set.n_slots *= 2;
  }
  set.slots = calloc(set.n_slots, sizeof *set.slots);
  if (set.slots == NULL) {
    return -1;
  }
  /* In name order, so the same names always get the same slugs whatever
   * the order of the rows. */
  for (size_t i = 0; i < c->n_shows; i++) {
    serve_show *s = &c->shows[i];
    if (s->n_seasons > 1) {
      qsort(s->seasons, s->n_seasons, sizeof *s->seasons, by_number);
    }
    char base[41]; /* epcal_slug(): at most 40 characters */
    epcal_slug(s->name, base, sizeof base);
    snprintf(s->slug, sizeof s->slug, "%s", base);
    for (unsigned n = 2; slug_taken(&set, s->slug); n++) {
      snprintf(s->slug, sizeof s->slug, "%s-%u", base, n);
    }
    place(set.slots, set.n_slots, s->slug, i);
  }
  free(set.slots);
  serve_show **idx = malloc((c->n_shows + 1) * sizeof *idx);
  if (idx == NULL) {
    return -1;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    idx[i] = &c->shows[i];
  }
  qsort(idx, c->n_shows, sizeof *idx, by_slug);
  c->by_slug = malloc((c->n_shows + 1) * sizeof *c->by_slug);
  if (c->by_slug == NULL) {
    free(idx);
    return -1;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    c->by_slug[i] = (size_t)(idx[i] - c->shows);
  }
  free(idx);
  return 0;
}

size_t serve_catalog_count(const serve_catalog *c) { return c->n_shows; }

const serve_show *serve_catalog_at(const serve_catalog *c, size_t i) {
  return i < c->n_shows ? &c->shows[i] : NULL;
}

const serve_show *serve_catalog_find(const serve_catalog *c, const char *slug) {
  if (c->by_slug == NULL) {
    return NULL;
  }
  size_t lo = 0, hi = c->n_shows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const serve_show *s = &c->shows[c->by_slug[mid]];
    int d = strcmp(slug, s->slug);
    if (d == 0) {
      return s;
    }
    if (d < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return NULL;
}

const serve_season *serve_show_season(const serve_show *show, long n) {
  for (size_t i = 0; i < show->n_seasons; i++) {
    if (show->seasons[i].number == n) {
      return &show->seasons[i];
    }
  }
  return NULL;
}

unsigned long serve_catalog_events(const serve_catalog *c) { return c->events; }

void serve_catalog_free(serve_catalog *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    free(c->shows[i].name);
    free(c->shows[i].seasons);
  }
  free(c->shows);
  free(c->slots);
  free(c->by_slug);
  free(c);
}
