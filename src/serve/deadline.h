/*
 * An absolute deadline for a request's line and headers.
 *
 * libmicrohttpd's connection timeout counts idle time only: a client that
 * sends one header line every few seconds (slowloris) holds its connection,
 * and a thread, for as long as it likes. Here every connection must deliver
 * a complete request head within `header_ms` of being accepted, or of the
 * end of its previous response (so an idle keep-alive connection is closed
 * after that time too). A watchdog thread shuts down the socket of a
 * connection that misses it; libmicrohttpd then sees the end of the stream
 * and closes the connection itself.
 *
 * Thread-safe: the callbacks run on libmicrohttpd's threads.
 */
#ifndef EPCAL_SERVE_DEADLINE_H
#define EPCAL_SERVE_DEADLINE_H

#include <microhttpd.h>

typedef struct serve_deadline serve_deadline;

/* Starts the watchdog. NULL when out of memory or threads. */
serve_deadline *serve_deadline_new(unsigned header_ms);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; `cls` is the
 * serve_deadline. Tracks the connection from start to close. */
void serve_deadline_notify(void *cls, struct MHD_Connection *conn,
                           void **socket_context,
                           enum MHD_ConnectionNotificationCode toe);

/* The request head of `conn` is complete: its deadline no longer runs. */
void serve_deadline_headers_done(struct MHD_Connection *conn);

/* A response on `conn` is done: the next request's deadline starts now. */
void serve_deadline_rearm(struct MHD_Connection *conn);

/* Stops the watchdog and frees it. Call after the daemon has stopped. */
void serve_deadline_free(serve_deadline *d);

#endif
