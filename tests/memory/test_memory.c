/*
 * Memory stays flat: `epcal generate` over 200,000 realistic rows (made
 * here, streamed through a pipe: no big file in the tree) must keep its
 * peak resident set under a bound. Nothing is timed.
 *
 *   test_memory EPCAL_BINARY
 *
 * The peak is the child's ru_maxrss (getrusage(RUSAGE_CHILDREN) after
 * waiting for it; epcal is this driver's only child). Sanitizer builds
 * inflate memory many times over: there the run is checked but the bound
 * is not (exit 77, which CTest reports as skipped).
 */
#include "episodes.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROWS 200000UL
/* The target for the whole process, flat in the number of rows. A run
 * measures about 2 MB here; the bound leaves room for libraries and
 * platforms, not for memory that grows with the input. */
#define BOUND_KB (16L * 1024)
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

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_memory EPCAL_BINARY\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/epcal-memory.XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  char feed[4200];
  snprintf(feed, sizeof feed, "%s/feed.ics", dir);

  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    char *args[] = {argv[1], "generate", "-o", feed, "-", NULL};
    execv(argv[1], args);
    perror(argv[1]);
    _exit(127);
  }
  close(fds[0]);

  static char buf[64 * 1024];
  size_t len = episodes_header(buf);
  int werr = 0;
  for (unsigned long i = 0; i < ROWS && werr == 0; i++) {
    if (len + EPISODES_ROW_MAX > sizeof buf) {
      werr = write_all(fds[1], buf, len);
      len = 0;
    }
    len += episodes_row(i, buf + len);
  }
  if (werr == 0) {
    werr = write_all(fds[1], buf, len);
  }
  close(fds[1]);

  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("waitpid");
      return 1;
    }
  }
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  struct stat st;
  long long feed_size = stat(feed, &st) == 0 ? (long long)st.st_size : -1;
  unlink(feed);
  rmdir(dir);

  if (werr != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "FAIL: epcal did not read the whole input and exit 0 "
                    "(status %d)\n", status);
    return 1;
  }
  /* ru_maxrss is in kilobytes on Linux and the BSDs. */
  printf("epcal generate, %lu rows: feed %lld bytes, peak RSS %ld KB "
         "(bound %ld KB)\n",
         ROWS, feed_size, ru.ru_maxrss, BOUND_KB);
  if (feed_size < (long long)ROWS * 300) {
    fprintf(stderr, "FAIL: the feed is too small to hold %lu events\n", ROWS);
    return 1;
  }
#if defined(EPCAL_SANITIZED)
  printf("sanitizer build: peak RSS not checked\n");
  return SKIP;
#else
  if (ru.ru_maxrss > BOUND_KB) {
    fprintf(stderr, "FAIL: peak RSS %ld KB is over %ld KB\n", ru.ru_maxrss,
            BOUND_KB);
    return 1;
  }
  return 0;
#endif
}
