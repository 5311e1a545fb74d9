/*
 * Memory stays flat: `epcal generate` over realistic rows (made here by
 * the benchmark's generator: no big file in the tree) must keep its peak
 * resident set under a bound, both ways the repeat index works:
 *
 * - 200,000 rows through a pipe (standard input cannot be read again, so
 *   the index is exact: 16 bytes per episode);
 * - 1,000,000 rows from a file (a second thread reads ahead; the index is
 *   compact: a 16-byte set of episode numbers per season, about 1.6 MB
 *   here), which may need at most GROWTH_KB more than 10,000 rows;
 * - 200,000 rows split by season into 16,667 feeds (40 bytes kept a feed
 *   once it is finished), again at most GROWTH_KB more than 10,000 rows,
 *   and the same again over those feeds (each feed's previous events are
 *   held only while it is written: all of them would take 7 MB more);
 * - 200,000 rows regenerated over their unchanged feed (the previous
 *   feed's events are held: at most REGEN_GROWTH_KB more than 10,000 rows).
 *
 * Nothing is timed.
 *
 *   test_memory EPCAL_BINARY
 *
 * The peak is each child's ru_maxrss (wait4). Sanitizer builds inflate
 * memory many times over: there the test is skipped at once (exit 77,
 * which CTest reports as skipped). Nothing is left in $TMPDIR.
 */
#define _DEFAULT_SOURCE   /* wait4: the child's own peak */
#define _XOPEN_SOURCE 700 /* nftw */
#include "episodes.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The target for the whole process at a million rows. About 5 MB of it is
 * the shared libraries (libc, libical, ICU) mapped at start. */
#define BOUND_KB (16L * 1024)
/* What a million rows may add to ten thousand: the repeat index's season
 * sets (about 1.6 MB for these 83,334 seasons) and allocator slack (2.3 MB
 * in all, measured). A tag per episode (6 bytes) would need 6 MB more: the
 * index before the season sets took 8 MB. */
#define GROWTH_KB (4L * 1024)
/* A regeneration holds the previous feed's events: 24 bytes each in a
 * table that keeps a quarter or so free, besides the comparing output's
 * window. REGEN_ROWS of them may take this much more than 10,000 rows
 * (7.7 MB measured; with the 32-byte entries before, 9.8 MB). */
#define REGEN_ROWS 200000
#define REGEN_GROWTH_KB (8704L)
#define SKIP 77

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Writes `rows` generated rows to fd. */
static int write_rows(int fd, unsigned long rows) {
  static char buf[64 * 1024];
  size_t len = episodes_header(buf);
  for (unsigned long i = 0; i < rows; i++) {
    if (len + EPISODES_ROW_MAX > sizeof buf) {
      if (write_all(fd, buf, len) != 0) {
        return -1;
      }
      len = 0;
    }
    len += episodes_row(i, buf + len);
  }
  return write_all(fd, buf, len);
}

/* The bytes of every file below a split output directory. */
static long long tree_bytes;
static int count_one(const char *path, const struct stat *st, int type,
                     struct FTW *ftw) {
  (void)path;
  (void)ftw;
  tree_bytes += type == FTW_F ? (long long)st->st_size : 0;
  return 0;
}

/* Removes the split output directory `path` and everything in it. */
static int remove_one(const char *path, const struct stat *st, int type,
                      struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

/* What run() runs. */
enum mode {
  GENERATE,   /* epcal generate -o FEED INPUT */
  REGENERATE, /* the same twice: the second, unchanged, run is measured */
  SPLIT,      /* epcal generate --split season --output-dir FEED INPUT */
  RESPLIT     /* the same twice: the second, unchanged, run is measured */
};

/*
 * Runs epcal over `rows` rows, from a pipe when input is "-", else from
 * that file (written first). Returns the (last) child's peak RSS in KB, or
 * -1 when a run failed.
 */
static long run(const char *epcal, const char *input, const char *feed,
                unsigned long rows, enum mode mode) {
  bool split = mode == SPLIT || mode == RESPLIT;
  bool twice = mode == REGENERATE || mode == RESPLIT;
  int fds[2] = {-1, -1};
  bool piped = strcmp(input, "-") == 0;
  if (piped && pipe(fds) != 0) {
    perror("pipe");
    return -1;
  }
  if (!piped) {
    int fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write_rows(fd, rows) != 0 || close(fd) != 0) {
      perror(input);
      return -1;
    }
  }
  int werr = 0;
  int status = 0;
  struct rusage ru;
  for (int pass = 0; pass < (twice ? 2 : 1) && status == 0; pass++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return -1;
    }
    if (pid == 0) {
      if (piped) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
      }
      char *args[] = {(char *)epcal, "generate",    "-o",
                      (char *)feed,  (char *)input, NULL};
      char *split_args[] = {
          (char *)epcal,  "generate",   "--split",     "season",
          "--output-dir", (char *)feed, (char *)input, NULL};
      execv(epcal, split ? split_args : args);
      perror(epcal);
      _exit(127);
    }
    if (piped) {
      close(fds[0]);
      werr = write_rows(fds[1], rows);
      close(fds[1]);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
      if (errno != EINTR) {
        perror("wait4");
        return -1;
      }
    }
  }
  struct stat st;
  long long feed_size = stat(feed, &st) == 0 ? (long long)st.st_size : -1;
  if (split) {
    tree_bytes = 0;
    nftw(feed, count_one, 16, FTW_PHYS);
    feed_size = tree_bytes;
    nftw(feed, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  } else {
    unlink(feed);
  }
  if (!piped) {
    unlink(input);
  }
  if (werr != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr,
            "FAIL: epcal did not read the whole input and exit 0 "
            "(status %d)\n",
            status);
    return -1;
  }
  /* ru_maxrss is in kilobytes on Linux and the BSDs. */
  printf("epcal generate%s, %lu rows from %s: feeds %lld bytes, peak RSS %ld "
         "KB (bound %ld KB)\n",
         mode == RESPLIT      ? " --split season, unchanged rerun"
         : mode == REGENERATE ? ", unchanged rerun"
         : split              ? " --split season"
                              : "",
         rows, piped ? "a pipe" : "a file", feed_size, ru.ru_maxrss, BOUND_KB);
  if (feed_size < (long long)rows * 300) {
    fprintf(stderr, "FAIL: the feed is too small to hold %lu events\n", rows);
    return -1;
  }
  return ru.ru_maxrss;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_memory EPCAL_BINARY\n");
    return 2;
  }
#if defined(EPCAL_SANITIZED)
  /* A sanitizer's shadow memory and quarantine make a peak RSS mean
   * nothing, and these runs take minutes there; every path they take runs
   * under the sanitizers in the other tests, on smaller inputs. */
  (void)argv;
  printf("sanitizer build: skipped (peak RSS is not measurable)\n");
  return SKIP;
#endif
  signal(SIGPIPE, SIG_IGN);
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/epcal-memory.XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  char feed[4200], input[4200];
  snprintf(feed, sizeof feed, "%s/feed.ics", dir);
  snprintf(input, sizeof input, "%s/episodes.csv", dir);
  long piped = run(argv[1], "-", feed, 200000, GENERATE);
  long small = piped >= 0 ? run(argv[1], input, feed, 10000, GENERATE) : -1;
  long file = small >= 0 ? run(argv[1], input, feed, 1000000, GENERATE) : -1;
  long split_small = file >= 0 ? run(argv[1], input, feed, 10000, SPLIT) : -1;
  long split = split_small >= 0 ? run(argv[1], input, feed, 200000, SPLIT) : -1;
  long resplit = split >= 0 ? run(argv[1], input, feed, 200000, RESPLIT) : -1;
  long regen =
      resplit >= 0 ? run(argv[1], input, feed, REGEN_ROWS, REGENERATE) : -1;
  /* The whole directory: a run leaves its output's lock file
   * (.feed.ics.lock) beside the feed. */
  nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  if (piped < 0 || small < 0 || file < 0 || split_small < 0 || split < 0 ||
      resplit < 0 || regen < 0) {
    return 1;
  }
  if (piped > BOUND_KB || file > BOUND_KB || split > BOUND_KB ||
      resplit > BOUND_KB) {
    fprintf(stderr, "FAIL: peak RSS over %ld KB\n", BOUND_KB);
    return 1;
  }
  if (file - small > GROWTH_KB) {
    fprintf(stderr, "FAIL: 1M rows took %ld KB more than 10k (bound %ld)\n",
            file - small, GROWTH_KB);
    return 1;
  }
  if (regen - small > REGEN_GROWTH_KB) {
    fprintf(stderr,
            "FAIL: an unchanged rerun of %d rows took %ld KB more than 10k "
            "(bound %ld)\n",
            REGEN_ROWS, regen - small, REGEN_GROWTH_KB);
    return 1;
  }
  if (split - split_small > GROWTH_KB) {
    fprintf(stderr,
            "FAIL: split, 200k rows took %ld KB more than 10k "
            "(bound %ld)\n",
            split - split_small, GROWTH_KB);
    return 1;
  }
  return 0;
}
