/*
 * A deterministic generator of realistic episode CSV, shared by the
 * benchmark (bench/gen.c) and the memory test (tests/memory).
 *
 * Columns: show,season,episode,title,air_date,network,description,url.
 * Show names carry accents, other scripts and emoji; some need quoting
 * (commas, doubled quotes); 1% of titles hold a line break; descriptions
 * are 100-400 characters over several lines and contain ';' ',' and '\'.
 * The same row index always gives the same bytes.
 */
#ifndef EPCAL_BENCH_EPISODES_H
#define EPCAL_BENCH_EPISODES_H

#include <stddef.h>

/* Longest row episodes_row() writes, in bytes. */
#define EPISODES_ROW_MAX 4096

/* Writes the header line (with its LF) into buf; returns its length. */
size_t episodes_header(char *buf);

/* Writes data row `i` (0-based, with its LF) into buf, which holds at least
 * EPISODES_ROW_MAX bytes; returns its length. */
size_t episodes_row(unsigned long i, char *buf);

#endif
