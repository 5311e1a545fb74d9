/*
 * The read stage run ahead, on a second thread when that pays.
 *
 * Reading (libcsv, typing, UTF-8 validation) takes about as long as the
 * rest (the repeat check, rendering, writing); on two cores, running the
 * two side by side brings a run's wall time close to the longer of them. The
 * reading thread copies each row into a batch it owns (a few hundred rows
 * and their text); full batches pass to the calling thread through a ring
 * of four, so memory stays fixed whatever the size of the input.
 *
 * The reading thread only records what it found. Everything that reaches
 * the caller's callbacks (warnings, notes, progress) is done by the calling
 * thread, in input order, so messages, statistics and output are the same
 * bytes with or without the second thread. Without it (one CPU, a pipe,
 * threads = 1) the same batches are filled and drained in turn.
 */
#ifndef EPCAL_READAHEAD_H
#define EPCAL_READAHEAD_H

#include "epcal/epcal.h"
#include "select/seen.h"

typedef struct epcal__readahead epcal__readahead;

typedef enum epcal__row_kind {
  EPCAL__ROW_EPISODE, /* an episode */
  EPCAL__ROW_ERROR,   /* an invalid row, or a failure */
  EPCAL__ROW_END      /* the input is over */
} epcal__row_kind;

/* One row as the calling thread sees it. */
typedef struct epcal__row {
  epcal__row_kind kind;
  epcal_episode ep;         /* EPISODE */
  epcal__seen_key key;      /* EPISODE: epcal__seen_key_of(&ep) */
  uint64_t uid_key;         /* EPISODE, when asked for: epcal__hash64 of a
                               derived UID; 0 for a uid column's */
  epcal_status status;      /* ERROR: its code, never EPCAL_OK */
  const epcal_error *err;   /* ERROR: what and where */
  bool skippable;           /* ERROR: a data error in a row, not the header */
  unsigned long rows;       /* the reader's rows and bytes after this row */
  uint64_t bytes;
} epcal__row;

/*
 * Starts reading `rd`, which the reading thread uses until
 * epcal__readahead_free(): do not touch it meanwhile. With `uid_keys` each
 * row also gets the hash of its UID (change tracking looks it up). Reading stops after END, after an error that is not skippable,
 * and after a skippable one unless `skip_invalid` (the caller skips invalid
 * rows, or reports them all). `threads`: 1 reads on
 * the calling thread; 0 (auto) or more read ahead on a second thread when
 * `rd` reads a regular file (a pipe could block it where no one can stop it)
 * and the process may run on more than one CPU. Returns EPCAL_OK or
 * EPCAL_ENOMEM.
 */
epcal_status epcal__readahead_start(epcal__readahead **out, epcal_reader *rd,
                                    bool regular_file, bool skip_invalid,
                                    bool uid_keys, unsigned threads,
                                    epcal_error *err);

/*
 * The next row, valid until the next call or epcal__readahead_free(). Do
 * not call again after END or after an error that stops reading.
 */
const epcal__row *epcal__readahead_next(epcal__readahead *ra);

/* The row `ahead` rows after the one last returned, when it is already at
 * hand and an episode, else NULL: only its identity and uid_key may be
 * read (for prefetching the slots they will need). */
const epcal__row *epcal__readahead_peek(const epcal__readahead *ra,
                                        size_t ahead);

/* Whether a second thread reads ahead (for tests and benchmarks). */
bool epcal__readahead_threaded(const epcal__readahead *ra);

/* Stops the reading thread (waiting for it) and frees everything. */
void epcal__readahead_free(epcal__readahead *ra);

#endif
