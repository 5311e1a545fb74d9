#include "source.h"

#include <errno.h>
#include <fcntl.h>
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
 * place, a replacement by rename, or a truncation. */
typedef struct fingerprint {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  bool exists;
} fingerprint;

typedef struct snapshot {
  char **bytes;
  size_t *lens;
  fingerprint *fps;
  serve_catalog *catalog;
  int64_t newest; /* newest mtime, seconds */
} snapshot;

struct serve_source {
  serve_source_options opts;
  snapshot *current;
  fingerprint *bad; /* the stat of the last load that failed, or NULL */
  unsigned long generation;
  int64_t time;
  int64_t last_check_ms;
};

static fingerprint fingerprint_of(const struct stat *st) {
  fingerprint fp;
  memset(&fp, 0, sizeof fp);
  fp.dev = st->st_dev;
  fp.ino = st->st_ino;
  fp.size = st->st_size;
  fp.mtime = st->st_mtim;
  fp.exists = true;
  return fp;
}

static bool same_fingerprint(const fingerprint *a, const fingerprint *b) {
  return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
         a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void snapshot_free(snapshot *snap, size_t n) {
  if (snap == NULL) {
    return;
  }
  for (size_t i = 0; snap->bytes != NULL && i < n; i++) {
    free(snap->bytes[i]);
  }
  free(snap->bytes);
  free(snap->lens);
  free(snap->fps);
  serve_catalog_free(snap->catalog);
  free(snap);
}

/* Reads the whole file; its fingerprint comes from the open descriptor, so
 * it describes exactly the bytes read. */
static epcal_status read_whole(const char *path, size_t budget, char **bytes,
                               size_t *len, fingerprint *fp, epcal_error *err) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
    }
    epcal_error_clear(err);
    err->code = EPCAL_EIO;
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(e));
    return EPCAL_EIO;
  }
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  char *buf = cap <= budget + 1 ? malloc(cap) : NULL;
  size_t n = 0;
  epcal_status status = buf != NULL ? EPCAL_OK : EPCAL_ENOMEM;
  while (status == EPCAL_OK) {
    if (n == cap) {
      /* The file grew while being read (or is not a regular file). */
      size_t ncap = cap * 2;
      char *p = ncap <= budget + 1 ? realloc(buf, ncap) : NULL;
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
      int e = errno;
      epcal_error_clear(err);
      err->code = EPCAL_EIO;
      snprintf(err->file, sizeof err->file, "%s", path);
      snprintf(err->msg, sizeof err->msg, "cannot read: %s", strerror(e));
      status = EPCAL_EIO;
      break;
    }
    if (got == 0) {
      break;
    }
    n += (size_t)got;
  }
  close(fd);
  if (status == EPCAL_ENOMEM) {
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->msg, sizeof err->msg,
             "too large to serve (all inputs together are limited to %zu "
             "bytes) or out of memory",
             budget);
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
                                 const snapshot *snap, bool log_skipped,
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

static epcal_status load(const serve_source_options *o, snapshot **out,
                         epcal_error *err) {
  snapshot *snap = calloc(1, sizeof *snap);
  epcal_status st = EPCAL_ENOMEM;
  if (snap == NULL) {
    goto fail;
  }
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
    st = read_whole(o->paths[i], budget, &snap->bytes[i], &snap->lens[i],
                    &snap->fps[i], err);
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
  snapshot_free(snap, o->n_paths);
  return st;
}

epcal_status serve_source_open(serve_source **out,
                               const serve_source_options *opts,
                               epcal_error *err) {
  serve_source *s = calloc(1, sizeof *s);
  if (s == NULL) {
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return EPCAL_ENOMEM;
  }
  s->opts = *opts;
  epcal_status st = load(&s->opts, &s->current, err);
  if (st != EPCAL_OK) {
    free(s);
    return st;
  }
  s->generation = 1;
  s->time = s->current->newest;
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

bool serve_source_refresh(serve_source *s, int64_t now_ms) {
  if (s->last_check_ms != 0 && now_ms - s->last_check_ms < 1000 &&
      now_ms >= s->last_check_ms) {
    return false;
  }
  s->last_check_ms = now_ms;
  size_t n = s->opts.n_paths;
  fingerprint *fps = calloc(n, sizeof *fps);
  if (fps == NULL) {
    return false;
  }
  stat_all(s, fps);
  if (same_all(fps, s->current->fps, n) ||
      (s->bad != NULL && same_all(fps, s->bad, n))) {
    free(fps);
    return false;
  }
  snapshot *snap;
  epcal_error err;
  if (load(&s->opts, &snap, &err) != EPCAL_OK) {
    /* Report this version of the files once, not on every check. */
    free(s->bad);
    s->bad = fps;
    serve_report_load_error(&err, "; still serving the previous data");
    return false;
  }
  free(fps);
  free(s->bad);
  s->bad = NULL;
  snapshot_free(s->current, n);
  s->current = snap;
  s->generation++;
  if (snap->newest > s->time) {
    s->time = snap->newest;
  }
  fprintf(stderr, "epcal: reloaded: %zu shows, %lu events\n",
          serve_catalog_count(snap->catalog),
          serve_catalog_events(snap->catalog));
  return true;
}

const serve_catalog *serve_source_catalog(const serve_source *s) {
  return s->current->catalog;
}

unsigned long serve_source_generation(const serve_source *s) {
  return s->generation;
}

int64_t serve_source_time(const serve_source *s) { return s->time; }

epcal_status serve_source_each(const serve_source *s, serve_episode_fn fn,
                               void *ctx, epcal_error *err) {
  return each_episode(&s->opts, s->current, false, fn, ctx, err);
}

void serve_source_free(serve_source *s) {
  if (s == NULL) {
    return;
  }
  snapshot_free(s->current, s->opts.n_paths);
  free(s->bad);
  free(s);
}
