/* How `epcal list` prints its rows: a table for people, CSV or JSON for
 * scripts. */
#ifndef EPCAL_CLI_LIST_FORMAT_H
#define EPCAL_CLI_LIST_FORMAT_H

#include "list_store.h"

#include <stdio.h>

typedef enum epcal_list_format {
  EPCAL_LIST_TABLE,
  EPCAL_LIST_CSV,
  EPCAL_LIST_JSON
} epcal_list_format;

/* Parses "table", "csv" or "json". Returns 0 or -1. */
int epcal_list_format_parse(const char *s, epcal_list_format *out);

/*
 * Writes the store's rows, in their current order, to fp.
 * table: aligned columns DATE CODE SHOW TITLE under a header; when
 *        `upcoming_from` is non-zero (YYYYMMDD), rows on or after it get a
 *        '*' in a leading column and a legend line follows. Control
 *        characters in text become spaces so that a row stays one line.
 * csv:   RFC 4180 quoting, LF line ends, header
 *        date,code,show,season,episode,title.
 * json:  an array of objects {date, code, show, season, episode, title};
 *        title is null when absent.
 */
void epcal_list_print(FILE *fp, const epcal_list_store *s,
                      epcal_list_format format, uint32_t upcoming_from);

#endif
