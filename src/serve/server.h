/* The state every request handler shares, and the handlers libmicrohttpd
 * calls. */
#ifndef EPCAL_SERVE_SERVER_H
#define EPCAL_SERVE_SERVER_H

#include "cache.h"
#include "deadline.h"
#include "source.h"
#include "upcoming.h"

#include <microhttpd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serve_config {
  const char *token; /* NULL: public feeds */
  size_t token_len;
  long refresh;              /* Cache-Control max-age, seconds */
  const char *calendar_name; /* of /calendar.ics */
  int64_t fixed_stamp;       /* SOURCE_DATE_EPOCH for DTSTAMP, or -1 */
  /* Neither SOURCE_DATE_EPOCH nor --state: each feed's DTSTAMP comes from
   * its own rows (serve_feed_content_stamp), so that instances agree. */
  bool content_stamps;
  unsigned long max_feed_events; /* --max-feed-events: 413 past it; 0: none */
  /* /calendar.ics past max_feed_events: streamed (chunked, rendered while
   * sent) rather than refused; --no-stream turns it off. */
  bool stream_all;
  char host[300]; /* the bound "address:port", for the log */
  /* --base-url without a trailing '/', for absolute links on the page; NULL:
   * links relative to the page (nothing comes from the client's Host). */
  char *base_url;
  size_t upcoming;             /* episodes listed under "Coming up" */
  const char *state_dir;       /* --state: each feed's last bytes, or NULL */
  epcal_render_options render; /* how events are written (generate's) */
} serve_config;

/* The page's list of upcoming episodes, shared by the requests that use it
 * (reference-counted; replaced when the data or the day changes). */
typedef struct serve_shared_upcoming serve_shared_upcoming;

typedef struct serve_server {
  serve_config cfg;
  /* No lock is held across rendering, compressing, building the page or
   * reloading: the source swaps its data under its own short lock, the cache
   * guards only its table, and `page_lock` only the upcoming list. */
  serve_source *source;
  serve_cache *cache;
  /* Renders and compressions at once (--threads): a flood of cache misses
   * queues here and never takes every CPU from the requests served from
   * memory. */
  sem_t render_slots;
  pthread_mutex_t page_lock;
  serve_shared_upcoming *upcoming; /* under page_lock */
  atomic_int in_flight; /* requests being answered, for a clean shutdown */
} serve_server;

/* libmicrohttpd's access handler; `cls` is the serve_server. */
enum MHD_Result serve_http_handle(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls);

/* libmicrohttpd's request-completed callback. */
void serve_http_completed(void *cls, struct MHD_Connection *conn,
                          void **req_cls, enum MHD_RequestTerminationCode toe);

/* Frees what the handlers left in `s` (the upcoming list). */
void serve_http_cleanup(serve_server *s);

#endif
