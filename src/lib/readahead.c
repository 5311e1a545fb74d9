/* The read stage run ahead of render (see readahead.h). */
#define _GNU_SOURCE /* sched_getaffinity: the CPUs this process may use */

#include "readahead.h"

#include "error.h"
#include "keytab.h" /* epcal__hash64 */
#include "read/reader.h"
#include "select/seen.h"
#include "render/uid.h"
#include "read/utf8.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Batches in the ring: one being filled, one being drained, the rest (about
 * 1,800 rows, 1 MB) to absorb the uneven cost of rows and the calling
 * thread's pauses while the kernel takes a step of writeback. At a million
 * rows, alternating runs: 4 batches took 1.58 s where 16 took 1.51 s, and
 * 8 took 1.67 s where 16 took 1.60 s. Since a waiting thread sleeps until
 * WAKE_AFTER batches are ready, batches of 128 rows are as fast as of 256
 * (0.97 s both) and take 1 MB less; 8 of them were 1% slower. */
#define RING 16
/* A batch is passed on when it holds this many rows, this much text, or
 * this many errors, whichever comes first. */
#define BATCH_ROWS 128
#define BATCH_TEXT (48 * 1024)
#define BATCH_ERRORS 4
/* A thread that had to wait for the other sleeps until this many batches
 * are ready for it (filled for the calling thread, free for the reading
 * one), or the other has ended: waking on every batch cost three futex
 * calls a batch (12,766 at a million rows), each a context switch and, on
 * a VM, an interrupt between CPUs. */
#define WAKE_AFTER 4

/* The episode's strings, copied into the batch's text. */
enum { T_SHOW, T_TITLE, T_DESCRIPTION, T_URL, T_NETWORK, T_UID, T_TIMEZONE,
       N_TEXT };
#define NO_TEXT ((size_t)-1)

/* A row in a batch: text as offsets, since the text may move as it grows;
 * the calling thread turns them into pointers when it takes the row. */
typedef struct held {
  epcal__row row;
  size_t text[N_TEXT];
  size_t error; /* index in the batch's errors */
} held;

typedef struct batch {
  held rows[BATCH_ROWS];
  size_t n;
  char *text;
  size_t used, cap;
  epcal_error errors[BATCH_ERRORS];
  size_t n_errors;
} batch;

struct epcal__readahead {
  epcal_reader *rd;
  bool skip_invalid;
  bool uid_keys;
  epcal__uid_memo uid_memo; /* reading thread: for uid_key */
  bool done; /* reading thread: END or a stopping error is in a batch */

  batch *ring[RING];
  batch *cur; /* calling thread: the batch it drains, or NULL */
  size_t pos; /* its next row */

  bool threaded;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t filled; /* a batch became full, or the thread ended */
  pthread_cond_t freed;  /* a batch became free, or stop was asked */
  size_t head;           /* the batch the reading thread fills next */
  size_t tail;           /* the batch the calling thread drains */
  size_t full;           /* batches filled and not yet drained */
  bool stop;             /* calling thread: stop reading */
  bool ended;            /* reading thread: it has returned */
  /* Who waits on a condition: a signal nobody waits for is a system call
   * for nothing, thousands of times a run. */
  bool reader_waits, caller_waits;
};

/* Makes room for `need` more bytes of text in b; false when out of memory. */
static bool reserve_text(batch *b, size_t need) {
  if (need <= b->cap - b->used) {
    return true;
  }
  size_t cap = b->cap != 0 ? b->cap : BATCH_TEXT;
  while (cap - b->used < need) {
    cap *= 2;
  }
  char *text = realloc(b->text, cap);
  if (text == NULL) {
    return false;
  }
  b->text = text;
  b->cap = cap;
  return true;
}

/*
 * Copies the episode's text into b; false when out of memory. Its strings
 * are cells of the record (the reader trims them in place), so the cells
 * go over in one copy, without measuring each string: strlen on every
 * string was 5% of the reading thread, the thread that bounds a run. A
 * string from elsewhere (none today) is copied on its own.
 */
static bool keep_text(batch *b, held *h, const epcal_episode *ep,
                      const char *cells, size_t cells_len) {
  const char *s[N_TEXT] = {ep->show,    ep->title, ep->description, ep->url,
                           ep->network, ep->uid,   ep->timezone};
  if (!reserve_text(b, cells_len)) {
    return false;
  }
  size_t base = b->used;
  if (cells_len > 0) {
    memcpy(b->text + base, cells, cells_len);
  }
  b->used += cells_len;
  for (int i = 0; i < N_TEXT; i++) {
    if (s[i] == NULL) {
      h->text[i] = NO_TEXT;
    } else if ((uintptr_t)s[i] - (uintptr_t)cells < cells_len) {
      h->text[i] = base + (size_t)((uintptr_t)s[i] - (uintptr_t)cells);
    } else {
      size_t len = strlen(s[i]) + 1;
      if (!reserve_text(b, len)) {
        return false;
      }
      memcpy(b->text + b->used, s[i], len);
      h->text[i] = b->used;
      b->used += len;
    }
  }
  return true;
}

/* Reads one row into b (the reading thread's side). */
static void read_row(epcal__readahead *ra, batch *b) {
  held *h = &b->rows[b->n++];
  epcal__row *r = &h->row;
  epcal_error *e = &b->errors[b->n_errors];
  const epcal_episode *ep;
  epcal_status st = epcal_reader_next(ra->rd, &ep, e);
  if (st == EPCAL_OK && ep == NULL) {
    r->kind = EPCAL__ROW_END;
    ra->done = true;
  } else if (st == EPCAL_OK) {
    r->kind = EPCAL__ROW_EPISODE;
    r->ep = *ep;
    r->key = epcal__seen_key_of(ep);
    r->uid_key = 0;
    if (ra->uid_keys && (ep->uid == NULL || !epcal__has_visible(ep->uid))) {
      char uid[512];
      size_t n = epcal__uid_derive(&ra->uid_memo, ep, uid, sizeof uid);
      r->uid_key = n < sizeof uid ? epcal__hash64(uid, n) : 0;
    }
    size_t cells_len;
    const char *cells = epcal__reader_cells(ra->rd, &cells_len);
    if (!keep_text(b, h, ep, cells, cells_len)) {
      st = epcal__fail(e, EPCAL_ENOMEM, ep->file, ep->line, 0,
                       "out of memory");
    }
  }
  if (st != EPCAL_OK) {
    r->kind = EPCAL__ROW_ERROR;
    r->status = st;
    r->skippable = st == EPCAL_EDATA && epcal_reader_columns(ra->rd) > 0;
    h->error = b->n_errors++;
    if (!(r->skippable && ra->skip_invalid)) {
      ra->done = true;
    }
  }
  r->rows = epcal_reader_rows(ra->rd);
  r->bytes = epcal_reader_bytes(ra->rd);
}

static void fill(epcal__readahead *ra, batch *b) {
  b->n = 0;
  b->used = 0;
  b->n_errors = 0;
  while (!ra->done && b->n < BATCH_ROWS && b->used < BATCH_TEXT &&
         b->n_errors < BATCH_ERRORS) {
    read_row(ra, b);
  }
}

static void *reading_thread(void *arg) {
  epcal__readahead *ra = arg;
  pthread_mutex_lock(&ra->lock);
  while (!ra->stop && !ra->done) {
    if (ra->full == RING) {
      ra->reader_waits = true;
      pthread_cond_wait(&ra->freed, &ra->lock);
      ra->reader_waits = false;
      continue;
    }
    batch *b = ra->ring[ra->head];
    pthread_mutex_unlock(&ra->lock);
    fill(ra, b);
    pthread_mutex_lock(&ra->lock);
    ra->head = (ra->head + 1) % RING;
    ra->full++;
    if (ra->caller_waits && ra->full >= WAKE_AFTER) {
      pthread_cond_signal(&ra->filled);
    }
  }
  ra->ended = true;
  pthread_cond_signal(&ra->filled);
  pthread_mutex_unlock(&ra->lock);
  return NULL;
}

/* Whether this process may run on more than one CPU now (taskset and
 * cgroup CPU sets narrow it). */
static bool several_cpus(void) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    return CPU_COUNT(&set) > 1;
  }
  return false;
#else
  return sysconf(_SC_NPROCESSORS_ONLN) > 1;
#endif
}

/* Starts the reading thread with every signal blocked, so that signals
 * reach the calling thread (which checks the cancel flag between rows). */
static bool start_thread(epcal__readahead *ra) {
  if (pthread_mutex_init(&ra->lock, NULL) != 0) {
    return false;
  }
  if (pthread_cond_init(&ra->filled, NULL) != 0) {
    pthread_mutex_destroy(&ra->lock);
    return false;
  }
  if (pthread_cond_init(&ra->freed, NULL) != 0) {
    pthread_cond_destroy(&ra->filled);
    pthread_mutex_destroy(&ra->lock);
    return false;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  bool ok = pthread_create(&ra->thread, NULL, reading_thread, ra) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!ok) {
    pthread_cond_destroy(&ra->freed);
    pthread_cond_destroy(&ra->filled);
    pthread_mutex_destroy(&ra->lock);
  }
  return ok;
}

epcal_status epcal__readahead_start(epcal__readahead **out, epcal_reader *rd,
                                    bool regular_file, bool skip_invalid,
                                    bool uid_keys, unsigned threads,
                                    epcal_error *err) {
  epcal__readahead *ra = calloc(1, sizeof *ra);
  if (ra == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  ra->rd = rd;
  ra->skip_invalid = skip_invalid;
  ra->uid_keys = uid_keys;
  bool ahead = threads != 1 && regular_file && several_cpus();
  /* Without the thread one batch is filled and drained in turn. */
  size_t n = ahead ? RING : 1;
  for (size_t i = 0; i < n; i++) {
    ra->ring[i] = malloc(sizeof *ra->ring[i]);
    if (ra->ring[i] == NULL) {
      epcal__readahead_free(ra);
      return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
    }
    ra->ring[i]->text = NULL;
    ra->ring[i]->cap = 0;
  }
  /* A thread that cannot start is no error: reading inline still works. */
  ra->threaded = ahead && start_thread(ra);
  *out = ra;
  return EPCAL_OK;
}

/* The next full batch for the calling thread, or NULL when the reading
 * thread has ended without one (only after END or a stopping error). */
static batch *take_batch(epcal__readahead *ra) {
  if (!ra->threaded) {
    if (ra->done) {
      return NULL;
    }
    fill(ra, ra->ring[0]);
    return ra->ring[0];
  }
  pthread_mutex_lock(&ra->lock);
  if (ra->cur != NULL) {
    ra->tail = (ra->tail + 1) % RING;
    ra->full--;
    if (ra->reader_waits && ra->full <= RING - WAKE_AFTER) {
      pthread_cond_signal(&ra->freed);
    }
  }
  while (ra->full == 0 && !ra->ended) {
    ra->caller_waits = true;
    pthread_cond_wait(&ra->filled, &ra->lock);
    ra->caller_waits = false;
  }
  batch *b = ra->full > 0 ? ra->ring[ra->tail] : NULL;
  pthread_mutex_unlock(&ra->lock);
  return b;
}

const epcal__row *epcal__readahead_next(epcal__readahead *ra) {
  if (ra->cur == NULL || ra->pos == ra->cur->n) {
    ra->cur = take_batch(ra);
    ra->pos = 0;
    if (ra->cur == NULL || ra->cur->n == 0) {
      /* Called again after the end: say so again. */
      static const epcal__row end = {.kind = EPCAL__ROW_END};
      return &end;
    }
  }
  batch *b = ra->cur;
  held *h = &b->rows[ra->pos++];
  epcal__row *r = &h->row;
  if (r->kind == EPCAL__ROW_ERROR) {
    r->err = &b->errors[h->error];
  } else if (r->kind != EPCAL__ROW_END) {
    const char **s[N_TEXT] = {&r->ep.show,    &r->ep.title, &r->ep.description,
                              &r->ep.url,     &r->ep.network, &r->ep.uid,
                              &r->ep.timezone};
    for (int i = 0; i < N_TEXT; i++) {
      *s[i] = h->text[i] != NO_TEXT ? b->text + h->text[i] : NULL;
    }
  }
  return r;
}

const epcal__row *epcal__readahead_peek(const epcal__readahead *ra,
                                        size_t ahead) {
  const batch *b = ra->cur;
  if (b == NULL || ra->pos + ahead > b->n) {
    return NULL;
  }
  const epcal__row *r = &b->rows[ra->pos + ahead - 1].row;
  return r->kind == EPCAL__ROW_EPISODE ? r : NULL;
}

bool epcal__readahead_threaded(const epcal__readahead *ra) {
  return ra->threaded;
}

void epcal__readahead_free(epcal__readahead *ra) {
  if (ra == NULL) {
    return;
  }
  if (ra->threaded) {
    pthread_mutex_lock(&ra->lock);
    ra->stop = true;
    pthread_cond_signal(&ra->freed);
    pthread_mutex_unlock(&ra->lock);
    pthread_join(ra->thread, NULL);
    pthread_cond_destroy(&ra->freed);
    pthread_cond_destroy(&ra->filled);
    pthread_mutex_destroy(&ra->lock);
  }
  for (size_t i = 0; i < RING; i++) {
    if (ra->ring[i] != NULL) {
      free(ra->ring[i]->text);
      free(ra->ring[i]);
    }
  }
  free(ra);
}
