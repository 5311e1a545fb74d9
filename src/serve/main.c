/* The epcal-serve program, which `epcal serve` runs. The server is its own
 * executable so that the other commands, cron jobs above all, do not load
 * libmicrohttpd and its TLS libraries (about 6 MB of resident memory). */
#include "serve.h"

int main(int argc, char **argv) { return epcal_serve_main(argc, argv); }
