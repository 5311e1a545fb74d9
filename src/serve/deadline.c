#include "deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* How often the watchdog looks: a fraction of any sensible deadline. */
#define TICK_MS 200

typedef struct tracked {
  struct tracked *prev, *next;
  struct serve_deadline *owner;
  int fd;
  int64_t deadline_ms; /* 0: not waiting for a request head */
  bool cut;            /* already shut down */
} tracked;

struct serve_deadline {
  unsigned header_ms;
  /* Guards the list and every tracked's fields. A connection's socket is
   * closed by libmicrohttpd only after the "closed" notification, which
   * takes this lock: shutting a tracked's fd down under it never touches
   * a descriptor that was reused. */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  tracked head; /* sentinel of a circular list */
  bool stop;
  pthread_t thread;
};

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watch(void *arg) {
  serve_deadline *d = arg;
  pthread_mutex_lock(&d->lock);
  while (!d->stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += TICK_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&d->wake, &d->lock, &until);
    int64_t now = monotonic_ms();
    unsigned cut = 0;
    for (tracked *t = d->head.next; t != &d->head; t = t->next) {
      if (t->deadline_ms != 0 && !t->cut && now >= t->deadline_ms) {
        shutdown(t->fd, SHUT_RDWR);
        t->cut = true;
        cut++;
      }
    }
    if (cut > 0) {
      fprintf(stderr,
              "epcal: http: closed %u connection%s that sent no complete "
              "request within %u s\n",
              cut, cut == 1 ? "" : "s", d->header_ms / 1000);
    }
  }
  pthread_mutex_unlock(&d->lock);
  return NULL;
}

serve_deadline *serve_deadline_new(unsigned header_ms) {
  serve_deadline *d = calloc(1, sizeof *d);
  if (d == NULL) {
    return NULL;
  }
  d->header_ms = header_ms;
  d->head.next = d->head.prev = &d->head;
  if (pthread_mutex_init(&d->lock, NULL) != 0) {
    free(d);
    return NULL;
  }
  if (pthread_cond_init(&d->wake, NULL) != 0) {
    pthread_mutex_destroy(&d->lock);
    free(d);
    return NULL;
  }
  if (pthread_create(&d->thread, NULL, watch, d) != 0) {
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
    return NULL;
  }
  return d;
}

void serve_deadline_notify(void *cls, struct MHD_Connection *conn,
                           void **socket_context,
                           enum MHD_ConnectionNotificationCode toe) {
  serve_deadline *d = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    tracked *t = ci != NULL ? calloc(1, sizeof *t) : NULL;
    if (t == NULL) {
      return; /* untracked: only the idle timeout applies */
    }
    t->fd = ci->connect_fd;
    t->owner = d;
    pthread_mutex_lock(&d->lock);
    t->deadline_ms = monotonic_ms() + d->header_ms;
    t->next = d->head.next;
    t->prev = &d->head;
    d->head.next->prev = t;
    d->head.next = t;
    pthread_mutex_unlock(&d->lock);
    *socket_context = t;
    return;
  }
  tracked *t = *socket_context;
  if (t == NULL) {
    return;
  }
  pthread_mutex_lock(&d->lock);
  t->prev->next = t->next;
  t->next->prev = t->prev;
  pthread_mutex_unlock(&d->lock);
  free(t);
  *socket_context = NULL;
}

static tracked *tracked_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci != NULL ? ci->socket_context : NULL;
}

static void set_deadline(struct MHD_Connection *conn, bool waiting) {
  tracked *t = tracked_of(conn);
  if (t == NULL) {
    return;
  }
  serve_deadline *d = t->owner;
  pthread_mutex_lock(&d->lock);
  t->deadline_ms = waiting ? monotonic_ms() + d->header_ms : 0;
  pthread_mutex_unlock(&d->lock);
}

void serve_deadline_headers_done(struct MHD_Connection *conn) {
  set_deadline(conn, false);
}

void serve_deadline_rearm(struct MHD_Connection *conn) {
  set_deadline(conn, true);
}

void serve_deadline_free(serve_deadline *d) {
  if (d == NULL) {
    return;
  }
  pthread_mutex_lock(&d->lock);
  d->stop = true;
  pthread_cond_signal(&d->wake);
  pthread_mutex_unlock(&d->lock);
  pthread_join(d->thread, NULL);
  /* The daemon is stopped: every connection was closed and untracked. */
  pthread_cond_destroy(&d->wake);
  pthread_mutex_destroy(&d->lock);
  free(d);
}
