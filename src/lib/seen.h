/*
 * Which episodes a run has read, to catch the same episode listed twice:
 * an identical repeat is dropped with a warning, two rows that disagree are
 * an error naming both lines. The index is the only part of a plain run
 * whose memory grows with the input, so it has two modes:
 *
 * - compact (inputs that can be read again): 6 bytes per episode, a 48-bit
 *   tag of its identity. It only tells "new" from "maybe seen"; on the
 *   first "maybe" (a repeat, or two identities sharing 56 bits: about one
 *   run in 100,000 at a million rows) the caller switches to exact mode by
 *   reading the inputs again up to that row.
 * - exact: 16 bytes per episode (identity, content hash, line), for
 *   standard input and pipes, and after a switch.
 */
#ifndef EPCAL_SEEN_H
#define EPCAL_SEEN_H

#include "epcal/epcal.h"

typedef struct epcal__seen epcal__seen;

typedef enum epcal__seen_result {
  EPCAL__SEEN_NEW,
  EPCAL__SEEN_MAYBE,    /* compact mode: switch to exact mode, ask again */
  EPCAL__SEEN_SAME,     /* an identical repeat */
  EPCAL__SEEN_CONFLICT, /* the same episode with other data */
  EPCAL__SEEN_NOMEM
} epcal__seen_result;

/* A new index, compact when `compact` (every input can be read again). */
epcal__seen *epcal__seen_new(bool compact);
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

/* Whether the index is in exact mode. */
bool epcal__seen_exact(const epcal__seen *s);

/* The name of the i-th file (0-based, as given to epcal__seen_next_file),
 * and how many there are. */
const char *epcal__seen_file(const epcal__seen *s, size_t i);
size_t epcal__seen_files(const epcal__seen *s);

/*
 * Switches to exact mode, forgetting what compact mode held: the caller
 * then re-adds every row it had added (epcal__seen_readd) and asks about
 * the current row again.
 */
void epcal__seen_begin_exact(epcal__seen *s);

/* Re-adds a row of the `file`-th file read before the switch. false when
 * out of memory. */
bool epcal__seen_readd(epcal__seen *s, size_t file, const epcal_episode *ep,
                       uint64_t identity);

/* For tests: the width of compact tags (48 normally; fewer bits make
 * "maybe" common, to exercise the switch). */
extern unsigned epcal__seen_tag_bits;

/*
 * Records `ep` (read from the current file), whose identity is `identity`. For a repeat, *first_file and
 * *first_line say where the episode was first seen.
 */
epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   uint64_t identity, const char **first_file,
                                   unsigned long *first_line);

#endif
