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
#include <zlib.h>

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

/* One load: immutable once published, freed with its last reference. The
 * catalogue owns the snapshot file the rows are read back from, so the
 * snapshot stays open while any request (or stream) holds the data. */
struct serve_data {
  atomic_int refs;
  /* The source's `reread`: it outlives every load, and a stream that
   * outlives this data's last request reads with it. */
  const epcal_read_options *reread;
  fingerprint *fps;
  serve_catalog *catalog;
  int64_t newest; /* newest mtime of these inputs, seconds */
  unsigned long generation;
  int64_t time; /* serve_data_time(): never smaller than a previous load's */
};

struct serve_source {
  serve_source_options opts;
  /* How rows are read back from the snapshot: as loaded, but UTF-8 (the
   * snapshot holds the input as converted). */
  epcal_read_options reread;
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
  free(d->fps);
  serve_catalog_free(d->catalog); /* closes the snapshot with its last ref */
  free(d);
}

void serve_data_release(serve_data *d) {
  if (d != NULL &&
      atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
    data_free(d);
  }
}

static epcal_status io_error(epcal_error *err, const char *path,
                             const char *what, int e) {
  epcal_error_clear(err);
  err->code = EPCAL_EIO;
  snprintf(err->file, sizeof err->file, "%s", path != NULL ? path : "");
  snprintf(err->msg, sizeof err->msg, "%s: %s", what, strerror(e));
  return EPCAL_EIO;
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

static epcal_status not_regular(epcal_error *err, const char *path,
                                mode_t mode) {
  epcal_error_clear(err);
  err->code = EPCAL_EIO;
  snprintf(err->file, sizeof err->file, "%s", path);
  snprintf(err->msg, sizeof err->msg, "%s, not a regular file: refused",
           kind_of(mode));
  return EPCAL_EIO;
}

static epcal_status too_large(epcal_error *err, const char *path,
                              uintmax_t size, size_t limit) {
  epcal_error_clear(err);
  err->code = EPCAL_EIO;
  snprintf(err->file, sizeof err->file, "%s", path);
  snprintf(err->msg, sizeof err->msg,
           "too large to serve: %ju bytes or more, and all inputs together "
           "are limited to %zu bytes",
           size, limit);
  return EPCAL_EIO;
}

/*
 * A private, unlinked file for a load's copy of the inputs: in TMPDIR (or
 * /tmp). Feeds are read back from it, never from the inputs, which may be
 * edited in place at any time.
 */
static int open_snapshot(epcal_error *err) {
  const char *dir = getenv("TMPDIR");
  if (dir == NULL || *dir == '\0') {
    dir = "/tmp";
  }
#ifdef O_TMPFILE
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) {
    return fd;
  }
#endif
  char path[4096];
  snprintf(path, sizeof path, "%s/epcal-serve-XXXXXX", dir);
  int tfd = mkstemp(path);
  if (tfd < 0) {
    io_error(err, dir, "cannot create the data snapshot", errno);
    return -1;
  }
  unlink(path);
  return tfd;
}

/* Reads an input; the reader's tap (copy_tap) appends what it parsed,
 * converted to UTF-8 with --encoding, to the snapshot, so that the snapshot
 * holds exactly the bytes that were parsed. */
typedef struct copy_reader {
  int in, out;
  const char *path;
  size_t budget; /* bytes all inputs may still take */
  uint64_t copied;
  unsigned long *crc; /* of every byte of every input, in order */
  int error;          /* errno of a failed read or write */
  bool too_large;
} copy_reader;

static long copy_read(void *ctx, char *buf, size_t cap) {
  copy_reader *r = ctx;
  ssize_t got;
  do {
    got = read(r->in, buf, cap);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    r->error = errno;
    return -1;
  }
  if ((size_t)got > r->budget) {
    r->too_large = true;
    errno = EFBIG;
    return -1;
  }
  r->budget -= (size_t)got;
  return (long)got;
}

static int copy_tap(void *ctx, const char *buf, size_t len) {
  copy_reader *r = ctx;
  for (size_t done = 0; done < len;) {
    ssize_t w = write(r->out, buf + done, len - done);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0) {
      r->error = errno;
      return -1;
    }
    done += (size_t)w;
  }
  r->copied += (uint64_t)len;
  *r->crc = crc32(*r->crc, (const Bytef *)buf, (uInt)len);
  return 0;
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

/*
 * Reads input `i` through a copy into the snapshot and indexes its rows;
 * invalid rows skipped under --skip-invalid are reported on standard
 * error.
 */
static epcal_status load_input(const serve_source_options *o, size_t i,
                               int snap_fd, uint64_t base, size_t *budget,
                               unsigned long *crc, uint64_t *copied,
                               serve_catalog *cat, fingerprint *fp,
                               epcal_error *err) {
  const char *path = o->paths[i];
  /* Only a regular file is opened: a FIFO would block open() and read()
   * for good, and a device such as /dev/zero never ends. The check runs
   * before the open (so a device is never opened) and again on the
   * descriptor (the path may have been swapped in between); O_NONBLOCK
   * keeps even that open from waiting. The fingerprint comes from the
   * descriptor, so it describes exactly the bytes read. */
  struct stat st;
  if (stat(path, &st) != 0) {
    return io_error(err, path, "cannot open", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return not_regular(err, path, st.st_mode);
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
    }
    return io_error(err, path, "cannot open", e);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return not_regular(err, path, st.st_mode);
  }
  if (st.st_size < 0 || (uintmax_t)st.st_size > *budget) {
    close(fd);
    return too_large(err, path, (uintmax_t)st.st_size, o->max_bytes);
  }
  copy_reader cr = {fd, snap_fd, path, *budget, 0, crc, 0, false};
  epcal_reader *rd;
  epcal_status st2 =
      epcal_reader_open_fn(&rd, copy_read, &cr, path, &o->read, err);
  if (st2 != EPCAL_OK) {
    close(fd);
    return st2;
  }
  epcal_reader_set_tap(rd, copy_tap, &cr);
  bool header = false;
  for (;;) {
    const epcal_episode *ep;
    epcal_error row_err;
    st2 = epcal_reader_next(rd, &ep, &row_err);
    if (st2 == EPCAL_EDATA && o->skip_invalid && epcal_reader_columns(rd) > 0) {
      fprintf(stderr, "epcal: %s:%lu:%lu: warning: skipped row: %s\n",
              row_err.file, row_err.line, row_err.column, row_err.msg);
      continue;
    }
    if (st2 != EPCAL_OK) {
      *err = row_err;
      break;
    }
    if (ep == NULL) {
      break;
    }
    uint64_t off, hoff;
    size_t len, hlen;
    if (!header) {
      header = true;
      if (!epcal_reader_header_span(rd, &hoff, &hlen) ||
          serve_catalog_add_input(cat, path, base, hlen) != 0) {
        st2 = EPCAL_ENOMEM;
        break;
      }
    }
    if (!base_matches(o, ep)) {
      continue;
    }
    if (!epcal_reader_row_span(rd, &off, &len) ||
        serve_catalog_add(cat, ep, base + off, len) != 0) {
      st2 = EPCAL_ENOMEM;
      break;
    }
  }
  epcal_reader_free(rd);
  close(fd);
  if (cr.too_large) {
    /* The file grew while being read. */
    return too_large(err, path, (uintmax_t)(o->max_bytes - *budget),
                     o->max_bytes);
  }
  if (cr.error != 0) {
    return io_error(err, path, "cannot read or keep a copy", cr.error);
  }
  if (st2 == EPCAL_ENOMEM) {
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
  }
  if (st2 != EPCAL_OK) {
    return st2;
  }
  *budget = cr.budget;
  *copied = cr.copied;
  *fp = fingerprint_of(&st);
  return EPCAL_OK;
}

/* The stems an earlier run gave (--state: its index.json), for
 * serve_catalog_finish. */
static bool previous_stems(void *ctx, serve_stems_fn fn, void *fnctx) {
  const serve_source_options *o = ctx;
  return o->stems_index == NULL || epcal_stems_each(o->stems_index, fn, fnctx);
}

/* JSON string content (without quotes). */
static void json_text(FILE *f, const char *s) {
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
}

/* --state: DIR/index.json names every show's stem, in split's format, so
 * that a restart or a reload gives each show the path it had. */
static void write_stems(const serve_source_options *o,
                        const serve_catalog *cat) {
  if (o->stems_index == NULL) {
    return;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f == NULL) {
    return;
  }
  fputs("{\"feeds\": [\n", f);
  size_t n = serve_catalog_count(cat);
  for (size_t i = 0; i < n; i++) {
    const serve_show *s = serve_catalog_show(cat, i);
    fputs("  {\"name\": \"", f);
    json_text(f, s->name);
    fputs("\", \"show\": \"", f);
    json_text(f, s->name);
    fprintf(f, "\", \"path\": \"%s.ics\"}%s\n", s->slug, i + 1 < n ? "," : "");
  }
  fputs("]}\n", f);
  fclose(f);
  epcal_output *out;
  epcal_error err;
  epcal_status st = epcal_output_open(&out, o->stems_index, &err);
  if (st == EPCAL_OK) {
    if (epcal_output_write(out, text, len) != 0) {
      st = EPCAL_EIO;
      snprintf(err.msg, sizeof err.msg, "%s", strerror(errno));
    } else {
      st = epcal_output_commit(out, NULL, &err);
    }
    epcal_output_free(out);
  }
  if (st != EPCAL_OK) {
    fprintf(stderr, "epcal serve: %s: cannot keep the shows' paths: %s\n",
            o->stems_index, err.msg);
  }
  free(text);
}

static epcal_status load(const serve_source_options *o,
                         const epcal_read_options *reread, serve_data **out,
                         epcal_error *err) {
  serve_data *snap = calloc(1, sizeof *snap);
  epcal_status st = EPCAL_ENOMEM;
  if (snap == NULL) {
    goto fail;
  }
  atomic_init(&snap->refs, 1);
  snap->reread = reread;
  snap->fps = calloc(o->n_paths, sizeof *snap->fps);
  if (snap->fps == NULL) {
    goto fail;
  }
  int fd = open_snapshot(err);
  if (fd < 0) {
    st = EPCAL_EIO;
    goto done;
  }
  snap->catalog = serve_catalog_new(fd);
  if (snap->catalog == NULL) {
    goto fail;
  }
  size_t budget = o->max_bytes;
  uint64_t base = 0;
  unsigned long crc = crc32(0L, Z_NULL, 0);
  for (size_t i = 0; i < o->n_paths; i++) {
    uint64_t copied = 0;
    st = load_input(o, i, fd, base, &budget, &crc, &copied, snap->catalog,
                    &snap->fps[i], err);
    if (st != EPCAL_OK) {
      goto done;
    }
    base += copied;
    int64_t t = (int64_t)snap->fps[i].mtime.tv_sec;
    if (t > snap->newest) {
      snap->newest = t;
    }
  }
  /* The data's digest: the CRC of every byte and their number, mixed. */
  uint64_t digest =
      ((uint64_t)(crc & 0xffffffffUL) << 32 | (base & 0xffffffffU)) *
      0x9E3779B97F4A7C15ULL;
  serve_catalog_set_digest(snap->catalog, digest ^ (digest >> 29));
  st = EPCAL_ENOMEM;
  if (serve_catalog_finish(snap->catalog, previous_stems, (void *)o) != 0) {
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
  s->reread = opts->read;
  s->reread.encoding = NULL;
  epcal_status st = load(&s->opts, &s->reread, &s->current, err);
  if (st != EPCAL_OK) {
    pthread_mutex_destroy(&s->lock);
    free(s);
    return st;
  }
  write_stems(&s->opts, s->current->catalog);
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
  if (load(&s->opts, &s->reread, &snap, &err) != EPCAL_OK ||
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
  /* Only an accepted load names the shows' paths for the next run. */
  write_stems(&s->opts, snap->catalog);
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

const epcal_read_options *serve_data_read_options(const serve_data *d) {
  return d->reread;
}

unsigned long serve_data_generation(const serve_data *d) {
  return d->generation;
}

int64_t serve_data_time(const serve_data *d) { return d->time; }

void serve_source_free(serve_source *s) {
  if (s == NULL) {
    return;
  }
  serve_data_release(s->current);
  free(s->bad);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
