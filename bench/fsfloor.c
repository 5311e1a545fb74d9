/*
 * fsfloor: what publishing split feeds costs the file system alone, the
 * way `epcal generate --split` publishes them: one temporary file per feed
 * beside its target (mkstemp), its bytes written, closed; one syncfs();
 * every temporary file renamed over its target; one more syncfs(). No CSV, no
 * rendering: the lower bound for writing that many files here.
 *
 *   fsfloor DIR SHOWS FEEDS BYTES
 *
 * writes FEEDS files of BYTES bytes each into DIR/show-K/ (SHOWS
 * directories, feeds spread evenly). DIR must not exist.
 */
#define _GNU_SOURCE /* syncfs(), mkstemp() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: fsfloor DIR SHOWS FEEDS BYTES\n");
    return 2;
  }
  const char *dir = argv[1];
  long shows = atol(argv[2]), feeds = atol(argv[3]), bytes = atol(argv[4]);
  if (shows <= 0 || feeds <= 0 || bytes < 0 || strlen(dir) > 160 ||
      mkdir(dir, 0755) != 0) {
    perror(dir);
    return 1;
  }
  char *data = malloc((size_t)bytes + 1);
  char (*tmp)[256] = malloc((size_t)feeds * sizeof *tmp);
  if (data == NULL || tmp == NULL) {
    return 1;
  }
  memset(data, 'x', (size_t)bytes);
  long per_show = (feeds + shows - 1) / shows;
  for (long i = 0; i < feeds; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/show-%ld", dir, i / per_show);
    if (i % per_show == 0 && mkdir(path, 0755) != 0 && errno != EEXIST) {
      perror(path);
      return 1;
    }
    snprintf(tmp[i], sizeof tmp[i], "%s/show-%ld/.season-%02ld.ics.XXXXXX",
             dir, i / per_show, i % per_show);
    int fd = mkstemp(tmp[i]);
    if (fd < 0 || write(fd, data, (size_t)bytes) != bytes || close(fd) != 0) {
      perror(tmp[i]);
      return 1;
    }
  }
  int dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0 || syncfs(dir_fd) != 0) {
    perror(dir);
    return 1;
  }
  for (long i = 0; i < feeds; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/show-%ld/season-%02ld.ics", dir,
             i / per_show, i % per_show);
    if (rename(tmp[i], path) != 0) {
      perror(path);
      return 1;
    }
  }
  syncfs(dir_fd);
  close(dir_fd);
  free(tmp);
  free(data);
  return 0;
}
