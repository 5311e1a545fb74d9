/*
 * Reads a previous feed into a compact index, streaming: the file is never
 * held in memory, only one entry per VEVENT.
 *
 * This is a purpose-built scanner, not libical's parser: libical builds a
 * whole component tree (gigabytes for a million events) and parses each
 * event far slower than epcal renders one, while all change tracking needs
 * is each event's UID, DTSTAMP, SEQUENCE, LAST-MODIFIED and the bytes of
 * the rest. Anything that is not a well-formed calendar (no BEGIN:VCALENDAR,
 * unbalanced BEGIN/END, an event without UID or DTSTAMP) is reported as
 * damaged, and callers treat the feed as absent.
 */
#include "previous.h"

#include "read/date.h"
#include "error.h"
#include "keytab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct epcal_previous {
  epcal__keytab *own;   /* of epcal__prev_event, keyed by uid; NULL: a view */
  epcal__keytab *index; /* own, or the shared index this is a view of */
  uint64_t salt;        /* a view's: its events are keyed by uid and salt */
  uint64_t *keys;       /* a view's: the keys it added to the shared index */
  size_t n_keys;
};

/* The key of a uid hash in an index shared by several feeds. */
static uint64_t salted(uint64_t uid, uint64_t salt) {
  if (salt == 0) {
    return uid;
  }
  uint64_t k = (uid ^ salt) * 0x9E3779B97F4A7C15ULL;
  k ^= k >> 29;
  return k != 0 ? k : 1;
}

void epcal__previous_prefetch(const epcal_previous *p, uint64_t uid_hash) {
  if (p != NULL) {
    epcal__keytab_prefetch(p->index, salted(uid_hash, p->salt));
  }
}

epcal__prev_event *epcal__previous_find(epcal_previous *p, uint64_t uid) {
  return p != NULL ? epcal__keytab_find(p->index, salted(uid, p->salt))
                   : NULL;
}

/* Adds e unless its UID is already there (the first one wins). */
static bool insert(epcal_previous *p, const epcal__prev_event *e) {
  bool added;
  epcal__prev_event *slot = epcal__keytab_put(p->index, e->uid, &added);
  if (slot == NULL) {
    return false;
  }
  if (added) {
    *slot = *e;
  }
  return true;
}

typedef struct unseen_walk {
  void (*fn)(void *ctx, const epcal__prev_event *e);
  void *ctx;
  unsigned long count;
} unseen_walk;

static void visit_unseen(void *ctx, void *record) {
  unseen_walk *w = ctx;
  const epcal__prev_event *e = record;
  if (!e->seen) {
    w->count++;
    if (w->fn != NULL) {
      w->fn(w->ctx, e);
    }
  }
}

void epcal__previous_each_unseen(epcal_previous *p,
                                 void (*fn)(void *ctx,
                                            const epcal__prev_event *e),
                                 void *ctx) {
  if (p != NULL) {
    unseen_walk w = {fn, ctx, 0};
    epcal__keytab_each(p->index, visit_unseen, &w);
  }
}

size_t epcal_previous_events(const epcal_previous *p) {
  return p != NULL ? p->index->count : 0;
}

unsigned long epcal_previous_unseen(const epcal_previous *p) {
  unseen_walk w = {NULL, NULL, 0};
  if (p != NULL) {
    epcal__keytab_each(p->index, visit_unseen, &w);
  }
  return w.count;
}

void epcal_previous_free(epcal_previous *p) {
  if (p != NULL) {
    if (p->own != NULL) {
      epcal__keytab_free(p->own);
      free(p->own);
    }
    free(p->keys);
    free(p);
  }
}

/* An empty index of its own. */
static epcal_previous *previous_new(void) {
  epcal_previous *p = calloc(1, sizeof *p);
  if (p != NULL) {
    p->own = malloc(sizeof *p->own);
    if (p->own == NULL) {
      free(p);
      return NULL;
    }
    epcal__keytab_init(p->own, sizeof(epcal__prev_event));
    p->index = p->own;
  }
  return p;
}

epcal_previous *epcal__previous_shared_new(void) { return previous_new(); }

typedef struct move_ctx {
  epcal__keytab *to;
  uint64_t salt;
  bool oom;
  uint64_t *keys; /* the keys added, for epcal__previous_drop_view() */
  size_t n;
} move_ctx;

static void move_event(void *ctx, void *record) {
  move_ctx *m = ctx;
  epcal__prev_event e = *(const epcal__prev_event *)record;
  e.uid = salted(e.uid, m->salt);
  bool added;
  epcal__prev_event *slot = epcal__keytab_put(m->to, e.uid, &added);
  if (slot == NULL) {
    m->oom = true;
  } else if (added) {
    *slot = e;
    m->keys[m->n++] = e.uid;
  }
}

epcal_status epcal__previous_load_view(epcal_previous *shared,
                                       const char *path, uint64_t salt,
                                       uint64_t max_bytes,
                                       const volatile sig_atomic_t *cancel,
                                       epcal_previous **view,
                                       epcal_error *err) {
  epcal_previous *own;
  epcal_status st =
      epcal__previous_load_capped(&own, path, max_bytes, cancel, err);
  if (st != EPCAL_OK) {
    return st;
  }
  if (own == NULL) {
    *view = NULL;
    return EPCAL_OK;
  }
  /* Loaded on its own first, so that a damaged feed leaves nothing in
   * the shared index. */
  epcal_previous *v = calloc(1, sizeof *v);
  size_t n = own->own->count;
  move_ctx m = {shared->index, salt != 0 ? salt : 1, v == NULL,
                v != NULL ? malloc((n > 0 ? n : 1) * sizeof(uint64_t)) : NULL,
                0};
  if (v != NULL && m.keys != NULL) {
    epcal__keytab_each(own->own, move_event, &m);
  }
  epcal_previous_free(own);
  if (m.oom || m.keys == NULL) {
    free(m.keys);
    free(v);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }
  v->index = shared->index;
  v->salt = m.salt;
  v->keys = m.keys;
  v->n_keys = m.n;
  *view = v;
  return EPCAL_OK;
}

size_t epcal__previous_view_events(const epcal_previous *view) {
  return view != NULL ? view->n_keys : 0;
}

unsigned long epcal__previous_drop_view(epcal_previous *view) {
  unsigned long unseen = 0;
  if (view == NULL) {
    return 0;
  }
  for (size_t i = 0; i < view->n_keys; i++) {
    const epcal__prev_event *e = epcal__keytab_find(view->index, view->keys[i]);
    if (e != NULL) {
      unseen += !e->seen;
      epcal__keytab_remove(view->index, view->keys[i]);
    }
  }
  free(view->keys);
  view->keys = NULL;
  view->n_keys = 0;
  return unseen;
}

bool epcal__parse_utc(const char *s, size_t n, int64_t *out) {
  if (n != 16 || s[8] != 'T' || s[15] != 'Z') {
    return false;
  }
  int v[6];
  static const int at[6] = {0, 4, 6, 9, 11, 13};
  static const int len[6] = {4, 2, 2, 2, 2, 2};
  for (int k = 0; k < 6; k++) {
    v[k] = 0;
    for (int i = 0; i < len[k]; i++) {
      char c = s[at[k] + i];
      if (c < '0' || c > '9') {
        return false;
      }
      v[k] = v[k] * 10 + (c - '0');
    }
  }
  if (!epcal__date_valid(v[0], v[1], v[2]) || v[3] > 23 || v[4] > 59 ||
      v[5] > 60) {
    return false;
  }
  epcal_date d = {v[0], v[1], v[2]};
  *out = epcal__date_to_days(d) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
  return true;
}

/* A UTC stamp as kept in the index: 1970 to 2106 (a stamp outside that
 * range is treated as malformed). */
static bool parse_stamp(const char *s, size_t n, uint32_t *out) {
  int64_t t;
  if (!epcal__parse_utc(s, n, &t) || t < 0 || t > (int64_t)UINT32_MAX) {
    return false;
  }
  *out = (uint32_t)t;
  return true;
}

/* ------------------------------------------------------------- scanning */

/* Where the scanner is. Lines are found with memchr in a buffer filled by
 * read(): getline() took a fifth of loading a big feed. */
typedef struct scanner {
  int fd;
  char *buf;
  size_t cap;    /* SCAN_BUF, or more for a longer line */
  size_t filled; /* buf[0, filled) was read */
  size_t pos;    /* buf[pos, filled) is not scanned yet */
  bool eof;
  int read_errno; /* a read() that failed: its errno; else 0 */
  const char *line; /* the current physical line, without its line end */
  size_t len;
  unsigned long lineno;
  uint64_t total; /* bytes read so far */
  uint64_t max;   /* at most this many (0: no cap): the file may grow */
  bool too_long;  /* a line longer than MAX_LINE, or past `max` */
} scanner;

#define SCAN_BUF (256 * 1024)

/* No feed has a physical line this long (RFC 5545 folds at 75 octets);
 * a file that does is not read further, whatever its size. */
#define MAX_LINE (16u << 20)

/* Reads the next physical line (LF or CRLF ended). false at the end, on a
 * read error (read_errno) and when out of memory (*oom). */
static bool next_line(scanner *s, bool *oom) {
  for (;;) {
    char *start = s->buf + s->pos;
    size_t avail = s->filled - s->pos;
    char *nl = memchr(start, '\n', avail);
    if (nl != NULL || (s->eof && avail > 0)) {
      size_t n = nl != NULL ? (size_t)(nl - start) : avail;
      s->pos += nl != NULL ? n + 1 : n;
      if (n > 0 && start[n - 1] == '\r') {
        n--;
      }
      s->line = start;
      s->len = n;
      s->lineno++;
      return true;
    }
    if (s->eof) {
      return false;
    }
    /* Keep the unfinished line, at the front; a line longer than the
     * buffer doubles it. */
    memmove(s->buf, start, avail);
    s->filled = avail;
    s->pos = 0;
    if (s->filled == s->cap) {
      if (s->cap >= MAX_LINE) {
        s->too_long = true;
        return false;
      }
      char *buf = realloc(s->buf, 2 * s->cap);
      if (buf == NULL) {
        *oom = true;
        return false;
      }
      s->buf = buf;
      s->cap *= 2;
    }
    ssize_t r = read(s->fd, s->buf + s->filled, s->cap - s->filled);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      s->read_errno = errno;
      return false;
    }
    if (r == 0) {
      s->eof = true;
    }
    s->filled += (size_t)r;
    s->total += (uint64_t)r;
    if (s->max > 0 && s->total > s->max) {
      s->too_long = true; /* it grew while read */
      return false;
    }
  }
}

static bool is_name(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  /* The first letter rules out most names before a whole comparison:
   * every line is asked about several names. */
  return len > n && (line[0] | 0x20) == (name[0] | 0x20) &&
         strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

/* The value after the first ':' of a content line. */
static const char *value_of(const char *line, size_t len, size_t *vlen) {
  const char *colon = memchr(line, ':', len);
  if (colon == NULL) {
    *vlen = 0;
    return line + len;
  }
  *vlen = len - (size_t)(colon - line) - 1;
  return colon + 1;
}

/* What a logical line is to the fingerprint. */
enum role { BODY, KEY_UID, KEY_DTSTAMP, KEY_SEQUENCE, KEY_LASTMOD };

epcal_status epcal_previous_load(epcal_previous **out, const char *path,
                                 epcal_error *err) {
  return epcal__previous_load_capped(out, path, 0, NULL, err);
}

epcal_status epcal__previous_open(const char *path, int *fd_out,
                                  uint64_t *size, epcal_error *err) {
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (nor a device
   * for carrier); fstat then refuses whatever is not a regular file, which
   * is all that can be read to its end without waiting or without end. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      *fd_out = -1;
      return EPCAL_OK; /* the first run: nothing to compare with */
    }
    return epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot open: %s",
                       strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return epcal__fail(err, EPCAL_EUSAGE, path, 0, 0,
                       "a previous feed must be a regular file, not a "
                       "device, FIFO, socket or directory");
  }
  *fd_out = fd;
  *size = (uint64_t)sb.st_size;
  return EPCAL_OK;
}

epcal_status epcal__previous_load_capped(epcal_previous **out,
                                         const char *path, uint64_t max_bytes,
                                         const volatile sig_atomic_t *cancel,
                                         epcal_error *err) {
  int fd;
  uint64_t size = 0;
  epcal_status ost = epcal__previous_open(path, &fd, &size, err);
  if (ost != EPCAL_OK) {
    return ost;
  }
  if (fd < 0) {
    *out = NULL;
    return EPCAL_OK;
  }
  if (max_bytes > 0 && size > max_bytes) {
    close(fd);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0,
                       "the previous feed is larger than %llu bytes",
                       (unsigned long long)max_bytes);
  }
  epcal_previous *p = previous_new();
  scanner s;
  memset(&s, 0, sizeof s);
  s.fd = fd;
  s.cap = SCAN_BUF;
  s.max = max_bytes;
  /* A split rerun loads tens of thousands of small feeds: a buffer the
   * size of each (the scanner grows it for a longer line). */
  if (size < SCAN_BUF) {
    s.cap = size < 4096 ? 4096 : (size_t)size + 1;
  }
  s.buf = malloc(s.cap);
  epcal_status st = EPCAL_OK;
  bool oom = false;
  int depth = 0; /* 1 in VCALENDAR, 2 in VEVENT, 3+ in VALARM etc. */
  bool in_event = false, saw_calendar = false, ended = false;
  epcal__prev_event ev;
  uint32_t last_modified = 0; /* of the event being read; 0: none */
  memset(&ev, 0, sizeof ev);
  bool have_stamp = false;
  enum role role = BODY;
  /* The UID may be folded: collect its unfolded value. */
  char uid[1024];
  size_t uid_len = 0;
  uint64_t fp_state = 0x9E3779B97F4A7C15ULL;
  unsigned long event_line = 0;
  if (p == NULL || s.buf == NULL) {
    epcal_previous_free(p);
    free(s.buf);
    close(fd);
    return epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  }

  while (st == EPCAL_OK && next_line(&s, &oom)) {
    /* A signal ends the run here too: a big previous feed takes a while. */
    if (cancel != NULL && *cancel != 0) {
      st = epcal__fail(err, EPCAL_EIO, path, 0, 0, "interrupted");
      break;
    }
    const char *l = s.line;
    size_t n = s.len;
    bool continuation = n > 0 && (l[0] == ' ' || l[0] == '\t');
    if (ended) {
      if (n == 0) {
        continue;
      }
      st = epcal__fail(err, EPCAL_EDATA, path, s.lineno, 1,
                       "text after END:VCALENDAR");
      break;
    }
    if (!continuation) {
      /* A new logical line: decide its role. */
      role = BODY;
      if (s.lineno == 1 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0) {
        l += 3;
        n -= 3;
      }
      if (is_name(l, n, "BEGIN")) {
        size_t vn;
        const char *v = value_of(l, n, &vn);
        if (depth == 0) {
          if (vn != 9 || strncasecmp(v, "VCALENDAR", 9) != 0) {
            break;
          }
          saw_calendar = true;
        } else if (depth == 1 && vn == 6 && strncasecmp(v, "VEVENT", 6) == 0) {
          in_event = true;
          memset(&ev, 0, sizeof ev);
          last_modified = 0;
          have_stamp = false;
          uid_len = 0;
          fp_state = 0x9E3779B97F4A7C15ULL;
          event_line = s.lineno;
          depth++;
          continue;
        }
        depth++;
      } else if (is_name(l, n, "END")) {
        if (depth == 0) {
          st = epcal__fail(err, EPCAL_EDATA, path, s.lineno, 1,
                           "END without BEGIN");
          break;
        }
        depth--;
        if (in_event && depth == 1) {
          in_event = false;
          if (uid_len == 0 || !have_stamp) {
            st = epcal__fail(err, EPCAL_EDATA, path, event_line, 1,
                             "event without %s",
                             uid_len == 0 ? "UID" : "a valid DTSTAMP");
            break;
          }
          ev.uid = epcal__hash64(uid, uid_len);
          ev.fingerprint = fp_state;
          ev.modified = last_modified != 0 && last_modified == ev.dtstamp;
          ev.restamp = last_modified != 0 && last_modified != ev.dtstamp;
          if (!insert(p, &ev)) {
            oom = true;
            break;
          }
          continue;
        }
        if (depth == 0) {
          ended = true;
        }
      } else if (depth == 0) {
        break; /* not a calendar */
      } else if (in_event && depth == 2) {
        if (is_name(l, n, "UID")) {
          role = KEY_UID;
        } else if (is_name(l, n, "DTSTAMP")) {
          role = KEY_DTSTAMP;
        } else if (is_name(l, n, "SEQUENCE")) {
          role = KEY_SEQUENCE;
        } else if (is_name(l, n, "LAST-MODIFIED")) {
          role = KEY_LASTMOD;
        }
      }
    }
    if (!in_event) {
      continue;
    }
    size_t vn;
    const char *v;
    switch (role) {
    case BODY:
      /* The renderer hashes the same bytes: physical lines with CRLF. */
      fp_state = epcal__hash64(l, n) ^ (fp_state * 0x100000001B3ULL);
      break;
    case KEY_UID:
      v = continuation ? l + 1 : value_of(l, n, &vn);
      vn = continuation ? n - 1 : vn;
      if (uid_len + vn < sizeof uid) {
        memcpy(uid + uid_len, v, vn);
        uid_len += vn;
      }
      break;
    case KEY_DTSTAMP:
      v = value_of(l, n, &vn);
      have_stamp = !continuation && parse_stamp(v, vn, &ev.dtstamp);
      break;
    case KEY_LASTMOD:
      v = value_of(l, n, &vn);
      if (!continuation && !parse_stamp(v, vn, &last_modified)) {
        last_modified = 0;
      }
      break;
    case KEY_SEQUENCE:
      v = value_of(l, n, &vn);
      {
        uint64_t seq = 0;
        for (size_t i = 0; i < vn && i < 12 && v[i] >= '0' && v[i] <= '9';
             i++) {
          seq = seq * 10 + (uint64_t)(v[i] - '0');
        }
        ev.sequence = seq < EPCAL__SEQUENCE_MAX ? (uint32_t)seq
                                                : EPCAL__SEQUENCE_MAX;
      }
      break;
    }
  }
  if (st == EPCAL_OK && oom) {
    st = epcal__fail(err, EPCAL_ENOMEM, path, 0, 0, "out of memory");
  } else if (st == EPCAL_OK && s.too_long) {
    st = s.max > 0 && s.total > s.max
             ? epcal__fail(err, EPCAL_ENOMEM, path, 0, 0,
                           "the previous feed is larger than %llu bytes",
                           (unsigned long long)s.max)
             : epcal__fail(err, EPCAL_EDATA, path, s.lineno + 1, 1,
                           "a line longer than %u MiB", MAX_LINE >> 20);
  } else if (st == EPCAL_OK && s.read_errno != 0) {
    st = epcal__fail(err, EPCAL_EIO, path, 0, 0, "cannot read: %s",
                     strerror(s.read_errno));
  } else if (st == EPCAL_OK && !saw_calendar) {
    st = epcal__fail(err, EPCAL_EDATA, path, s.lineno, 1,
                     "not an iCalendar feed (no BEGIN:VCALENDAR)");
  } else if (st == EPCAL_OK && !ended) {
    st = epcal__fail(err, EPCAL_EDATA, path, s.lineno, 1,
                     "feed is cut short (no END:VCALENDAR)");
  }
  free(s.buf);
  close(fd);
  if (st != EPCAL_OK) {
    epcal_previous_free(p);
    return st;
  }
  *out = p;
  return EPCAL_OK;
}
