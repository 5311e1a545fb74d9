/*
 * publish: one feed per show or per season, in a directory.
 *
 * Episodes stream through the same read -> select pipeline as a single
 * feed. One renderer serves every feed: it is retargeted to the feed an
 * episode belongs to, so memory holds one render buffer, not one per feed.
 * Each feed is its own atomic, change-aware output (a temporary file beside
 * its target, compared with the file it replaces). Nothing is renamed into
 * place before the whole input has been read without error. index.json
 * and index.html list the feeds written.
 *
 * A million rows split by season make 80,000 feeds, so what a feed costs
 * is kept small. A feed is *live* (its output, time zones and previous
 * events at hand, about half a kilobyte) only while it is being written:
 * once epcal__split_live_max other feeds have been written to since, it is
 * *finished* (its calendar closed, compared with its target, its temporary
 * file closed, or removed when unchanged) and a 40-byte record is all that
 * remains until publishing. Inputs grouped by show and season never come
 * back to a finished feed; one that does (rows in date order across many
 * shows, say) reopens it: the bytes before its closing lines are kept and
 * the feed goes on. Only a bounded number of temporary files are open at
 * once.
 */
#define _GNU_SOURCE /* sync(), syncfs(), fopencookie(), qsort_r() */
#include "read/date.h"
#include "error.h"
#include "keytab.h"
#include "output.h"
#include "pipeline.h"
#include "render/previous.h"
#include "render/render.h"
#include "stems.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files open at once, at most; each may hold two descriptors
 * (the file and the feed it replaces, while they match). */
#define MAX_OPEN 64
/* Descriptors left for everything else: inputs, locks, a previous feed. */
#define SPARE_FDS 32

/* Feeds live at once, at most. Fewer keep less (half a kilobyte each, and
 * their previous events) and made rows in date order faster here: at
 * 100,000 rows over 8,334 feeds, shuffled 2.7 s with 1024, 2.3 s with 256;
 * in date order 1.9 s and 1.3 s. */
unsigned epcal__split_live_max = 256;

typedef struct live live;

enum {
  FEED_LIVE = 1,     /* at.live is its live state */
  FEED_FINISHED = 2, /* closed and prepared (its zones, if any, are in
                        split.zones) */
  FEED_CHANGED = 4,  /* finished with other bytes than its target's: its
                        temporary file (at.tmp) waits to be renamed */
  FEED_HAD_PREV = 16, /* it has a previous feed (loaded while it is live) */
  FEED_AGAIN = 32     /* reopened at least once */
};

/* Every feed, in order of first appearance: 40 bytes. */
typedef struct feed {
  uint32_t show;        /* index in split.shows */
  int32_t season;       /* -1 when split by show */
  uint32_t events;
  uint32_t first, last; /* pack_date() */
  uint32_t flags;
  uint64_t tail_at; /* FEED_FINISHED: bytes before the VTIMEZONEs and
                       END:VCALENDAR that close it */
  union {
    live *live;         /* FEED_LIVE */
    char tmp[6];        /* FEED_CHANGED: its temporary file's suffix */
    uint64_t target_id; /* finished unchanged: epcal__output_target_id() */
  } at;
} feed;

/* A finished feed's time zones, kept for when it is reopened: only feeds
 * with timed events have any. */
typedef struct kept_zones {
  uint64_t key; /* zones_key() of the feed */
  epcal__zoneset *zones;
} kept_zones;

/* A feed whose previous events this run would remove too many of, so
 * far (see shrink_note()): few or none in a normal run. */
typedef struct shrinking {
  uint64_t key;      /* zones_key() of the feed */
  uint32_t feed;     /* its index */
  uint32_t previous; /* events in its previous feed */
  uint32_t removed;  /* of them, rendered by no pass yet */
} shrinking;

/* A feed being written. Live feeds form a list, most recently written
 * first, to finish the one written longest ago; those whose temporary
 * file is open form another, to close one when too many are open. */
struct live {
  struct split *s;
  uint32_t feed;
  bool began; /* its calendar's header is written */
  bool open;  /* in the open list */
  epcal_output *out;
  epcal_previous *prev; /* a view of split.previous, or NULL */
  /* Its time zones, while the renderer holds another feed's. */
  epcal__zoneset zones;
  uint64_t bytes; /* written to out */
  live *newer, *older;           /* the live list */
  live *open_newer, *open_older; /* the open list */
};

typedef struct split {
  const epcal_generate_options *opts;
  const epcal_split_options *so;
  epcal_renderer *ren;
  epcal_previous *previous; /* the live feeds' previous events, shared */
  /* Feeds in chunks, so that growing never copies (or doubles) them. */
  feed **chunks;
  size_t n, n_chunks;
  uint32_t *table; /* 1 + feed index, by show and season */
  size_t tcap;
  char **shows; /* show names, each once */
  char **stems; /* and their paths' stems (in the same allocation) */
  size_t n_shows, shows_cap;
  uint32_t *show_table; /* 1 + show index, by name */
  uint32_t *stem_table; /* 1 + show index, by stem */
  size_t show_tcap;     /* of both */
  uint32_t last; /* 1 + the feed of the last episode */
  /* Previous events no feed rendered again (see finish()). */
  int64_t removed;
  uint64_t prev_events; /* events of the previous feeds this run wrote */
  epcal__keytab zones; /* of kept_zones */
  epcal__keytab shrinking; /* of shrinking */
  uint64_t prev_cap; /* epcal__previous_cap() of the inputs */
  live *current; /* the feed the renderer writes */
  live *newest, *oldest;
  size_t n_live;
  live *open_newest, *open_oldest;
  size_t n_open;
  size_t max_open; /* MAX_OPEN, or fewer under a low descriptor limit */
  char *made_dir; /* the directory the last new feed went into */
  /* Show directories this run made: removed again if it fails. */
  char **created;
  size_t n_created, created_cap;
  /* Feeds an earlier run wrote here that this one did not, still on disk
   * (without --prune): listed in index.json's "kept", so that a later run
   * with --prune still knows them. */
  struct kept_feed *kept;
  size_t n_kept, kept_cap;
} split;

typedef struct kept_feed {
  char *show; /* NULL when the record named none */
  char *path; /* below the directory; one allocation with show */
} kept_feed;

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)

static feed *feed_at(const split *s, size_t i) {
  return &s->chunks[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

/* Feed i's key in split.zones: never 0, spread over 64 bits. */
static uint64_t zones_key(uint32_t i) {
  return ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ULL;
}

/* Dates in a feed record: ordered like the dates. */
static uint32_t pack_date(epcal_date d) {
  return (uint32_t)d.year << 9 | (uint32_t)d.month << 5 | (uint32_t)d.day;
}

static epcal_date unpack_date(uint32_t p) {
  epcal_date d = {(int)(p >> 9), (int)(p >> 5 & 15), (int)(p & 31)};
  return d;
}

/* The feed's calendar name, "Show, Season 2" (or the show's, split by
 * show): made when needed rather than kept for every feed. */
#define NAME_MAX_BYTES 1024
static void feed_name(const split *s, const feed *f,
                      char name[NAME_MAX_BYTES]) {
  if (f->season >= 0) {
    snprintf(name, NAME_MAX_BYTES, "%s, Season %ld", s->shows[f->show],
             (long)f->season);
  } else {
    snprintf(name, NAME_MAX_BYTES, "%s", s->shows[f->show]);
  }
}

/* The feed's path below the directory: STEM/season-NN.ics or STEM.ics.
 * A show's stem is its slug, unless another show has it: then the slug and
 * a hash of the name (stems.h, show_index). */
#define REL_MAX 128 /* a stem (EPCAL__STEM_MAX), "/season-", 6 digits, ".ics" */
static void feed_rel(const split *s, const feed *f, char rel[REL_MAX]) {
  /* Built by hand: this runs for every file operation on a feed (snprintf
   * and the slug were 7% of a split's main thread at 83,334 feeds). */
  const char *stem = s->stems[f->show];
  size_t n = strlen(stem);
  memcpy(rel, stem, n);
  if (f->season >= 0) {
    memcpy(rel + n, "/season-", 8);
    n += 8;
    char digits[12];
    size_t d = 0;
    unsigned long v = (unsigned long)f->season; /* 0..999999 */
    do {
      digits[d++] = (char)('0' + v % 10);
      v /= 10;
    } while (v > 0);
    if (d < 2) {
      digits[d++] = '0';
    }
    while (d > 0) {
      rel[n++] = digits[--d];
    }
  }
  memcpy(rel + n, ".ics", 5);
}

static char *join(const char *dir, const char *rel) {
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p != NULL) {
    snprintf(p, n, "%s/%s", dir, rel);
  }
  return p;
}

static char *feed_path(const split *s, const feed *f) {
  char rel[REL_MAX];
  feed_rel(s, f, rel);
  return join(s->so->dir, rel);
}

/* The key its previous events are filed under in split.previous. */
static uint64_t feed_salt(const split *s, const feed *f) {
  const char *show = s->shows[f->show];
  uint64_t h = epcal__hash64(show, strlen(show));
  h = (h ^ (uint64_t)((int64_t)f->season + 1)) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 31;
  return h != 0 ? h : 1;
}

/* ------------------------------------------------------------ the tables */

static size_t feed_hash(uint32_t show, int32_t season) {
  uint64_t h = ((uint64_t)show << 32 | (uint32_t)season) * 0x9E3779B97F4A7C15ULL;
  return (size_t)(h >> 29);
}

/* The slot for (show, season): 1 + its feed, or 0 (empty). */
static uint32_t *table_slot(const split *s, uint32_t show, int32_t season) {
  size_t j = feed_hash(show, season) & (s->tcap - 1);
  while (s->table[j] != 0) {
    const feed *f = feed_at(s, s->table[j] - 1);
    if (f->show == show && f->season == season) {
      break;
    }
    j = (j + 1) & (s->tcap - 1);
  }
  return &s->table[j];
}

static bool tables_grow(split *s) {
  size_t cap = s->tcap != 0 ? s->tcap * 2 : 256;
  uint32_t *table = calloc(cap, sizeof *table);
  if (table == NULL) {
    return false;
  }
  free(s->table);
  s->table = table;
  s->tcap = cap;
  for (size_t i = 0; i < s->n; i++) {
    const feed *f = feed_at(s, i);
    *table_slot(s, f->show, f->season) = (uint32_t)i + 1;
  }
  return true;
}

/* The slot for `key` in a table of `cap` slots that indexes `strings`
 * (the shows' names or their stems): 1 + the show whose string it is, or
 * 0 where it would go. */
static uint32_t *string_slot(char *const *strings, uint32_t *t, size_t cap,
                             const char *key) {
  size_t j = (size_t)epcal__hash64(key, strlen(key)) & (cap - 1);
  while (t[j] != 0 && strcmp(strings[t[j] - 1], key) != 0) {
    j = (j + 1) & (cap - 1);
  }
  return &t[j];
}

/* The show whose stem is `stem`, plus one, or 0. */
static uint32_t show_of_stem(const split *s, const char *stem) {
  return s->show_tcap > 0
             ? *string_slot(s->stems, s->stem_table, s->show_tcap, stem)
             : 0;
}

/* Whether a show of this run has `stem` (for epcal__stems_choose). */
static bool stem_taken(void *ctx, const char *stem) {
  return show_of_stem(ctx, stem) != 0;
}

/* The index of show name `name`, added when new, with the stem `hint`
 * when it has one no other show has. false: out of memory. */
static bool show_index(split *s, const char *name, const char *hint,
                       uint32_t *out) {
  if ((s->n_shows + 1) * 4 > s->show_tcap * 3) {
    size_t cap = s->show_tcap != 0 ? s->show_tcap * 2 : 64;
    uint32_t *t = calloc(cap, sizeof *t);
    uint32_t *st = calloc(cap, sizeof *st);
    if (t == NULL || st == NULL) {
      free(t);
      free(st);
      return false;
    }
    for (size_t i = 0; i < s->n_shows; i++) {
      *string_slot(s->shows, t, cap, s->shows[i]) = (uint32_t)i + 1;
      *string_slot(s->stems, st, cap, s->stems[i]) = (uint32_t)i + 1;
    }
    free(s->show_table);
    free(s->stem_table);
    s->show_table = t;
    s->stem_table = st;
    s->show_tcap = cap;
  }
  uint32_t *slot = string_slot(s->shows, s->show_table, s->show_tcap, name);
  if (*slot != 0) {
    *out = *slot - 1;
    return true;
  }
  if (s->n_shows == s->shows_cap) {
    size_t cap = s->shows_cap != 0 ? s->shows_cap * 2 : 64;
    char **shows = realloc(s->shows, cap * sizeof *shows);
    if (shows != NULL) {
      s->shows = shows;
    }
    char **stems = shows != NULL ? realloc(s->stems, cap * sizeof *stems) : NULL;
    if (stems == NULL) {
      return false;
    }
    s->stems = stems;
    s->shows_cap = cap;
  }
  /* The stem, decided per show (stems.h), so that all of a show's feeds
   * share one directory and a directory holds one show (deciding per path
   * put "Cafe!" season 1 in cafe-HASH/ and its season 2 in cafe/, beside
   * Café's season 1). */
  char stem[EPCAL__STEM_MAX];
  if (hint != NULL && !stem_taken(s, hint)) {
    snprintf(stem, sizeof stem, "%s", hint);
  } else {
    epcal__stems_choose(name, stem_taken, s, stem);
  }
  size_t name_len = strlen(name), stem_len = strlen(stem);
  char *both = malloc(name_len + 1 + stem_len + 1);
  if (both == NULL) {
    return false;
  }
  memcpy(both, name, name_len + 1);
  memcpy(both + name_len + 1, stem, stem_len + 1);
  s->shows[s->n_shows] = both;
  s->stems[s->n_shows] = both + name_len + 1;
  *string_slot(s->stems, s->stem_table, s->show_tcap, stem) =
      (uint32_t)s->n_shows + 1;
  *slot = (uint32_t)s->n_shows + 1;
  *out = (uint32_t)s->n_shows++;
  return true;
}

/* Interns a show the previous index lists, with its stem there (for
 * epcal__stems_each). */
static bool intern_listed(void *ctx, const char *show, const char *stem) {
  uint32_t i;
  return show_index(ctx, show, stem, &i);
}

static epcal_status feed_for(split *s, const epcal_episode *ep, uint32_t *out,
                             epcal_error *err) {
  int32_t season = s->so->by == EPCAL_SPLIT_SEASON ? (int32_t)ep->season : -1;
  if (s->last != 0) {
    /* Rows come grouped: most are the last row's feed. */
    const feed *f = feed_at(s, s->last - 1);
    if (f->season == season && strcmp(s->shows[f->show], ep->show) == 0) {
      *out = s->last - 1;
      return EPCAL_OK;
    }
  }
  uint32_t show;
  if (!show_index(s, ep->show, NULL, &show) ||
      ((s->n + 1) * 4 > s->tcap * 3 && !tables_grow(s))) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  uint32_t *slot = table_slot(s, show, season);
  if (*slot == 0) {
    if (s->n == s->n_chunks * CHUNK) {
      feed **chunks = realloc(s->chunks, (s->n_chunks + 1) * sizeof *chunks);
      feed *chunk = chunks != NULL ? malloc(CHUNK * sizeof *chunk) : NULL;
      if (chunks != NULL) {
        s->chunks = chunks;
      }
      if (chunk == NULL) {
        return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
      }
      s->chunks[s->n_chunks++] = chunk;
    }
    feed *f = feed_at(s, s->n);
    memset(f, 0, sizeof *f);
    f->show = show;
    f->season = season;
    *slot = (uint32_t)++s->n;
  }
  s->last = *slot;
  *out = *slot - 1;
  return EPCAL_OK;
}

/* --------------------------------------------------------- the two lists */

static void live_unlink(split *s, live *g) {
  *(g->newer != NULL ? &g->newer->older : &s->newest) = g->older;
  *(g->older != NULL ? &g->older->newer : &s->oldest) = g->newer;
  g->newer = g->older = NULL;
  s->n_live--;
}

static void live_push(split *s, live *g) {
  g->newer = NULL;
  g->older = s->newest;
  *(s->newest != NULL ? &s->newest->newer : &s->oldest) = g;
  s->newest = g;
  s->n_live++;
}

static void open_unlink(split *s, live *g) {
  *(g->open_newer != NULL ? &g->open_newer->open_older : &s->open_newest) =
      g->open_older;
  *(g->open_older != NULL ? &g->open_older->open_newer : &s->open_oldest) =
      g->open_newer;
  g->open_newer = g->open_older = NULL;
  g->open = false;
  s->n_open--;
}

static void open_push(split *s, live *g) {
  g->open_newer = NULL;
  g->open_older = s->open_newest;
  *(s->open_newest != NULL ? &s->open_newest->open_newer : &s->open_oldest) =
      g;
  s->open_newest = g;
  g->open = true;
  s->n_open++;
}

/* Closes the temporary file written longest ago (not the current one's),
 * keeping the file. */
static void close_oldest(split *s) {
  live *g = s->open_oldest;
  if (g == s->current && g != NULL) {
    g = g->open_newer;
  }
  if (g != NULL) {
    open_unlink(s, g);
    epcal__output_suspend(g->out);
  }
}

/* ------------------------------------------------------------- live feeds */

static int live_write(void *ctx, const char *buf, size_t len) {
  live *g = ctx;
  split *s = g->s;
  if (!g->open) {
    if (s->n_open >= s->max_open) {
      close_oldest(s);
    }
    if (!epcal__output_resume(g->out)) {
      return -1;
    }
    open_push(s, g);
  } else if (s->open_newest != g) {
    open_unlink(s, g);
    open_push(s, g);
  }
  if (epcal_output_write(g->out, buf, len) != 0) {
    return -1;
  }
  g->bytes += len;
  return 0;
}

/* Frees a live feed's state; `keep_temporary` leaves a prepared
 * temporary file on disk (else it is removed). */
static void live_free(split *s, live *g, bool keep_temporary) {
  if (g->open) {
    open_unlink(s, g);
  }
  live_unlink(s, g);
  if (s->current == g) {
    s->current = NULL;
  }
  if (keep_temporary) {
    epcal__output_free_prepared(g->out);
  } else {
    epcal_output_free(g->out);
  }
  epcal_previous_free(g->prev);
  epcal__zoneset_free(&g->zones);
  free(g);
}

/*
 * Whether a show's directory inside the output directory is there: 0 yes
 * (a directory itself), 1 missing, -1 not usable, with errno set: ELOOP
 * for a symbolic link (split output writes only inside its own directory),
 * ENOTDIR for another kind of file.
 */
static int show_dir_state(const char *dir) {
  struct stat sb;
  if (lstat(dir, &sb) != 0) {
    return errno == ENOENT ? 1 : -1;
  }
  if (S_ISDIR(sb.st_mode)) {
    return 0;
  }
  errno = S_ISLNK(sb.st_mode) ? ELOOP : ENOTDIR;
  return -1;
}

/* show_dir_state() of the directory part of `path`. Feeds of a show follow
 * each other and share its directory: checked once, not once per feed (a
 * mkdir for each part of each feed's path was three failing system calls
 * a feed). The output directory itself is the caller's: it may be a
 * link. */
static int parent_state(split *s, char *path) {
  char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path) {
    return 0;
  }
  size_t n = (size_t)(slash - path);
  if (n == strlen(s->so->dir) ||
      (s->made_dir != NULL && strncmp(s->made_dir, path, n) == 0 &&
       s->made_dir[n] == '\0')) {
    return 0;
  }
  *slash = '\0';
  int rc = show_dir_state(path);
  if (rc == 0) {
    free(s->made_dir);
    s->made_dir = strdup(path); /* only a shortcut: NULL is fine */
  }
  *slash = '/';
  return rc;
}

/* Six letters or digits, as mkstemp's. */
static void random_name(char out[6]) {
  static const char alnum[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static unsigned long counter;
  unsigned char r[6];
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    unsigned long v = (unsigned long)getpid() * 2654435761UL + ++counter;
    for (size_t i = 0; i < sizeof r; i++) {
      r[i] = (unsigned char)(v >> (i * 5));
    }
  }
  for (size_t i = 0; i < 6; i++) {
    out[i] = alnum[r[i] % (sizeof alnum - 1)];
  }
}

/*
 * Opens the first feed of a show whose directory does not exist yet. The
 * directory is made under a temporary name (".STEM.epcal-XXXXXX.tmp", the
 * shape of epcal's temporary files), the feed's temporary file made in it,
 * and only then is it renamed to STEM: at no moment is there an empty show
 * directory that a killed run would leave behind, since the next run's
 * cleanup removes temporary files and the directories they alone fill (see
 * epcal_split_remove_stale()). The directory is remembered, to be removed
 * again should this run fail.
 */
static epcal_status open_in_new_dir(split *s, char *path, epcal_output **out,
                                    epcal_error *err) {
  char *slash = strrchr(path, '/');
  *slash = '\0';
  const char *dir = path;
  const char *stem_at = strrchr(dir, '/');
  size_t parent_len = stem_at != NULL ? (size_t)(stem_at - dir) + 1 : 0;
  const char *stem = dir + parent_len;
  size_t cap = strlen(dir) + strlen(slash + 1) + 32;
  char *staged = malloc(cap);
  char *created = strdup(dir);
  char **list = NULL;
  if (staged != NULL && created != NULL && s->n_created == s->created_cap) {
    size_t n = s->created_cap == 0 ? 16 : s->created_cap * 2;
    list = realloc(s->created, n * sizeof *list);
    if (list != NULL) {
      s->created = list;
      s->created_cap = n;
    }
  }
  if (staged == NULL || created == NULL || s->n_created == s->created_cap) {
    *slash = '/';
    free(staged);
    free(created);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  int rc = -1;
  for (int tries = 0; tries < 100 && rc != 0; tries++) {
    char r[6];
    random_name(r);
    snprintf(staged, cap, "%.*s.%s.epcal-%.6s.tmp", (int)parent_len, dir, stem,
             r);
    rc = mkdir(staged, 0755);
    if (rc != 0 && errno != EEXIST) {
      break;
    }
  }
  epcal_status st = EPCAL_OK;
  if (rc != 0) {
    st = epcal__fail(err, EPCAL_EIO, dir, 0, 0, "cannot create directory: %s",
                     strerror(errno));
  }
  size_t staged_len = strlen(staged);
  if (st == EPCAL_OK) {
    snprintf(staged + staged_len, cap - staged_len, "/%s", slash + 1);
    st = epcal_output_open(out, staged, err);
    staged[staged_len] = '\0';
    if (st != EPCAL_OK) {
      rmdir(staged);
    }
  }
  if (st == EPCAL_OK && rename(staged, dir) != 0) {
    st = epcal__fail(err, EPCAL_EIO, dir, 0, 0, "cannot create directory: %s",
                     strerror(errno));
    epcal_output_free(*out); /* removes its temporary file */
    *out = NULL;
    rmdir(staged);
  }
  *slash = '/';
  if (st == EPCAL_OK && !epcal__output_moved(*out, path)) {
    st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    epcal_output_free(*out);
    *out = NULL;
    *slash = '\0';
    rmdir(dir);
    *slash = '/';
  }
  free(staged);
  if (st != EPCAL_OK) {
    free(created);
    return st;
  }
  s->created[s->n_created++] = created;
  free(s->made_dir);
  s->made_dir = strdup(created); /* only a shortcut: NULL is fine */
  return EPCAL_OK;
}

/* Fails unless the feed's target is missing or a regular file: a link
 * there could point out of the output directory. */
static epcal_status check_target(const char *path, epcal_error *err) {
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    if (errno == ENOENT) {
      return EPCAL_OK;
    }
    return epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot read: %s",
                       strerror(errno));
  }
  if (S_ISREG(sb.st_mode)) {
    return EPCAL_OK;
  }
  /* A link is the tree being tampered with (an I/O failure, as a
   * symlinked show directory is); a device or FIFO where a feed belongs
   * is refused like one named by -o. */
  return epcal__fail(err, S_ISLNK(sb.st_mode) ? EPCAL_EIO : EPCAL_EUSAGE,
                     path, 0, 0,
                     "is %s: split output replaces only regular files "
                     "inside its directory",
                     S_ISLNK(sb.st_mode) ? "a symbolic link"
                                         : "not a regular file");
}

static epcal_status finish(split *s, live *g, epcal_error *err);

/* A write error names no file (the renderer does not know it): name the
 * feed's. Returns st. */
static epcal_status blame(const split *s, const feed *f, epcal_status st,
                          epcal_error *err) {
  if (st == EPCAL_EIO && err != NULL && err->file[0] == '\0') {
    char rel[REL_MAX];
    feed_rel(s, f, rel);
    snprintf(err->file, sizeof err->file, "%s/%s", s->so->dir, rel);
  }
  return st;
}

/* Makes feed `i` live: new, or reopened after it was finished. */
static epcal_status live_new(split *s, uint32_t i, live **out,
                             epcal_error *err) {
  if (s->n_live >= epcal__split_live_max && s->oldest != NULL) {
    epcal_status st = finish(s, s->oldest, err);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  if (s->n_open >= s->max_open) {
    close_oldest(s);
  }
  live *g = calloc(1, sizeof *g);
  feed *f = feed_at(s, i);
  char *path = feed_path(s, f);
  if (g == NULL || path == NULL) {
    free(g);
    free(path);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  g->s = s;
  g->feed = i;
  epcal_status st = EPCAL_OK;
  if (!(f->flags & FEED_FINISHED)) {
    int dir = parent_state(s, path);
    if (dir < 0) {
      st = errno == ELOOP
               ? epcal__fail(err, EPCAL_EIO, path, 0, 0,
                             "its directory is a symbolic link: split "
                             "output writes only inside %s",
                             s->so->dir)
               : epcal__fail(err, EPCAL_EIO, path, 0, 0,
                             "cannot use its directory: %s", strerror(errno));
    } else if (dir == 1) {
      /* A new show: no previous feed, and its directory made with its
       * first temporary file in it. */
      st = open_in_new_dir(s, path, &g->out, err);
    } else {
      st = check_target(path, err);
      if (st == EPCAL_OK) {
        st = epcal__previous_load_or_warn(s->opts, path, s->prev_cap,
                                          s->previous, feed_salt(s, f),
                                          &g->prev, err);
        f->flags |= g->prev != NULL ? FEED_HAD_PREV : 0;
      }
      if (st == EPCAL_OK) {
        st = epcal_output_open_flags(&g->out, path, EPCAL_OUTPUT_NOFOLLOW,
                                     err);
      }
    }
  } else {
    /* Back to a finished feed: on from the bytes before its closing. */
    char *tmp = (f->flags & FEED_CHANGED)
                    ? epcal__output_temp_name(path, f->at.tmp)
                    : NULL;
    if ((f->flags & FEED_CHANGED) && tmp == NULL) {
      st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (st == EPCAL_OK && (f->flags & FEED_HAD_PREV)) {
      /* Its events left the shared index when it was finished. */
      st = epcal__previous_load_or_warn(s->opts, path, s->prev_cap,
                                        s->previous, feed_salt(s, f),
                                        &g->prev, err);
    }
    if (st == EPCAL_OK) {
      st = epcal__output_continue(&g->out, path, tmp, f->tail_at,
                                  f->at.target_id, err);
    }
    if (st == EPCAL_OK) {
      g->bytes = f->tail_at;
      g->began = true;
      kept_zones *k = epcal__keytab_find(&s->zones, zones_key(i));
      if (k != NULL && k->zones != NULL) {
        g->zones = *k->zones;
        free(k->zones);
        k->zones = NULL;
      }
      f->flags &= ~(uint32_t)(FEED_FINISHED | FEED_CHANGED);
      f->flags |= FEED_AGAIN;
    } else if (tmp != NULL) {
      unlink(tmp); /* cannot be finished: it must not be left behind */
      f->flags &= ~(uint32_t)FEED_CHANGED;
    }
    free(tmp);
  }
  free(path);
  if (st != EPCAL_OK) {
    epcal_output_free(g->out);
    epcal_previous_free(g->prev);
    epcal__zoneset_free(&g->zones);
    free(g);
    return st;
  }
  f->flags |= FEED_LIVE;
  f->at.live = g;
  live_push(s, g);
  open_push(s, g); /* its file is open */
  *out = g;
  return EPCAL_OK;
}

/* Points the renderer at g (flushing what it holds for the last feed). */
static epcal_status switch_to(split *s, live *g, epcal_error *err) {
  if (s->current == g) {
    return EPCAL_OK;
  }
  epcal_status st = epcal_renderer_retarget(s->ren, NULL, NULL, NULL, NULL, err);
  if (st != EPCAL_OK) {
    return s->current != NULL ? blame(s, feed_at(s, s->current->feed), st, err)
                              : st;
  }
  /* The renderer holds the current feed's zones; an empty set otherwise. */
  if (s->current != NULL) {
    epcal__renderer_swap_zones(s->ren, &s->current->zones);
  }
  epcal__renderer_swap_zones(s->ren, &g->zones);
  char name[NAME_MAX_BYTES];
  feed_name(s, feed_at(s, g->feed), name);
  st = epcal_renderer_retarget(s->ren, live_write, g, name, g->prev, err);
  if (st != EPCAL_OK) {
    return st;
  }
  s->current = g;
  if (!g->began) {
    g->began = true;
    return blame(s, feed_at(s, g->feed), epcal_renderer_begin(s->ren, err),
                 err);
  }
  return EPCAL_OK;
}

/*
 * The shrink guard, per feed. A feed's removed events are those of its
 * previous feed that no pass rendered: after its first pass, those that
 * pass did not render (`unseen`); a reopened feed's pass renders more of
 * them, so the count only goes down. A feed that breaks the policy is
 * remembered with its count; one that does not after a pass never will,
 * so only the few that do cost memory. Returns false when out of memory.
 */
static bool shrink_note(split *s, uint32_t i, uint64_t previous,
                        unsigned long unseen, bool again) {
  uint64_t key = zones_key(i);
  shrinking *k = epcal__keytab_find(&s->shrinking, key);
  uint64_t removed;
  if (!again) {
    removed = unseen;
  } else if (k == NULL) {
    return true; /* within the policy after an earlier pass: still is */
  } else {
    /* This pass loaded all `previous` events again and left `unseen`;
     * the others were rendered now. */
    uint64_t now_seen = previous - unseen;
    removed = k->removed > now_seen ? k->removed - now_seen : 0;
  }
  if (!epcal_shrink_refused((unsigned long)previous, (unsigned long)removed,
                            &s->opts->shrink)) {
    if (k != NULL) {
      epcal__keytab_remove(&s->shrinking, key);
    }
    return true;
  }
  if (k == NULL) {
    bool added;
    k = epcal__keytab_put(&s->shrinking, key, &added);
    if (k == NULL) {
      return false;
    }
  }
  k->feed = i;
  k->previous = previous > UINT32_MAX ? UINT32_MAX : (uint32_t)previous;
  k->removed = removed > UINT32_MAX ? UINT32_MAX : (uint32_t)removed;
  return true;
}

typedef struct shrink_walk {
  unsigned long feeds;
  const shrinking *first; /* the feed that came first in the input */
} shrink_walk;

static void visit_shrinking(void *ctx, void *record) {
  shrink_walk *w = ctx;
  const shrinking *k = record;
  w->feeds++;
  if (w->first == NULL || k->feed < w->first->feed) {
    w->first = k;
  }
}

/* All or nothing: when any feed would lose too many of its events, no
 * feed is replaced (a cron job then fails as a whole, and a person looks
 * at the input), and the message names the first such feed. */
static epcal_status shrink_check(const split *s, epcal_error *err) {
  shrink_walk w = {0, NULL};
  epcal__keytab_each(&s->shrinking, visit_shrinking, &w);
  if (w.first == NULL) {
    return EPCAL_OK;
  }
  char *path = feed_path(s, feed_at(s, w.first->feed));
  epcal_status st =
      epcal__shrink_check(&s->opts->shrink, path, w.first->previous,
                          w.first->removed, err);
  free(path);
  if (st != EPCAL_OK && err != NULL && w.feeds > 1) {
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n,
             " (%lu feeds would shrink so; no feed is replaced)", w.feeds);
  }
  return st;
}

/* Closes g's calendar, compares it with its target and leaves only its
 * record: see the top of the file. */
static epcal_status finish(split *s, live *g, epcal_error *err) {
  feed *f = feed_at(s, g->feed);
  epcal_status st = switch_to(s, g, err);
  if (st == EPCAL_OK) {
    st = epcal__renderer_flush(s->ren, err);
  }
  uint64_t tail_at = g->bytes;
  if (st == EPCAL_OK) {
    st = epcal_renderer_end(s->ren, err);
  }
  if (st == EPCAL_OK) {
    st = epcal_renderer_retarget(s->ren, NULL, NULL, NULL, NULL, err);
  }
  bool changed = false;
  if (st == EPCAL_OK) {
    epcal__renderer_swap_zones(s->ren, &g->zones);
    s->current = NULL;
    if (g->open) {
      open_unlink(s, g);
    }
    st = epcal__output_prepare(g->out, false, &changed, err);
  }
  if (st != EPCAL_OK) {
    /* g stays live: freed, with its temporary file, on failure. */
    return blame(s, f, st, err);
  }
  if (g->zones.n > 0) {
    bool added;
    kept_zones *k = epcal__keytab_put(&s->zones, zones_key(g->feed), &added);
    epcal__zoneset *zones = k != NULL ? malloc(sizeof *zones) : NULL;
    if (zones == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *zones = g->zones;
    memset(&g->zones, 0, sizeof g->zones);
    k->zones = zones;
  }
  /* Its previous events leave the shared index, counted when this run
   * rendered them in none of its passes: each pass counts those it did
   * not render, so a reopened feed takes back one count of them all. */
  int64_t events = (int64_t)epcal__previous_view_events(g->prev);
  unsigned long unseen = epcal__previous_drop_view(g->prev);
  if (!(f->flags & FEED_AGAIN)) {
    s->prev_events += (uint64_t)events;
  }
  s->removed += (int64_t)unseen - ((f->flags & FEED_AGAIN) ? events : 0);
  if (!shrink_note(s, g->feed, (uint64_t)events, unseen,
                   (f->flags & FEED_AGAIN) != 0)) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  f->tail_at = tail_at;
  if (changed) {
    epcal__output_temp_suffix(g->out, f->at.tmp);
  } else {
    f->at.target_id = epcal__output_target_id(g->out);
  }
  live_free(s, g, changed);
  f->flags = (f->flags & ~(uint32_t)FEED_LIVE) | FEED_FINISHED |
             (changed ? FEED_CHANGED : 0);
  return EPCAL_OK;
}

static epcal_status emit(void *ctx, const epcal_episode *ep, epcal_error *err) {
  split *s = ctx;
  uint32_t i = 0;
  epcal_status st = feed_for(s, ep, &i, err);
  if (st != EPCAL_OK) {
    return st;
  }
  feed *f = feed_at(s, i);
  live *g = NULL;
  if (f->flags & FEED_LIVE) {
    g = f->at.live;
    if (s->newest != g) {
      live_unlink(s, g);
      live_push(s, g);
    }
  } else {
    st = live_new(s, i, &g, err);
  }
  if (st == EPCAL_OK) {
    st = switch_to(s, g, err);
  }
  if (st == EPCAL_OK) {
    st = blame(s, f, epcal__renderer_add_read(s->ren, ep, err), err);
  }
  if (st == EPCAL_OK) {
    uint32_t d = pack_date(ep->date);
    if (f->events == 0 || d < f->first) {
      f->first = d;
    }
    if (f->events == 0 || d > f->last) {
      f->last = d;
    }
    f->events++;
  }
  return st;
}

/* In index order: by show, then season. */
static int by_show_season(const void *a, const void *b, void *ctx) {
  const split *s = ctx;
  const feed *x = feed_at(s, *(const uint32_t *)a);
  const feed *y = feed_at(s, *(const uint32_t *)b);
  int c = x->show == y->show ? 0 : strcmp(s->shows[x->show], s->shows[y->show]);
  if (c != 0) {
    return c;
  }
  return (x->season > y->season) - (x->season < y->season);
}

static epcal_status write_index(const split *s, const uint32_t *order,
                                epcal_error *err);

/* Reads the record of feeds written here (the last index.json) and, with
 * so->prune, removes those this run did not write, else keeps them in
 * s->kept for the new index. */
static epcal_status prune(split *s, unsigned long *removed, epcal_error *err);
static epcal_status prune_guard(split *s, epcal_error *err);
static void remove_legacy_manifest(const char *dir);

/* Renames every changed feed's temporary file over its target. */
/* Flushes the file system that holds `dir` (syncfs), or every one when
 * that is not possible: sync() would also wait for unrelated disks and
 * network mounts, which a cron job should not. */
static void sync_dir_fs(const char *dir) {
#if defined(__linux__)
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    int rc = syncfs(fd);
    close(fd);
    if (rc == 0) {
      return;
    }
  }
#endif
  sync();
}

static epcal_status publish(const split *s, const uint32_t *order,
                            epcal_error *err) {
  for (size_t k = 0; k < s->n; k++) {
    const feed *f = feed_at(s, order[k]);
    if (!(f->flags & FEED_CHANGED)) {
      continue;
    }
    char *path = feed_path(s, f);
    char *tmp = path != NULL ? epcal__output_temp_name(path, f->at.tmp) : NULL;
    epcal_status st = EPCAL_OK;
    if (tmp == NULL) {
      st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    } else if (rename(tmp, path) != 0) {
      st = epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot replace: %s",
                       strerror(errno));
    }
    free(tmp);
    free(path);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  return EPCAL_OK;
}

/* Removes what a failed run leaves: every temporary file. */
static void discard(split *s) {
  while (s->newest != NULL) {
    live *g = s->newest;
    feed_at(s, g->feed)->flags &= ~(uint32_t)FEED_LIVE;
    live_free(s, g, false);
  }
  for (size_t i = 0; i < s->n; i++) {
    feed *f = feed_at(s, i);
    if (f->flags & FEED_CHANGED) {
      char *path = feed_path(s, f);
      char *tmp = path != NULL ? epcal__output_temp_name(path, f->at.tmp) : NULL;
      if (tmp != NULL) {
        unlink(tmp);
      }
      free(tmp);
      free(path);
      f->flags &= ~(uint32_t)FEED_CHANGED;
    }
  }
  /* The show directories it made hold nothing of value now: no empty
   * directory is left behind (rmdir leaves one that is not empty). */
  while (s->n_created > 0) {
    rmdir(s->created[--s->n_created]);
  }
}

static void free_kept_zones(void *ctx, void *record) {
  (void)ctx;
  kept_zones *k = record;
  if (k->zones != NULL) {
    epcal__zoneset_free(k->zones);
    free(k->zones);
  }
}

static void split_free(split *s) {
  epcal__keytab_each(&s->zones, free_kept_zones, NULL);
  epcal__keytab_free(&s->zones);
  epcal__keytab_free(&s->shrinking);
  for (size_t c = 0; c < s->n_chunks; c++) {
    free(s->chunks[c]);
  }
  free(s->chunks);
  for (size_t i = 0; i < s->n_shows; i++) {
    free(s->shows[i]);
  }
  free(s->shows);
  free(s->stems);
  free(s->made_dir);
  for (size_t i = 0; i < s->n_created; i++) {
    free(s->created[i]);
  }
  free(s->created);
  for (size_t i = 0; i < s->n_kept; i++) {
    free(s->kept[i].path);
  }
  free(s->kept);
  free(s->show_table);
  free(s->stem_table);
  free(s->table);
  epcal_renderer_free(s->ren);
  epcal_previous_free(s->previous);
}

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
  epcal__keytab_init(&s.zones, sizeof(kept_zones));
  epcal__keytab_init(&s.shrinking, sizeof(shrinking));
  s.prev_cap = epcal__previous_cap(opts);
  struct rlimit fds;
  if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur != RLIM_INFINITY &&
      fds.rlim_cur < SPARE_FDS + 2 * MAX_OPEN + 2) {
    s.max_open = fds.rlim_cur > SPARE_FDS + 4 ? (fds.rlim_cur - SPARE_FDS) / 2
                                              : 2;
  }
  epcal_render_options ro = opts->render;
  ro.previous = NULL;
  s.previous = epcal__previous_shared_new();
  /* Shows keep the stems the last run's index gave them (stems.h). */
  char *index = join(so->dir, "index.json");
  bool ok = s.previous != NULL && index != NULL &&
            epcal__stems_each(index, intern_listed, &s);
  free(index);
  epcal_status st =
      ok ? epcal_renderer_new(&s.ren, &ro, NULL, NULL, err)
         : epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  if (st == EPCAL_OK) {
    st = epcal__pipeline_run(opts, emit, NULL, &s, stats, err);
  }
  /* Close every calendar still open. */
  while (st == EPCAL_OK && s.newest != NULL) {
    st = finish(&s, s.oldest, err);
  }
  if (st == EPCAL_OK) {
    st = shrink_check(&s, err);
  }
  if (st == EPCAL_OK && so->prune) {
    st = prune_guard(&s, err);
  }
  if (s.ren != NULL) {
    stats->events = epcal_renderer_events(s.ren);
    stats->counts = epcal_renderer_counts(s.ren);
  }
  uint32_t *order = NULL;
  if (st == EPCAL_OK && s.n > 0) {
    order = malloc(s.n * sizeof *order);
    if (order == NULL) {
      st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
  }
  if (st == EPCAL_OK) {
    for (size_t i = 0; i < s.n; i++) {
      order[i] = (uint32_t)i;
      stats->feeds_changed += (feed_at(&s, i)->flags & FEED_CHANGED) != 0;
    }
    stats->feeds = s.n;
    if (s.n > 0) {
      qsort_r(order, s.n, sizeof *order, by_show_season, &s);
    }
    stats->removed = s.removed > 0 ? (unsigned long)s.removed : 0;
  }
  /* Publish: every changed feed made durable by one sync of the file
   * system rather than an fsync per feed (thousands of feeds would take
   * minutes), then renamed, then one more sync for the renames. */
  if (st == EPCAL_OK && stats->feeds_changed > 0) {
    sync_dir_fs(so->dir);
  }
  if (st == EPCAL_OK) {
    st = publish(&s, order, err);
  }
  if (st != EPCAL_OK) {
    discard(&s);
  } else if (stats->feeds_changed > 0) {
    sync_dir_fs(so->dir);
  }
  if (st == EPCAL_OK) {
    st = prune(&s, &stats->feeds_pruned, err);
  }
  if (st == EPCAL_OK) {
    st = write_index(&s, order, err);
  }
  if (st == EPCAL_OK) {
    remove_legacy_manifest(so->dir);
  }
  free(order);
  split_free(&s);
  return st;
}

/* ---------------------------------------------------------------- index */

/* The index lists every feed (83,334 at a million rows): values go out as
 * runs between the bytes that need escaping, not a locked fputc a byte. */
static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (;;) {
    size_t run = 0;
    while (s[run] != '\0' && s[run] != '"' && s[run] != '\\' &&
           (unsigned char)s[run] >= 0x20) {
      run++;
    }
    fwrite(s, 1, run, f);
    s += run;
    if (*s == '\0') {
      break;
    }
    unsigned char c = (unsigned char)*s++;
    if (c == '"' || c == '\\') {
      fprintf(f, "\\%c", c);
    } else {
      fprintf(f, "\\u%04x", c);
    }
  }
  fputc('"', f);
}

static void html_text(FILE *f, const char *s) {
  for (;;) {
    size_t run = strcspn(s, "&<>\"");
    fwrite(s, 1, run, f);
    s += run;
    switch (*s++) {
    case '\0':
      return;
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    default: /* '"' */
      fputs("&quot;", f);
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
  /* Not feeds, but epcal's own files in epcal's directory. */
  epcal_status st = check_target(t->path, err);
  if (st == EPCAL_OK) {
    st = epcal_output_open_flags(
        &t->out, t->path, EPCAL_OUTPUT_NOFOLLOW | EPCAL_OUTPUT_FORCE, err);
  }
  if (st != EPCAL_OK) {
    return st;
  }
  static const cookie_io_functions_t io = {NULL, cookie_write, NULL, NULL};
  t->f = fopencookie(t->out, "w", io);
  if (t->f == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  setvbuf(t->f, NULL, _IOFBF, 64 * 1024); /* fewer, larger writes */
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

static epcal_status write_index(const split *s, const uint32_t *order,
                                epcal_error *err) {
  const epcal_split_options *so = s->so;
  size_t n = s->n;
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
    const feed *g = feed_at(s, order[i]);
    char first[16], last[16], rel[REL_MAX];
    date_text(unpack_date(g->first), first);
    date_text(unpack_date(g->last), last);
    feed_rel(s, g, rel);
    fprintf(j, "%s\n    {\"name\": ", i > 0 ? "," : "");
    char name[NAME_MAX_BYTES];
    feed_name(s, g, name);
    json_string(j, name);
    fputs(", \"show\": ", j);
    json_string(j, s->shows[g->show]);
    if (g->season >= 0) {
      fprintf(j, ", \"season\": %ld", (long)g->season);
    }
    fputs(", \"path\": ", j);
    json_string(j, rel);
    fprintf(j, ", \"events\": %lu, \"first\": \"%s\", \"last\": \"%s\"}",
            (unsigned long)g->events, first, last);

    fputs("<tr><td>", h);
    html_text(h, name);
    fprintf(h, "</td><td>%lu</td><td>%s</td><td>%s</td><td>",
            (unsigned long)g->events, first, last);
    fputs("<a class=\"webcal\" href=\"", h);
    html_text(h, rel);
    fputs("\">Subscribe</a> &middot; <a href=\"", h);
    html_text(h, rel);
    fputs("\" download>Download</a></td></tr>\n", h);
  }
  fputs(n > 0 ? "\n  ]" : "]", j);
  /* Feeds an earlier run wrote that this one did not, still here: the
   * record --prune works from (see prune()). */
  if (s->n_kept > 0) {
    fputs(",\n  \"kept\": [", j);
    for (size_t i = 0; i < s->n_kept; i++) {
      fputs(i > 0 ? ",\n    {" : "\n    {", j);
      if (s->kept[i].show != NULL) {
        fputs("\"show\": ", j);
        json_string(j, s->kept[i].show);
        fputs(", ", j);
      }
      fputs("\"path\": ", j);
      json_string(j, s->kept[i].path);
      fputs("}", j);
    }
    fputs("\n  ]", j);
  }
  fputs("\n}\n", j);
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
 * What epcal has written into the directory and not yet pruned is recorded
 * in index.json itself: "feeds" lists this run's feeds, "kept" those an
 * earlier run wrote that this one did not and that are still there
 * (without --prune). So the record is no hidden file that a web server
 * would publish, and a run without --prune does not make the next one
 * forget feeds it should remove. Earlier versions kept a hidden
 * .epcal-feeds manifest: it is read once more, then removed.
 *
 * A record comes from a file in the published tree, so it is trusted only
 * so far: a path must have the exact shape of a feed path epcal makes
 * (stems.h), and it is removed through descriptors that follow no link,
 * so nothing outside the directory is ever removed.
 */
#define LEGACY_MANIFEST ".epcal-feeds"

/* Whether this run wrote the feed at `rel`: its stem is a show's, and that
 * show has a feed at exactly this path (paths are unique by construction:
 * a stem per show, a feed per show and season). */
static bool written_now(const split *s, const char *rel) {
  char stem[EPCAL__STEM_MAX];
  size_t n = strcspn(rel, "/."); /* stems have neither */
  if (n == 0 || n >= sizeof stem) {
    return false;
  }
  memcpy(stem, rel, n);
  stem[n] = '\0';
  uint32_t show = show_of_stem(s, stem);
  int32_t season = -1;
  if (s->so->by == EPCAL_SPLIT_SEASON) {
    const char *digits = rel + n + strlen("/season-");
    if (strncmp(rel + n, "/season-", 8) != 0 || *digits < '0' ||
        *digits > '9') {
      return false;
    }
    season = (int32_t)strtol(digits, NULL, 10) & INT32_MAX;
  }
  if (show == 0 || s->tcap == 0) {
    return false;
  }
  uint32_t i = *table_slot(s, show - 1, season);
  char mine[REL_MAX];
  if (i != 0) {
    feed_rel(s, feed_at(s, i - 1), mine);
  }
  return i != 0 && strcmp(mine, rel) == 0;
}

/*
 * The directory (a descriptor opened without following a link) that holds
 * feed path `rel` below dir_fd, and the file's name in it; -1 when there is
 * none, or it is a link. *own says whether the descriptor is a new one to
 * close.
 */
static int feed_dir(int dir_fd, const char *rel, const char **name, bool *own) {
  const char *slash = strchr(rel, '/');
  *own = false;
  if (slash == NULL) {
    *name = rel;
    return dir_fd;
  }
  char stem[EPCAL__STEM_MAX];
  size_t n = (size_t)(slash - rel);
  if (n >= sizeof stem) {
    return -1;
  }
  memcpy(stem, rel, n);
  stem[n] = '\0';
  *name = slash + 1;
  *own = true;
  return openat(dir_fd, stem, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Whether feed path `rel` below dir_fd is a regular file (through no link). */
static bool feed_exists(int dir_fd, const char *rel) {
  const char *name;
  bool own;
  int fd = feed_dir(dir_fd, rel, &name, &own);
  struct stat sb;
  bool ok = fd >= 0 && fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(sb.st_mode);
  if (own && fd >= 0) {
    close(fd);
  }
  return ok;
}

/* Removes feed path `rel` below dir_fd when it is a regular file reached
 * through no link, and then its show's directory once that is empty. */
static bool remove_feed(int dir_fd, const char *rel) {
  const char *name;
  bool own;
  int fd = feed_dir(dir_fd, rel, &name, &own);
  struct stat sb;
  bool removed = fd >= 0 && fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISREG(sb.st_mode) && unlinkat(fd, name, 0) == 0;
  if (own && fd >= 0) {
    close(fd);
    if (removed) {
      char stem[EPCAL__STEM_MAX];
      size_t n = strcspn(rel, "/");
      memcpy(stem, rel, n);
      stem[n] = '\0';
      unlinkat(dir_fd, stem, AT_REMOVEDIR); /* only when empty */
    }
  }
  return removed;
}

typedef struct prune_walk {
  split *s;
  int dir_fd;
  unsigned long removed;
  bool nomem;
} prune_walk;

/* One recorded feed: kept (listed again) or, with --prune, removed, unless
 * this run wrote it. */
static bool prune_one(void *ctx, const char *show, const char *rel) {
  prune_walk *w = ctx;
  split *s = w->s;
  if (!epcal__feed_path_ok(rel) || written_now(s, rel)) {
    return true;
  }
  if (s->so->prune) {
    w->removed += remove_feed(w->dir_fd, rel);
    return true;
  }
  if (!feed_exists(w->dir_fd, rel)) {
    return true;
  }
  if (s->n_kept == s->kept_cap) {
    size_t cap = s->kept_cap == 0 ? 16 : s->kept_cap * 2;
    kept_feed *p = realloc(s->kept, cap * sizeof *p);
    if (p == NULL) {
      w->nomem = true;
      return false;
    }
    s->kept = p;
    s->kept_cap = cap;
  }
  size_t pn = strlen(rel) + 1;
  size_t sn = show != NULL ? strlen(show) + 1 : 0;
  char *mem = malloc(pn + sn);
  if (mem == NULL) {
    w->nomem = true;
    return false;
  }
  memcpy(mem, rel, pn);
  if (show != NULL) {
    memcpy(mem + pn, show, sn);
  }
  s->kept[s->n_kept++] = (kept_feed){show != NULL ? mem + pn : NULL, mem};
  return true;
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const kept_feed *)a)->path, ((const kept_feed *)b)->path);
}

/* Reads the legacy manifest's paths (one a line) into prune_one. */
static void legacy_each(prune_walk *w) {
  int fd =
      openat(w->dir_fd, LEGACY_MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
  if (f == NULL) {
    if (fd >= 0) {
      close(fd);
    }
    return;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while (!w->nomem && (len = getline(&line, &cap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n') {
      line[len - 1] = '\0';
    }
    prune_one(w, NULL, line);
  }
  free(line);
  fclose(f);
}

/*
 * The shrink guard over pruning: a truncated input would otherwise have
 * --prune delete every feed of the shows it lost, which no per-feed count
 * sees. The feeds prune would remove count with their events (their
 * BEGIN:VEVENT lines), added to what the rewritten feeds lose; the rule is
 * the one a single feed follows, over everything published.
 */
static uint64_t feed_events(int dir_fd, const char *rel) {
  static const char mark[] = "\nBEGIN:VEVENT";
  const size_t m = sizeof mark - 1;
  const char *name;
  bool own;
  int dfd = feed_dir(dir_fd, rel, &name, &own);
  int fd = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                            O_NOCTTY | O_CLOEXEC)
                    : -1;
  if (own && dfd >= 0) {
    close(dfd);
  }
  struct stat sb;
  uint64_t n = 0;
  if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    /* The last m - 1 bytes of a chunk stay for the next, so a mark cut by
     * a chunk's end is still found. */
    char buf[65536];
    size_t have = 0;
    ssize_t got;
    while ((got = read(fd, buf + have, sizeof buf - have)) > 0) {
      have += (size_t)got;
      const char *p = buf, *end = buf + have;
      while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL &&
             (size_t)(end - p) >= m) {
        n += memcmp(p, mark, m) == 0;
        p++;
      }
      size_t keep = have < m - 1 ? have : m - 1;
      memmove(buf, buf + have - keep, keep);
      have = keep;
    }
  }
  if (fd >= 0) {
    close(fd);
  }
  return n;
}

typedef struct prune_count {
  split *s;
  int dir_fd;
  unsigned long feeds;
  uint64_t events;
} prune_count;

static bool count_prunable(void *ctx, const char *show, const char *rel) {
  (void)show;
  prune_count *c = ctx;
  if (epcal__feed_path_ok(rel) && !written_now(c->s, rel) &&
      feed_exists(c->dir_fd, rel)) {
    c->feeds++;
    c->events += feed_events(c->dir_fd, rel);
  }
  return true;
}

static epcal_status prune_guard(split *s, epcal_error *err) {
  const epcal_split_options *so = s->so;
  const epcal_shrink_policy *policy = &s->opts->shrink;
  if (policy->allow) {
    return EPCAL_OK;
  }
  char *index = join(so->dir, "index.json");
  if (index == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  prune_count c = {s, open(so->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0, 0};
  if (c.dir_fd >= 0) {
    epcal__index_paths_each(index, count_prunable, &c);
    close(c.dir_fd);
  }
  free(index);
  if (c.feeds == 0) {
    return EPCAL_OK;
  }
  uint64_t lost = s->removed > 0 ? (uint64_t)s->removed : 0;
  uint64_t previous = s->prev_events + c.events;
  uint64_t removed = lost + c.events;
  if (!epcal_shrink_refused((unsigned long)previous, (unsigned long)removed,
                            policy)) {
    return EPCAL_OK;
  }
  return epcal__fail(
      err, EPCAL_EDATA, so->dir, 0, 0,
      "--prune would remove %lu feeds (%llu events), and this run %llu "
      "events of the feeds it rewrites: %llu of the %llu events published. "
      "Is the input cut short? Nothing is replaced or removed; "
      "--allow-shrink (or --max-removed N|P%%) lets such a run through",
      c.feeds, (unsigned long long)c.events, (unsigned long long)lost,
      (unsigned long long)removed, (unsigned long long)previous);
}

static epcal_status prune(split *s, unsigned long *removed, epcal_error *err) {
  const epcal_split_options *so = s->so;
  char *index = join(so->dir, "index.json");
  prune_walk w = {s, -1, 0, false};
  if (index != NULL) {
    w.dir_fd = open(so->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (index == NULL || w.dir_fd < 0) {
    free(index);
    return index == NULL
               ? epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory")
               : epcal__fail(err, EPCAL_EIO, so->dir, 0, 0, "cannot open: %s",
                             strerror(errno));
  }
  epcal__index_paths_each(index, prune_one, &w);
  free(index);
  legacy_each(&w);
  close(w.dir_fd);
  if (w.nomem) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  /* In path order, each once (the legacy manifest repeats the index). */
  if (s->n_kept > 1) {
    qsort(s->kept, s->n_kept, sizeof *s->kept, by_path);
    size_t k = 1;
    for (size_t i = 1; i < s->n_kept; i++) {
      if (strcmp(s->kept[i].path, s->kept[k - 1].path) == 0) {
        free(s->kept[i].path);
      } else {
        s->kept[k++] = s->kept[i];
      }
    }
    s->n_kept = k;
  }
  *removed = w.removed;
  return EPCAL_OK;
}

/* Once index.json records what the legacy manifest did, it goes. */
static void remove_legacy_manifest(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat sb;
  if (fd >= 0 && fstatat(fd, LEGACY_MANIFEST, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(sb.st_mode)) {
    unlinkat(fd, LEGACY_MANIFEST, 0);
  }
  if (fd >= 0) {
    close(fd);
  }
}
