/*
 * publish: one feed per show or per season, in a directory.
 *
 * Episodes stream through the same read -> select pipeline as a single
 * feed. One renderer serves every feed: it is retargeted to the feed an
 * episode belongs to, so memory holds one render buffer, not one per feed.
 * Each feed is its own atomic, change-aware output (a temporary file beside
 * its target, compared with the file it replaces); only a bounded number of
 * the temporary files are open at once, for inputs that interleave seasons.
 * Nothing is renamed into place before the whole input has been read
 * without error. index.json and index.html list the feeds written.
 */
#define _GNU_SOURCE /* sync(), fopencookie() */
#include "date.h"
#include "error.h"
#include "output.h"
#include "pipeline.h"
#include "previous.h"
#include "render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files open at once, at most; each may hold two descriptors
 * (the file and the feed it replaces, while they match). */
#define MAX_OPEN 64
/* Descriptors left for everything else: inputs, locks, a previous feed. */
#define SPARE_FDS 32

typedef struct group {
  uint64_t key;
  char *show;
  long season; /* -1 when split by show */
  char *rel;   /* path below the directory */
  epcal_output *out;
  epcal_previous *prev; /* a view of split.previous, or NULL */
  /* The time zones its events use, while it is not the renderer's current
   * feed (the renderer holds them meanwhile). */
  epcal__zoneset zones;
  unsigned long events;
  epcal_date first, last;
  bool began;
  bool changed;
  /* Open temporary files form a list, most recently written first, so the
   * one to close when too many are open is found at once. */
  struct group *newer, *older;
  bool open;
} group;

typedef struct split split;

/* The renderer's write context: the feed it writes to now. */
typedef struct group_ctx {
  split *s;
  group *g;
} group_ctx;

struct split {
  const epcal_generate_options *opts;
  const epcal_split_options *so;
  epcal_renderer *ren;
  epcal_previous *previous; /* every feed's previous events, shared */
  group **groups; /* in order of first appearance */
  size_t n, cap;
  group **table; /* open addressing on key */
  size_t tcap;
  group **paths; /* open addressing on the path's hash: slug collisions */
  group *current;
  size_t open;
  group *newest, *oldest; /* the open list */
  size_t max_open;         /* MAX_OPEN, or fewer under a low descriptor limit */
  group_ctx target;
};

static void group_free(group *g) {
  if (g == NULL) {
    return;
  }
  epcal_output_free(g->out);
  epcal_previous_free(g->prev);
  epcal__zoneset_free(&g->zones);
  free(g->show);
  free(g->rel);
  free(g);
}

/* The feed's calendar name, "Show, Season 2" (or the show's, split by
 * show): made when needed rather than kept for every feed. */
#define NAME_MAX_BYTES 1024
static void group_name(const group *g, char name[NAME_MAX_BYTES]) {
  if (g->season >= 0) {
    snprintf(name, NAME_MAX_BYTES, "%s, Season %ld", g->show, g->season);
  } else {
    snprintf(name, NAME_MAX_BYTES, "%s", g->show);
  }
}

static uint64_t group_key(const char *show, long season) {
  uint64_t h = epcal__hash64(show, strlen(show));
  h = (h ^ (uint64_t)(season + 1)) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 31;
  return h != 0 ? h : 1;
}

/* The slot for (key, show, season): the group, or an empty slot. */
static group **table_slot(split *s, uint64_t key, const char *show,
                          long season) {
  size_t j = (size_t)key & (s->tcap - 1);
  while (s->table[j] != NULL &&
         (s->table[j]->key != key || s->table[j]->season != season ||
          strcmp(s->table[j]->show, show) != 0)) {
    j = (j + 1) & (s->tcap - 1);
  }
  return &s->table[j];
}

static group **path_slot(group **paths, size_t cap, const char *rel);

static bool table_grow(split *s) {
  size_t cap = s->tcap != 0 ? s->tcap * 2 : 256;
  group **table = calloc(cap, sizeof *table);
  group **paths = calloc(cap, sizeof *paths);
  if (table == NULL || paths == NULL) {
    free(table);
    free(paths);
    return false;
  }
  free(s->table);
  free(s->paths);
  s->table = table;
  s->paths = paths;
  s->tcap = cap;
  for (size_t i = 0; i < s->n; i++) {
    group *g = s->groups[i];
    *table_slot(s, g->key, g->show, g->season) = g;
    *path_slot(s->paths, s->tcap, g->rel) = g;
  }
  return true;
}

/* The slot for `rel` in the path table: its group, or an empty slot. The
 * table has the same capacity as the group table and is grown with it. */
static group **path_slot(group **paths, size_t cap, const char *rel) {
  size_t j = (size_t)epcal__hash64(rel, strlen(rel)) & (cap - 1);
  while (paths[j] != NULL && strcmp(paths[j]->rel, rel) != 0) {
    j = (j + 1) & (cap - 1);
  }
  return &paths[j];
}

/* True when another show already uses `rel` (two names, one slug). */
static bool path_taken(const split *s, const char *rel) {
  return *path_slot(s->paths, s->tcap, rel) != NULL;
}

static char *join(const char *dir, const char *rel) {
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p != NULL) {
    snprintf(p, n, "%s/%s", dir, rel);
  }
  return p;
}

/* mkdir -p for the directory part of `path`. */
static int make_parents(char *path) {
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p == '/') {
      *p = '\0';
      int rc = mkdir(path, 0755);
      *p = '/';
      if (rc != 0 && errno != EEXIST) {
        return -1;
      }
    }
  }
  return 0;
}

/* The open list: most recently written first. */
static void list_remove(split *s, group *g) {
  if (g->newer != NULL) {
    g->newer->older = g->older;
  } else {
    s->newest = g->older;
  }
  if (g->older != NULL) {
    g->older->newer = g->newer;
  } else {
    s->oldest = g->newer;
  }
  g->newer = g->older = NULL;
}

static void list_push_newest(split *s, group *g) {
  g->newer = NULL;
  g->older = s->newest;
  if (s->newest != NULL) {
    s->newest->newer = g;
  }
  s->newest = g;
  if (s->oldest == NULL) {
    s->oldest = g;
  }
}

/* Marks g's temporary file open and most recently used. */
static void mark_open(split *s, group *g) {
  if (g->open) {
    list_remove(s, g);
  } else {
    g->open = true;
    s->open++;
  }
  list_push_newest(s, g);
}

/* Closes the least recently used open temporary file (not the current). */
static void close_oldest(split *s) {
  group *g = s->oldest;
  if (g == s->current && g != NULL) {
    g = g->newer;
  }
  if (g != NULL) {
    list_remove(s, g);
    g->open = false;
    s->open--;
    epcal__output_suspend(g->out);
  }
}

static int group_write(void *ctx, const char *buf, size_t len) {
  group_ctx *c = ctx;
  split *s = c->s;
  group *g = c->g;
  if (!g->open) {
    if (s->open >= s->max_open) {
      close_oldest(s);
    }
    if (!epcal__output_resume(g->out)) {
      return -1;
    }
  }
  if (s->newest != g) {
    mark_open(s, g);
  }
  return epcal_output_write(g->out, buf, len);
}

static epcal_status group_new(split *s, const epcal_episode *ep, long season,
                              group **out, epcal_error *err) {
  group *g = calloc(1, sizeof *g);
  if (g == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  g->season = season;
  g->key = group_key(ep->show, season);
  g->show = strdup(ep->show);
  char slug[41], rel[128];
  epcal_slug(ep->show, slug, sizeof slug);
  if (season >= 0) {
    snprintf(rel, sizeof rel, "%s/season-%02ld.ics", slug, season);
  } else {
    snprintf(rel, sizeof rel, "%s.ics", slug);
  }
  if (path_taken(s, rel)) {
    /* Another show has the same slug: tell them apart by the name's hash,
     * which does not depend on row order. */
    uint32_t h = (uint32_t)epcal__hash64(ep->show, strlen(ep->show));
    if (season >= 0) {
      snprintf(rel, sizeof rel, "%s-%08x/season-%02ld.ics", slug, h, season);
    } else {
      snprintf(rel, sizeof rel, "%s-%08x.ics", slug, h);
    }
  }
  g->rel = strdup(rel);
  char *path = g->rel != NULL ? join(s->so->dir, g->rel) : NULL;
  if (g->show == NULL || g->rel == NULL || path == NULL) {
    free(path);
    group_free(g);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  epcal_status st = EPCAL_OK;
  if (make_parents(path) != 0) {
    st = epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot create directory: %s",
                     strerror(errno));
  }
  if (st == EPCAL_OK) {
    st = epcal__previous_load_or_warn(s->opts, path, s->previous, g->key,
                                      &g->prev, err);
  }
  if (st == EPCAL_OK) {
    if (s->open >= s->max_open) {
      close_oldest(s);
    }
    st = epcal_output_open(&g->out, path, err);
  }
  free(path);
  if (st != EPCAL_OK) {
    group_free(g);
    return st;
  }
  *out = g;
  return EPCAL_OK;
}

/* The group an episode belongs to, created on first sight. */
static epcal_status group_for(split *s, const epcal_episode *ep, group **out,
                              epcal_error *err) {
  long season = s->so->by == EPCAL_SPLIT_SEASON ? ep->season : -1;
  if ((s->n + 1) * 4 > s->tcap * 3 && !table_grow(s)) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  uint64_t key = group_key(ep->show, season);
  group **slot = table_slot(s, key, ep->show, season);
  if (*slot != NULL) {
    *out = *slot;
    return EPCAL_OK;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap != 0 ? s->cap * 2 : 64;
    group **groups = realloc(s->groups, cap * sizeof *groups);
    if (groups == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
    s->groups = groups;
    s->cap = cap;
  }
  group *g = NULL;
  epcal_status st = group_new(s, ep, season, &g, err);
  if (st != EPCAL_OK) {
    return st;
  }
  s->groups[s->n++] = g;
  *slot = g;
  *path_slot(s->paths, s->tcap, g->rel) = g;
  mark_open(s, g); /* epcal_output_open() left its file open */
  *out = g;
  return EPCAL_OK;
}

static epcal_status switch_to(split *s, group *g, epcal_error *err) {
  if (s->current == g) {
    return EPCAL_OK;
  }
  /* The renderer flushes to the old target before switching, so the one
   * context can be repointed. */
  epcal_status st = epcal_renderer_retarget(s->ren, NULL, NULL, NULL, NULL, err);
  if (st != EPCAL_OK) {
    return st;
  }
  /* The renderer holds the current feed's zones; an empty set otherwise. */
  if (s->current != NULL) {
    epcal__renderer_swap_zones(s->ren, &s->current->zones);
  }
  epcal__renderer_swap_zones(s->ren, &g->zones);
  s->target.s = s;
  s->target.g = g;
  char name[NAME_MAX_BYTES];
  group_name(g, name);
  st = epcal_renderer_retarget(s->ren, group_write, &s->target, name,
                               g->prev, err);
  if (st != EPCAL_OK) {
    return st;
  }
  s->current = g;
  if (!g->began) {
    g->began = true;
    return epcal_renderer_begin(s->ren, err);
  }
  return EPCAL_OK;
}

static epcal_status emit(void *ctx, const epcal_episode *ep, epcal_error *err) {
  split *s = ctx;
  group *g = NULL;
  epcal_status st = group_for(s, ep, &g, err);
  if (st == EPCAL_OK) {
    st = switch_to(s, g, err);
  }
  if (st == EPCAL_OK) {
    st = epcal__renderer_add_read(s->ren, ep, err);
  }
  if (st == EPCAL_OK) {
    if (g->events == 0 || epcal__date_cmp(ep->date, g->first) < 0) {
      g->first = ep->date;
    }
    if (g->events == 0 || epcal__date_cmp(ep->date, g->last) > 0) {
      g->last = ep->date;
    }
    g->events++;
  }
  return st;
}

static int by_show_season(const void *a, const void *b) {
  const group *x = *(const group *const *)a, *y = *(const group *const *)b;
  int c = strcmp(x->show, y->show);
  if (c != 0) {
    return c;
  }
  return (x->season > y->season) - (x->season < y->season);
}

static epcal_status write_index(const epcal_split_options *so,
                                group *const *groups, size_t n,
                                epcal_error *err);

/* Updates the manifest of feeds written here, and with so->prune removes
 * those this run did not write. */
static epcal_status prune(const epcal_split_options *so, group *const *groups,
                          size_t n, group **paths, size_t paths_cap,
                          unsigned long *removed, epcal_error *err);

epcal_status epcal_generate_split(const epcal_generate_options *opts,
                                  const epcal_split_options *so,
                                  epcal_generate_stats *stats,
                                  epcal_error *err) {
  epcal_generate_stats local;
  if (stats == NULL) {
    stats = &local;
  }
  memset(stats, 0, sizeof *stats);
  if (so->dir == NULL || *so->dir == '\0') {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "split output needs a directory");
  }
  if (mkdir(so->dir, 0755) != 0 && errno != EEXIST) {
    return epcal__fail(err, EPCAL_EIO, so->dir, 0, 0,
                       "cannot create directory: %s", strerror(errno));
  }
  split s;
  memset(&s, 0, sizeof s);
  s.opts = opts;
  s.so = so;
  s.max_open = MAX_OPEN;
  struct rlimit fds;
  if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur != RLIM_INFINITY &&
      fds.rlim_cur < SPARE_FDS + 2 * MAX_OPEN + 2) {
    s.max_open = fds.rlim_cur > SPARE_FDS + 4 ? (fds.rlim_cur - SPARE_FDS) / 2
                                              : 2;
  }
  epcal_render_options ro = opts->render;
  ro.previous = NULL;
  s.previous = epcal__previous_shared_new();
  epcal_status st =
      s.previous != NULL
          ? epcal_renderer_new(&s.ren, &ro, NULL, NULL, err)
          : epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  if (st == EPCAL_OK) {
    st = epcal__pipeline_run(opts, emit, NULL, &s, stats, err);
  }
  /* Close every calendar, then publish them all. */
  for (size_t i = 0; i < s.n && st == EPCAL_OK; i++) {
    st = switch_to(&s, s.groups[i], err);
    if (st == EPCAL_OK) {
      st = epcal_renderer_end(s.ren, err);
    }
  }
  if (s.ren != NULL) {
    stats->events = epcal_renderer_events(s.ren);
    stats->counts = epcal_renderer_counts(s.ren);
  }
  if (st == EPCAL_OK) {
    qsort(s.groups, s.n, sizeof *s.groups, by_show_season);
  }
  /* Publish: every changed feed made durable by one sync() rather than an
   * fsync per feed (thousands of feeds would take minutes), then renamed,
   * then one more sync() for the renames. */
  for (size_t i = 0; i < s.n && st == EPCAL_OK; i++) {
    group *g = s.groups[i];
    if (g->open) {
      list_remove(&s, g);
      g->open = false;
    }
    st = epcal__output_prepare(g->out, false, &g->changed, err);
    stats->feeds++;
    stats->feeds_changed += g->changed;
  }
  stats->removed = epcal_previous_unseen(s.previous);
  if (st == EPCAL_OK && stats->feeds_changed > 0) {
    sync();
  }
  for (size_t i = 0; i < s.n && st == EPCAL_OK; i++) {
    st = epcal__output_publish(s.groups[i]->out, false, err);
  }
  if (st == EPCAL_OK && stats->feeds_changed > 0) {
    sync();
  }
  if (st == EPCAL_OK) {
    st = prune(so, s.groups, s.n, s.paths, s.tcap, &stats->feeds_pruned, err);
  }
  if (st == EPCAL_OK) {
    st = write_index(so, s.groups, s.n, err);
  }
  for (size_t i = 0; i < s.n; i++) {
    group_free(s.groups[i]);
  }
  free(s.groups);
  free(s.table);
  free(s.paths);
  epcal_renderer_free(s.ren);
  epcal_previous_free(s.previous);
  return st;
}

/* ---------------------------------------------------------------- index */

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fprintf(f, "\\%c", c);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

static void html_text(FILE *f, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

static void date_text(epcal_date d, char out[16]) {
  snprintf(out, 16, "%04d-%02d-%02d", d.year % 10000, d.month % 100,
           d.day % 100);
}

/* Writes `text` (NUL-terminated) to dir/name atomically, untouched when
 * unchanged. */
/* A text file written through stdio into an epcal_output: atomic, and
 * compared with the file it replaces as it goes, so an index of 80,000
 * feeds is never held in memory. */
typedef struct text_out {
  char *path;
  epcal_output *out;
  FILE *f;
} text_out;

static ssize_t cookie_write(void *ctx, const char *buf, size_t len) {
  return epcal_output_write(ctx, buf, len) == 0 ? (ssize_t)len : -1;
}

static epcal_status text_open(text_out *t, const char *dir, const char *name,
                              epcal_error *err) {
  memset(t, 0, sizeof *t);
  t->path = join(dir, name);
  if (t->path == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  epcal_status st = epcal_output_open(&t->out, t->path, err);
  if (st != EPCAL_OK) {
    return st;
  }
  static const cookie_io_functions_t io = {NULL, cookie_write, NULL, NULL};
  t->f = fopencookie(t->out, "w", io);
  if (t->f == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  return EPCAL_OK;
}

/* Flushes and, when `commit` and all went well, publishes; then frees. */
static epcal_status text_close(text_out *t, bool commit, epcal_error *err) {
  epcal_status st = EPCAL_OK;
  bool written = t->f != NULL && fclose(t->f) == 0;
  if (commit && !written) {
    st = epcal__fail(err, EPCAL_EIO, t->path, 0, 0, "cannot write: %s",
                     strerror(errno));
  }
  if (commit && st == EPCAL_OK) {
    bool changed;
    st = epcal_output_commit(t->out, &changed, err);
  }
  epcal_output_free(t->out);
  free(t->path);
  return st;
}

static epcal_status write_index(const epcal_split_options *so,
                                group *const *groups, size_t n,
                                epcal_error *err) {
  text_out json, html;
  epcal_status st = text_open(&json, so->dir, "index.json", err);
  if (st == EPCAL_OK) {
    st = text_open(&html, so->dir, "index.html", err);
    if (st != EPCAL_OK) {
      text_close(&html, false, NULL);
    }
  }
  if (st != EPCAL_OK) {
    text_close(&json, false, NULL);
    return st;
  }
  FILE *j = json.f, *h = html.f;
  /* No timestamp: an unchanged set of feeds gives unchanged bytes. */
  fputs("{\n  \"feeds\": [", j);
  fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n"
        "<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width\">\n"
        "<title>Episode calendars</title>\n"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;"
        "padding:0 1em}td,th{padding:.2em .6em;text-align:left}</style>\n"
        "</head>\n<body>\n<h1>Episode calendars</h1>\n"
        "<table>\n<tr><th>Calendar</th><th>Episodes</th><th>From</th>"
        "<th>To</th><th></th></tr>\n",
        h);
  for (size_t i = 0; i < n; i++) {
    const group *g = groups[i];
    char first[16], last[16];
    date_text(g->first, first);
    date_text(g->last, last);
    fprintf(j, "%s\n    {\"name\": ", i > 0 ? "," : "");
    char name[NAME_MAX_BYTES];
    group_name(g, name);
    json_string(j, name);
    fputs(", \"show\": ", j);
    json_string(j, g->show);
    if (g->season >= 0) {
      fprintf(j, ", \"season\": %ld", g->season);
    }
    fputs(", \"path\": ", j);
    json_string(j, g->rel);
    fprintf(j, ", \"events\": %lu, \"first\": \"%s\", \"last\": \"%s\"}",
            g->events, first, last);

    fputs("<tr><td>", h);
    html_text(h, name);
    fprintf(h, "</td><td>%lu</td><td>%s</td><td>%s</td><td>", g->events,
            first, last);
    fputs("<a class=\"webcal\" href=\"", h);
    html_text(h, g->rel);
    fputs("\">Subscribe</a> &middot; <a href=\"", h);
    html_text(h, g->rel);
    fputs("\" download>Download</a></td></tr>\n", h);
  }
  fputs(n > 0 ? "\n  ]\n}\n" : "]\n}\n", j);
  /* Subscribe links become webcal:// URLs of wherever the page is served
   * from, so the same files work behind any host name. */
  fputs("</table>\n<script>\n"
        "for (const a of document.querySelectorAll('a.webcal'))\n"
        "  a.href = a.href.replace(/^https?:/, 'webcal:');\n"
        "</script>\n</body>\n</html>\n",
        h);
  st = text_close(&json, true, err);
  epcal_status st2 = text_close(&html, st == EPCAL_OK, err);
  return st != EPCAL_OK ? st : st2;
}

/* ---------------------------------------------------------------- prune */

/*
 * Every feed epcal has written into the directory and not yet pruned is
 * listed in a hidden manifest, one path a line. The index cannot serve:
 * it lists only the last run's feeds, so a run without --prune would make
 * the next one forget the feeds it should remove.
 */
#define MANIFEST ".epcal-feeds"

/* A path from the manifest that is safe to remove: relative, inside the
 * directory, an .ics file. */
static bool safe_rel(const char *rel) {
  size_t n = strlen(rel);
  return n > 4 && rel[0] != '/' && strstr(rel, "..") == NULL &&
         strcmp(rel + n - 4, ".ics") == 0;
}

static bool written_now(group **paths, size_t cap, const char *rel) {
  return cap > 0 && *path_slot(paths, cap, rel) != NULL;
}

static epcal_status prune(const epcal_split_options *so, group *const *groups,
                          size_t n, group **paths, size_t paths_cap,
                          unsigned long *removed, epcal_error *err) {
  char *manifest = join(so->dir, MANIFEST);
  if (manifest == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  /* The new manifest: this run's feeds, plus (without --prune) the old
   * ones still on disk. The old one is read while the new one is written
   * beside it. */
  text_out out;
  epcal_status st = text_open(&out, so->dir, MANIFEST, err);
  if (st != EPCAL_OK) {
    text_close(&out, false, NULL);
    free(manifest);
    return st;
  }
  FILE *m = out.f;
  FILE *f = fopen(manifest, "rb");
  free(manifest);
  for (size_t i = 0; i < n; i++) {
    fprintf(m, "%s\n", groups[i]->rel);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while (f != NULL && (len = getline(&line, &cap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n') {
      line[len - 1] = '\0';
    }
    if (!safe_rel(line) || written_now(paths, paths_cap, line)) {
      continue;
    }
    char *path = join(so->dir, line);
    if (path == NULL) {
      continue;
    }
    if (!so->prune) {
      struct stat sb;
      if (stat(path, &sb) == 0) {
        fprintf(m, "%s\n", line); /* still there: remember it */
      }
    } else if (unlink(path) == 0) {
      (*removed)++;
      /* Remove the show's directory too once it is empty. */
      char *slash = strrchr(path, '/');
      if (slash != NULL && strchr(line, '/') != NULL) {
        *slash = '\0';
        rmdir(path);
      }
    }
    free(path);
  }
  free(line);
  if (f != NULL) {
    fclose(f);
  }
  return text_close(&out, true, err);
}
