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

/*
 * Records `ep` (read from the current file). For a repeat, *first_file and
 * *first_line say where the episode was first seen.
 */
epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   const char **first_file,
                                   unsigned long *first_line);

#endif
