/*
 * publish: nothing reaches a target before the whole feed is rendered.
 *
 * A file target gets a temporary file in its own directory (so the final
 * step is an atomic rename on the same file system), fsync'd before the
 * rename; a target whose bytes would not change is not touched at all, so
 * its inode, mtime and any web server's ETag stay as they were. Standard
 * output gets a spool file that is copied out only on commit, so a failed
 * run prints no half feed.
 *
 * Regenerating a feed usually gives the bytes it already has, or the same
 * bytes up to some change. So bytes are compared with the target as they
 * come and are not written while they match: an unchanged feed is never
 * written at all (its temporary file is not even created), and a changed
 * one gets its matching beginning copied from the target by the kernel
 * when the first difference comes.
 *
 * What a path names decides all this (epcal_output_resolve()): only a
 * regular file, or a name with nothing there yet, is replaced so, through
 * any symlinks (the file at the end of them, in its own directory: a
 * rename over the link would turn it into a copy). A device, FIFO or
 * socket cannot be replaced without destroying it (renaming over
 * /dev/null makes it a file), nor written atomically: it is written
 * straight through. An existing file that is not a feed is someone's
 * data, and is not replaced unless the caller says so.
 */
#define _GNU_SOURCE /* copy_file_range */
#include "output.h"

#include "error.h"
#include "keytab.h"
#include "render/previous.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct epcal_output {
  char *target;   /* NULL: standard output, or a stream */
  bool stream;    /* a device, FIFO or socket: fd is written straight */
  char *tmp_path; /* the temporary file, until renamed or removed */
  int fd;
  bool committed;
  /* While every byte written equals the target's byte at the same offset:
   * the target, open for reading (-1 once a byte differs, or when there
   * was no target), the file it was, and how many bytes matched and were
   * not written. A window of the target is read at a time. */
  int old_fd; /* or NOT_COMPARING, SUSPENDED, LOST */
  bool had_target; /* a target existed when opened: compared as we went */
  /* The target when opened: which file, and as it was then (a split keeps
   * one output per feed, so not a whole struct stat). */
  struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
  } old_st;
  uint64_t matched;
  char *window;
  size_t window_cap;  /* WINDOW, or less for a small target */
  /* Bytes in the temporary file, and how many of them writeback was asked
   * to start on. */
  uint64_t written;
  uint64_t flushing;
  uint64_t window_at; /* the target's offset of window[0] */
  size_t window_len;
};

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* old_fd when there is no descriptor: not comparing; comparing, with the
 * descriptor closed while the feed is suspended; or the target was
 * replaced while suspended, so the bytes that matched are lost. */
#define NOT_COMPARING (-1)
#define SUSPENDED (-2)
#define LOST (-3)

/* Bytes of the target read at a time, when comparing. */
#define WINDOW (256 * 1024)

/* Whether buf[0, len) equals the target's bytes from `matched` on. */
static bool matches_target(epcal_output *o, const char *buf, size_t len) {
  uint64_t at = o->matched;
  while (len > 0) {
    if (at < o->window_at || at >= o->window_at + o->window_len) {
      if (o->window == NULL) {
        /* Split output compares dozens of small feeds at once. */
        uint64_t size = (uint64_t)o->old_st.size;
        o->window_cap = size > 0 && size < WINDOW ? (size_t)size : WINDOW;
        if ((o->window = malloc(o->window_cap)) == NULL) {
          return false;
        }
      }
      ssize_t n = pread(o->old_fd, o->window, o->window_cap, (off_t)at);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false; /* the target is shorter (or unreadable) */
      }
      o->window_at = at;
      o->window_len = (size_t)n;
    }
    size_t off = (size_t)(at - o->window_at);
    size_t k = o->window_len - off < len ? o->window_len - off : len;
    if (memcmp(o->window + off, buf, k) != 0) {
      return false;
    }
    buf += k;
    len -= k;
    at += k;
  }
  return true;
}

/* Bytes between requests to start writing a big feed to disk. */
#define WRITEBACK_STEP (8u << 20)

/* Asks the kernel to start writing what a file target has so far, a step
 * at a time, so that the fsync before the rename finds little left to do:
 * for a 550 MB feed it took a fifth of the run. */
static void start_writeback(epcal_output *o) {
#if defined(SYNC_FILE_RANGE_WRITE)
  if (o->target != NULL && o->written - o->flushing >= WRITEBACK_STEP) {
    sync_file_range(o->fd, (off_t)o->flushing,
                    (off_t)(o->written - o->flushing), SYNC_FILE_RANGE_WRITE);
    o->flushing = o->written;
  }
#else
  (void)o;
#endif
}

/*
 * Temporary files are named ".NAME.epcal-XXXXXX.tmp" beside their target
 * NAME, the six characters mkstemps' (letters and digits). Stale ones that
 * a killed run left are recognised by that whole shape, which no file a
 * person makes has: a user's ".feed.ics.backup" is not one.
 */
#define TEMP_TAG ".epcal-"
#define TEMP_END ".tmp"
#define TEMP_TAG_LEN (sizeof TEMP_TAG - 1)
#define TEMP_END_LEN (sizeof TEMP_END - 1)
#define TEMP_RANDOM 6

/* "dir/name" -> "dir/.name.epcal-XXXXXX.tmp" */
static char *temp_template(const char *target);

/*
 * Creates the temporary file beside the target. A target that exists gets
 * one only at the first byte that differs, so an unchanged feed never
 * creates and removes a file: on ext4, creating files right after as many
 * were removed cost an unchanged rerun of 80,000 split feeds two thirds of
 * its time.
 */
static int make_temporary(epcal_output *o) {
  if (o->tmp_path != NULL || o->target == NULL) {
    return 0;
  }
  char *t = temp_template(o->target);
  if (t == NULL) {
    errno = ENOMEM;
    return -1;
  }
  int fd = mkstemps(t, TEMP_END_LEN);
  if (fd < 0) {
    int e = errno;
    free(t);
    errno = e;
    return -1;
  }
  o->tmp_path = t;
  o->fd = fd;
  return 0;
}

/* Copies the target's first `matched` bytes into the temporary file (they
 * were not written while they matched) and stops comparing. */
static int stop_matching(epcal_output *o) {
  if (o->old_fd < 0) {
    if (o->matched > 0 && o->had_target) {
      errno = ESTALE; /* bytes that matched, and no file to copy them from */
      return -1;
    }
    return 0;
  }
  if (make_temporary(o) != 0) {
    return -1;
  }
  int rc = 0;
  off_t in = 0;
  uint64_t left = o->matched;
  while (left > 0) {
    ssize_t n = copy_file_range(o->old_fd, &in, o->fd, NULL, left, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; /* not supported here (or a short file): copy by hand */
    }
    left -= (uint64_t)n;
    o->written += (uint64_t)n;
  }
  char *buf = left > 0 ? malloc(WINDOW) : NULL;
  while (left > 0 && rc == 0) {
    size_t want = left < WINDOW ? (size_t)left : WINDOW;
    ssize_t n = buf != NULL ? pread(o->old_fd, buf, want, in) : -1;
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO; /* the target shrank under us */
      }
      rc = -1;
      break;
    }
    rc = write_all(o->fd, buf, (size_t)n);
    in += n;
    left -= (uint64_t)n;
    o->written += (uint64_t)n;
  }
  free(buf);
  close(o->old_fd);
  o->old_fd = NOT_COMPARING;
  free(o->window);
  o->window = NULL;
  if (rc == 0) {
    o->matched = 0; /* all in the temporary file now */
  }
  return rc;
}

int epcal_output_write(void *ctx, const char *buf, size_t len) {
  epcal_output *o = ctx;
  if (o->old_fd >= 0) {
    if (matches_target(o, buf, len)) {
      o->matched += len;
      return 0;
    }
    if (stop_matching(o) != 0) {
      return -1;
    }
  }
  if (write_all(o->fd, buf, len) != 0) {
    return -1;
  }
  o->written += len;
  start_writeback(o);
  return 0;
}

/* Opens the target for comparing, when it is a regular file. */
static void start_matching(epcal_output *o) {
  o->old_fd = open(o->target, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (o->old_fd >= 0 &&
      (fstat(o->old_fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(o->old_fd);
    o->old_fd = NOT_COMPARING;
  }
  if (o->old_fd >= 0) {
    o->had_target = true;
    o->old_st.dev = st.st_dev;
    o->old_st.ino = st.st_ino;
    o->old_st.size = st.st_size;
    o->old_st.mtime = st.st_mtim;
  }
}

/* Whether st is the file the target was when opened, as it was then (an
 * inode number alone may be reused by a new file). */
static bool same_file(const epcal_output *o, const struct stat *st) {
  return st->st_dev == o->old_st.dev && st->st_ino == o->old_st.ino &&
         st->st_size == o->old_st.size &&
         st->st_mtim.tv_sec == o->old_st.mtime.tv_sec &&
         st->st_mtim.tv_nsec == o->old_st.mtime.tv_nsec;
}

/* Whether the target is still the file being compared with, `matched`
 * bytes long: then the new feed is the same bytes. */
static bool target_unchanged(const epcal_output *o) {
  struct stat now;
  return o->old_fd >= 0 && (uint64_t)o->old_st.size == o->matched &&
         stat(o->target, &now) == 0 && same_file(o, &now);
}

static char *temp_template(const char *target) {
  size_t n = strlen(target);
  const char *slash = strrchr(target, '/');
  size_t dir_len = slash != NULL ? (size_t)(slash - target) + 1 : 0;
  size_t cap = n + 2 + TEMP_TAG_LEN + TEMP_RANDOM + TEMP_END_LEN + 1;
  char *t = malloc(cap);
  if (t == NULL) {
    return NULL;
  }
  memcpy(t, target, dir_len);
  snprintf(t + dir_len, cap - dir_len, ".%s" TEMP_TAG "XXXXXX" TEMP_END,
           target + dir_len);
  return t;
}

/* Symlinks followed at most, as the kernel does (ELOOP after 40). */
#define MAX_LINKS 40

/* "dir/link" and what the link says -> the path it names. */
static char *link_target(const char *link, const char *says) {
  if (says[0] == '/') {
    return strdup(says);
  }
  const char *slash = strrchr(link, '/');
  size_t dir_len = slash != NULL ? (size_t)(slash - link) + 1 : 0;
  size_t n = dir_len + strlen(says) + 1;
  char *p = malloc(n);
  if (p != NULL) {
    memcpy(p, link, dir_len);
    memcpy(p + dir_len, says, n - dir_len);
  }
  return p;
}

/* Follows a chain of symlinks whose end does not exist yet (the kernel's
 * realpath() fails there) to the path a new file would take. */
static epcal_status follow_dangling(const char *path, char **file,
                                    epcal_error *err) {
  char *cur = strdup(path);
  for (int hops = 0; cur != NULL && hops < MAX_LINKS; hops++) {
    struct stat st;
    if (lstat(cur, &st) != 0) {
      if (errno == ENOENT) {
        *file = cur; /* the end of the chain: a file to create */
        return EPCAL_OK;
      }
      epcal_status f = epcal__fail(err, EPCAL_EIO, path, 0, 0,
                                   "cannot follow its symlink to %s: %s", cur,
                                   strerror(errno));
      free(cur);
      return f;
    }
    if (!S_ISLNK(st.st_mode)) {
      free(cur); /* appeared meanwhile: the caller's stat() says what */
      return epcal__fail(err, EPCAL_EIO, path, 0, 0,
                         "changed while it was looked at");
    }
    char says[PATH_MAX];
    ssize_t n = readlink(cur, says, sizeof says - 1);
    if (n < 0) {
      epcal_status f = epcal__fail(err, EPCAL_EIO, path, 0, 0,
                                   "cannot read symlink %s: %s", cur,
                                   strerror(errno));
      free(cur);
      return f;
    }
    says[n] = '\0';
    char *next = link_target(cur, says);
    free(cur);
    cur = next;
  }
  if (cur == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  free(cur);
  return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                     "too many levels of symlinks");
}

/* Whether st is the file that descriptor fd writes to. */
static bool is_fd(int fd, const struct stat *st) {
  struct stat f;
  return fstat(fd, &f) == 0 && f.st_dev == st->st_dev &&
         f.st_ino == st->st_ino;
}

epcal_status epcal_output_resolve(const char *path, epcal_output_kind *kind,
                                  char **file, epcal_error *err) {
  if (path == NULL || strcmp(path, "-") == 0) {
    *kind = EPCAL_OUTPUT_STDOUT;
    *file = NULL;
    return EPCAL_OK;
  }
  struct stat st, lst;
  if (*path == '\0') {
    return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0, "an empty file name");
  }
  if (stat(path, &st) != 0) {
    if (errno != ENOENT) {
      return epcal__fail(err, errno == ELOOP ? EPCAL_EUSAGE : EPCAL_EIO, path,
                         0, 0, "cannot look at it: %s", strerror(errno));
    }
    /* Nothing there yet, or a symlink to nothing yet. */
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char *f = NULL;
      epcal_status rs = follow_dangling(path, &f, err);
      if (rs == EPCAL_OK) {
        *kind = EPCAL_OUTPUT_FILE;
        *file = f;
      }
      return rs;
    }
    char *f = strdup(path);
    if (f == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
    }
    *kind = EPCAL_OUTPUT_FILE;
    *file = f;
    return EPCAL_OK;
  }
  /* /dev/stdout, /proc/self/fd/1, or the file the shell redirected
   * standard output to: what people mean is standard output, not a file
   * to replace behind the shell's back. */
  if (is_fd(STDOUT_FILENO, &st)) {
    *kind = EPCAL_OUTPUT_STDOUT;
    *file = NULL;
    return EPCAL_OK;
  }
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    char *f = strdup(path);
    if (f == NULL) {
      return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
    }
    *kind = EPCAL_OUTPUT_STREAM;
    *file = f;
    return EPCAL_OK;
  }
  if (!S_ISREG(st.st_mode)) {
    return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                       "is %s, not a file to write a feed to",
                       S_ISDIR(st.st_mode) ? "a directory"
                       : S_ISBLK(st.st_mode) ? "a block device"
                                             : "not a regular file");
  }
  /* A regular file: replaced in its own directory, through any symlinks
   * (renaming over the link would turn it into a copy). */
  char *f = NULL;
  if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
    f = realpath(path, NULL);
    if (f == NULL) {
      return epcal__fail(err, EPCAL_EIO, path, 0, 0,
                         "cannot follow its symlink: %s", strerror(errno));
    }
  } else if ((f = strdup(path)) == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  *kind = EPCAL_OUTPUT_FILE;
  *file = f;
  return EPCAL_OK;
}

/* "BEGIN:VCALENDAR", after an optional UTF-8 byte-order mark. */
#define FEED_HEAD "BEGIN:VCALENDAR"

/*
 * Whether the regular file at `path` may be replaced by a feed: it is one
 * (its first bytes say so), it is empty, or it is gone. Anything else is
 * someone's data that a mistyped -o must not destroy.
 */
static epcal_status check_is_feed(const char *path, epcal_error *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return EPCAL_OK;
    }
    return epcal__fail(err, EPCAL_EIO, path, 0, 0,
                       "cannot read it to check that it is a feed: %s",
                       strerror(errno));
  }
  char head[3 + sizeof FEED_HEAD];
  size_t got = 0;
  struct stat st;
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  while (regular && got < sizeof head - 1) {
    ssize_t n = read(fd, head + got, sizeof head - 1 - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += (size_t)n;
  }
  close(fd);
  if (!regular) {
    return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                       "is not a regular file; not replaced");
  }
  const char *h = head;
  size_t n = got;
  if (n >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) {
    h += 3;
    n -= 3;
  }
  size_t want = sizeof FEED_HEAD - 1;
  if (got == 0 || (n >= want && strncasecmp(h, FEED_HEAD, want) == 0)) {
    return EPCAL_OK;
  }
  return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                     "is not an iCalendar feed (it does not begin with "
                     "BEGIN:VCALENDAR), so it is not replaced; use --force "
                     "to replace it");
}

/* A connection to the Unix stream socket at `path`, or -1 (errno set). */
static int connect_unix(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Opens a device, FIFO or socket for writing straight through. */
static epcal_status open_stream(epcal_output *o, const char *path,
                                epcal_error *err) {
  for (;;) {
    /* A FIFO without a reader makes open() wait for one; a signal ends
     * the wait (the handlers are installed without SA_RESTART). */
    o->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (o->fd >= 0) {
      break;
    }
    if (errno == ENXIO) {
      /* A socket cannot be opened by name: standard error's can be
       * written through its descriptor, a listening one connected to. */
      struct stat st;
      bool there = stat(path, &st) == 0;
      if (there && is_fd(STDERR_FILENO, &st)) {
        o->fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      } else if (there && S_ISSOCK(st.st_mode)) {
        o->fd = connect_unix(path);
      }
      if (o->fd >= 0) {
        break;
      }
    }
    return epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot open: %s",
                       errno == EINTR ? "interrupted" : strerror(errno));
  }
  o->stream = true;
  return EPCAL_OK;
}

bool epcal__output_is_temp_name(const char *name, const char *target_name) {
  size_t n = strlen(name);
  size_t tail = TEMP_TAG_LEN + TEMP_RANDOM + TEMP_END_LEN;
  if (n < 2 + tail || name[0] != '.') {
    return false;
  }
  const char *tag = name + n - tail;
  if (memcmp(tag, TEMP_TAG, TEMP_TAG_LEN) != 0 ||
      strcmp(name + n - TEMP_END_LEN, TEMP_END) != 0) {
    return false;
  }
  for (size_t i = 0; i < TEMP_RANDOM; i++) {
    char c = tag[TEMP_TAG_LEN + i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  if (target_name == NULL) {
    return true;
  }
  size_t t = strlen(target_name);
  return (size_t)(tag - name) == 1 + t && memcmp(name + 1, target_name, t) == 0;
}

epcal_status epcal_output_open(epcal_output **out, const char *path,
                               epcal_error *err) {
  return epcal_output_open_flags(out, path, 0, err);
}

epcal_status epcal_output_open_flags(epcal_output **out, const char *path,
                                     unsigned flags, epcal_error *err) {
  epcal_output_kind kind;
  char *file = NULL;
  epcal_status st;
  if (flags & EPCAL_OUTPUT_NOFOLLOW) {
    /* Inside a tree epcal owns: the path itself, which must be a file or
     * nothing (a symlink there is replaced, as rename(2) does). */
    struct stat lst;
    if (lstat(path, &lst) == 0 && !S_ISREG(lst.st_mode) &&
        !S_ISLNK(lst.st_mode)) {
      return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                         "is not a regular file; not replaced");
    }
    kind = EPCAL_OUTPUT_FILE;
    file = strdup(path);
    st = file != NULL ? EPCAL_OK
                      : epcal__fail(err, EPCAL_ENOMEM, path, 0, 0,
                                    "out of memory");
  } else {
    st = epcal_output_resolve(path, &kind, &file, err);
  }
  if (st != EPCAL_OK) {
    return st;
  }
  if (kind == EPCAL_OUTPUT_FILE && !(flags & EPCAL_OUTPUT_FORCE)) {
    st = check_is_feed(file, err);
    if (st != EPCAL_OK) {
      free(file);
      return st;
    }
  }
  epcal_output *o = calloc(1, sizeof *o);
  if (o == NULL) {
    free(file);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  o->fd = -1;
  o->old_fd = NOT_COMPARING;
  if (kind == EPCAL_OUTPUT_STREAM) {
    st = open_stream(o, file, err);
    free(file);
    if (st != EPCAL_OK) {
      epcal_output_free(o);
      return st;
    }
    *out = o;
    return EPCAL_OK;
  }
  bool to_stdout = kind == EPCAL_OUTPUT_STDOUT;
  if (to_stdout) {
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0') {
      dir = "/tmp";
    }
    size_t n = strlen(dir) + 32;
    o->tmp_path = malloc(n);
    if (o->tmp_path != NULL) {
      snprintf(o->tmp_path, n, "%s/epcal-spool.XXXXXX", dir);
    }
  } else {
    o->target = file;
    start_matching(o);
    if (o->old_fd >= 0) {
      *out = o; /* its temporary file comes with the first difference */
      return EPCAL_OK;
    }
    o->tmp_path = temp_template(file);
  }
  if (o->tmp_path == NULL) {
    epcal_output_free(o);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  o->fd =
      to_stdout ? mkstemp(o->tmp_path) : mkstemps(o->tmp_path, TEMP_END_LEN);
  if (o->fd < 0) {
    int e = errno;
    free(o->tmp_path);
    o->tmp_path = NULL;
    epcal_output_free(o);
    return epcal__fail(err, EPCAL_EIO, to_stdout ? "-" : path, 0, 0,
                       "cannot create a temporary file %s: %s",
                       to_stdout ? "for standard output" : "beside it",
                       strerror(e));
  }
  if (to_stdout) {
    /* The spool is private: no name needed once open. */
    unlink(o->tmp_path);
    free(o->tmp_path);
    o->tmp_path = NULL;
  }
  *out = o;
  return EPCAL_OK;
}

/* Bytes compared per step; a larger step saves system calls on big feeds. */
#define COMPARE_CHUNK (256 * 1024)

/* True when the file at `path` holds exactly the bytes of fd `a`. Sets
 * *mode to that file's mode when there is one (so that a new feed, the
 * common case, costs one failed open, not an open and a stat). */
static bool same_bytes(int a, const char *path, mode_t *mode) {
  struct stat sa, sb;
  int b = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (b < 0) {
    if (errno != ENOENT && stat(path, &sb) == 0) {
      *mode = sb.st_mode & 07777; /* there, but not readable */
    }
    return false;
  }
  bool stated = fstat(b, &sb) == 0;
  if (stated) {
    *mode = sb.st_mode & 07777;
  }
  bool same = stated && fstat(a, &sa) == 0 && S_ISREG(sb.st_mode) &&
              sa.st_size == sb.st_size && lseek(a, 0, SEEK_SET) == 0;
  char *ba = same ? malloc(2 * COMPARE_CHUNK) : NULL;
  char *bb = ba != NULL ? ba + COMPARE_CHUNK : NULL;
  same = same && ba != NULL;
  while (same) {
    ssize_t na = read(a, ba, COMPARE_CHUNK);
    if (na <= 0) {
      same = na == 0 && read(b, bb, 1) == 0;
      break;
    }
    ssize_t got = 0;
    while (got < na) {
      ssize_t nb = read(b, bb + got, (size_t)(na - got));
      if (nb <= 0) {
        break;
      }
      got += nb;
    }
    same = got == na && memcmp(ba, bb, (size_t)na) == 0;
  }
  free(ba);
  close(b);
  return same;
}

static epcal_status copy_to_stdout(epcal_output *o, epcal_error *err) {
  /* The kernel copies from the spool's pages itself where it can (to a
   * file, a pipe, /dev/null); else by hand. */
  struct stat st;
  off_t at = 0;
  if (fstat(o->fd, &st) == 0) {
    while (at < st.st_size) {
      ssize_t n = sendfile(STDOUT_FILENO, o->fd, &at, (size_t)(st.st_size - at));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        if (n < 0 && errno != EINVAL && errno != ENOSYS) {
          return epcal__fail(err, EPCAL_EIO, "-", 0, 0,
                             "cannot write to standard output: %s",
                             strerror(errno));
        }
        break; /* not possible here: copy the rest by hand */
      }
    }
  }
  char buf[65536];
  if (lseek(o->fd, at, SEEK_SET) != at) {
    return epcal__fail(err, EPCAL_EIO, "-", 0, 0, "cannot rewind spool: %s",
                       strerror(errno));
  }
  for (;;) {
    ssize_t n = read(o->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return epcal__fail(err, EPCAL_EIO, "-", 0, 0, "cannot read spool: %s",
                         strerror(errno));
    }
    if (n == 0) {
      return EPCAL_OK;
    }
    if (write_all(STDOUT_FILENO, buf, (size_t)n) != 0) {
      return epcal__fail(err, EPCAL_EIO, "-", 0, 0,
                         "cannot write to standard output: %s",
                         strerror(errno));
    }
  }
}

/* fsync the directory holding `path`, so the rename itself is durable. */
static void sync_dir(const char *path) {
  char *copy = strdup(path);
  if (copy == NULL) {
    return;
  }
  int d = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
  free(copy);
}

void epcal__output_suspend(epcal_output *o) {
  if (o->target == NULL || o->stream) {
    return; /* a spool has no name to reopen */
  }
  if (o->fd >= 0) {
    close(o->fd);
    o->fd = -1;
  }
  /* Thousands of feeds may be suspended: keep no descriptor for the
   * target either (resume checks it is still the same file). */
  if (o->old_fd >= 0) {
    close(o->old_fd);
    o->old_fd = SUSPENDED;
    free(o->window);
    o->window = NULL;
    o->window_len = 0;
  }
}

bool epcal__output_resume(epcal_output *o) {
  if (o->old_fd == LOST) {
    errno = ESTALE; /* see below: this feed cannot be finished */
    return false;
  }
  if (o->target == NULL || epcal__output_is_open(o)) {
    return true;
  }
  if (o->tmp_path != NULL) {
    o->fd = open(o->tmp_path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (o->fd < 0) {
      return false;
    }
  }
  if (o->old_fd != SUSPENDED) {
    return true;
  }
  int old = open(o->target, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (old < 0 && errno != ENOENT) {
    int e = errno; /* out of descriptors, say: still suspended */
    if (o->fd >= 0) {
      close(o->fd);
      o->fd = -1;
    }
    errno = e;
    return false;
  }
  if (old < 0 || fstat(old, &st) != 0 || !same_file(o, &st)) {
    /* The bytes that matched were not written, and the file that had them
     * is gone or changed: nothing can finish this feed. */
    if (old >= 0) {
      close(old);
    }
    o->old_fd = LOST;
    if (o->fd >= 0) {
      close(o->fd);
      o->fd = -1;
    }
    errno = ESTALE;
    return false;
  }
  o->old_fd = old;
  return true;
}

bool epcal__output_is_open(const epcal_output *o) {
  return o->fd >= 0 || o->old_fd >= 0;
}

/* An unchanged feed: nothing to publish. Split output prepares thousands of
 * feeds before publishing any, so no descriptor may stay open. */
static void discard_temporary(epcal_output *o) {
  if (o->old_fd >= 0) {
    close(o->old_fd);
  }
  o->old_fd = NOT_COMPARING;
  if (o->fd >= 0) {
    close(o->fd);
    o->fd = -1;
  }
  if (o->tmp_path != NULL) {
    unlink(o->tmp_path);
    free(o->tmp_path);
    o->tmp_path = NULL;
  }
  o->committed = true;
}

/*
 * The first half of a commit: compares with the target and, when the bytes
 * differ, gives the temporary file the target's mode, makes it durable
 * (when `durable`) and closes it. *changed tells whether a rename is due.
 */
epcal_status epcal__output_prepare(epcal_output *o, bool durable,
                                   bool *changed, epcal_error *err) {
  if (!epcal__output_resume(o)) {
    return epcal__fail(err, EPCAL_EIO, o->target, 0, 0, "cannot reopen: %s",
                       strerror(errno));
  }
  if (target_unchanged(o)) {
    discard_temporary(o);
    *changed = false;
    return EPCAL_OK;
  }
  /* A difference (or a shorter feed): the temporary file needs the bytes
   * that matched. A target that appeared during the run is compared in
   * full. */
  if (stop_matching(o) != 0) {
    return epcal__fail(err, EPCAL_EIO, o->target, 0, 0, "cannot write: %s",
                       strerror(errno));
  }
  /* An existing feed keeps its mode; a new one is world-readable, as a
   * feed meant for publishing should be (mkstemp makes 0600). */
  mode_t mode = 0644;
  if (!o->had_target) {
    if (same_bytes(o->fd, o->target, &mode)) {
      discard_temporary(o);
      *changed = false;
      return EPCAL_OK;
    }
  } else {
    struct stat st;
    if (stat(o->target, &st) == 0) {
      mode = st.st_mode & 07777;
    }
  }
  if (fchmod(o->fd, mode) != 0 || (durable && fsync(o->fd) != 0)) {
    return epcal__fail(err, EPCAL_EIO, o->target, 0, 0, "cannot write: %s",
                       strerror(errno));
  }
  int rc = close(o->fd);
  o->fd = -1;
  if (rc != 0) {
    return epcal__fail(err, EPCAL_EIO, o->target, 0, 0, "cannot write: %s",
                       strerror(errno));
  }
  *changed = true;
  return EPCAL_OK;
}

/* The second half: renames the prepared temporary file over the target
 * (and, when `durable`, fsyncs the directory). */
epcal_status epcal__output_publish(epcal_output *o, bool durable,
                                   epcal_error *err) {
  if (o->committed) {
    return EPCAL_OK; /* unchanged: nothing to rename */
  }
  if (rename(o->tmp_path, o->target) != 0) {
    return epcal__fail(err, EPCAL_EIO, o->target, 0, 0, "cannot replace: %s",
                       strerror(errno));
  }
  free(o->tmp_path);
  o->tmp_path = NULL;
  if (durable) {
    sync_dir(o->target);
  }
  o->committed = true;
  return EPCAL_OK;
}

epcal_status epcal_output_commit(epcal_output *o, bool *changed,
                                 epcal_error *err) {
  bool differs = true;
  epcal_status st;
  if (o->stream) {
    st = EPCAL_OK; /* written as it came */
    o->committed = true;
  } else if (o->target == NULL) {
    st = copy_to_stdout(o, err);
    o->committed = st == EPCAL_OK;
  } else {
    st = epcal__output_prepare(o, true, &differs, err);
    if (st == EPCAL_OK) {
      st = epcal__output_publish(o, true, err);
    }
  }
  if (st == EPCAL_OK && changed != NULL) {
    *changed = differs;
  }
  return st;
}

uint64_t epcal__output_target_id(const epcal_output *o) {
  if (!o->had_target) {
    return 0;
  }
  uint64_t v[5] = {(uint64_t)o->old_st.dev, (uint64_t)o->old_st.ino,
                   (uint64_t)o->old_st.size, (uint64_t)o->old_st.mtime.tv_sec,
                   (uint64_t)o->old_st.mtime.tv_nsec};
  return epcal__hash64((const char *)v, sizeof v);
}

void epcal__output_temp_suffix(const epcal_output *o, char suffix[6]) {
  size_t n = o->tmp_path != NULL ? strlen(o->tmp_path) : 0;
  memset(suffix, 0, 6);
  if (n >= TEMP_RANDOM + TEMP_END_LEN) {
    memcpy(suffix, o->tmp_path + n - TEMP_END_LEN - TEMP_RANDOM, TEMP_RANDOM);
  }
}

char *epcal__output_temp_name(const char *target, const char suffix[6]) {
  char *t = temp_template(target);
  if (t != NULL) {
    memcpy(t + strlen(t) - TEMP_END_LEN - TEMP_RANDOM, suffix, TEMP_RANDOM);
  }
  return t;
}

bool epcal__output_moved(epcal_output *o, const char *target) {
  char *t = strdup(target);
  char *tmp = NULL;
  if (t != NULL && o->tmp_path != NULL) {
    const char *slash = strrchr(target, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - target) + 1 : 0;
    const char *old = strrchr(o->tmp_path, '/');
    old = old != NULL ? old + 1 : o->tmp_path;
    tmp = malloc(dir_len + strlen(old) + 1);
    if (tmp != NULL) {
      memcpy(tmp, target, dir_len);
      strcpy(tmp + dir_len, old);
    }
  }
  if (t == NULL || (o->tmp_path != NULL && tmp == NULL)) {
    free(t);
    free(tmp);
    return false;
  }
  free(o->target);
  o->target = t;
  if (tmp != NULL) {
    free(o->tmp_path);
    o->tmp_path = tmp;
  }
  return true;
}

void epcal__output_free_prepared(epcal_output *o) {
  if (o != NULL) {
    free(o->tmp_path);
    o->tmp_path = NULL;
    epcal_output_free(o);
  }
}

epcal_status epcal__output_continue(epcal_output **out, const char *target,
                                    const char *tmp_path, uint64_t keep,
                                    uint64_t target_id, epcal_error *err) {
  *out = NULL;
  epcal_output *o = NULL;
  if (tmp_path != NULL) {
    /* Its own temporary file: cut off what followed the kept bytes. */
    o = calloc(1, sizeof *o);
    if (o == NULL || (o->target = strdup(target)) == NULL ||
        (o->tmp_path = strdup(tmp_path)) == NULL) {
      epcal_output_free(o);
      return epcal__fail(err, EPCAL_ENOMEM, target, 0, 0, "out of memory");
    }
    o->old_fd = NOT_COMPARING;
    o->fd = open(tmp_path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (o->fd < 0 || ftruncate(o->fd, (off_t)keep) != 0) {
      int e = errno;
      if (o->fd >= 0) {
        close(o->fd);
        o->fd = -1;
      }
      free(o->tmp_path); /* not ours to remove on failure: the caller's */
      o->tmp_path = NULL;
      epcal_output_free(o);
      return epcal__fail(err, EPCAL_EIO, target, 0, 0,
                         "cannot reopen its temporary file: %s", strerror(e));
    }
    o->written = o->flushing = keep;
    *out = o;
    return EPCAL_OK;
  }
  /* It matched the target, so the kept bytes are the target's first (and
   * the target was found to be a feed when the feed was first opened). */
  epcal_status st = epcal_output_open_flags(
      &o, target, EPCAL_OUTPUT_NOFOLLOW | EPCAL_OUTPUT_FORCE, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (o->old_fd < 0 || epcal__output_target_id(o) != target_id ||
      (uint64_t)o->old_st.size < keep) {
    epcal_output_free(o);
    return epcal__fail(err, EPCAL_EIO, target, 0, 0,
                       "changed by someone else while this run wrote it");
  }
  o->matched = keep;
  if (stop_matching(o) != 0) {
    int e = errno;
    epcal_output_free(o);
    return epcal__fail(err, EPCAL_EIO, target, 0, 0, "cannot write: %s",
                       strerror(e));
  }
  /* Compared in full when prepared, as a target that appeared would be. */
  o->had_target = false;
  o->flushing = o->written;
  *out = o;
  return EPCAL_OK;
}

unsigned long epcal_output_remove_stale(const char *target) {
  const char *slash = strrchr(target, '/');
  const char *base = slash != NULL ? slash + 1 : target;
  char *dir_path = slash == NULL ? strdup(".")
                   : slash == target
                       ? strdup("/")
                       : strndup(target, (size_t)(slash - target));
  unsigned long removed = 0;
  int dfd = dir_path != NULL
                ? open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                : -1;
  free(dir_path);
  DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (dir == NULL) {
    if (dfd >= 0) {
      close(dfd);
    }
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    struct stat sb;
    /* Only regular files of exactly our shape, and never what a link
     * points to. */
    if (epcal__output_is_temp_name(e->d_name, base) &&
        fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(sb.st_mode)) {
      removed += unlinkat(dfd, e->d_name, 0) == 0;
    }
  }
  closedir(dir);
  return removed;
}

void epcal_output_free(epcal_output *o) {
  if (o == NULL) {
    return;
  }
  if (o->fd >= 0) {
    close(o->fd);
  }
  if (o->old_fd >= 0) {
    close(o->old_fd);
  }
  free(o->window);
  if (o->tmp_path != NULL) {
    unlink(o->tmp_path);
  }
  free(o->tmp_path);
  free(o->target);
  free(o);
}
