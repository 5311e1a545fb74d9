/* `epcal`: dispatches to a subcommand. */
#include "cli.h"
#include "serve.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "Usage: epcal COMMAND [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Turns episode data in CSV into iCalendar (RFC 5545) feeds.\n"
    "\n"
    "Commands:\n"
    "  generate   write a feed (one all-day event per release date)\n"
    "  serve      serve feeds over HTTP for calendar apps to subscribe to\n"
    "\n"
    "Run 'epcal COMMAND --help' for a command's options.\n"
    "  -h, --help      show this help\n"
    "  -V, --version   show the version\n"
    "\n"
    "Exit status: 0 success; 1 invalid data; 2 usage; 3 input/output error;\n"
    "4 feed written with invalid rows skipped (--skip-invalid).\n";

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
    printf("epcal %s\n", EPCAL_VERSION);
    return EPCAL_EXIT_OK;
  }
  if (strcmp(cmd, "generate") == 0) {
    return epcal_cli_generate(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "serve") == 0) {
    return epcal_serve_main(argc - 1, argv + 1);
  }
  fprintf(stderr, "epcal: unknown command '%s'\nTry 'epcal --help'.\n", cmd);
  return EPCAL_EXIT_USAGE;
}
