/* Stopping cleanly on SIGINT/SIGTERM/SIGHUP: the handler only records the
 * signal; the run notices it, fails through its normal cleanup (removing
 * its temporary file, leaving the previous feed untouched), and then the
 * signal is raised again so the caller sees how the process ended. */
#include "cli.h"

#include <string.h>

volatile sig_atomic_t epcal_cli_signal;

static void on_signal(int sig) { epcal_cli_signal = sig; }

void epcal_cli_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

void epcal_cli_reraise_signal(void) {
  int sig = epcal_cli_signal;
  if (sig != 0) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
}
