/* `epcal serve`: options, the listening socket, the daemon, and a clean
 * shutdown on SIGINT/SIGTERM. */
#include "serve.h"

#include "server.h"

#include "options.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  EXIT_DATA = 1,
  EXIT_USAGE = 2,
  EXIT_IO = 3,
};

static const epcal_cli_opt_id server_rows[] = {
    EPCAL_CLI_LISTEN,          EPCAL_CLI_BASE_URL,
    EPCAL_CLI_TOKEN,           EPCAL_CLI_REFRESH,
    EPCAL_CLI_STATE,           EPCAL_CLI_MAX_FEED_EVENTS,
    EPCAL_CLI_NO_STREAM,       EPCAL_CLI_END};
/* What no client can exceed (README, "Limits"). */
static const epcal_cli_opt_id limit_rows[] = {
    EPCAL_CLI_MAX_CONNECTIONS, EPCAL_CLI_PER_ADDRESS_LIMIT,
    EPCAL_CLI_HEADER_TIMEOUT,  EPCAL_CLI_TIMEOUT,
    EPCAL_CLI_THREADS,         EPCAL_CLI_CACHE_SIZE,
    EPCAL_CLI_END};
/* A reload that would remove most events (generate's shrink guard). */
static const epcal_cli_opt_id guard_rows[] = {
    EPCAL_CLI_MAX_REMOVED, EPCAL_CLI_ALLOW_SHRINK, EPCAL_CLI_END};
static const epcal_cli_opt_id feed_rows[] = {
    EPCAL_CLI_CALENDAR_NAME, EPCAL_CLI_CALENDAR_DESCRIPTION, EPCAL_CLI_COLOR,
    EPCAL_CLI_URL, EPCAL_CLI_END};
static const epcal_cli_opt_id selection_rows[] = {
    EPCAL_CLI_SHOW, EPCAL_CLI_SEASON, EPCAL_CLI_END};
static const epcal_cli_opt_id run_rows[] = {EPCAL_CLI_HELP, EPCAL_CLI_END};

static const epcal_cli_section sections[] = {
    {"Server", server_rows},
    {"Limits", limit_rows},
    {"Reloads", guard_rows},
    {"Feed metadata", feed_rows},
    {"Events", epcal_cli_event_rows},
    {"Selection (what is served)", selection_rows},
    {"Input", epcal_cli_input_rows},
    {NULL, run_rows},
};

static const epcal_cli_command command = {
    "serve",
    "Usage: epcal serve [OPTIONS] FILE.csv ...\n"
    "\n"
    "Serves iCalendar feeds of the episodes in FILE.csv over HTTP, for\n"
    "calendar apps to subscribe to:\n"
    "  /                        a page of the shows and their seasons with\n"
    "                           subscribe links (search: ?q=TEXT; ?page=N)\n"
    "  /calendar.ics            every episode\n"
    "  /calendar.ics?shows=A,B  the shows A and B (their SHOW names)\n"
    "  /SHOW.ics                one show\n"
    "  /SHOW/season-N.ics       one season\n"
    "Feed parameters: past_days=N, future_days=N, premieres_only=true,\n"
    "specials=false, all_day=true, alarm=MINUTES (a reminder before each\n"
    "episode).\n"
    "SHOW is the show's slug, or its slug and a hash of its name when\n"
    "another show has that slug: the paths of generate's split output.\n"
    "DTSTAMP comes from each feed's own rows (or SOURCE_DATE_EPOCH), so\n"
    "every instance serving the same data sends the same bytes.\n"
    "A changed FILE is picked up on the next request; an invalid one, one\n"
    "that is not a regular file, and one that would remove most events\n"
    "are reported and the last good data stays in service. Options mean what\n"
    "they mean to 'epcal generate'; /calendar.ics is named Episodes unless\n"
    "--calendar-name says otherwise.\n",
    sections,
    sizeof sections / sizeof sections[0],
    "Logs one line per request on standard error (never a token). SIGINT\n"
    "or SIGTERM: finish the requests in progress and exit 0, within ten\n"
    "seconds whatever they are doing.\n",
    "Exit status: 0 stopped by SIGINT or SIGTERM; 1 invalid data at start;\n"
    "2 usage; 3 input/output error (cannot read an input or listen).\n"};

static void usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("epcal: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\nTry 'epcal serve --help'.\n", stderr);
  va_end(ap);
}

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" -> a bound, listening
 * socket. Binding here rather than in libmicrohttpd lets port 0 work: the
 * kernel's choice is read back and printed. */
static int listen_on(const char *spec, char *bound, size_t cap) {
  char host[256];
  const char *port;
  if (spec[0] == '[') {
    const char *close = strchr(spec, ']');
    if (close == NULL || close[1] != ':' ||
        (size_t)(close - spec - 1) >= sizeof host) {
      return -2;
    }
    memcpy(host, spec + 1, (size_t)(close - spec - 1));
    host[close - spec - 1] = '\0';
    port = close + 2;
  } else {
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec ||
        (size_t)(colon - spec) >= sizeof host) {
      return -2;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    port = colon + 1;
  }
  long p;
  if (epcal_cli_parse_long(port, 0, 65535, &p) != 0) {
    return -2;
  }
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "epcal: cannot resolve %s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  int saved = 0;
  for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      saved = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      saved = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    fprintf(stderr, "epcal: cannot listen on %s: %s\n", spec, strerror(saved));
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char addr[1025], serv[32]; /* NI_MAXHOST, NI_MAXSERV: not POSIX */
  if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
      getnameinfo((struct sockaddr *)&ss, len, addr, sizeof addr, serv,
                  sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    snprintf(bound, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", addr,
             serv);
  } else {
    snprintf(bound, cap, "%s", spec);
  }
  return fd;
}

/* libmicrohttpd logs every connection it turns away: under a flood that is
 * a line per connection. The same message again within ten seconds is
 * counted instead, and the count is logged with the next line. */
static pthread_mutex_t mhd_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char mhd_log_last[512];
static unsigned long mhd_log_repeats;
static struct timespec mhd_log_when;

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && msg[n - 1] == '\n') {
    msg[--n] = '\0';
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  pthread_mutex_lock(&mhd_log_lock);
  if (strcmp(msg, mhd_log_last) == 0 && now.tv_sec - mhd_log_when.tv_sec < 10) {
    mhd_log_repeats++;
    pthread_mutex_unlock(&mhd_log_lock);
    return;
  }
  if (mhd_log_repeats > 0) {
    fprintf(stderr, "epcal: http: (%lu more: %s)\n", mhd_log_repeats,
            mhd_log_last);
  }
  fprintf(stderr, "epcal: http: %s\n", msg);
  snprintf(mhd_log_last, sizeof mhd_log_last, "%s", msg);
  mhd_log_repeats = 0;
  mhd_log_when = now;
  pthread_mutex_unlock(&mhd_log_lock);
}

/* Logs the count of repeats not logged yet (at exit). */
static void mhd_log_flush(void) {
  pthread_mutex_lock(&mhd_log_lock);
  if (mhd_log_repeats > 0) {
    fprintf(stderr, "epcal: http: (%lu more: %s)\n", mhd_log_repeats,
            mhd_log_last);
    mhd_log_repeats = 0;
  }
  pthread_mutex_unlock(&mhd_log_lock);
}

typedef struct serve_args {
  epcal_cli_opts o; /* owns the lists below */
  const char *listen;
  const char *token;
  long refresh, max_conn, timeout, threads, per_address, header_timeout;
  size_t cache_size;
  const char *const *alarms;
  size_t n_alarms;
  const char *const *categories;
  size_t n_categories;
  serve_source_options src;
} serve_args;

/* --base-url: http(s)://authority[/path], kept without a trailing '/'. The
 * page writes it into links (HTML-escaped): no query, fragment, spaces or
 * quotes. */
static int set_base_url(serve_config *cfg, const char *url) {
  size_t scheme = strncmp(url, "https://", 8) == 0  ? 8
                  : strncmp(url, "http://", 7) == 0 ? 7
                                                    : 0;
  if (scheme == 0 || url[scheme] == '\0' || url[scheme] == '/' ||
      strlen(url) > 1000) {
    return -1;
  }
  for (const char *p = url; *p != '\0'; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c >= 0x7f || strchr("?#\"'<>\\`", c) != NULL) {
      return -1;
    }
  }
  free(cfg->base_url);
  cfg->base_url = strdup(url);
  if (cfg->base_url == NULL) {
    return -1;
  }
  size_t n = strlen(cfg->base_url);
  while (n > scheme && cfg->base_url[n - 1] == '/') {
    cfg->base_url[--n] = '\0';
  }
  return 0;
}

/* After SIGINT or SIGTERM: whatever the server is doing (a render that
 * does not end, a client that never reads), the process is gone this many
 * milliseconds later. */
#define STOP_DEADLINE_MS 9000

static void *stop_watchdog(void *arg) {
  (void)arg;
  struct timespec t = {STOP_DEADLINE_MS / 1000,
                       (STOP_DEADLINE_MS % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
  static const char msg[] =
      "epcal: requests still running after 9 s: stopped\n";
  ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)rc;
  _exit(0);
}

/* Reads argv with the shared option table (options.h) into *a and *cfg.
 * Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, serve_args *a, serve_config *cfg) {
  epcal_cli_opts *o = &a->o;
  int first = 0;
  int code = epcal_cli_parse(&command, argc, argv, o, &first);
  if (code >= 0) {
    return code;
  }
  if (o->listen != NULL) {
    a->listen = o->listen;
  }
  a->token = o->token;
  if (o->refresh.given) {
    a->refresh = o->refresh.seconds;
  }
  if (o->max_connections > 0) {
    a->max_conn = o->max_connections;
  }
  if (o->timeout.given) {
    a->timeout = o->timeout.seconds;
  }
  if (o->per_address_limit >= 0) {
    a->per_address = o->per_address_limit;
  }
  if (o->header_timeout.given) {
    a->header_timeout = o->header_timeout.seconds;
  }
  if (o->cache_size > 0) {
    a->cache_size = o->cache_size;
  }
  if (o->base_url != NULL && set_base_url(cfg, o->base_url) != 0) {
    usage_error("invalid --base-url \"%s\" (expected http://HOST[:PORT]"
                "[/PATH] or https://..., without a query)",
                o->base_url);
    return EXIT_USAGE;
  }
  a->src.shrink = o->shrink;
  if (o->threads > 0) {
    a->threads = o->threads;
  }
  if (o->calendar_name != NULL) {
    cfg->calendar_name = o->calendar_name;
  }
  cfg->state_dir = o->state_dir;
  if (o->max_feed_events >= 0) {
    cfg->max_feed_events = (unsigned long)o->max_feed_events;
  }
  cfg->stream_all = !o->no_stream;
  /* How events are written, as for generate: the library checks the
   * values (a renderer is made once at start-up to say so). */
  cfg->render = o->render;
  a->alarms = o->alarms.v;
  a->n_alarms = o->alarms.n;
  a->categories = o->categories.v;
  a->n_categories = o->categories.n;
  a->src.read = o->read;
  a->src.skip_invalid = o->skip_invalid;
  a->src.shows = o->shows.v;
  a->src.n_shows = o->shows.n;
  a->src.seasons = o->seasons;
  a->src.n_seasons = o->n_seasons;
  if (a->max_conn < a->threads) {
    /* Renders at once beyond the connections at once could never run:
     * most likely the two values were swapped. */
    usage_error("--max-connections (%ld) must be at least --threads (%ld)",
                a->max_conn, a->threads);
    return EXIT_USAGE;
  }
  if (first == argc) {
    usage_error("no input: name one or more CSV files");
    return EXIT_USAGE;
  }
  for (int i = first; i < argc; i++) {
    if (strcmp(argv[i], "-") == 0) {
      usage_error("standard input cannot be served: it cannot be read again "
                  "when it changes");
      return EXIT_USAGE;
    }
  }
  return -1;
}

int epcal_serve_main(int argc, char **argv) {
#if defined(__GLIBC__)
  /* The catalogue's arrays (megabytes each) are made at every reload and
   * the old ones freed: a fixed mmap threshold keeps them out of the heap,
   * so freeing returns them to the system and growing them is a mremap,
   * not a copy. (glibc otherwise raises the threshold to the size of the
   * first big block freed, and RSS stays at the reload's peak.) */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  serve_args a;
  memset(&a, 0, sizeof a);
  a.listen = "127.0.0.1:8080";
  a.refresh = 3600;
  a.max_conn = 512;
  a.per_address = 32;
  a.header_timeout = 10;
  /* A feed renders from its own rows in about a millisecond, so the cache
   * saves little past the feeds being polled right now: 16 MB keeps a
   * million-row catalogue's server under 64 MB (bench/README.md). */
  a.cache_size = (size_t)16 * 1024 * 1024;
  a.timeout = 30;
  a.threads = 2;
  serve_server *s = calloc(1, sizeof *s);
  bool opts_ok = epcal_cli_opts_init(&a.o, argc);
  int code = EXIT_IO;
  int fd = -1;
  struct MHD_Daemon *d = NULL;
  bool locked = false;
  char *stems_index = NULL; /* --state: DIR/index.json */
  serve_deadline *deadline = NULL;
  if (s == NULL || !opts_ok) {
    fputs("epcal: out of memory\n", stderr);
    goto done;
  }
  s->cfg.calendar_name = "Episodes";
  s->cfg.upcoming = 20;
  s->cfg.fixed_stamp = -1;
  s->cfg.max_feed_events = 50000;
  s->cfg.stream_all = true;
  code = parse_args(argc, argv, &a, &s->cfg);
  if (code >= 0) {
    goto done;
  }
  code = EXIT_IO;
  if (a.token == NULL) {
    a.token = getenv("EPCAL_TOKEN");
  }
  if (a.token != NULL && *a.token == '\0') {
    a.token = NULL;
  }
  s->cfg.token = a.token;
  s->cfg.token_len = a.token != NULL ? strlen(a.token) : 0;
  s->cfg.refresh = a.refresh;
  s->cfg.render.alarms = a.alarms;
  s->cfg.render.n_alarms = a.n_alarms;
  s->cfg.render.categories = a.categories;
  s->cfg.render.n_categories = a.n_categories;
  /* The feed itself tells clients how often to poll: the same interval as
   * Cache-Control (REFRESH-INTERVAL, X-PUBLISHED-TTL). */
  char refresh[32];
  if (a.refresh > 0) {
    /* In the largest whole unit, as a person would write it (PT1H). */
    if (a.refresh % 3600 == 0) {
      snprintf(refresh, sizeof refresh, "PT%ldH", a.refresh / 3600);
    } else if (a.refresh % 60 == 0) {
      snprintf(refresh, sizeof refresh, "PT%ldM", a.refresh / 60);
    } else {
      snprintf(refresh, sizeof refresh, "PT%ldS", a.refresh);
    }
    s->cfg.render.refresh = refresh;
  }
  {
    /* Check the event options now, not at the first request. */
    epcal_renderer *probe;
    epcal_error perr;
    if (epcal_renderer_new(&probe, &s->cfg.render, NULL, NULL, &perr) !=
        EPCAL_OK) {
      usage_error("%s", perr.msg);
      code = EXIT_USAGE;
      goto done;
    }
    epcal_renderer_free(probe);
  }
  /* With SOURCE_DATE_EPOCH, DTSTAMP is that fixed time, as for generate. */
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde != NULL && *sde != '\0') {
    s->cfg.fixed_stamp = epcal_now();
  }
  /* Otherwise, without --state, DTSTAMP comes from each feed's rows: the
   * same data gives the same bytes on every instance behind a balancer. */
  s->cfg.content_stamps = s->cfg.fixed_stamp < 0 && s->cfg.state_dir == NULL;
  if (s->cfg.state_dir != NULL) {
    size_t n = strlen(s->cfg.state_dir) + sizeof "/index.json";
    stems_index = malloc(n);
    if (stems_index == NULL) {
      fputs("epcal: out of memory\n", stderr);
      goto done;
    }
    snprintf(stems_index, n, "%s/index.json", s->cfg.state_dir);
  }
  a.src.stems_index = stems_index;

  a.src.paths = (const char *const *)argv + optind;
  a.src.n_paths = (size_t)(argc - optind);
  a.src.max_bytes = (size_t)1 << 30;
  epcal_error err;
  epcal_status st = serve_source_open(&s->source, &a.src, &err);
  if (st != EPCAL_OK) {
    serve_report_load_error(&err, "");
    code = st == EPCAL_EDATA ? EXIT_DATA : EXIT_IO;
    goto done;
  }
  s->cache = serve_cache_new(4096, a.cache_size);
  if (s->cache == NULL || pthread_mutex_init(&s->page_lock, NULL) != 0) {
    fputs("epcal: out of memory\n", stderr);
    goto done;
  }
  if (sem_init(&s->render_slots, 0, (unsigned)a.threads) != 0) {
    pthread_mutex_destroy(&s->page_lock);
    fputs("epcal: out of memory\n", stderr);
    goto done;
  }
  locked = true;
  atomic_init(&s->in_flight, 0);

  fd = listen_on(a.listen, s->cfg.host, sizeof s->cfg.host);
  if (fd == -2) {
    usage_error("invalid --listen \"%s\" (expected ADDRESS:PORT, e.g. "
                "127.0.0.1:8080 or [::1]:8080)",
                a.listen);
    code = EXIT_USAGE;
    goto done;
  }
  if (fd < 0) {
    goto done;
  }

  /* SIGINT and SIGTERM are taken by sigwait() below; blocked before the
   * daemon starts, so its threads inherit the mask and never run them. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  serve_data *data = serve_source_acquire(s->source);
  size_t n_shows = serve_catalog_count(serve_data_catalog(data));
  unsigned long n_events = serve_catalog_events(serve_data_catalog(data));
  serve_data_release(data);
  deadline = serve_deadline_new((unsigned)a.header_timeout * 1000);
  if (deadline == NULL) {
    fputs("epcal: out of memory\n", stderr);
    goto done;
  }
  /* A thread per connection: a request never waits for another one's
   * render, and a slow client holds only its own thread. Their number is
   * bounded by --max-connections, their stacks are small, and the CPU work
   * is bounded by --threads (render_slots). */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO | MHD_USE_ITC |
                   MHD_USE_ERROR_LOG;
  d = MHD_start_daemon(
      flags, 0, NULL, NULL, serve_http_handle, s,
      /* First, so that every message of libmicrohttpd goes through it. */
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_NOTIFY_COMPLETED, serve_http_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, serve_deadline_notify, deadline,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)a.max_conn,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)a.per_address,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)a.timeout,
      MHD_OPTION_THREAD_STACK_SIZE, (size_t)1024 * 1024,
      /* Request line and headers must fit in this: a calendar app's
       * request is well under 2 KiB. */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024, MHD_OPTION_END);
  if (d == NULL) {
    fprintf(stderr, "epcal: cannot start the HTTP server\n");
    goto done;
  }
  fd = -1; /* the daemon owns it now */
  fprintf(stderr, "epcal: serving %zu shows, %lu events on http://%s/\n",
          n_shows, n_events, s->cfg.host);

  int sig = 0;
  while (sigwait(&sigs, &sig) != 0) {
  }
  fprintf(stderr, "epcal: %s: finishing requests in progress\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  pthread_t watchdog;
  if (pthread_create(&watchdog, NULL, stop_watchdog, NULL) == 0) {
    pthread_detach(watchdog);
  }
  /* Stop accepting, then give the requests being answered up to seven
   * seconds; idle keep-alive connections do not hold the exit up. */
  int lfd = MHD_quiesce_daemon(d);
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (int i = 0; i < 700 && atomic_load(&s->in_flight) > 0; i++) {
    nanosleep(&tick, NULL);
  }
  MHD_stop_daemon(d);
  d = NULL;
  /* Closed only now: the daemon's thread takes the socket out of its epoll
   * set after quiesce returns (ThreadSanitizer saw the race). */
  if (lfd >= 0) {
    close(lfd);
  }
  mhd_log_flush();
  fprintf(stderr, "epcal: stopped\n");
  code = 0;

done:
  if (d != NULL) {
    MHD_stop_daemon(d);
  }
  if (fd >= 0) {
    close(fd);
  }
  serve_deadline_free(deadline);
  if (s != NULL) {
    serve_http_cleanup(s);
    serve_cache_free(s->cache);
    serve_source_free(s->source);
    if (locked) {
      sem_destroy(&s->render_slots);
      pthread_mutex_destroy(&s->page_lock);
    }
    free(s->cfg.base_url);
    free(s);
  }
  free(stems_index);
  epcal_cli_opts_free(&a.o);
  return code;
}
