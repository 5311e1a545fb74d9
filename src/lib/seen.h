/*
 * Which episodes a run has read, to catch the same episode listed twice:
 * an identical repeat is dropped with a warning, two rows that disagree are
 * an error naming both lines. One 16-byte entry per row: the index is the
 * only part of a plain run whose memory grows with the input (about 18 MB
 * per million rows).
 */
#ifndef EPCAL_SEEN_H
#define EPCAL_SEEN_H

#include "epcal/epcal.h"

typedef struct epcal__seen epcal__seen;

typedef enum epcal__seen_result {
  EPCAL__SEEN_NEW,
  EPCAL__SEEN_SAME,     /* an identical repeat */
  EPCAL__SEEN_CONFLICT, /* the same episode with other data */
  EPCAL__SEEN_NOMEM
} epcal__seen_result;

epcal__seen *epcal__seen_new(void);
void epcal__seen_free(epcal__seen *s);

/* Starts the next input file (its name is kept for messages). */
bool epcal__seen_next_file(epcal__seen *s, const char *name);

/* The identity of `ep` (its UID, or show, season and number) as a key:
 * a pure function, so the reading thread can compute it. Never 0. */
uint64_t epcal__seen_identity(const epcal_episode *ep);

/* Starts loading the slot `identity` would use: the index is far larger
 * than the caches, and a lookup that waits for memory costs as much as
 * rendering a short event. Call it a few rows ahead; 0 does nothing. */
void epcal__seen_prefetch(const epcal__seen *s, uint64_t identity);

/*
 * Records `ep` (read from the current file), whose identity is `identity`. For a repeat, *first_file and
 * *first_line say where the episode was first seen.
 */
epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   uint64_t identity, const char **first_file,
                                   unsigned long *first_line);

#endif
