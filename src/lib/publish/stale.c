/*
 * publish: what killed split runs leave behind, removed by the next run
 * that holds the directory's lock (epcal_split_remove_stale()).
 *
 * A run killed with SIGKILL cannot clean up: its feeds' temporary files
 * (tens of thousands for a big split) stay in the directory and its show
 * directories, and so may a show directory it was making. Everything epcal
 * makes there has a shape no file a person makes has, and only that is
 * removed: a temporary file ".TARGET.epcal-XXXXXX.tmp" of a target split
 * output writes (index.json, index.html, a feed path epcal makes), a show
 * directory that only such files filled, and a show directory still under
 * its temporary name ".STEM.epcal-XXXXXX.tmp". Nothing is reached through
 * a symbolic link, and only regular files are removed.
 */
#include "output.h"
#include "stems.h"

#include "epcal/epcal.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether `name` is a temporary file of a target split output writes in
 * the directory `stem` below the output directory (NULL: the output
 * directory itself): index.json, index.html, or a feed. */
static bool own_temporary(const char *stem, const char *name) {
  if (!epcal__output_is_temp_name(name, NULL)) {
    return false;
  }
  /* ".TARGET.epcal-XXXXXX.tmp" -> TARGET */
  char rel[EPCAL__STEM_MAX + 32]; /* STEM/season-NNNNNN.ics */
  size_t target = strlen(name) - 1 - strlen(".epcal-XXXXXX.tmp");
  size_t at = 0;
  if (stem != NULL) {
    at = strlen(stem);
    if (at + 1 + target >= sizeof rel) {
      return false;
    }
    memcpy(rel, stem, at);
    rel[at++] = '/';
  } else if (target >= sizeof rel) {
    return false;
  }
  memcpy(rel + at, name + 1, target);
  rel[at + target] = '\0';
  return epcal__feed_path_ok(rel) ||
         (stem == NULL &&
          (strcmp(rel, "index.json") == 0 || strcmp(rel, "index.html") == 0));
}

/* Whether `name` is a show directory's temporary name, ".STEM.epcal-
 * XXXXXX.tmp"; its stem into out. */
static bool staged_stem(const char *name, char out[EPCAL__STEM_MAX]) {
  if (!epcal__output_is_temp_name(name, NULL)) {
    return false;
  }
  size_t n = strlen(name) - 1 - strlen(".epcal-XXXXXX.tmp");
  if (n == 0 || n >= EPCAL__STEM_MAX) {
    return false;
  }
  memcpy(out, name + 1, n);
  out[n] = '\0';
  return strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Removes the temporary files split output made in the directory open as
 * fd (`stem` as in own_temporary), regular files only. */
static unsigned long remove_temporaries(int fd, const char *stem, int top_fd) {
  int list_fd = dup(fd);
  DIR *d = list_fd >= 0 ? fdopendir(list_fd) : NULL;
  if (d == NULL) {
    if (list_fd >= 0) {
      close(list_fd);
    }
    return 0;
  }
  unsigned long removed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat sb;
    if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    char staged[EPCAL__STEM_MAX];
    if (S_ISREG(sb.st_mode) && own_temporary(stem, e->d_name)) {
      removed += unlinkat(fd, e->d_name, 0) == 0;
    } else if (stem == NULL && S_ISDIR(sb.st_mode) &&
               staged_stem(e->d_name, staged)) {
      /* A show directory made under its temporary name (open_in_new_dir)
       * by a run killed before it was renamed. */
      int sub = openat(fd, e->d_name,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        removed += remove_temporaries(sub, staged, top_fd);
        close(sub);
        unlinkat(top_fd, e->d_name, AT_REMOVEDIR); /* only when empty */
      }
    } else if (stem == NULL && S_ISDIR(sb.st_mode) &&
               strlen(e->d_name) < EPCAL__STEM_MAX &&
               e->d_name[strspn(e->d_name,
                                "abcdefghijklmnopqrstuvwxyz0123456789-")] ==
                   '\0') {
      /* A show's directory (never through a link). One that held only a
       * killed run's temporary files was made by that run: it goes too. */
      int sub = openat(fd, e->d_name,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        unsigned long n = remove_temporaries(sub, e->d_name, top_fd);
        close(sub);
        if (n > 0) {
          unlinkat(top_fd, e->d_name, AT_REMOVEDIR); /* only when empty */
        }
        removed += n;
      }
    }
  }
  closedir(d);
  return removed;
}

unsigned long epcal_split_remove_stale(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  unsigned long removed = remove_temporaries(fd, NULL, fd);
  close(fd);
  return removed;
}
