#define _GNU_SOURCE /* qsort_r */

#include "catalog.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct input {
  char *name;
  uint64_t base;     /* where its bytes start in the snapshot */
  size_t header_len; /* its header: the first bytes from base */
  uint32_t row0;     /* its first row */
} input;

struct serve_catalog {
  atomic_int refs;
  int fd; /* the snapshot */
  input *inputs;
  size_t n_inputs, cap_inputs;

  serve_show *shows; /* in the order first met */
  size_t n_shows, cap_shows;
  serve_season *seasons;
  size_t n_seasons, cap_seasons;
  /* Open addressing over show indexes + 1 (0: empty), by exact name. */
  uint32_t *slots;
  size_t n_slots;
  size_t last_hit; /* rows usually come grouped by show */

  /* Dated rows, in input (= snapshot) order. */
  uint32_t *pos; /* the snapshot is smaller than 4 GiB */
  uint32_t *len;
  int32_t *day;
  uint32_t *gid; /* while loading: each row's season */
  size_t n_rows, cap_rows;
  uint32_t *group;   /* row numbers by season, input order within one */
  uint32_t *by_date; /* row numbers by date, then input order */

  uint32_t *by_name, *by_slug; /* show indexes */
  unsigned long events;
  uint64_t digest;
};

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

#define HASH_SEED 1469598103934665603ULL

serve_catalog *serve_catalog_new(int snapshot_fd) {
  serve_catalog *c = calloc(1, sizeof *c);
  if (c == NULL) {
    if (snapshot_fd >= 0) {
      close(snapshot_fd);
    }
    return NULL;
  }
  atomic_init(&c->refs, 1);
  c->fd = snapshot_fd;
  c->n_slots = 64;
  c->slots = calloc(c->n_slots, sizeof *c->slots);
  if (c->slots == NULL) {
    serve_catalog_free(c);
    return NULL;
  }
  return c;
}

static bool grow(void **p, size_t *cap, size_t n, size_t size) {
  if (n < *cap) {
    return true;
  }
  size_t ncap = *cap > 0 ? *cap * 2 : 16;
  void *q = realloc(*p, ncap * size);
  if (q == NULL) {
    return false;
  }
  *p = q;
  *cap = ncap;
  return true;
}

int serve_catalog_add_input(serve_catalog *c, const char *name, uint64_t base,
                            size_t header_len) {
  if (!grow((void **)&c->inputs, &c->cap_inputs, c->n_inputs,
            sizeof *c->inputs)) {
    return -1;
  }
  input *in = &c->inputs[c->n_inputs];
  in->name = strdup(name);
  if (in->name == NULL) {
    return -1;
  }
  in->base = base;
  in->header_len = header_len;
  in->row0 = (uint32_t)c->n_rows;
  c->n_inputs++;
  return 0;
}

static void place(uint32_t *slots, size_t n_slots, const char *key,
                  uint32_t index) {
  size_t i = (size_t)(hash_bytes(HASH_SEED, key, strlen(key)) & (n_slots - 1));
  while (slots[i] != 0) {
    i = (i + 1) & (n_slots - 1);
  }
  slots[i] = index + 1;
}

static int rehash(serve_catalog *c) {
  size_t n = c->n_slots * 2;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) {
    return -1;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    place(slots, n, c->shows[i].name, (uint32_t)i);
  }
  free(c->slots);
  c->slots = slots;
  c->n_slots = n;
  return 0;
}

static serve_show *find_or_add_show(serve_catalog *c, const char *name) {
  if (c->last_hit < c->n_shows &&
      strcmp(c->shows[c->last_hit].name, name) == 0) {
    return &c->shows[c->last_hit];
  }
  size_t i =
      (size_t)(hash_bytes(HASH_SEED, name, strlen(name)) & (c->n_slots - 1));
  while (c->slots[i] != 0) {
    size_t idx = c->slots[i] - 1;
    if (strcmp(c->shows[idx].name, name) == 0) {
      c->last_hit = idx;
      return &c->shows[idx];
    }
    i = (i + 1) & (c->n_slots - 1);
  }
  if ((c->n_shows + 1) * 2 > c->n_slots && rehash(c) != 0) {
    return NULL;
  }
  if (!grow((void **)&c->shows, &c->cap_shows, c->n_shows, sizeof *c->shows)) {
    return NULL;
  }
  serve_show *s = &c->shows[c->n_shows];
  memset(s, 0, sizeof *s);
  s->name = strdup(name);
  if (s->name == NULL) {
    return NULL;
  }
  place(c->slots, c->n_slots, name, (uint32_t)c->n_shows);
  c->last_hit = c->n_shows;
  c->n_shows++;
  return s;
}

/* The global index of `show`'s season `number`, added when new; -1 when out
 * of memory. */
static long find_or_add_season(serve_catalog *c, serve_show *s, long number) {
  if (number < 0 || number > INT32_MAX) {
    return -1; /* not from the reader, which allows six digits */
  }
  for (size_t i = s->n_seasons; i > 0; i--) {
    if (c->seasons[s->seasons[i - 1]].number == number) {
      return (long)s->seasons[i - 1];
    }
  }
  if (c->n_seasons >= UINT32_MAX ||
      !grow((void **)&s->seasons, &s->cap_seasons, s->n_seasons,
            sizeof *s->seasons) ||
      !grow((void **)&c->seasons, &c->cap_seasons, c->n_seasons,
            sizeof *c->seasons)) {
    return -1;
  }
  serve_season *se = &c->seasons[c->n_seasons];
  memset(se, 0, sizeof *se);
  se->number = (int32_t)number;
  s->seasons[s->n_seasons++] = (uint32_t)c->n_seasons;
  return (long)c->n_seasons++;
}

static void widen(uint32_t events, int32_t *first, int32_t *last, int32_t d) {
  if (events == 0 || d < *first) {
    *first = d;
  }
  if (events == 0 || d > *last) {
    *last = d;
  }
}

static bool grow_rows(serve_catalog *c) {
  if (c->n_rows < c->cap_rows) {
    return true;
  }
  if (c->n_rows >= UINT32_MAX - 1) {
    return false;
  }
  size_t cap = c->cap_rows > 0 ? c->cap_rows * 2 : 1024;
  uint32_t *pos = realloc(c->pos, cap * sizeof *pos);
  if (pos != NULL) {
    c->pos = pos;
  }
  uint32_t *len = pos != NULL ? realloc(c->len, cap * sizeof *len) : NULL;
  if (len != NULL) {
    c->len = len;
  }
  int32_t *day = len != NULL ? realloc(c->day, cap * sizeof *day) : NULL;
  if (day != NULL) {
    c->day = day;
  }
  uint32_t *gid = day != NULL ? realloc(c->gid, cap * sizeof *gid) : NULL;
  if (gid == NULL) {
    return false;
  }
  c->gid = gid;
  c->cap_rows = cap;
  return true;
}

int serve_catalog_add(serve_catalog *c, const epcal_episode *ep, uint64_t pos,
                      size_t len) {
  serve_show *s = find_or_add_show(c, ep->show);
  long g = s != NULL ? find_or_add_season(c, s, ep->season) : -1;
  if (g < 0) {
    return -1;
  }
  serve_season *se = &c->seasons[g];
  if (!ep->scheduled) {
    se->pending++;
    return 0;
  }
  if (pos > UINT32_MAX || len > UINT32_MAX - pos || !grow_rows(c)) {
    return -1;
  }
  int32_t d = (int32_t)epcal_date_to_days(ep->date);
  c->pos[c->n_rows] = (uint32_t)pos;
  c->len[c->n_rows] = (uint32_t)len;
  c->day[c->n_rows] = d;
  c->gid[c->n_rows] = (uint32_t)g;
  c->n_rows++;
  widen(se->events, &se->first, &se->last, d);
  se->events++;
  widen((uint32_t)(s->events > 0), &s->first, &s->last, d);
  s->events++;
  c->events++;
  return 0;
}

/* ------------------------------------------------------------- finishing */

static int cmp_name(const serve_show *x, const serve_show *y) {
  int d = strcasecmp(x->name, y->name);
  return d != 0 ? d : strcmp(x->name, y->name);
}

/* Merge sort of show indexes: stable, and unlike qsort it needs no global
 * to reach the shows (two catalogues may be built at once). */
static void sort_shows(uint32_t *a, uint32_t *tmp, size_t n,
                       const serve_show *shows, bool by_slug) {
  if (n < 2) {
    return;
  }
  size_t h = n / 2;
  sort_shows(a, tmp, h, shows, by_slug);
  sort_shows(a + h, tmp, n - h, shows, by_slug);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) {
    const serve_show *x = &shows[a[i]], *y = &shows[a[j]];
    int d = by_slug ? strcmp(x->slug, y->slug) : cmp_name(x, y);
    tmp[k++] = d <= 0 ? a[i++] : a[j++];
  }
  while (i < h) {
    tmp[k++] = a[i++];
  }
  while (j < n) {
    tmp[k++] = a[j++];
  }
  memcpy(a, tmp, n * sizeof *a);
}

/*
 * The date index: row numbers by date, input order within a day. A
 * counting sort over the days from the first to the last, in one pass and
 * no scratch array (which would raise the peak of a reload, when two
 * catalogues are alive); a catalogue spread over more days than it has
 * rows (and over 65,536) falls back to qsort.
 */
static int cmp_date(const void *a, const void *b, void *ctx) {
  const int32_t *day = ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (day[x] != day[y]) {
    return day[x] < day[y] ? -1 : 1;
  }
  return x < y ? -1 : x > y;
}

static bool date_index(serve_catalog *c) {
  size_t n = c->n_rows;
  if (n == 0) {
    return true;
  }
  int32_t lo = c->day[0], hi = c->day[0];
  for (size_t i = 1; i < n; i++) {
    lo = c->day[i] < lo ? c->day[i] : lo;
    hi = c->day[i] > hi ? c->day[i] : hi;
  }
  size_t span = (size_t)((int64_t)hi - lo) + 1;
  if (span > n && span > 65536) {
    for (size_t i = 0; i < n; i++) {
      c->by_date[i] = (uint32_t)i;
    }
    qsort_r(c->by_date, n, sizeof *c->by_date, cmp_date, c->day);
    return true;
  }
  uint32_t *start = calloc(span + 1, sizeof *start);
  if (start == NULL) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    start[c->day[i] - lo + 1]++;
  }
  for (size_t d = 0; d < span; d++) {
    start[d + 1] += start[d];
  }
  for (size_t i = 0; i < n; i++) {
    c->by_date[start[c->day[i] - lo]++] = (uint32_t)i;
  }
  free(start);
  return true;
}

typedef struct stem_ctx {
  serve_catalog *c;
  uint32_t *slots; /* over stems: show indexes + 1, or reserved below */
  size_t n_slots;
  char (*reserved)[SERVE_SLUG_MAX]; /* stems of listed shows not here */
  size_t n_reserved, cap_reserved;
  size_t n_taken;
  bool failed;
} stem_ctx;

#define RESERVED_BIT 0x80000000u

static const char *stem_at(const stem_ctx *x, uint32_t slot) {
  uint32_t v = slot - 1;
  return (v & RESERVED_BIT) ? x->reserved[v & ~RESERVED_BIT]
                            : x->c->shows[v].slug;
}

static uint32_t *stem_slot(stem_ctx *x, const char *stem) {
  size_t i =
      (size_t)(hash_bytes(HASH_SEED, stem, strlen(stem)) & (x->n_slots - 1));
  while (x->slots[i] != 0 && strcmp(stem_at(x, x->slots[i]), stem) != 0) {
    i = (i + 1) & (x->n_slots - 1);
  }
  return &x->slots[i];
}

static bool stem_taken(void *ctx, const char *stem) {
  stem_ctx *x = ctx;
  return *stem_slot(x, stem) != 0;
}

static bool stems_grow(stem_ctx *x) {
  if ((x->n_taken + 1) * 2 <= x->n_slots) {
    return true;
  }
  size_t n = x->n_slots * 2;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) {
    return false;
  }
  uint32_t *old = x->slots;
  size_t old_n = x->n_slots;
  x->slots = slots;
  x->n_slots = n;
  for (size_t i = 0; i < old_n; i++) {
    if (old[i] != 0) {
      *stem_slot(x, stem_at(x, old[i])) = old[i];
    }
  }
  free(old);
  return true;
}

/* A show an earlier index lists: it keeps its stem when it is here and the
 * stem is free; a listed stem stays reserved for its show either way. */
static bool take_listed(void *ctx, const char *show, const char *stem) {
  stem_ctx *x = ctx;
  serve_catalog *c = x->c;
  if (!stems_grow(x)) {
    x->failed = true;
    return false;
  }
  uint32_t *slot = stem_slot(x, stem);
  if (*slot != 0) {
    return true; /* listed twice (one per season), or taken already */
  }
  size_t i =
      (size_t)(hash_bytes(HASH_SEED, show, strlen(show)) & (c->n_slots - 1));
  while (c->slots[i] != 0 &&
         strcmp(c->shows[c->slots[i] - 1].name, show) != 0) {
    i = (i + 1) & (c->n_slots - 1);
  }
  if (c->slots[i] != 0) {
    serve_show *s = &c->shows[c->slots[i] - 1];
    if (s->slug[0] == '\0') {
      snprintf(s->slug, sizeof s->slug, "%s", stem);
      *slot = c->slots[i];
      x->n_taken++;
    }
    return true;
  }
  if (!grow((void **)&x->reserved, &x->cap_reserved, x->n_reserved,
            sizeof *x->reserved)) {
    x->failed = true;
    return false;
  }
  snprintf(x->reserved[x->n_reserved], SERVE_SLUG_MAX, "%s", stem);
  *slot = (uint32_t)(x->n_reserved++ | RESERVED_BIT) + 1;
  x->n_taken++;
  return true;
}

static int give_stems(serve_catalog *c,
                      bool (*previous)(void *ctx, serve_stems_fn fn,
                                       void *fnctx),
                      void *ctx) {
  stem_ctx x;
  memset(&x, 0, sizeof x);
  x.c = c;
  x.n_slots = 64;
  x.slots = calloc(x.n_slots, sizeof *x.slots);
  if (x.slots == NULL) {
    return -1;
  }
  if (previous != NULL) {
    previous(ctx, take_listed, &x);
  }
  /* The others, in the order they were first met, as split does. */
  for (size_t i = 0; i < c->n_shows && !x.failed; i++) {
    serve_show *s = &c->shows[i];
    if (s->slug[0] != '\0') {
      continue;
    }
    if (!stems_grow(&x)) {
      x.failed = true;
      break;
    }
    epcal_stem_choose(s->name, stem_taken, &x, s->slug);
    *stem_slot(&x, s->slug) = (uint32_t)i + 1;
    x.n_taken++;
  }
  free(x.slots);
  free(x.reserved);
  return x.failed ? -1 : 0;
}

int serve_catalog_finish(serve_catalog *c,
                         bool (*previous)(void *ctx, serve_stems_fn fn,
                                          void *fnctx),
                         void *ctx) {
  if (give_stems(c, previous, ctx) != 0) {
    return -1;
  }
  free(c->slots);
  c->slots = NULL;
  /* Seasons by number. */
  for (size_t i = 0; i < c->n_shows; i++) {
    serve_show *s = &c->shows[i];
    for (size_t a = 1; a < s->n_seasons; a++) {
      uint32_t v = s->seasons[a];
      size_t b = a;
      while (b > 0 &&
             c->seasons[s->seasons[b - 1]].number > c->seasons[v].number) {
        s->seasons[b] = s->seasons[b - 1];
        b--;
      }
      s->seasons[b] = v;
    }
  }
  size_t n = c->n_rows;
  c->group = malloc((n > 0 ? n : 1) * sizeof *c->group);
  c->by_name = malloc((c->n_shows + 1) * sizeof *c->by_name);
  c->by_slug = malloc((c->n_shows + 1) * sizeof *c->by_slug);
  uint32_t *tmp = malloc((c->n_shows + 1) * sizeof *tmp);
  if (c->group == NULL || c->by_name == NULL || c->by_slug == NULL ||
      tmp == NULL) {
    free(tmp);
    return -1;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    c->by_name[i] = c->by_slug[i] = (uint32_t)i;
  }
  sort_shows(c->by_name, tmp, c->n_shows, c->shows, false);
  sort_shows(c->by_slug, tmp, c->n_shows, c->shows, true);
  free(tmp);
  /* Each season's rows, one after the other, in input order: a counting
   * sort by season. */
  uint32_t next = 0;
  for (size_t g = 0; g < c->n_seasons; g++) {
    c->seasons[g].row0 = next;
    next += c->seasons[g].events;
  }
  for (size_t i = 0; i < n; i++) {
    serve_season *se = &c->seasons[c->gid[i]];
    c->group[se->row0++] = (uint32_t)i;
  }
  for (size_t g = 0; g < c->n_seasons; g++) {
    c->seasons[g].row0 -= c->seasons[g].events;
  }
  free(c->gid);
  c->gid = NULL;
  c->by_date = malloc((n > 0 ? n : 1) * sizeof *c->by_date);
  return c->by_date != NULL && date_index(c) ? 0 : -1;
}

/* --------------------------------------------------------------- lookups */

size_t serve_catalog_count(const serve_catalog *c) { return c->n_shows; }

const serve_show *serve_catalog_at(const serve_catalog *c, size_t i) {
  return i < c->n_shows && c->by_name != NULL ? &c->shows[c->by_name[i]] : NULL;
}

const serve_show *serve_catalog_show(const serve_catalog *c, size_t i) {
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

const serve_season *serve_show_season_at(const serve_catalog *c,
                                         const serve_show *show, size_t k) {
  return k < show->n_seasons ? &c->seasons[show->seasons[k]] : NULL;
}

const serve_season *serve_show_season(const serve_catalog *c,
                                      const serve_show *show, long n) {
  for (size_t i = 0; i < show->n_seasons; i++) {
    if (c->seasons[show->seasons[i]].number == n) {
      return &c->seasons[show->seasons[i]];
    }
  }
  return NULL;
}

unsigned long serve_catalog_events(const serve_catalog *c) { return c->events; }

size_t serve_catalog_rows(const serve_catalog *c) { return c->n_rows; }

int32_t serve_catalog_row_day(const serve_catalog *c, uint32_t id) {
  return c->day[id];
}

uint64_t serve_catalog_digest(const serve_catalog *c) { return c->digest; }

void serve_catalog_set_digest(serve_catalog *c, uint64_t digest) {
  c->digest = digest;
}

bool serve_catalog_span(const serve_catalog *c, int32_t *first, int32_t *last) {
  if (c->n_rows == 0 || c->by_date == NULL) {
    return false;
  }
  *first = c->day[c->by_date[0]];
  *last = c->day[c->by_date[c->n_rows - 1]];
  return true;
}

/* ------------------------------------------------------------------ rows */

void serve_rows_free(serve_rows *r) {
  free(r->ids);
  memset(r, 0, sizeof *r);
}

static int rows_push(serve_rows *r, uint32_t id, size_t max, bool *over) {
  if (r->n >= max) {
    *over = true;
    return -1;
  }
  if (!grow((void **)&r->ids, &r->cap, r->n, sizeof *r->ids)) {
    return -1;
  }
  r->ids[r->n++] = id;
  return 0;
}

int serve_rows_add_show(const serve_catalog *c, const serve_show *show,
                        bool all_seasons, long season, int32_t from, int32_t to,
                        size_t max, serve_rows *out, bool *over) {
  for (size_t k = 0; k < show->n_seasons; k++) {
    const serve_season *se = &c->seasons[show->seasons[k]];
    if (!all_seasons && se->number != season) {
      continue;
    }
    if (se->events > 0 && (se->last < from || se->first > to)) {
      continue;
    }
    for (uint32_t i = 0; i < se->events; i++) {
      uint32_t id = c->group[se->row0 + i];
      if (c->day[id] >= from && c->day[id] <= to &&
          rows_push(out, id, max, over) != 0) {
        return -1;
      }
    }
  }
  return 0;
}

/* The first place in the date index whose date is >= d. */
static size_t date_lower(const serve_catalog *c, int32_t d) {
  size_t lo = 0, hi = c->n_rows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->day[c->by_date[mid]] < d) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t serve_catalog_count_window(const serve_catalog *c, int32_t from,
                                  int32_t to) {
  if (c->by_date == NULL || from > to) {
    return 0;
  }
  size_t a = date_lower(c, from);
  size_t b = to == INT32_MAX ? c->n_rows : date_lower(c, to + 1);
  return b > a ? b - a : 0;
}

int serve_rows_add_window(const serve_catalog *c, int32_t from, int32_t to,
                          size_t max, serve_rows *out, bool *over) {
  if (c->by_date == NULL || from > to) {
    return 0;
  }
  size_t a = date_lower(c, from);
  size_t b = to == INT32_MAX ? c->n_rows : date_lower(c, to + 1);
  for (size_t i = a; i < b; i++) {
    if (rows_push(out, c->by_date[i], max, over) != 0) {
      return -1;
    }
  }
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

void serve_rows_sort(serve_rows *r) {
  if (r->n < 2) {
    return;
  }
  qsort(r->ids, r->n, sizeof *r->ids, cmp_u32);
  size_t w = 1;
  for (size_t i = 1; i < r->n; i++) {
    if (r->ids[i] != r->ids[w - 1]) {
      r->ids[w++] = r->ids[i];
    }
  }
  r->n = w;
}

int serve_rows_upcoming(const serve_catalog *c, int32_t from, size_t max,
                        serve_rows *out) {
  if (c->by_date == NULL) {
    return 0;
  }
  bool over = false;
  for (size_t i = date_lower(c, from); i < c->n_rows && out->n < max; i++) {
    if (rows_push(out, c->by_date[i], max, &over) != 0) {
      return -1;
    }
  }
  return 0;
}

/* ----------------------------------------------------------- reading back */

static epcal_status read_at(const serve_catalog *c, char *dst, size_t n,
                            uint64_t off, epcal_error *err) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = pread(c->fd, dst + done, n - done, (off_t)(off + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      int e = got < 0 ? errno : EIO;
      epcal_error_clear(err);
      err->code = EPCAL_EIO;
      snprintf(err->msg, sizeof err->msg, "cannot read the loaded data: %s",
               got < 0 ? strerror(e) : "it is shorter than indexed");
      return EPCAL_EIO;
    }
    done += (size_t)got;
  }
  return EPCAL_OK;
}

/* The input row `id` came from. */
static size_t input_of(const serve_catalog *c, uint32_t id) {
  size_t lo = 0, hi = c->n_inputs;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->inputs[mid].row0 <= id) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

typedef struct segment {
  size_t input;
  size_t begin, end; /* bytes of the buffer */
} segment;

typedef struct mem_reader {
  const char *p;
  size_t left;
} mem_reader;

static long mem_read(void *ctx, char *buf, size_t cap) {
  mem_reader *m = ctx;
  size_t n = m->left < cap ? m->left : cap;
  memcpy(buf, m->p, n);
  m->p += n;
  m->left -= n;
  return (long)n;
}

epcal_status serve_catalog_read(const serve_catalog *c, const uint32_t *rows,
                                size_t n, const epcal_read_options *read,
                                uint64_t *hash, serve_episode_fn fn, void *ctx,
                                epcal_error *err) {
  epcal_error local;
  if (err == NULL) {
    err = &local;
  }
  /* Every row into one buffer, each run of one input after its header: a
   * feed's rows, so bounded by the feed limits of the caller. */
  size_t total = 0, n_seg = 0;
  for (size_t i = 0; i < n; i++) {
    size_t in = input_of(c, rows[i]);
    if (i == 0 || in != input_of(c, rows[i - 1])) {
      total += c->inputs[in].header_len;
      n_seg++;
    }
    total += c->len[rows[i]] + 1;
  }
  char *buf = malloc(total > 0 ? total : 1);
  segment *seg = malloc((n_seg > 0 ? n_seg : 1) * sizeof *seg);
  epcal_status st = EPCAL_OK;
  if (buf == NULL || seg == NULL) {
    st = EPCAL_ENOMEM;
    epcal_error_clear(err);
    err->code = st;
    snprintf(err->msg, sizeof err->msg, "out of memory");
  }
  size_t w = 0, k = 0;
  for (size_t i = 0; i < n && st == EPCAL_OK; i++) {
    size_t in = input_of(c, rows[i]);
    if (i == 0 || in != seg[k - 1].input) {
      if (k > 0) {
        seg[k - 1].end = w;
      }
      seg[k].input = in;
      seg[k].begin = w;
      k++;
      st = read_at(c, buf + w, c->inputs[in].header_len, c->inputs[in].base,
                   err);
      w += c->inputs[in].header_len;
    }
    /* Rows next to each other in the snapshot: one read. */
    size_t j = i;
    size_t run = c->len[rows[i]];
    while (j + 1 < n && rows[j + 1] == rows[j] + 1 &&
           (uint64_t)c->pos[rows[j + 1]] ==
               (uint64_t)c->pos[rows[j]] + c->len[rows[j]] &&
           input_of(c, rows[j + 1]) == in) {
      j++;
      run += c->len[rows[j]];
    }
    if (st == EPCAL_OK) {
      st = read_at(c, buf + w, run, c->pos[rows[i]], err);
    }
    w += run;
    /* The last row of an input may end without a line break. */
    if (run > 0 && buf[w - 1] != '\n' && buf[w - 1] != '\r') {
      buf[w++] = '\n';
    }
    i = j;
  }
  if (k > 0) {
    seg[k - 1].end = w;
  }
  if (st == EPCAL_OK && hash != NULL) {
    *hash = hash_bytes(HASH_SEED, buf, w);
  }
  for (size_t s = 0; s < k && st == EPCAL_OK; s++) {
    mem_reader m = {buf + seg[s].begin, seg[s].end - seg[s].begin};
    epcal_reader *rd;
    st = epcal_reader_open_fn(&rd, mem_read, &m, c->inputs[seg[s].input].name,
                              read, err);
    if (st != EPCAL_OK) {
      break;
    }
    for (;;) {
      const epcal_episode *ep;
      st = epcal_reader_next(rd, &ep, err);
      if (st != EPCAL_OK || ep == NULL || fn(ctx, ep) != 0) {
        break;
      }
    }
    epcal_reader_free(rd);
  }
  free(buf);
  free(seg);
  return st;
}

void serve_catalog_retain(serve_catalog *c) {
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void serve_catalog_free(serve_catalog *c) {
  if (c == NULL ||
      atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) {
    return;
  }
  for (size_t i = 0; i < c->n_shows; i++) {
    free(c->shows[i].name);
    free(c->shows[i].seasons);
  }
  for (size_t i = 0; i < c->n_inputs; i++) {
    free(c->inputs[i].name);
  }
  if (c->fd >= 0) {
    close(c->fd);
  }
  free(c->inputs);
  free(c->shows);
  free(c->seasons);
  free(c->slots);
  free(c->pos);
  free(c->len);
  free(c->day);
  free(c->gid);
  free(c->group);
  free(c->by_date);
  free(c->by_name);
  free(c->by_slug);
  free(c);
}
