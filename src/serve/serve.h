/* `epcal serve`: the subscription server, as a library the `epcal` command
 * links, so the command dispatches to it without knowing its insides. */
#ifndef EPCAL_SERVE_SERVE_H
#define EPCAL_SERVE_SERVE_H

/* Runs `epcal serve` with argv[0] == "serve". Returns the exit code: 0 after
 * SIGINT/SIGTERM, 1 invalid data at start-up, 2 usage, 3 I/O (the address
 * cannot be bound, an input cannot be read). */
int epcal_serve_main(int argc, char **argv);

#endif
