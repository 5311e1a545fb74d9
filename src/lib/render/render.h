/* Internals of the renderer shared with the pipeline. */
#ifndef EPCAL_RENDER_H
#define EPCAL_RENDER_H

#include "epcal/epcal.h"
#include "ical_tz.h"

/*
 * epcal_renderer_add() for an episode that came from epcal_reader_next(),
 * whose text the reader has already checked to be valid UTF-8: checking
 * every string again costs about a tenth of a run. Everything else is
 * checked as by epcal_renderer_add().
 */
epcal_status epcal__renderer_add_read(epcal_renderer *r,
                                      const epcal_episode *ep,
                                      epcal_error *err);

/* Starts loading the previous feed's entry for a UID hash (a no-op without
 * a previous feed). */
void epcal__renderer_prefetch(const epcal_renderer *r, uint64_t uid_hash);

/*
 * An episode that is in the input but that the selection left out (a
 * rolling --past-days window moving on, a changed filter): its event in
 * the previous feed, if any, leaves the feed, but it is no loss of input,
 * so it is marked seen and not counted as unseen (the shrink guard counts
 * unseen events). `uid_hash` is the hash of its UID's text when known,
 * else 0. Returns whether it had an event not seen before.
 */
bool epcal__renderer_left_out(epcal_renderer *r, const epcal_episode *ep,
                              uint64_t uid_hash);

/* Writes out what the renderer holds for its current target. */
epcal_status epcal__renderer_flush(epcal_renderer *r, epcal_error *err);

/*
 * Swaps the renderer's time zones used so far with *z. Split output keeps
 * one set per feed and swaps it in when the renderer is retargeted to
 * that feed, so that a feed's VTIMEZONEs (and so its bytes) depend only on
 * its own events.
 */
void epcal__renderer_swap_zones(epcal_renderer *r, epcal__zoneset *z);

#endif
