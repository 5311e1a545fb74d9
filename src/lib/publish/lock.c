/*
 * publish: one run at a time per output, and no file left for it.
 *
 * Overlapping cron runs on the same feed must not interleave. The lock is
 * flock(2), released by the kernel when the process ends, so a crashed run
 * never leaves a stale lock; and it is taken on files that are there
 * anyway, so nothing is left beside the output (a lock file in a web root
 * may be served, and a one-off export should leave only the export):
 *
 * - When the target exists, the lock is on the target itself. A run that
 *   changes the feed renames a new file over it, so a run that was waiting
 *   may then hold the lock of a file that is no longer the target: after
 *   locking, it checks that the name still leads to the file it locked,
 *   and starts again when it does not.
 * - When the target does not exist yet (or cannot be opened), the lock is
 *   on its directory (flock works on a directory's descriptor on Linux),
 *   held for the whole run. Two runs creating two new feeds in one
 *   directory take turns; runs on feeds that exist never wait for it.
 *
 * Where flock cannot lock a descriptor opened for reading (NFS emulates
 * flock with byte-range locks, and an exclusive one needs a file open for
 * writing; a directory never is), the lock is a file in /run/lock (or
 * /tmp), named after the directory's device and inode and a hash of the
 * target's name: still nothing beside the output, and runs on one host
 * still take turns.
 */
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW under _POSIX_C_SOURCE */
#include "lock.h"

#include "error.h"
#include "keytab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct epcal_lock {
  int fd;
};

/* Splits "dir/name" into a descriptor of dir and the name's offset. */
static int open_dir(const char *target, const char **name) {
  const char *slash = strrchr(target, '/');
  *name = slash != NULL ? slash + 1 : target;
  if (slash == NULL) {
    return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  size_t n = slash == target ? 1 : (size_t)(slash - target);
  char *dir = malloc(n + 1);
  if (dir == NULL) {
    errno = ENOMEM;
    return -1;
  }
  memcpy(dir, target, n);
  dir[n] = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = errno;
  free(dir);
  errno = e;
  return fd;
}

/* try_lock(): the target changed under us; try again at once. */
#define AGAIN (-2)

/*
 * One attempt: returns a descriptor holding the lock, AGAIN, or -1 with
 * errno EWOULDBLOCK (someone else holds it) or another error.
 */
static int try_lock(int dir, const char *name) {
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                                 O_CLOEXEC);
  struct stat st, now;
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(fd);
    fd = -1;
    errno = EACCES; /* not a file to lock: the directory is */
  }
  if (fd >= 0) {
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        now.st_dev == st.st_dev && now.st_ino == st.st_ino) {
      return fd;
    }
    close(fd); /* replaced (or removed) while we waited */
    return AGAIN;
  }
  bool missing = errno == ENOENT;
  int d = fcntl(dir, F_DUPFD_CLOEXEC, 3);
  if (d < 0) {
    return -1;
  }
  if (flock(d, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(d);
    errno = e;
    return -1;
  }
  /* A run that created the target meanwhile held this lock until it
   * ended; the target is the lock now. */
  if (missing && fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0) {
    close(d);
    return AGAIN;
  }
  return d;
}

bool epcal__lock_keyed;

char *epcal__lock_keyed_path(const char *target) {
  const char *name;
  int dir = open_dir(target, &name);
  struct stat st;
  if (dir < 0 || fstat(dir, &st) != 0) {
    if (dir >= 0) {
      close(dir);
    }
    return NULL;
  }
  close(dir);
  const char *where = access("/run/lock", W_OK | X_OK) == 0 ? "/run/lock"
                                                          : "/tmp";
  char buf[128];
  snprintf(buf, sizeof buf, "%s/epcal-%llx-%llx-%016llx.lock", where,
           (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
           (unsigned long long)epcal__hash64(name, strlen(name)));
  return strdup(buf);
}

/* try_lock() with the lock in a file of its own (see the top). */
static int try_keyed(const char *target) {
  char *path = epcal__lock_keyed_path(target);
  if (path == NULL) {
    errno = ENOMEM;
    return -1;
  }
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 8; tries++) {
    fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
      fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC); /* another user's */
    }
    if (fd < 0 && errno == ENOENT) {
      /* O_EXCL: never through a link someone planted, and never opening
       * another user's file with O_CREAT (fs.protected_regular). */
      fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0644);
      if (fd < 0 && errno == EEXIST) {
        continue;
      }
    }
    if (fd < 0) {
      break;
    }
  }
  int e = errno;
  free(path);
  if (fd < 0) {
    errno = e;
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* flock cannot lock here the way try_lock() does it. */
static bool needs_keyed(int e) {
  return e == EBADF || e == ENOLCK || e == EINVAL || e == EOPNOTSUPP;
}

epcal_status epcal_lock_acquire(epcal_lock **out, const char *target,
                                double wait_seconds, epcal_error *err) {
  const char *name;
  int dir = open_dir(target, &name);
  if (dir < 0) {
    /* The usual cause is the output's directory: say so in its terms. */
    return errno == ENOENT
               ? epcal__fail(err, EPCAL_EIO, target, 0, 0,
                             "cannot write here: the directory does not "
                             "exist")
               : epcal__fail(err, EPCAL_EIO, target, 0, 0,
                             "cannot open its directory: %s",
                             strerror(errno));
  }
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int fd;
  bool keyed = epcal__lock_keyed;
  for (;;) {
    fd = keyed ? try_keyed(target) : try_lock(dir, name);
    if (fd >= 0) {
      break;
    }
    if (fd == AGAIN) {
      continue;
    }
    if (!keyed && needs_keyed(errno)) {
      keyed = true;
      continue;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      epcal_status st = epcal__fail(err, EPCAL_EIO, target, 0, 0,
                                    "cannot lock: %s", strerror(errno));
      close(dir);
      return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double waited = (double)(now.tv_sec - start.tv_sec) +
                    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
    if (waited >= wait_seconds) {
      close(dir);
      return epcal__fail(err, EPCAL_ELOCKED, target, 0, 0,
                         "another epcal run is writing this output (waited "
                         "%.0f s; see --wait)",
                         wait_seconds);
    }
    struct timespec nap = {0, 50 * 1000 * 1000};
    if (nanosleep(&nap, NULL) != 0 && errno == EINTR) {
      /* A signal the caller handles (SIGINT, SIGTERM) ends a long --wait
       * too, not only the run after it. */
      close(dir);
      return epcal__fail(err, EPCAL_EIO, target, 0, 0,
                         "interrupted while waiting for the lock");
    }
  }
  close(dir);
  epcal_lock *l = malloc(sizeof *l);
  if (l == NULL) {
    close(fd);
    return epcal__fail(err, EPCAL_ENOMEM, target, 0, 0, "out of memory");
  }
  l->fd = fd;
  *out = l;
  return EPCAL_OK;
}

void epcal_lock_release(epcal_lock *l) {
  if (l != NULL) {
    close(l->fd);
    free(l);
  }
}
