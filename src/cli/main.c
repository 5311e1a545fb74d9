/* `epcal`: dispatches to a subcommand. */
#include "cli.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: epcal COMMAND [OPTIONS] [FILE ...]\n"
    "\n"
    "Turns episode data in CSV into iCalendar (RFC 5545) feeds.\n"
    "\n"
    "Commands:\n"
    "  generate   write a feed (one all-day event per release date)\n"
    "  list       show what a feed would hold: date, code, show, title\n"
    "  check      judge an iCalendar feed, whoever wrote it\n"
    "  serve      serve feeds over HTTP for calendar apps to subscribe to\n"
    /* New commands: one line here and one row in `commands` below. */
    "\n"
    "Run 'epcal COMMAND --help' for a command's options.\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n"
    "\n"
    "Exit status: 0 success; 1 invalid data (or, for check, problems\n"
    "found); 2 usage; 3 input/output error; 4 feed written with invalid rows\n"
    "skipped (--skip-invalid); 5 another run holds the output's lock\n"
    "(--wait).\n";

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
} command;

/*
 * `epcal serve`: runs the epcal-serve program with the same arguments.
 * It is found beside this binary (the build tree), in ../libexec/epcal
 * relative to it (an install, wherever its prefix was moved), else in the
 * libexec directory the build was configured for. The server keeps its own
 * messages and exit codes.
 */
static int run_serve(int argc, char **argv) {
  char self[4096];
  char beside[4096 + 32], relative[4096 + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  const char *candidates[3];
  size_t k = 0;
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
      *slash = '\0';
      snprintf(beside, sizeof beside, "%s/epcal-serve", self);
      snprintf(relative, sizeof relative, "%s/../libexec/epcal/epcal-serve",
               self);
      candidates[k++] = beside;
      candidates[k++] = relative;
    }
  }
  candidates[k++] = EPCAL_LIBEXECDIR "/epcal-serve";
  for (size_t i = 0; i < k; i++) {
    if (access(candidates[i], X_OK) == 0) {
      argv[0] = (char *)"epcal serve";
      execv(candidates[i], argv);
      fprintf(stderr, "epcal: cannot run %s: %s\n", candidates[i],
              strerror(errno));
      return EPCAL_EXIT_IO;
    }
  }
  (void)argc;
  fprintf(stderr, "epcal: the server program epcal-serve is not installed "
                  "(looked beside epcal and in " EPCAL_LIBEXECDIR ")\n");
  return EPCAL_EXIT_IO;
}

static const command commands[] = {
    {"generate", epcal_cli_generate},
    {"list", epcal_cli_list},
    {"check", epcal_cli_check},
    {"serve", run_serve},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_version(void) {
  /* The library's version must be the one the project was built as. */
  printf("epcal %s", EPCAL_VERSION);
  if (EPCAL_GIT_DESCRIBE[0] != '\0') {
    printf(" (git %s)", EPCAL_GIT_DESCRIBE);
  }
  putchar('\n');
}

static int unknown_command(const char *cmd) {
  const char *names[N_COMMANDS];
  for (size_t i = 0; i < N_COMMANDS; i++) {
    names[i] = commands[i].name;
  }
  const char *best = epcal_cli_closest(cmd, names, N_COMMANDS);
  if (best != NULL) {
    fprintf(stderr, "epcal: unknown command '%s'; did you mean '%s'?\n", cmd,
            best);
  } else {
    fprintf(stderr, "epcal: unknown command '%s'\n", cmd);
  }
  fputs("Try 'epcal --help'.\n", stderr);
  return EPCAL_EXIT_USAGE;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stderr);
    return EPCAL_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(usage_text, stdout);
    return EPCAL_EXIT_OK;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
    print_version();
    return EPCAL_EXIT_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++) {
    if (strcmp(cmd, commands[i].name) == 0) {
      return commands[i].run(argc - 1, argv + 1);
    }
  }
  if (cmd[0] == '-') {
    static const char *const options[] = {"--help", "--version"};
    const char *best = epcal_cli_closest(cmd, options, 2);
    fprintf(stderr, "epcal: unknown option '%s'", cmd);
    if (best != NULL) {
      fprintf(stderr, "; did you mean '%s'?", best);
    }
    fputs("\nTry 'epcal --help'.\n", stderr);
    return EPCAL_EXIT_USAGE;
  }
  return unknown_command(cmd);
}
