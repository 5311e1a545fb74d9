/*
 * The previous feed: what each event looked like when the file being
 * replaced was written, so an unchanged event keeps its DTSTAMP and
 * SEQUENCE and a changed one gets SEQUENCE+1.
 *
 * The index holds one small entry per event (UID hash, body fingerprint,
 * stamps), not the events themselves. A body fingerprint is a hash of the
 * event's content lines exactly as written (folded, CRLF), excluding UID,
 * DTSTAMP, SEQUENCE and LAST-MODIFIED: the renderer hashes the same bytes.
 */
#ifndef EPCAL_PREVIOUS_H
#define EPCAL_PREVIOUS_H

#include "epcal/epcal.h"

/*
 * One event of the previous feed: 24 bytes, the unit of a regeneration's
 * memory. epcal writes LAST-MODIFIED only equal to DTSTAMP (both are the
 * time of the last change), so a bit says whether it is there; an event
 * whose LAST-MODIFIED is another time (another program's feed) cannot be
 * written again as it was, and counts as changed (`restamp`).
 */
typedef struct epcal__prev_event {
  uint64_t uid;         /* epcal__hash64 of the UID value as written */
  uint64_t fingerprint; /* epcal__hash64 of the body lines */
  uint32_t dtstamp;     /* seconds since the epoch (to 2106) */
  uint32_t sequence : 29; /* larger values are kept as the largest */
  uint32_t modified : 1;  /* LAST-MODIFIED is there, equal to DTSTAMP */
  uint32_t restamp : 1;   /* LAST-MODIFIED is another time */
  uint32_t seen : 1;      /* this run rendered the same UID */
} epcal__prev_event;

_Static_assert(sizeof(epcal__prev_event) == 24,
               "a previous event is 24 bytes (the unit of a regeneration's "
               "memory)");

#define EPCAL__SEQUENCE_MAX ((1u << 29) - 1)

/* Starts loading the slot of `uid_hash` (p may be NULL). */
void epcal__previous_prefetch(const epcal_previous *p, uint64_t uid_hash);

/* The entry for `uid_hash`, or NULL. */
epcal__prev_event *epcal__previous_find(epcal_previous *p, uint64_t uid_hash);

/*
 * Split output keeps the previous events of the feeds it is writing in one
 * index, since an index per feed costs kilobytes even for a feed of ten
 * events (a thousand feeds may be live at once). A view (freed with
 * epcal_previous_free(), which leaves the shared index alone) finds one
 * feed's events there, keyed by their UID and the feed's `salt` (non-zero,
 * distinct per feed); epcal__previous_drop_view() takes them out again.
 */
epcal_previous *epcal__previous_shared_new(void);

/* Loads the feed at `path` into `shared` (nothing when it is damaged) and
 * gives its view; a missing file gives *view = NULL and EPCAL_OK.
 * `max_bytes` and `cancel` as for epcal__previous_load_capped(). */
epcal_status epcal__previous_load_view(epcal_previous *shared,
                                       const char *path, uint64_t salt,
                                       uint64_t max_bytes,
                                       const volatile sig_atomic_t *cancel,
                                       epcal_previous **view,
                                       epcal_error *err);

/* How many events a view added to its shared index. */
size_t epcal__previous_view_events(const epcal_previous *view);

/* Removes a view's events from its shared index (split output, once a
 * feed is finished, so that the index holds only the feeds being written)
 * and returns how many of them were never marked seen: the feed's removed
 * events. The view finds nothing afterwards. */
unsigned long epcal__previous_drop_view(epcal_previous *view);

/* Calls fn for every entry not marked seen. */
void epcal__previous_each_unseen(epcal_previous *p,
                                 void (*fn)(void *ctx,
                                            const epcal__prev_event *e),
                                 void *ctx);

/*
 * Opens a previous feed to read: *fd -1 (and EPCAL_OK) when there is none;
 * EPCAL_EUSAGE when it is not a regular file (a FIFO or device would block
 * or never end); *size its size. Never waits.
 */
epcal_status epcal__previous_open(const char *path, int *fd, uint64_t *size,
                                  epcal_error *err);

/*
 * epcal_previous_load(), reading at most `max_bytes` (0: no cap; more is
 * EPCAL_ENOMEM) and stopping with EPCAL_EIO "interrupted" as soon as
 * *cancel (optional) is non-zero.
 */
epcal_status epcal__previous_load_capped(epcal_previous **out,
                                         const char *path, uint64_t max_bytes,
                                         const volatile sig_atomic_t *cancel,
                                         epcal_error *err);

/* "YYYYMMDDTHHMMSSZ" -> seconds since the epoch; false when malformed. */
bool epcal__parse_utc(const char *s, size_t n, int64_t *out);

#endif
