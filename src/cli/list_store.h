/*
 * The rows `epcal list` shows, held in memory so they can be put in date
 * order (generate streams; list cannot). Stored compactly: a 24-byte record
 * per row and one text arena for the strings, where a show name repeated by
 * consecutive rows is stored once.
 */
#ifndef EPCAL_CLI_LIST_STORE_H
#define EPCAL_CLI_LIST_STORE_H

#include "epcal/epcal.h"

#include <stdint.h>

#define EPCAL_LIST_NO_TEXT UINT32_MAX

typedef struct epcal_list_row {
  uint32_t date;  /* YYYYMMDD, so that numeric order is date order */
  int32_t season; /* the reader allows 0..999999 */
  int32_t number;
  uint32_t show;  /* offset into the arena */
  uint32_t title; /* offset into the arena, or EPCAL_LIST_NO_TEXT */
  uint32_t seq;   /* input order: ties keep it */
} epcal_list_row;

typedef struct epcal_list_store {
  epcal_list_row *rows;
  size_t n;
  size_t cap;
  char *text;
  size_t text_len;
  size_t text_cap;
  uint32_t last_show; /* arena offset of the previous row's show */
} epcal_list_store;

/* Copies what list shows of a scheduled episode. Returns false when out of
 * memory or past 4 GiB of text or rows. */
bool epcal_list_store_add(epcal_list_store *s, const epcal_episode *ep);

/* Orders rows by date, then show, season, number, then input order. */
void epcal_list_store_sort(epcal_list_store *s);

/* The string at arena offset `off`, or NULL for EPCAL_LIST_NO_TEXT.
 * Borrowed from the store. */
const char *epcal_list_store_text(const epcal_list_store *s, uint32_t off);

/* Frees everything and empties the store. */
void epcal_list_store_free(epcal_list_store *s);

#endif
