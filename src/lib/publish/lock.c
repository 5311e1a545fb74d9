/*
 * publish: one run at a time per output. Overlapping cron runs on the same
 * feed must not interleave; the lock is flock(2) on a hidden file beside the
 * target, released by the kernel when the process ends, so a crashed run
 * never leaves a stale lock behind. The file itself is left in place:
 * removing it would let two runs lock two different files.
 */
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct epcal_lock {
  int fd;
};

/* "dir/name" -> "dir/.name.lock" */
static char *lock_path(const char *target) {
  size_t n = strlen(target);
  const char *slash = strrchr(target, '/');
  size_t dir_len = slash != NULL ? (size_t)(slash - target) + 1 : 0;
  char *p = malloc(n + 8);
  if (p != NULL) {
    memcpy(p, target, dir_len);
    snprintf(p + dir_len, n + 8 - dir_len, ".%s.lock", target + dir_len);
  }
  return p;
}

epcal_status epcal_lock_acquire(epcal_lock **out, const char *target,
                                double wait_seconds, epcal_error *err) {
  char *path = lock_path(target);
  if (path == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, target, 0, 0, "out of memory");
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    /* The usual cause is the output's directory: say so in its terms. */
    epcal_status st =
        errno == ENOENT
            ? epcal__fail(err, EPCAL_EIO, target, 0, 0,
                          "cannot write here: the directory does not exist")
            : epcal__fail(err, EPCAL_EIO, target, 0, 0,
                          "cannot create lock file %s: %s", path,
                          strerror(errno));
    free(path);
    return st;
  }
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      epcal_status st = epcal__fail(err, EPCAL_EIO, target, 0, 0,
                                    "cannot lock %s: %s", path,
                                    strerror(errno));
      close(fd);
      free(path);
      return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double waited = (double)(now.tv_sec - start.tv_sec) +
                    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
    if (waited >= wait_seconds) {
      close(fd);
      free(path);
      return epcal__fail(err, EPCAL_ELOCKED, target, 0, 0,
                         "another epcal run is writing this output (waited "
                         "%.0f s; see --wait)",
                         wait_seconds);
    }
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  free(path);
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
