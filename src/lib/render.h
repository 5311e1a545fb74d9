/* Internals of the renderer shared with the pipeline. */
#ifndef EPCAL_RENDER_H
#define EPCAL_RENDER_H

#include "epcal/epcal.h"

/*
 * epcal_renderer_add() for an episode that came from epcal_reader_next(),
 * whose text the reader has already checked to be valid UTF-8: checking
 * every string again costs about a tenth of a run. Everything else is
 * checked as by epcal_renderer_add().
 */
epcal_status epcal__renderer_add_read(epcal_renderer *r,
                                      const epcal_episode *ep,
                                      epcal_error *err);

#endif
