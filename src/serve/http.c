/*
 * One request: method, token, route, parameters, then a feed from the cache
 * (or the page), with validators, 304, gzip and an access-log line.
 */
#include "server.h"

#include "accesslog.h"
#include "conditional.h"
#include "deadline.h"
#include "feed.h"
#include "gzip.h"
#include "page.h"
#include "query.h"
#include "routes.h"
#include "stream.h"
#include "timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

/* More query parameters than this is not a calendar app: 400. */
#define MAX_PARAMS 16
/* The page is small; the cap only guards against a pathological catalog. */
#define MAX_PAGE_BYTES ((size_t)64 * 1024 * 1024)
/* The most shows one "my shows" feed names (?shows=a,b,...). */
#define MAX_SHOWS 50

/* Marks a request whose handler ran, for serve_http_completed(). */
static char request_marker;

typedef struct request {
  serve_server *srv;
  struct MHD_Connection *conn;
  const char *method;
  const char *path;
  const char *version;
  serve_param params[MAX_PARAMS];
  size_t n_params;
  bool too_many;
  bool head;
  bool close; /* the connection cannot be trusted further: close it */
} request;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value) {
  (void)kind;
  request *r = cls;
  if (r->n_params == MAX_PARAMS) {
    r->too_many = true;
    return MHD_NO;
  }
  r->params[r->n_params].key = key;
  r->params[r->n_params].value = value;
  r->n_params++;
  return MHD_YES;
}

static const char *header(const request *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void client_address(struct MHD_Connection *conn, char *out, size_t cap) {
  snprintf(out, cap, "-");
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci == NULL || ci->client_addr == NULL) {
    return;
  }
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET,
              &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
              (socklen_t)cap);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6,
              &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
              (socklen_t)cap);
  }
}

/* Queues `resp` with `status`, logs the request, and drops our reference
 * to the response. */
static enum MHD_Result respond(request *r, unsigned status,
                               struct MHD_Response *resp, size_t body) {
  if (resp == NULL) {
    return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
  }
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  char client[64];
  client_address(r->conn, client, sizeof client);
  serve_access a = {client,
                    r->method,
                    r->path,
                    r->params,
                    r->n_params,
                    r->version,
                    (int)status,
                    r->head || status == MHD_HTTP_NOT_MODIFIED ? 0 : body,
                    header(r, MHD_HTTP_HEADER_REFERER),
                    header(r, MHD_HTTP_HEADER_USER_AGENT),
                    (int64_t)time(NULL),
                    r->srv->cfg.token};
  serve_access_log(&a);
  return rc;
}

/* A short text/plain answer for every error status. */
static enum MHD_Result fail(request *r, unsigned status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static enum MHD_Result fail(request *r, unsigned status, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg - 1, fmt, ap);
  va_end(ap);
  size_t n = strlen(msg);
  msg[n++] = '\n';
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(n, msg, MHD_RESPMEM_MUST_COPY);
  if (resp != NULL) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
      MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    if (r->close) {
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (status == MHD_HTTP_UNAUTHORIZED) {
      MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                              "Bearer realm=\"epcal\"");
    }
  }
  return respond(r, status, resp, n);
}

/* Compares in time that depends only on the expected token's length, so
 * response timing does not reveal how much of a guess was right. */
static bool token_equal(const char *given, size_t given_len, const char *want,
                        size_t want_len) {
  unsigned char diff = given_len != want_len;
  for (size_t i = 0; i < want_len; i++) {
    unsigned char g = given_len > 0 ? (unsigned char)given[i % given_len] : 0;
    diff |= (unsigned char)(g ^ (unsigned char)want[i]);
  }
  return diff == 0;
}

static bool authorized(const request *r) {
  const serve_config *cfg = &r->srv->cfg;
  if (cfg->token == NULL) {
    return true;
  }
  bool ok = false;
  for (size_t i = 0; i < r->n_params; i++) {
    if (strcmp(r->params[i].key, "token") == 0 && r->params[i].value != NULL) {
      const char *v = r->params[i].value;
      ok |= token_equal(v, strlen(v), cfg->token, cfg->token_len);
    }
  }
  const char *auth = header(r, MHD_HTTP_HEADER_AUTHORIZATION);
  if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
    ok |= token_equal(auth + 7, strlen(auth + 7), cfg->token, cfg->token_len);
  }
  return ok;
}

struct serve_shared_upcoming {
  atomic_int refs;
  serve_upcoming list;
};

static void upcoming_release(serve_shared_upcoming *u) {
  if (u != NULL &&
      atomic_fetch_sub_explicit(&u->refs, 1, memory_order_acq_rel) == 1) {
    serve_upcoming_free(&u->list);
    free(u);
  }
}

void serve_http_cleanup(serve_server *s) {
  upcoming_release(s->upcoming);
  s->upcoming = NULL;
}

/* The upcoming list for `d` and `today`, with a reference. Made at most
 * once per data and day: page requests that find it missing wait for the
 * one that makes it (feeds never take this lock). NULL when out of
 * memory. */
static serve_shared_upcoming *upcoming_for(serve_server *s, const serve_data *d,
                                           epcal_date today) {
  pthread_mutex_lock(&s->page_lock);
  serve_shared_upcoming *u = s->upcoming;
  if (u == NULL || u->list.generation != serve_data_generation(d) ||
      epcal_date_cmp(u->list.today, today) != 0) {
    serve_shared_upcoming *fresh = calloc(1, sizeof *fresh);
    if (fresh != NULL) {
      atomic_init(&fresh->refs, 1);
      sem_wait(&s->render_slots);
      int rc = serve_upcoming_collect(d, today, s->cfg.upcoming, &fresh->list);
      sem_post(&s->render_slots);
      if (rc != 0) {
        free(fresh);
        fresh = NULL;
      }
    }
    if (fresh != NULL) {
      upcoming_release(s->upcoming);
      s->upcoming = fresh;
    }
    u = s->upcoming;
  }
  if (u != NULL) {
    atomic_fetch_add_explicit(&u->refs, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&s->page_lock);
  return u;
}

typedef struct page_job {
  serve_page page;
  sem_t *slots; /* taken while rendering */
} page_job;

static epcal_status render_page(void *ctx, int64_t now, serve_buf *out,
                                epcal_error *err) {
  (void)now;
  page_job *j = ctx;
  sem_wait(j->slots);
  int rc = serve_page_render(&j->page, out);
  sem_post(j->slots);
  if (rc != 0) {
    epcal_error_clear(err);
    err->code = EPCAL_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "page too large");
    return EPCAL_ENOMEM;
  }
  return EPCAL_OK;
}

/* The entry's gzip form, made once: compressing takes a render slot, as
 * rendering does, so that --threads bounds both. True when it exists. */
static bool gzip_entry(serve_server *s, serve_entry *e) {
  bool ready = atomic_load_explicit(&e->gz_ready, memory_order_acquire);
  if (!ready) {
    sem_wait(&s->render_slots);
  }
  bool gz = serve_cache_gzip(s->cache, e) == 0;
  if (!ready) {
    sem_post(&s->render_slots);
  }
  return gz;
}

static void release_entry(void *cls) { serve_entry_release(cls); }

/* The page is cached like a feed, under its query, page, search and the
 * day (it lists what comes up); nothing of it comes from the request's
 * headers (links are relative, or on --base-url). */
static enum MHD_Result answer_page(request *r, const serve_data *d,
                                   const serve_query *q, epcal_date today) {
  serve_server *s = r->srv;
  serve_shared_upcoming *up = upcoming_for(s, d, today);
  if (up == NULL) {
    return fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  }
  serve_buf filters, key;
  serve_buf_init(&filters, 1024);
  serve_buf_init(&key, 4096);
  serve_query_format(q, &filters);
  const char *token = s->cfg.token != NULL ? q->token : NULL;
  page_job job = {{serve_data_catalog(d), &up->list, s->cfg.base_url,
                   filters.data != NULL ? filters.data : "", token,
                   s->cfg.calendar_name, q->search,
                   q->page > 0 ? (unsigned long)q->page : 1,
                   s->cfg.stream_all ? 0 : s->cfg.max_feed_events},
                  &s->render_slots};
  serve_buf_printf(&key, "page:%04d%02d%02d?%s&page=%lu&q=", today.year,
                   today.month, today.day, job.page.query, job.page.page);
  if (q->search != NULL) {
    serve_buf_puts(&key, q->search);
  }
  if (token != NULL) {
    serve_buf_puts(&key, "&token=");
    serve_buf_puts(&key, token);
  }
  serve_entry *e = NULL;
  epcal_error err;
  epcal_error_clear(&err);
  epcal_status st =
      key.failed ? EPCAL_ENOMEM
                 : serve_cache_get(s->cache, key.data, serve_data_generation(d),
                                   0, 0, false, render_page, &job, &e, &err);
  upcoming_release(up);
  bool gz = false;
  if (st == EPCAL_OK &&
      serve_gzip_accepted(header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
    gz = gzip_entry(s, e);
  }
  serve_buf_free(&filters);
  serve_buf_free(&key);
  if (st != EPCAL_OK) {
    return fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "page too large");
  }
  bool not_modified =
      serve_not_modified(header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), NULL,
                         e->etag, e->etag_gz, INT64_MAX);
  size_t len = gz ? e->gz_len : e->len;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback_cls(
          len, gz ? e->gz : e->body, release_entry, e);
  if (resp == NULL) {
    serve_entry_release(e);
    return MHD_NO;
  }
  if (!not_modified) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/html; charset=utf-8");
    if (gz) {
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
                          gz ? e->etag_gz : e->etag);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  /* The page lists today's upcoming episodes: a minute old at most. One
   * that embeds the token is no cache's to keep, and revalidated on every
   * view (a 304 costs little). */
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                          token != NULL ? "private, no-cache"
                                        : "public, max-age=60");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; style-src 'unsafe-inline'; "
                          "form-action 'self'");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  return respond(r, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp,
                 len);
}

typedef struct feed_job {
  const serve_catalog *cat;
  const serve_rows *rows;
  const epcal_read_options *read;
  bool content_stamp; /* DTSTAMP from the rows, not from `now` */
  sem_t *slots;       /* taken while rendering */
  const epcal_selection *sel;
  const char *name;
  serve_feed_extras extras;
  const char *state_dir; /* NULL: no --state */
  const char *key;       /* the cache key: names the state file */
} feed_job;

/* DIR/<hash of the key>.ics: where --state keeps a feed's last bytes. */
static void state_path(const feed_job *j, char *out, size_t cap) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = j->key; *p != '\0'; p++) {
    h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  }
  snprintf(out, cap, "%s/%016llx.ics", j->state_dir, (unsigned long long)h);
}

/*
 * Renders a feed. With --state, the bytes last served for the same key are
 * the previous feed: an unchanged event keeps its DTSTAMP and SEQUENCE, a
 * changed one gets SEQUENCE+1, across reloads and restarts; the new bytes
 * replace the state file (atomically; it is left untouched when equal). A
 * state file that cannot be read or written costs only that stability, so
 * it is logged, never a failed request.
 */
static epcal_status render_feed(void *ctx, int64_t now, serve_buf *out,
                                epcal_error *err) {
  feed_job *j = ctx;
  char path[4096];
  epcal_previous *prev = NULL;
  if (j->state_dir != NULL) {
    state_path(j, path, sizeof path);
    epcal_error perr;
    if (epcal_previous_load(&prev, path, &perr) != EPCAL_OK) {
      fprintf(stderr, "epcal serve: %s: state ignored: %s\n", path, perr.msg);
      prev = NULL;
    }
  }
  j->extras.previous = prev;
  sem_wait(j->slots);
  epcal_status st =
      serve_feed_render(j->cat, j->rows, j->read, j->sel, j->name,
                        j->content_stamp ? -1 : now, &j->extras, out, err);
  sem_post(j->slots);
  epcal_previous_free(prev);
  j->extras.previous = NULL;
  if (st == EPCAL_OK && j->state_dir != NULL) {
    epcal_output *o;
    epcal_error werr;
    epcal_status ws = epcal_output_open(&o, path, &werr);
    if (ws == EPCAL_OK) {
      if (epcal_output_write(o, out->data, out->len) == 0) {
        ws = epcal_output_commit(o, NULL, &werr);
      } else {
        ws = EPCAL_EIO;
        snprintf(werr.msg, sizeof werr.msg, "%s", strerror(errno));
      }
      epcal_output_free(o);
    }
    if (ws != EPCAL_OK) {
      fprintf(stderr, "epcal serve: %s: cannot keep state: %s\n", path,
              werr.msg);
    }
  }
  return st;
}

static void validators(struct MHD_Response *resp, const serve_server *s,
                       const serve_entry *e, bool gz) {
  char date[30], cc[64];
  serve_http_date_format(e->modified, date);
  snprintf(cc, sizeof cc, "%s, max-age=%ld",
           s->cfg.token != NULL ? "private" : "public", s->cfg.refresh);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
                          gz ? e->etag_gz : e->etag);
  /* With content stamps nothing gives a time that moves forward with every
   * change and agrees between instances: the ETag alone validates. */
  if (!s->cfg.content_stamps) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
}

/* The days (epcal_date_to_days) the route's own events span; false when it
 * has none. */
static bool route_span(const serve_route *route, const serve_catalog *cat,
                       int32_t *first, int32_t *last) {
  if (route->kind == SERVE_ROUTE_SEASON) {
    const serve_season *se =
        serve_show_season(cat, route->show, (long)route->season);
    if (se == NULL || se->events == 0) {
      return false;
    }
    *first = se->first;
    *last = se->last;
    return true;
  }
  if (route->kind == SERVE_ROUTE_SHOW) {
    *first = route->show->first;
    *last = route->show->last;
    return route->show->events > 0;
  }
  return serve_catalog_span(cat, first, last);
}

/*
 * The cache key: the canonical route, the filters that can change the
 * bytes, and the window clamped to the dates the route's events span. A
 * bound that excludes none of its events is dropped and a window that
 * excludes all of them is "@none", so that the many spellings of one feed
 * (past_days=400 and past_days=4000 on a season a month long) are one key
 * and one render: a client cannot mint keys faster than the data has
 * distinct answers. Returns true when the key is the route's plain feed
 * (no filter left), the only kind --state keeps.
 */
static bool feed_key(const serve_route *route, const serve_catalog *cat,
                     const serve_query *q, epcal_selection *sel,
                     serve_buf *key) {
  serve_query kq = *q;
  kq.past_days = -1; /* the resolved dates below stand for these */
  kq.future_days = -1;
  if (route->kind == SERVE_ROUTE_SEASON && route->season != 0) {
    kq.specials = true; /* only season 0 holds specials */
  }
  if (kq.all_day == 0) {
    kq.all_day = -1; /* all_day=false asks for what the server does anyway */
  }
  int32_t first, last;
  bool none = false;
  if (!route_span(route, cat, &first, &last)) {
    sel->has_from = sel->has_to = false; /* nothing for a window to cut */
  } else {
    int32_t from = sel->has_from ? (int32_t)epcal_date_to_days(sel->from) : 0;
    int32_t to = sel->has_to ? (int32_t)epcal_date_to_days(sel->to) : 0;
    if ((sel->has_from && from > last) || (sel->has_to && to < first) ||
        (sel->has_from && sel->has_to && from > to)) {
      none = true;
    }
    if (sel->has_from && from <= first) {
      sel->has_from = false;
    }
    if (sel->has_to && to >= last) {
      sel->has_to = false;
    }
  }
  serve_route_path(route, key);
  serve_buf_puts(key, "?");
  size_t plain = key->len;
  serve_query_format(&kq, key);
  if (none) {
    serve_buf_puts(key, "@none");
  } else {
    if (sel->has_from) {
      serve_buf_printf(key, "@from=%04d%02d%02d", sel->from.year,
                       sel->from.month, sel->from.day);
    }
    if (sel->has_to) {
      serve_buf_printf(key, "@to=%04d%02d%02d", sel->to.year, sel->to.month,
                       sel->to.day);
    }
  }
  return key->len == plain;
}

static int cmp_show_ptr(const void *a, const void *b) {
  const serve_show *const *x = a, *const *y = b;
  return strcmp((*x)->slug, (*y)->slug);
}

/*
 * ?shows=a,b,c: the shows, sorted by slug and without repeats, so that the
 * same set names the same feed in any order. Returns 0, or an HTTP status
 * with a message.
 */
static unsigned parse_shows(const serve_catalog *cat, const char *list,
                            const serve_show **out, size_t *n, char *msg,
                            size_t cap) {
  *n = 0;
  const char *p = list;
  while (*p != '\0') {
    size_t len = strcspn(p, ",");
    if (len > 0) {
      char slug[SERVE_SLUG_MAX + 8];
      if (len >= sizeof slug) {
        snprintf(msg, cap, "no show named '%.40s...' here (see /)", p);
        return MHD_HTTP_NOT_FOUND;
      }
      memcpy(slug, p, len);
      slug[len] = '\0';
      const serve_show *show = serve_catalog_find(cat, slug);
      if (show == NULL) {
        char q[64];
        size_t k = 0;
        for (const char *c = slug; *c != '\0' && k < 40; c++) {
          q[k++] = (*c >= 0x20 && *c < 0x7f && *c != '\'') ? *c : '?';
        }
        q[k] = '\0';
        snprintf(msg, cap,
                 "no show '%s' here: shows= takes the names in the shows' "
                 "addresses (/NAME.ics), see /",
                 q);
        return MHD_HTTP_NOT_FOUND;
      }
      bool seen = false;
      for (size_t i = 0; i < *n && !seen; i++) {
        seen = out[i] == show;
      }
      if (!seen) {
        if (*n == MAX_SHOWS) {
          snprintf(msg, cap,
                   "too many shows in one feed (at most %d): split them "
                   "over several feeds",
                   MAX_SHOWS);
          return MHD_HTTP_BAD_REQUEST;
        }
        out[(*n)++] = show;
      }
    }
    p += len;
    if (*p == ',') {
      p++;
    }
  }
  if (*n == 0) {
    snprintf(msg, cap,
             "shows= names no show (shows=NAME,NAME: the names in "
             "the shows' addresses)");
    return MHD_HTTP_BAD_REQUEST;
  }
  qsort(out, *n, sizeof *out, cmp_show_ptr);
  return 0;
}

/*
 * The rows of the feed a request names: a show, a season, several shows,
 * everything, each within the date window of `sel`. Returns 0, or an HTTP
 * status with a message (413 past the server's limit on one feed).
 */
static unsigned feed_rows(const serve_server *s, const serve_catalog *cat,
                          const serve_route *route, const serve_show **shows,
                          size_t n_shows, const epcal_selection *sel,
                          serve_rows *rows, char *msg, size_t cap) {
  int32_t from =
      sel->has_from ? (int32_t)epcal_date_to_days(sel->from) : INT32_MIN;
  int32_t to = sel->has_to ? (int32_t)epcal_date_to_days(sel->to) : INT32_MAX;
  size_t max = s->cfg.max_feed_events > 0 ? s->cfg.max_feed_events : SIZE_MAX;
  bool over = false;
  int rc = 0;
  if (route->kind == SERVE_ROUTE_SHOW || route->kind == SERVE_ROUTE_SEASON) {
    rc = serve_rows_add_show(cat, route->show, route->kind == SERVE_ROUTE_SHOW,
                             route->season, from, to, max, rows, &over);
  } else if (n_shows > 0) {
    for (size_t i = 0; i < n_shows && rc == 0; i++) {
      rc = serve_rows_add_show(cat, shows[i], true, 0, from, to, max, rows,
                               &over);
    }
  } else if (serve_catalog_count_window(cat, from, to) > max) {
    over = true;
    rc = -1;
  } else {
    rc = serve_rows_add_window(cat, from, to, max, rows, &over);
  }
  if (over) {
    snprintf(msg, cap,
             "this feed would hold more than %lu events, the most one feed "
             "of this server holds: subscribe to single shows (/NAME.ics, "
             "listed at /), to a few with /calendar.ics?shows=NAME,NAME, or "
             "narrow it with future_days=N and past_days=N",
             s->cfg.max_feed_events);
    return MHD_HTTP_CONTENT_TOO_LARGE;
  }
  if (rc != 0) {
    snprintf(msg, cap, "out of memory");
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  serve_rows_sort(rows);
  return 0;
}

/*
 * The whole catalogue (or a window of it) past the feed limit: rendered
 * while it is sent, never held in memory (stream.h). The stream takes its
 * own reference to the catalogue (and so to its snapshot file), which
 * outlives the request's reference to `d`.
 */
static enum MHD_Result answer_stream(request *r, const serve_data *d,
                                     const serve_query *q,
                                     const epcal_selection *sel,
                                     const char *key) {
  serve_server *s = r->srv;
  serve_catalog *cat = (serve_catalog *)serve_data_catalog(d);
  epcal_render_options ro = s->cfg.render;
  char alarm[32];
  const char *alarms[1] = {alarm};
  ro.all_day = ro.all_day || q->all_day == 1;
  if (q->alarm >= 0) {
    snprintf(alarm, sizeof alarm, "-PT%ldM", q->alarm);
    ro.alarms = alarms;
    ro.n_alarms = 1;
  }
  int32_t from =
      sel->has_from ? (int32_t)epcal_date_to_days(sel->from) : INT32_MIN;
  int32_t to = sel->has_to ? (int32_t)epcal_date_to_days(sel->to) : INT32_MAX;
  serve_stream *st = serve_stream_new(cat, serve_data_read_options(d), sel,
                                      from, to, &ro, s->cfg.calendar_name, key);
  if (st == NULL) {
    return fail(r, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
  }
  const char *etag = serve_stream_etag(st);
  bool not_modified = serve_not_modified(
      header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), NULL, etag, NULL, INT64_MAX);
  struct MHD_Response *resp;
  char tag[64];
  snprintf(tag, sizeof tag, "%s", etag);
  /* Chunks of 64 KiB; no Content-Length: sent chunked. HEAD and 304 get
   * an empty buffer instead: libmicrohttpd 0.9.75 sends the chunked end
   * ("0", CRLF, CRLF) after the headers of either when the response has an
   * unknown size, which would break the connection's framing; with a
   * buffer it says "Content-Length: 0", which clients ignore there. */
  if (not_modified || r->head) {
    serve_stream_free(st);
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  } else {
    resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 64 * 1024, serve_stream_read, st, serve_stream_free);
    if (resp == NULL) {
      serve_stream_free(st);
    }
  }
  if (resp == NULL) {
    return MHD_NO;
  }
  if (!not_modified) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/calendar; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                            "inline; filename=\"calendar.ics\"");
  }
  char cc[64];
  snprintf(cc, sizeof cc, "%s, max-age=%ld",
           s->cfg.token != NULL ? "private" : "public", s->cfg.refresh);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, tag);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  return respond(r, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp,
                 0);
}

/* The route borrows from `d`'s catalog, which the caller holds. */
static enum MHD_Result answer_feed(request *r, const serve_data *d,
                                   serve_route *route, const serve_query *q,
                                   epcal_date today) {
  serve_server *s = r->srv;
  const serve_catalog *cat = serve_data_catalog(d);
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  serve_route_select(route, &sel);
  serve_query_select(q, today, &sel);
  char msg[600];
  const serve_show *shows[MAX_SHOWS];
  size_t n_shows = 0;
  if (q->shows != NULL) {
    unsigned bad = MHD_HTTP_BAD_REQUEST;
    if (route->kind != SERVE_ROUTE_ALL) {
      snprintf(msg, sizeof msg,
               "shows= is for /calendar.ics, not for one show's feed");
    } else {
      bad = parse_shows(cat, q->shows, shows, &n_shows, msg, sizeof msg);
    }
    if (bad != 0) {
      return fail(r, bad, "%s", msg);
    }
  }
  if (q->search != NULL || q->page > 0) {
    return fail(r, MHD_HTTP_BAD_REQUEST,
                "%s is for the page at /, not for a feed",
                q->search != NULL ? "q=" : "page=");
  }

  /* The canonical key first: it drops bounds that cut nothing, so the rows
   * below are those of the key. */
  serve_buf key, name, file;
  serve_buf_init(&key, 4096);
  serve_buf_init(&name, 4096);
  serve_buf_init(&file, 256);
  bool plain = feed_key(route, cat, q, &sel, &key);
  if (n_shows > 0) {
    /* One feed for the set: its name lists the shows, in slug order. */
    plain = false;
    serve_buf_puts(&key, "@shows=");
    for (size_t i = 0; i < n_shows; i++) {
      serve_buf_printf(&key, "%s%s", i > 0 ? "," : "", shows[i]->slug);
      serve_buf_printf(&name, "%s%s", i > 0 ? ", " : "", shows[i]->name);
    }
    serve_buf_puts(&file, "my-shows.ics");
  } else {
    serve_route_calendar_name(route, s->cfg.calendar_name, &name);
    serve_route_filename(route, &file);
  }
  if (key.failed || name.failed || file.failed) {
    serve_buf_free(&key);
    serve_buf_free(&name);
    serve_buf_free(&file);
    return fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
  }

  serve_rows rows = {NULL, 0, 0};
  unsigned bad =
      feed_rows(s, cat, route, shows, n_shows, &sel, &rows, msg, sizeof msg);
  if (bad == MHD_HTTP_CONTENT_TOO_LARGE && route->kind == SERVE_ROUTE_ALL &&
      n_shows == 0 && s->cfg.stream_all) {
    /* Everything, or a window of it, past the limit: streamed. */
    serve_rows_free(&rows);
    enum MHD_Result rc = answer_stream(r, d, q, &sel, key.data);
    serve_buf_free(&key);
    serve_buf_free(&name);
    serve_buf_free(&file);
    return rc;
  }
  if (bad != 0) {
    serve_rows_free(&rows);
    serve_buf_free(&key);
    serve_buf_free(&name);
    serve_buf_free(&file);
    return fail(r, bad, "%s", msg);
  }

  bool want_gz =
      serve_gzip_accepted(header(r, MHD_HTTP_HEADER_ACCEPT_ENCODING));
  /* --state keeps the plain feeds only: one file per show and season at
   * most, whatever query strings clients invent. */
  const char *state_dir = plain ? s->cfg.state_dir : NULL;
  feed_job job = {
      cat,
      &rows,
      serve_data_read_options(d),
      s->cfg.content_stamps,
      &s->render_slots,
      &sel,
      name.data,
      {&s->cfg.render, q->all_day == 1, q->alarm >= 0 ? q->alarm : -1, NULL},
      state_dir,
      key.data};
  serve_entry *e = NULL;
  epcal_error err;
  epcal_error_clear(&err);
  epcal_status st = serve_cache_get(
      s->cache, key.data, serve_data_generation(d), serve_data_time(d),
      s->cfg.content_stamps ? 0 : s->cfg.fixed_stamp, state_dir != NULL,
      render_feed, &job, &e, &err);
  bool gz = false;
  if (st == EPCAL_OK && want_gz) {
    gz = gzip_entry(s, e);
  }
  serve_rows_free(&rows);
  serve_buf_free(&key);
  serve_buf_free(&name);
  if (st != EPCAL_OK) {
    serve_buf_free(&file);
    fprintf(stderr, "epcal: cannot render %s: %s\n", r->path, err.msg);
    return fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the feed");
  }

  size_t len = gz ? e->gz_len : e->len;
  bool not_modified = serve_not_modified(
      header(r, MHD_HTTP_HEADER_IF_NONE_MATCH),
      header(r, MHD_HTTP_HEADER_IF_MODIFIED_SINCE), e->etag, e->etag_gz,
      s->cfg.content_stamps ? INT64_MAX : e->modified);
  unsigned status = not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
  /* The response borrows the cached bytes; its reference keeps them
   * alive even if a reload replaces the entry meanwhile. A 304 borrows
   * them too, though libmicrohttpd sends no body with it (as with HEAD):
   * 0.9.75 gives every 304 a Content-Length from the response's size, and
   * RFC 9110 8.6 allows only the one the 200 would have had. (A size of 0
   * says 0, an unknown size sends a chunked body, and
   * MHD_RF_INSANITY_HEADER_CONTENT_LENGTH sends ours beside its own.) */
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback_cls(
          len, gz ? e->gz : e->body, release_entry, e);
  if (resp == NULL) {
    serve_entry_release(e);
  } else {
    /* A 304 describes the client's copy: no representation metadata
     * beyond the validators (RFC 9110 15.4.5). */
    if (!not_modified) {
      char disp[400];
      snprintf(disp, sizeof disp, "inline; filename=\"%s\"", file.data);
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "text/calendar; charset=utf-8");
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
      if (gz) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
      }
    }
    validators(resp, s, e, gz);
  }
  serve_buf_free(&file);
  return respond(r, status, resp, len);
}

/* Content-Length headers seen in a request. */
typedef struct length_headers {
  const char *first;
  bool conflict; /* two that differ, or one that is not a plain number */
} length_headers;

static enum MHD_Result check_length(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value) {
  (void)kind;
  length_headers *lh = cls;
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0) {
    return MHD_YES;
  }
  const char *v = value != NULL ? value : "";
  bool digits = *v != '\0';
  for (const char *p = v; *p != '\0'; p++) {
    digits = digits && *p >= '0' && *p <= '9';
  }
  if (!digits || (lh->first != NULL && strcmp(lh->first, v) != 0)) {
    lh->conflict = true;
  }
  if (lh->first == NULL) {
    lh->first = v;
  }
  return MHD_YES;
}

enum MHD_Result serve_http_handle(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
  (void)upload_data;
  serve_server *s = cls;
  bool first = *req_cls == NULL;
  if (first) {
    *req_cls = &request_marker;
    atomic_fetch_add(&s->in_flight, 1);
    /* The request head is complete: its deadline is met. */
    serve_deadline_headers_done(conn);
  } else if (*upload_data_size > 0) {
    /* A body nobody asked for (refused below on the first call); its
     * bytes are dropped. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  request r;
  memset(&r, 0, sizeof r);
  r.srv = s;
  r.conn = conn;
  r.method = method;
  r.path = url;
  r.version = version;
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &r);
  r.head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

  /* Two Content-Length headers that disagree are how a request is
   * smuggled past a proxy that reads the other one (RFC 9112 6.3): the
   * framing is unknowable, so 400 and the connection is closed. */
  length_headers lh = {NULL, false};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, check_length, &lh);
  if (lh.conflict) {
    r.close = true;
    return fail(&r, MHD_HTTP_BAD_REQUEST,
                "conflicting or invalid Content-Length headers");
  }
  if (!r.head && strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
    return fail(&r, MHD_HTTP_METHOD_NOT_ALLOWED,
                "method %s is not allowed: use GET or HEAD",
                strlen(method) < 32 ? method : "(long)");
  }
  const char *cl = lh.first;
  if ((cl != NULL && strcmp(cl, "0") != 0) ||
      header(&r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) {
    return fail(&r, MHD_HTTP_CONTENT_TOO_LARGE, "a %s request takes no body",
                method);
  }
  if (first) {
    /* Answering on the first call, before libmicrohttpd knows the request
     * is complete, would make it close the connection after the response;
     * the second call keeps the connection alive for the next poll. */
    return MHD_YES;
  }
  if (!authorized(&r)) {
    return fail(&r, MHD_HTTP_UNAUTHORIZED,
                "this server's feeds are private: add ?token=...");
  }
  if (r.too_many) {
    return fail(&r, MHD_HTTP_BAD_REQUEST, "too many parameters (at most %d)",
                MAX_PARAMS);
  }

  epcal_date today = serve_local_date(epcal_now());
  /* A changed input is reloaded by this request (by one request at a
   * time; the others go on with the data they have). */
  serve_source_refresh(s->source, serve_monotonic_ms());
  serve_data *d = serve_source_acquire(s->source);
  serve_route route = serve_route_match(url, serve_data_catalog(d));
  serve_query q;
  char msg[300];
  enum MHD_Result rc;
  if (route.kind == SERVE_ROUTE_NONE) {
    rc = fail(&r, MHD_HTTP_NOT_FOUND, "no calendar at %s (see /)",
              strlen(url) < 200 ? url : "this address");
  } else if (serve_query_parse(r.params, r.n_params, &q, msg, sizeof msg) !=
             0) {
    rc = fail(&r, MHD_HTTP_BAD_REQUEST, "%s", msg);
  } else if (route.kind == SERVE_ROUTE_INDEX) {
    rc = answer_page(&r, d, &q, today);
  } else {
    rc = answer_feed(&r, d, &route, &q, today);
  }
  serve_data_release(d);
  return rc;
}

void serve_http_completed(void *cls, struct MHD_Connection *conn,
                          void **req_cls, enum MHD_RequestTerminationCode toe) {
  (void)conn;
  (void)toe;
  serve_server *s = cls;
  if (*req_cls == &request_marker) {
    atomic_fetch_sub(&s->in_flight, 1);
    *req_cls = NULL;
  }
  /* The next request on this connection has its own deadline. */
  serve_deadline_rearm(conn);
}
