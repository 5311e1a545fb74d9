/*
 * Which episodes a run has read, to catch the same episode listed twice:
 * an identical repeat is dropped with a warning, two rows that disagree are
 * an error naming both lines. The index is the only part of a plain run
 * whose memory grows with the input, so it has two modes:
 *
 * - compact (inputs that can be read again): one bit per episode in a
 *   64-bit set of episode numbers per season (16 bytes a season, kept by
 *   a 64-bit hash of show and season), and for episodes a season's set
 *   cannot hold (a uid column's, numbers above 63) a 48-bit tag of their
 *   identity (6 bytes each). It only tells "new" from "maybe seen"; on the
 *   first "maybe" (a repeat, or two seasons' or identities' hashes that
 *   meet: about one run in 100,000 at a million rows) the caller switches
 *   to exact mode by reading the inputs again up to that row.
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

/* What the index knows an episode by. */
typedef struct epcal__seen_key {
  uint64_t identity; /* its UID, or show, season and number; never 0 */
  uint64_t season;   /* show and season when the episode has no UID and a
                        number a season's set holds (0-63); else 0 */
} epcal__seen_key;

/* The key of `ep`: a pure function, so the reading thread can compute it. */
epcal__seen_key epcal__seen_key_of(const epcal_episode *ep);

/* Starts loading the slot `key` would use: the index can be larger than
 * the caches, and a lookup that waits for memory costs as much as
 * rendering a short event. Call it a few rows ahead. */
void epcal__seen_prefetch(const epcal__seen *s, epcal__seen_key key);

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

/* For tests: the width of compact tags and season hashes (48 normally;
 * fewer bits make "maybe" common, to exercise the switch). */
extern unsigned epcal__seen_tag_bits;

/*
 * Records `ep` (read from the current file), whose key is `key`. For a
 * repeat, *first_file and *first_line say where the episode was first seen.
 */
epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   epcal__seen_key key,
                                   const char **first_file,
                                   unsigned long *first_line);

#endif
