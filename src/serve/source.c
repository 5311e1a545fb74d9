#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void serve_report_load_error(const epcal_error *err, const char *suffix) {
  fputs("epcal: ", stderr);
  if (err->file[0] != '\0') {
    fprintf(stderr, "%s:", err->file);
    if (err->line > 0) {
      fprintf(stderr, "%lu:", err->line);
      if (err->column > 0) {
        fprintf(stderr, "%lu:", err->column);
      }
    }
    fputc(' ', stderr);
  }
  fprintf(stderr, "%s%s\n", err->msg, suffix);
}

/* What a cheap stat() tells about a file: enough to notice an edit in
 * place, a replacement by rename, a truncation, or another kind of file. */
typedef struct fingerprint {
  dev_t dev;
  ino_t ino;
  mode_t mode;
  off_t size;
  struct timespec mtime;
  bool exists;
} fingerprint;

struct serve_data {
  atomic_int refs;
  const serve_source_options *opts; /* the source's; outlives every load */
  char **bytes;
  size_t *lens;
  fingerprint *fps;
  serve_catalog *catalog;
  int64_t newest; /* newest mtime of these inputs, seconds */
  unsigned long generation;
  int64_t time; /* serve_data_time(): never smaller than a previous load's */
};

struct serve_source {
  serve_source_options opts;
  /* Guards `current`, `last_check_ms` and `loading`; held only to read or
   * swap them, never across I/O or parsing. */
  pthread_mutex_t lock;
  serve_data *current;
  int64_t last_check_ms;
  bool loading; /* a caller is reloading: the others go on */
  /* The stat of the last load that failed or was refused, or NULL. Only the
   * caller that set `loading` touches it. */
  fingerprint *bad;
};

static fingerprint fingerprint_of(const struct stat *st) {
  fingerprint fp;
  memset(&fp, 0, sizeof fp);
  fp.dev = st->st_dev;
  fp.ino = st->st_ino;
  fp.mode = st->st_mode & S_IFMT;
  fp.size = st->st_size;
  fp.mtime = st->st_mtim;
  fp.exists = true;
  return fp;
}

static bool same_fingerprint(const fingerprint *a, const fingerprint *b) {
  return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
         a->mode == b->mode && a->size == b->size &&
         a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void data_free(serve_data *d) {
  if (d == NULL) {
    return;
  }
  for (size_t i = 0; d->bytes != NULL && i < d->opts->n_paths; i++) {
    free(d->bytes[i]);
  }
  free(d->bytes);
  free(d->lens);
  free(d->fps);
  serve_catalog_free(d->catalog);
  free(d);
}

void serve_data_release(serve_data *d) {
  if (d != NULL &&
      atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
    data_free(d);
  }
}

static void io_error(epcal_error *err, const char *path, const char *fmt,
                     const char *detail) {
  epcal_error_clear(err);
  err->code = EPCAL_EIO;
  snprintf(err->file, sizeof err->file, "%s", path);
  snprintf(err->msg, sizeof err->msg, fmt, detail);
}

static const char *kind_of(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFIFO:
    return "a FIFO";
  case S_IFCHR:
    return "a character device";
  case S_IFBLK:
    return "a block device";
  case S_IFDIR:
    return "a directory";
  case S_IFSOCK:
    return "a socket";
  default:
    return "not a regular file";
  }
}

static void too_large(epcal_error *err, const char *path, uintmax_t size,
                      size_t limit) {
  epcal_error_clear(err);
  err->code = EPCAL_EIO;
  snprintf(err->file, sizeof err->file, "%s", path);
  snprintf(err->msg, sizeof err->msg,
           "too large to serve: %ju bytes or more, and all inputs together "
           "are limited to %zu bytes",
           size, limit);
}

/*
 * Reads the whole file; its fingerprint comes from the open descriptor, so
 * it describes exactly the bytes read. Only a regular file is opened: a
 * FIFO would block open() and read() for good, and a device such as
 * /dev/zero never ends. The check runs before the open (so a device is
 * never opened) and again on the descriptor (the path may have been
 * swapped in between); O_NONBLOCK keeps even that open from waiting.
 */
static epcal_status read_whole(const char *path, size_t budget, size_t limit,
                               char **bytes, size_t *len, fingerprint *fp,
                               epcal_error *err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    io_error(err, path, "cannot open: %s", strerror(errno));
    return EPCAL_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    io_error(err, path, "%s, not a regular file: refused", kind_of(st.st_mode));
    return EPCAL_EIO;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
    }
    io_error(err, path, "cannot open: %s", strerror(e));
    return EPCAL_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    io_error(err, path, "%s, not a regular file: refused", kind_of(st.st_mode));
    return EPCAL_EIO;
  }
  if (st.st_size < 0 || (uintmax_t)st.st_size > budget) {
    close(fd);
    too_large(err, path, (uintmax_t)st.st_size, limit);
    return EPCAL_EIO;
  }
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  char *buf = malloc(cap);
  size_t n = 0;
  epcal_status status = buf != NULL ? EPCAL_OK : EPCAL_ENOMEM;
  while (status == EPCAL_OK) {
    if (n == cap) {
      /* The file grew while being read. */
      size_t ncap = cap * 2;
      if (cap > budget) {
        too_large(err, path, (uintmax_t)n, limit);
        status = EPCAL_EIO;
        break;
      }
      char *p = realloc(buf, ncap);
      if (p == NULL) {
        status = EPCAL_ENOMEM;
        break;
      }
      buf = p;
      cap = ncap;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      io_error(err, path, "cannot read: %s", strerror(errno));
      status = EPCAL_EIO;
      break;
    }
    if (got == 0) {
      break;
    }
    n += (size_t)got;
  }
  close(fd);
  if (status == EPCAL_OK && n > budget) {
    too_large(err, path, (uintmax_t)n, limit);
    status = EPCAL_EIO;
  }
  if (status == EPCAL_ENOMEM) {
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->msg, sizeof err->msg, "out of memory");
  }
  if (status != EPCAL_OK) {
    free(buf);
    return status;
  }
  *bytes = buf;
  *len = n;
  *fp = fingerprint_of(&st);
  return EPCAL_OK;
}

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

/* The command line's --show/--season, applied to scheduled and unscheduled
 * episodes alike (epcal_selection_matches() refuses the unscheduled). */
static bool base_matches(const serve_source_options *o,
                         const epcal_episode *ep) {
  bool found = o->n_shows == 0;
  for (size_t i = 0; i < o->n_shows && !found; i++) {
    found = strcasecmp(o->shows[i], ep->show) == 0;
  }
  if (!found) {
    return false;
  }
  found = o->n_seasons == 0;
  for (size_t i = 0; i < o->n_seasons && !found; i++) {
    found =
        ep->season >= o->seasons[i].first && ep->season <= o->seasons[i].last;
  }
  return found;
}

/* Runs every episode of a snapshot through fn; with `log_skipped`, invalid
 * rows skipped under --skip-invalid are reported on standard error. */
static epcal_status each_episode(const serve_source_options *o,
                                 const serve_data *snap, bool log_skipped,
                                 serve_episode_fn fn, void *ctx,
                                 epcal_error *err) {
  for (size_t i = 0; i < o->n_paths; i++) {
    mem_reader m = {snap->bytes[i], snap->lens[i]};
    epcal_reader *rd;
    epcal_status st =
        epcal_reader_open_fn(&rd, mem_read, &m, o->paths[i], &o->read, err);
    if (st != EPCAL_OK) {
      return st;
    }
    for (;;) {
      const epcal_episode *ep;
      epcal_error row_err;
      st = epcal_reader_next(rd, &ep, &row_err);
      if (st == EPCAL_EDATA && o->skip_invalid &&
          epcal_reader_columns(rd) > 0) {
        if (log_skipped) {
          fprintf(stderr, "epcal: %s:%lu:%lu: warning: skipped row: %s\n",
                  row_err.file, row_err.line, row_err.column, row_err.msg);
        }
        continue;
      }
      if (st != EPCAL_OK) {
        if (err != NULL) {
          *err = row_err;
        }
        break;
      }
      if (ep == NULL) {
        break;
      }
      if (base_matches(o, ep) && fn(ctx, ep) != 0) {
        break;
      }
    }
    epcal_reader_free(rd);
    if (st != EPCAL_OK) {
      return st;
    }
  }
  return EPCAL_OK;
}

typedef struct catalog_fill {
  serve_catalog *catalog;
  bool failed; /* out of memory */
} catalog_fill;

static int add_to_catalog(void *ctx, const epcal_episode *ep) {
  catalog_fill *f = ctx;
  f->failed = serve_catalog_add(f->catalog, ep) != 0;
  return f->failed ? -1 : 0;
}

static epcal_status load(const serve_source_options *o, serve_data **out,
                         epcal_error *err) {
  serve_data *snap = calloc(1, sizeof *snap);
  epcal_status st = EPCAL_ENOMEM;
  if (snap == NULL) {
    goto fail;
  }
  atomic_init(&snap->refs, 1);
  snap->opts = o;
  snap->bytes = calloc(o->n_paths, sizeof *snap->bytes);
  snap->lens = calloc(o->n_paths, sizeof *snap->lens);
  snap->fps = calloc(o->n_paths, sizeof *snap->fps);
  snap->catalog = serve_catalog_new();
  if (snap->bytes == NULL || snap->lens == NULL || snap->fps == NULL ||
      snap->catalog == NULL) {
    goto fail;
  }
  size_t budget = o->max_bytes;
  for (size_t i = 0; i < o->n_paths; i++) {
    st = read_whole(o->paths[i], budget, o->max_bytes, &snap->bytes[i],
                    &snap->lens[i], &snap->fps[i], err);
    if (st != EPCAL_OK) {
      goto done;
    }
    budget -= snap->lens[i];
    int64_t t = (int64_t)snap->fps[i].mtime.tv_sec;
    if (t > snap->newest) {
      snap->newest = t;
    }
  }
  catalog_fill fill = {snap->catalog, false};
  st = each_episode(o, snap, true, add_to_catalog, &fill, err);
  if (st != EPCAL_OK) {
    goto done;
  }
  st = EPCAL_ENOMEM;
  if (fill.failed || serve_catalog_finish(snap->catalog) != 0) {
    goto fail;
  }
  *out = snap;
  return EPCAL_OK;
fail:
  epcal_error_clear(err);
  err->code = EPCAL_ENOMEM;
  snprintf(err->msg, sizeof err->msg, "out of memory");
done:
  data_free(snap);
  return st;
}

epcal_status serve_source_open(serve_source **out,
                               const serve_source_options *opts,
                               epcal_error *err) {
  serve_source *s = calloc(1, sizeof *s);
  if (s == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
    free(s);
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return EPCAL_ENOMEM;
  }
  s->opts = *opts;
  epcal_status st = load(&s->opts, &s->current, err);
  if (st != EPCAL_OK) {
    pthread_mutex_destroy(&s->lock);
    free(s);
    return st;
  }
  s->current->generation = 1;
  s->current->time = s->current->newest;
  *out = s;
  return EPCAL_OK;
}

/* Stats every input into fps. */
static void stat_all(const serve_source *s, fingerprint *fps) {
  for (size_t i = 0; i < s->opts.n_paths; i++) {
    struct stat st;
    if (stat(s->opts.paths[i], &st) == 0) {
      fps[i] = fingerprint_of(&st);
    } else {
      memset(&fps[i], 0, sizeof fps[i]);
    }
  }
}

static bool same_all(const fingerprint *a, const fingerprint *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!same_fingerprint(&a[i], &b[i])) {
      return false;
    }
  }
  return true;
}

/* The shrink guard: an upstream failure that truncates a CSV (or empties
 * it) must not wipe every subscriber's calendar. Returns true, with the
 * reason in *err, when `next` may not replace `prev`. */
static bool shrink_refused(const serve_source_options *o,
                           const serve_data *prev, const serve_data *next,
                           epcal_error *err) {
  unsigned long before = serve_catalog_events(prev->catalog);
  unsigned long after = serve_catalog_events(next->catalog);
  unsigned long removed = before > after ? before - after : 0;
  bool refused = epcal_shrink_refused(before, removed, &o->shrink) ||
                 (after == 0 && before > 0 && !o->shrink.allow);
  if (refused) {
    epcal_error_clear(err);
    err->code = EPCAL_EDATA;
    snprintf(err->msg, sizeof err->msg,
             "reload refused: it would remove %lu of %lu events (see "
             "--max-removed, --allow-shrink)",
             removed, before);
  }
  return refused;
}

bool serve_source_refresh(serve_source *s, int64_t now_ms) {
  pthread_mutex_lock(&s->lock);
  if (s->loading ||
      (s->last_check_ms != 0 && now_ms - s->last_check_ms < 1000 &&
       now_ms >= s->last_check_ms)) {
    pthread_mutex_unlock(&s->lock);
    return false;
  }
  s->last_check_ms = now_ms;
  s->loading = true;
  serve_data *cur = s->current;
  atomic_fetch_add_explicit(&cur->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&s->lock);

  bool loaded = false;
  size_t n = s->opts.n_paths;
  fingerprint *fps = calloc(n, sizeof *fps);
  if (fps != NULL) {
    stat_all(s, fps);
  }
  if (fps == NULL || same_all(fps, cur->fps, n) ||
      (s->bad != NULL && same_all(fps, s->bad, n))) {
    free(fps);
    goto done;
  }
  serve_data *snap = NULL;
  epcal_error err;
  if (load(&s->opts, &snap, &err) != EPCAL_OK ||
      shrink_refused(&s->opts, cur, snap, &err)) {
    data_free(snap);
    /* Report this version of the files once, not on every check. */
    free(s->bad);
    s->bad = fps;
    serve_report_load_error(&err, "; still serving the previous data");
    goto done;
  }
  free(fps);
  free(s->bad);
  s->bad = NULL;
  snap->generation = cur->generation + 1;
  snap->time = snap->newest > cur->time ? snap->newest : cur->time;
  fprintf(stderr, "epcal: reloaded: %zu shows, %lu events\n",
          serve_catalog_count(snap->catalog),
          serve_catalog_events(snap->catalog));
  pthread_mutex_lock(&s->lock);
  s->current = snap;
  pthread_mutex_unlock(&s->lock);
  serve_data_release(cur); /* the source's reference */
  loaded = true;
done:
  pthread_mutex_lock(&s->lock);
  s->loading = false;
  pthread_mutex_unlock(&s->lock);
  serve_data_release(cur);
  return loaded;
}

serve_data *serve_source_acquire(serve_source *s) {
  pthread_mutex_lock(&s->lock);
  serve_data *d = s->current;
  atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&s->lock);
  return d;
}

const serve_catalog *serve_data_catalog(const serve_data *d) {
  return d->catalog;
}

unsigned long serve_data_generation(const serve_data *d) {
  return d->generation;
}

int64_t serve_data_time(const serve_data *d) { return d->time; }

epcal_status serve_data_each(const serve_data *d, serve_episode_fn fn,
                             void *ctx, epcal_error *err) {
  return each_episode(d->opts, d, false, fn, ctx, err);
}

void serve_source_free(serve_source *s) {
  if (s == NULL) {
    return;
  }
  serve_data_release(s->current);
  free(s->bad);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
