/*
 * The whole catalogue as one feed, rendered while it is sent: past the
 * feed limit, /calendar.ics (with or without a date window) is not built in
 * memory but streamed (chunked), a few hundred rows at a time, in input
 * order. Memory stays at one batch of rows and one chunk of output.
 *
 * Its ETag comes before its bytes, so it cannot be a hash of them: it is a
 * hash of what they are made of, the same on every instance given the same
 * data and options: the catalogue's digest (of every input byte), a probe
 * event rendered with the request's options, and the request's canonical
 * key. Its DTSTAMP is the content stamp of the catalogue's digest.
 */
#ifndef EPCAL_SERVE_STREAM_H
#define EPCAL_SERVE_STREAM_H

#include "catalog.h"

#include "epcal/epcal.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct serve_stream serve_stream;

/*
 * A stream of the rows of `cat` dated in [from, to] (days) that `sel`
 * keeps, rendered with `ro` (its `now` and `calendar_name` are replaced;
 * its strings must outlive the stream, except the alarms, copied) into a
 * calendar named `name`, read with `read` (must outlive the stream). Takes
 * a reference to `cat`. `key`: the request's canonical key, for the ETag.
 * NULL when out of memory or the options are refused.
 */
serve_stream *serve_stream_new(serve_catalog *cat,
                               const epcal_read_options *read,
                               const epcal_selection *sel, int32_t from,
                               int32_t to, const epcal_render_options *ro,
                               const char *name, const char *key);

/* The ETag, quotes included. */
const char *serve_stream_etag(const serve_stream *s);

/* libmicrohttpd's content reader: the next bytes, up to `max`. */
ssize_t serve_stream_read(void *cls, uint64_t pos, char *buf, size_t max);

/* libmicrohttpd's free callback: frees the stream, drops its reference. */
void serve_stream_free(void *cls);

#endif
