/* Unit tests of the server's modules that need no socket: HTTP dates,
 * validators, content negotiation, query parameters, routes and slugs, the
 * access log, and how the cache keeps a feed's time across reloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <zlib.h>

#include "accesslog.h"
#include "buf.h"
#include "cache.h"
#include "catalog.h"
#include "conditional.h"
#include "gzip.h"
#include "query.h"
#include "routes.h"
#include "timeutil.h"

static void http_dates(void **state) {
  (void)state;
  char out[30];
  serve_http_date_format(784111777, out);
  assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
  serve_http_date_format(0, out);
  assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
  int64_t t = 0;
  /* The three forms RFC 9110 asks recipients to accept. */
  assert_true(serve_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
  assert_int_equal(t, 784111777);
  t = 0;
  assert_true(serve_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
  assert_int_equal(t, 784111777);
  t = 0;
  assert_true(serve_http_date_parse("Sun Nov  6 08:49:37 1994", &t));
  assert_int_equal(t, 784111777);
  assert_true(serve_http_date_parse("Thu, 29 Feb 2024 23:59:59 GMT", &t));
  assert_int_equal(t, 1709251199);
  /* Anything else is no date: the header is then ignored. */
  const char *bad[] = {"",
                       "yesterday",
                       "Sun, 06 Nov 1994 08:49:37 UTC",
                       "Sun, 6 Nov 1994 08:49:37 GMT",
                       "Thu, 30 Feb 2023 00:00:00 GMT",
                       "Sun, 06 Nov 1994 25:49:37 GMT",
                       "Sun, 06 Nov 1994 08:49:37 GMT trailing",
                       "Sun, 06 Foo 1994 08:49:37 GMT"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_false(serve_http_date_parse(bad[i], &t));
  }
  /* Every day for 400 years round-trips. */
  for (int64_t d = -1000; d < 146097; d += 7) {
    epcal_date date = epcal_date_from_days(d);
    assert_int_equal(epcal_date_to_days(date), d);
    serve_http_date_format(d * 86400 + 3661, out);
    assert_true(serve_http_date_parse(out, &t));
    assert_int_equal(t, d * 86400 + 3661);
  }
}

static void etags(void **state) {
  (void)state;
  const char *e = "\"abc-12\"", *g = "\"abc-12-gz\"";
  assert_true(serve_etag_matches("\"abc-12\"", e, g));
  assert_true(serve_etag_matches("\"abc-12-gz\"", e, g));
  assert_true(serve_etag_matches("W/\"abc-12\"", e, g));
  assert_true(serve_etag_matches("\"x\", \"y\",\"abc-12\"", e, g));
  assert_true(serve_etag_matches("*", e, g));
  assert_false(serve_etag_matches("\"abc-1\"", e, g));
  assert_false(serve_etag_matches("\"abc-12", e, g));
  assert_false(serve_etag_matches("abc-12", e, g));
  assert_false(serve_etag_matches("", e, g));
  assert_false(serve_etag_matches("\"a,b\"", "\"a\"", NULL));
  assert_true(serve_etag_matches("\"a,b\"", "\"a,b\"", NULL));
  /* If-None-Match decides whenever it is present. */
  assert_false(
      serve_not_modified("\"zz\"", "Sun, 06 Nov 1994 08:49:37 GMT", e, g, 0));
  assert_true(serve_not_modified(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", e, g,
                                 784111777));
  assert_false(serve_not_modified(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", e, g,
                                  784111778));
  assert_false(serve_not_modified(NULL, "garbage", e, g, 0));
  assert_false(serve_not_modified(NULL, NULL, e, g, 0));
}

static void accept_encoding(void **state) {
  (void)state;
  assert_true(serve_gzip_accepted("gzip"));
  assert_true(serve_gzip_accepted("deflate, GZIP;q=0.5"));
  assert_true(serve_gzip_accepted("x-gzip"));
  assert_true(serve_gzip_accepted("*"));
  assert_true(serve_gzip_accepted("br;q=1, gzip ; q=0.001"));
  assert_false(serve_gzip_accepted(NULL));
  assert_false(serve_gzip_accepted(""));
  assert_false(serve_gzip_accepted("identity"));
  assert_false(serve_gzip_accepted("gzip;q=0"));
  assert_false(serve_gzip_accepted("gzip;q=0.0, *"));
  assert_false(serve_gzip_accepted("*;q=0"));
  assert_false(serve_gzip_accepted("gzipper"));

  const char text[] = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
  char *gz;
  size_t n;
  assert_int_equal(serve_gzip(text, sizeof text - 1, &gz, &n), 0);
  assert_true(n > 18 && (unsigned char)gz[0] == 0x1f &&
              (unsigned char)gz[1] == 0x8b);
  char back[128];
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = (Bytef *)gz;
  z.avail_in = (uInt)n;
  z.next_out = (Bytef *)back;
  z.avail_out = sizeof back;
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, sizeof text - 1);
  assert_memory_equal(back, text, sizeof text - 1);
  inflateEnd(&z);
  free(gz);
}

static int parse(serve_param *p, size_t n, serve_query *q, char *msg) {
  return serve_query_parse(p, n, q, msg, 300);
}

static void query_parameters(void **state) {
  (void)state;
  char msg[300];
  serve_query q;
  assert_int_equal(parse(NULL, 0, &q, msg), 0);
  assert_int_equal(q.past_days, -1);
  assert_int_equal(q.future_days, -1);
  assert_true(q.specials);
  assert_false(q.premieres_only);
  assert_null(q.token);

  serve_param ok[] = {
      {"pastDays", "7"},  {"future_days", "0"}, {"premieres_only", NULL},
      {"specials", "no"}, {"asAllDay", "true"}, {"alarm", "30"},
      {"token", "t"}};
  assert_int_equal(parse(ok, 7, &q, msg), 0);
  assert_int_equal(q.past_days, 7);
  assert_int_equal(q.future_days, 0);
  assert_true(q.premieres_only);
  assert_false(q.specials);
  assert_int_equal(q.all_day, 1);
  assert_int_equal(q.alarm, 30);
  assert_string_equal(q.token, "t");
  serve_buf b;
  serve_buf_init(&b, 1024);
  assert_int_equal(serve_query_format(&q, &b), 0);
  /* Canonical: Sonarr's spellings come out as ours; no token. */
  assert_string_equal(b.data, "past_days=7&future_days=0&premieres_only=1&"
                              "specials=0&all_day=1&alarm=30");
  serve_buf_free(&b);

  struct {
    serve_param p[2];
    size_t n;
    const char *named;
  } bad[] = {
      {{{"past_days", "-1"}}, 1, "past_days"},
      {{{"past_days", "1e3"}}, 1, "past_days"},
      {{{"past_days", "36501"}}, 1, "past_days"},
      {{{"future_days", NULL}}, 1, "future_days"},
      {{{"specials", "perhaps"}}, 1, "specials"},
      {{{"alarm", "PT15M"}}, 1, "alarm"},
      {{{"Past_Days", "1"}}, 1, "Past_Days"},
      {{{"past_days", "1"}, {"pastDays", "2"}}, 2, "pastDays"},
      {{{"x\"\n", "1"}}, 1, "x??"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    msg[0] = '\0';
    assert_int_equal(parse(bad[i].p, bad[i].n, &q, msg), -1);
    if (strstr(msg, bad[i].named) == NULL) {
      fail_msg("message \"%s\" does not name %s", msg, bad[i].named);
    }
  }
  /* The window is relative to today, across month and year ends. */
  serve_param win[] = {{"past_days", "3"}, {"future_days", "40"}};
  assert_int_equal(parse(win, 2, &q, msg), 0);
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  serve_query_select(&q, (epcal_date){2024, 1, 2}, &sel);
  assert_true(sel.has_from && sel.has_to);
  assert_int_equal(sel.from.year, 2023);
  assert_int_equal(sel.from.month, 12);
  assert_int_equal(sel.from.day, 30);
  assert_int_equal(sel.to.month, 2);
  assert_int_equal(sel.to.day, 11);
}

static epcal_episode episode(const char *show, long season, bool dated) {
  epcal_episode e;
  memset(&e, 0, sizeof e);
  e.show = show;
  e.season = season;
  e.number = 1;
  e.scheduled = dated;
  e.date = (epcal_date){2024, 5, (int)season + 1};
  return e;
}

/* An earlier index that gave "Foo Bar" the plain slug and named a show
 * that is gone. */
static bool listed_stems(void *ctx, serve_stems_fn fn, void *fnctx) {
  (void)ctx;
  return fn(fnctx, "Foo Bar", "foo-bar") && fn(fnctx, "Gone", "zed");
}

static serve_catalog *catalog_of(const char *const *names, size_t n,
                                 bool previous) {
  serve_catalog *c = serve_catalog_new(-1);
  assert_non_null(c);
  for (size_t i = 0; i < n; i++) {
    epcal_episode e = episode(names[i], (long)i, true);
    assert_int_equal(serve_catalog_add(c, &e, i * 10, 10), 0);
  }
  epcal_episode tba = episode("Zed", 9, false);
  assert_int_equal(serve_catalog_add(c, &tba, 0, 0), 0);
  assert_int_equal(
      serve_catalog_finish(c, previous ? listed_stems : NULL, NULL), 0);
  return c;
}

static bool hashed(const char *slug, const char *base) {
  size_t n = strlen(base);
  return strncmp(slug, base, n) == 0 && slug[n] == '-' &&
         strlen(slug) == n + 9 && strspn(slug + n + 1, "0123456789abcdef") == 8;
}

static void catalog_and_routes(void **state) {
  (void)state;
  const char *names[] = {"Foo-Bar", "Calendar", "Foo Bar", "FOO BAR", "Zed"};
  serve_catalog *c = catalog_of(names, 5, false);
  /* Shows are told apart by their exact name, as split does. */
  assert_int_equal(serve_catalog_count(c), 5);
  assert_int_equal(serve_catalog_events(c), 5);
  /* Name order for the page; stems as split gives them: the first show
   * met keeps the plain slug, the others get a hash of their name, and
   * "calendar" is nobody's. */
  assert_string_equal(serve_catalog_at(c, 0)->name, "Calendar");
  assert_true(hashed(serve_catalog_at(c, 0)->slug, "calendar"));
  assert_string_equal(serve_catalog_at(c, 1)->name, "FOO BAR");
  assert_string_equal(serve_catalog_at(c, 2)->name, "Foo Bar");
  assert_true(hashed(serve_catalog_at(c, 2)->slug, "foo-bar"));
  assert_string_equal(serve_catalog_at(c, 3)->name, "Foo-Bar");
  assert_string_equal(serve_catalog_at(c, 3)->slug, "foo-bar");
  assert_int_equal(serve_catalog_at(c, 3)->n_seasons, 1);
  char want[EPCAL_STEM_MAX + 8];
  assert_true(hashed(serve_catalog_at(c, 1)->slug, "foo-bar"));
  assert_string_not_equal(serve_catalog_at(c, 1)->slug,
                          serve_catalog_at(c, 2)->slug);
  const serve_show *zed = serve_catalog_find(c, "zed");
  assert_non_null(zed);
  assert_int_equal(zed->events, 1);
  const serve_season *s9 = serve_show_season(c, zed, 9);
  assert_non_null(s9);
  assert_int_equal(s9->events, 0);
  assert_int_equal(s9->pending, 1);
  /* An earlier index decides: "Foo Bar" keeps foo-bar, "Foo-Bar" gets the
   * hash, and "zed" stays the stem of a show no longer here. */
  serve_catalog *p = catalog_of(names, 5, true);
  assert_string_equal(serve_catalog_at(p, 2)->slug, "foo-bar");
  assert_true(hashed(serve_catalog_at(p, 3)->slug, "foo-bar"));
  assert_true(hashed(serve_catalog_at(p, 4)->slug, "zed"));
  serve_catalog_free(p);

  serve_route r = serve_route_match("/", c);
  assert_int_equal(r.kind, SERVE_ROUTE_INDEX);
  r = serve_route_match("/calendar.ics", c);
  assert_int_equal(r.kind, SERVE_ROUTE_ALL);
  snprintf(want, sizeof want, "/%s.ics", serve_catalog_at(c, 0)->slug);
  r = serve_route_match(want, c);
  assert_int_equal(r.kind, SERVE_ROUTE_SHOW);
  assert_string_equal(r.show->name, "Calendar");
  r = serve_route_match("/zed/season-009.ics", c);
  assert_int_equal(r.kind, SERVE_ROUTE_SEASON);
  assert_int_equal(r.season, 9);
  serve_buf b;
  serve_buf_init(&b, 1024);
  serve_route_path(&r, &b);
  assert_string_equal(b.data, "/zed/season-9.ics");
  serve_buf_free(&b);
  serve_route_calendar_name(&r, "All", &b);
  assert_string_equal(b.data, "Zed, Season 9");
  serve_buf_free(&b);
  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  serve_route_select(&r, &sel);
  assert_int_equal(sel.n_shows, 1);
  assert_string_equal(sel.shows[0], "Zed");
  assert_int_equal(sel.n_seasons, 1);
  assert_int_equal(sel.seasons[0].first, 9);
  const char *none[] = {"",
                        "/zed",
                        "/zed/",
                        "/zed.ics/",
                        "/.ics",
                        "/zed/season-1.ics",
                        "/zed/season-.ics",
                        "/zed/season-1234567.ics",
                        "/zed/season-+9.ics",
                        "/zed/x/season-9.ics",
                        "/ZED.ics",
                        "//season-9.ics",
                        "/nope.ics"};
  for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
    r = serve_route_match(none[i], c);
    if (r.kind != SERVE_ROUTE_NONE) {
      fail_msg("%s matched a route", none[i]);
    }
  }
  serve_catalog_free(c);
}

static void access_log_line(void **state) {
  (void)state;
  serve_param params[] = {
      {"past_days", "7"}, {"token", "hunter2"}, {"a b", "c&d"}};
  serve_access a = {"127.0.0.1", "GET",         "/x.ics", params,
                    3,           "HTTP/1.1",    200,      1234,
                    NULL,        "App \"1\"\n", 784111777, NULL};
  char line[512];
  serve_access_format(&a, line, sizeof line);
  assert_string_equal(line,
                      "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET "
                      "/x.ics?past_days=7&token=REDACTED&a%20b=c%26d "
                      "HTTP/1.1\" 200 1234 \"-\" \"App \\x221\\x22\\x0A\"");
  assert_null(strstr(line, "hunter2"));
  /* The Referer of a click on the page carries the token in its query, and
   * a token may turn up anywhere else: none of it is logged. */
  a.referer = "http://h/?specials=0&token=hunter2%2B&x=1";
  a.user_agent = "hunter2+";
  a.path = "/hunter2+.ics";
  a.secret = "hunter2+";
  serve_access_format(&a, line, sizeof line);
  assert_null(strstr(line, "hunter2"));
  assert_non_null(
      strstr(line, "\"http://h/?specials=0&token=REDACTED&x=1\" \"REDACTED\""));
  assert_non_null(strstr(line, "\"GET /REDACTED.ics?"));
  a.referer = NULL;
  a.user_agent = "App \"1\"\n";
  a.path = "/x.ics";
  a.secret = NULL;
  /* A line never overflows, however long the request. */
  char small[40];
  serve_access_format(&a, small, sizeof small);
  assert_int_equal(strlen(small), sizeof small - 1);
}

/* A render function whose output the test controls. */
typedef struct fake {
  const char *text; /* NULL: fail */
  int calls;
  int64_t last_now;
} fake;

static epcal_status fake_render(void *ctx, int64_t now, serve_buf *out,
                                epcal_error *err) {
  fake *f = ctx;
  f->calls++;
  f->last_now = now;
  if (f->text == NULL) {
    epcal_error_clear(err);
    err->code = EPCAL_EDATA;
    return EPCAL_EDATA;
  }
  serve_buf_printf(out, "%s@%lld", f->text, (long long)now);
  return EPCAL_OK;
}

static void cache_keeps_time_of_unchanged_feeds(void **state) {
  (void)state;
  serve_cache *c = serve_cache_new(4, 1 << 20);
  fake f = {"A", 0, 0};
  epcal_error err;
  serve_entry *e1, *e2, *e3, *e4;
  assert_int_equal(
      serve_cache_get(c, "k", 1, 1000, -1, false, fake_render, &f, &e1, &err),
      EPCAL_OK);
  assert_int_equal(e1->modified, 1000);
  assert_string_equal(e1->body, "A@1000");
  /* Same generation: from memory. */
  assert_int_equal(
      serve_cache_get(c, "k", 1, 1000, -1, false, fake_render, &f, &e2, &err),
      EPCAL_OK);
  assert_ptr_equal(e1, e2);
  assert_int_equal(f.calls, 1);
  serve_entry_release(e2);
  /* Reload, same content: rendered once with the old time, kept. */
  assert_int_equal(
      serve_cache_get(c, "k", 2, 2000, -1, false, fake_render, &f, &e2, &err),
      EPCAL_OK);
  assert_ptr_equal(e1, e2);
  assert_int_equal(f.calls, 2);
  assert_int_equal(e2->modified, 1000);
  serve_entry_release(e2);
  /* Reload, new content: the new time, and a new ETag. */
  f.text = "B";
  assert_int_equal(
      serve_cache_get(c, "k", 3, 3000, -1, false, fake_render, &f, &e3, &err),
      EPCAL_OK);
  assert_int_equal(e3->modified, 3000);
  assert_string_equal(e3->body, "B@3000");
  assert_string_not_equal(e3->etag, e1->etag);
  /* The replaced entry lives on while a response holds it. */
  assert_string_equal(e1->body, "A@1000");
  serve_entry_release(e1);
  /* Inputs with an older mtime: Last-Modified still moves forward. */
  f.text = "C";
  assert_int_equal(
      serve_cache_get(c, "k", 4, 10, -1, false, fake_render, &f, &e4, &err),
      EPCAL_OK);
  assert_int_equal(e4->modified, 3001);
  serve_entry_release(e4);
  /* A failing render keeps the last good bytes. */
  f.text = NULL;
  assert_int_equal(
      serve_cache_get(c, "k", 5, 5000, -1, false, fake_render, &f, &e4, &err),
      EPCAL_OK);
  assert_string_equal(e4->body, "C@3001");
  serve_entry_release(e4);
  assert_int_equal(
      serve_cache_get(c, "new", 5, 5000, -1, false, fake_render, &f, &e4, &err),
      EPCAL_EDATA);
  /* A fixed stamp (SOURCE_DATE_EPOCH) is every DTSTAMP. */
  f.text = "D";
  assert_int_equal(
      serve_cache_get(c, "k", 6, 6000, 42, false, fake_render, &f, &e4, &err),
      EPCAL_OK);
  assert_string_equal(e4->body, "D@42");
  assert_int_equal(e4->modified, 6000);
  assert_int_equal(serve_cache_gzip(c, e4), 0);
  assert_non_null(e4->gz);
  serve_entry_release(e4);
  serve_entry_release(e3);
  /* At most four entries: the least recently used goes. */
  for (int i = 0; i < 6; i++) {
    char key[8];
    snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(
        serve_cache_get(c, key, 6, 6000, -1, false, fake_render, &f, &e4, &err),
        EPCAL_OK);
    serve_entry_release(e4);
  }
  int before = f.calls;
  assert_int_equal(
      serve_cache_get(c, "k5", 6, 6000, -1, false, fake_render, &f, &e4, &err),
      EPCAL_OK);
  serve_entry_release(e4);
  assert_int_equal(f.calls, before);
  assert_int_equal(
      serve_cache_get(c, "k0", 6, 6000, -1, false, fake_render, &f, &e4, &err),
      EPCAL_OK);
  serve_entry_release(e4);
  assert_int_equal(f.calls, before + 1);
  serve_cache_free(c);
}

/* A render that takes a while, for two threads to ask at once. */
typedef struct slow_fake {
  atomic_int calls;
  bool fail;
} slow_fake;

static epcal_status slow_render(void *ctx, int64_t now, serve_buf *out,
                                epcal_error *err) {
  slow_fake *f = ctx;
  atomic_fetch_add(&f->calls, 1);
  struct timespec t = {0, 200 * 1000 * 1000};
  nanosleep(&t, NULL);
  if (f->fail) {
    epcal_error_clear(err);
    err->code = EPCAL_EDATA;
    snprintf(err->msg, sizeof err->msg, "broken");
    return EPCAL_EDATA;
  }
  serve_buf_printf(out, "S@%lld", (long long)now);
  return EPCAL_OK;
}

typedef struct asker {
  serve_cache *c;
  slow_fake *f;
  epcal_status st;
  serve_entry *e;
} asker;

static void *ask(void *arg) {
  asker *a = arg;
  epcal_error err;
  a->e = NULL;
  a->st = serve_cache_get(a->c, "k", 1, 1000, -1, false, slow_render, a->f,
                          &a->e, &err);
  return NULL;
}

/* Concurrent misses for one key wait for one render; a failure is
 * remembered, not rendered again on the next request. */
static void cache_single_flight_and_failures(void **state) {
  (void)state;
  serve_cache *c = serve_cache_new(4, 1 << 20);
  slow_fake f;
  atomic_init(&f.calls, 0);
  f.fail = false;
  asker a[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    a[i].c = c;
    a[i].f = &f;
    assert_int_equal(pthread_create(&t[i], NULL, ask, &a[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(a[i].st, EPCAL_OK);
    assert_ptr_equal(a[i].e, a[0].e);
  }
  assert_int_equal(atomic_load(&f.calls), 1);
  for (int i = 0; i < 3; i++) {
    serve_entry_release(a[i].e);
  }
  serve_cache_free(c);

  c = serve_cache_new(4, 1 << 20);
  atomic_init(&f.calls, 0);
  f.fail = true;
  epcal_error err;
  serve_entry *e = NULL;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(serve_cache_get(c, "bad", 1, 1000, -1, false,
                                     slow_render, &f, &e, &err),
                     EPCAL_EDATA);
    assert_string_equal(err.msg, "broken");
  }
  assert_int_equal(atomic_load(&f.calls), 1);
  /* New data: tried again. */
  assert_int_equal(serve_cache_get(c, "bad", 2, 1000, -1, false, slow_render,
                                   &f, &e, &err),
                   EPCAL_EDATA);
  assert_int_equal(atomic_load(&f.calls), 2);
  serve_cache_free(c);
}

/* The byte budget holds whatever the keys. */
static void cache_byte_budget(void **state) {
  (void)state;
  serve_cache *c = serve_cache_new(1000, 64);
  fake f = {"0123456789", 0, 0};
  epcal_error err;
  for (int i = 0; i < 100; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    serve_entry *e;
    assert_int_equal(serve_cache_get(c, key, 1, 1000, -1, false, fake_render,
                                     &f, &e, &err),
                     EPCAL_OK);
    assert_int_equal(serve_cache_gzip(c, e), 0);
    serve_entry_release(e);
    assert_true(serve_cache_bytes(c) <= 64);
  }
  serve_cache_free(c);
}

static void buffer_cap(void **state) {
  (void)state;
  serve_buf b;
  serve_buf_init(&b, 10);
  assert_int_equal(serve_buf_puts(&b, "0123456789"), 0);
  assert_int_equal(serve_buf_puts(&b, "x"), -1);
  assert_true(b.failed);
  size_t n;
  assert_null(serve_buf_take(&b, &n));
  serve_buf_free(&b);
  assert_int_equal(serve_buf_printf(&b, "%s", "abc"), 0);
  char *p = serve_buf_take(&b, &n);
  assert_string_equal(p, "abc");
  assert_int_equal(n, 3);
  free(p);
  serve_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(http_dates),
      cmocka_unit_test(etags),
      cmocka_unit_test(accept_encoding),
      cmocka_unit_test(query_parameters),
      cmocka_unit_test(catalog_and_routes),
      cmocka_unit_test(access_log_line),
      cmocka_unit_test(cache_keeps_time_of_unchanged_feeds),
      cmocka_unit_test(cache_single_flight_and_failures),
      cmocka_unit_test(cache_byte_budget),
      cmocka_unit_test(buffer_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
