/*
 * select: does a selection name what the input holds? `--show Picard` when
 * the show is "Star Trek: Picard", or `--season 3` of a two-season file,
 * selects nothing; an empty calendar is then a silent failure (a person
 * imports nothing, or subscribes to nothing), so it is an error that says
 * what the input does hold and what was probably meant.
 *
 * Everything here is bounded whatever the input: the first NAMES_MAX show
 * names (for the message), a set of name hashes (so a name is looked at
 * once), a bitmap of seasons, and per named show the best suggestion so
 * far. Rows come grouped by show, so a row of the same show as the one
 * before costs one strcmp.
 */
#include "error.h"
#include "keytab.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAMES_MAX 256    /* show names kept for the message */
#define NAME_KEEP 120    /* bytes of a name kept for the message */
#define SEEN_SLOTS 4096  /* hashes of names already looked at */
#define SEEN_MAX 3072    /* ... filled to three quarters at most */
#define SEASON_BITS 4096 /* seasons 0..4095 in a bitmap */
#define NO_SCORE SIZE_MAX

struct epcal_selection_audit {
  const epcal_selection *sel;
  unsigned long rows;
  unsigned long *show_hits;   /* per named show */
  unsigned long *season_hits; /* per season range */
  size_t shows_open;          /* named shows without a hit yet */
  /* The nearest name for each named show, while it has no hit. */
  char **best;
  size_t *best_score;
  /* The show of the row before and whether the show filter kept it. */
  char *last;
  size_t last_cap;
  bool last_ok;
  /* Show names looked at (only while a named show has no hit). */
  uint64_t *seen; /* SEEN_SLOTS, 0: empty */
  size_t n_seen;
  char *names[NAMES_MAX];
  size_t n_names;
  bool names_cut; /* more distinct names than could be told apart */
  /* Seasons of the episodes the show filter keeps. */
  uint64_t seasons[SEASON_BITS / 64];
  bool seasons_over; /* one above SEASON_BITS - 1 */
};

epcal_status epcal_selection_audit_new(epcal_selection_audit **out,
                                       const epcal_selection *sel,
                                       epcal_error *err) {
  epcal_selection_audit *a = calloc(1, sizeof *a);
  if (a == NULL) {
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  a->sel = sel;
  size_t ns = sel != NULL ? sel->n_shows : 0;
  size_t nr = sel != NULL ? sel->n_seasons : 0;
  bool ok = true;
  if (ns > 0) {
    a->show_hits = calloc(ns, sizeof *a->show_hits);
    a->best = calloc(ns, sizeof *a->best);
    a->best_score = malloc(ns * sizeof *a->best_score);
    a->seen = calloc(SEEN_SLOTS, sizeof *a->seen);
    ok = a->show_hits != NULL && a->best != NULL && a->best_score != NULL &&
         a->seen != NULL;
    for (size_t i = 0; ok && i < ns; i++) {
      a->best_score[i] = NO_SCORE;
    }
    a->shows_open = ns;
  }
  if (nr > 0) {
    a->season_hits = calloc(nr, sizeof *a->season_hits);
    ok = ok && a->season_hits != NULL;
  }
  if (!ok) {
    epcal_selection_audit_free(a);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  *out = a;
  return EPCAL_OK;
}

void epcal_selection_audit_free(epcal_selection_audit *a) {
  if (a == NULL) {
    return;
  }
  size_t ns = a->sel != NULL ? a->sel->n_shows : 0;
  for (size_t i = 0; a->best != NULL && i < ns; i++) {
    free(a->best[i]);
  }
  for (size_t i = 0; i < a->n_names; i++) {
    free(a->names[i]);
  }
  free(a->best);
  free(a->best_score);
  free(a->show_hits);
  free(a->season_hits);
  free(a->seen);
  free(a->last);
  free(a);
}

/* A copy of at most NAME_KEEP bytes of s, cut on a character boundary. */
static char *keep_name(const char *s) {
  size_t n = strlen(s);
  if (n > NAME_KEEP) {
    n = NAME_KEEP;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
      n--;
    }
  }
  char *c = malloc(n + 1);
  if (c != NULL) {
    memcpy(c, s, n);
    c[n] = '\0';
  }
  return c;
}

/* Whether `hay` holds `needle`, ignoring ASCII case. */
static bool has_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay != '\0'; hay++) {
    if (strncasecmp(hay, needle, n) == 0) {
      return true;
    }
  }
  return false;
}

/* Edit distance ignoring ASCII case, with transpositions; 99 for texts
 * over 64 bytes. */
static size_t distance_ci(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) {
    return 99;
  }
  unsigned char d[65][65];
  for (size_t i = 0; i <= la; i++) {
    d[i][0] = (unsigned char)i;
  }
  for (size_t j = 0; j <= lb; j++) {
    d[0][j] = (unsigned char)j;
  }
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int x = tolower((unsigned char)a[i - 1]);
      int y = tolower((unsigned char)b[j - 1]);
      unsigned v = d[i - 1][j - 1] + (x != y);
      if (d[i - 1][j] + 1u < v) {
        v = d[i - 1][j] + 1u;
      }
      if (d[i][j - 1] + 1u < v) {
        v = d[i][j - 1] + 1u;
      }
      if (i > 1 && j > 1 && x == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == y && d[i - 2][j - 2] + 1u < v) {
        v = d[i - 2][j - 2] + 1u;
      }
      d[i][j] = (unsigned char)v;
    }
  }
  return d[la][lb];
}

/*
 * How near `name` is to what the user asked for (lower is nearer), or
 * NO_SCORE when it is no suggestion: a typo (up to three edits, fewer than
 * the word has characters) beats a name that holds the word or is held in
 * it ("Picard" in "Star Trek: Picard"), the closer in length the better.
 */
static size_t score(const char *want, const char *name) {
  size_t lw = strlen(want), ln = strlen(name);
  size_t d = distance_ci(want, name);
  if (d <= 3 && d < lw) {
    return d;
  }
  if (lw >= 3 && ln > lw && has_ci(name, want)) {
    return 10 + (ln - lw);
  }
  if (ln >= 3 && lw > ln && has_ci(want, name)) {
    return 10 + (lw - ln);
  }
  return NO_SCORE;
}

/* Looks at a show name not looked at before: keeps it for the message and
 * offers it as a suggestion to each named show without a hit. */
static void look_at(epcal_selection_audit *a, const char *show) {
  uint64_t h = epcal__hash64(show, strlen(show)) | 1;
  size_t i = (size_t)h & (SEEN_SLOTS - 1);
  while (a->seen[i] != 0 && a->seen[i] != h) {
    i = (i + 1) & (SEEN_SLOTS - 1);
  }
  if (a->seen[i] == h) {
    return;
  }
  if (a->n_seen < SEEN_MAX) {
    a->seen[i] = h;
    a->n_seen++;
  } else {
    a->names_cut = true; /* looked at again each time: harmless */
  }
  if (a->n_names < NAMES_MAX && !a->names_cut) {
    char *c = keep_name(show);
    if (c != NULL) {
      a->names[a->n_names++] = c;
    } else {
      a->names_cut = true;
    }
  } else {
    a->names_cut = true;
  }
  for (size_t k = 0; k < a->sel->n_shows; k++) {
    if (a->show_hits[k] != 0) {
      continue;
    }
    size_t s = score(a->sel->shows[k], show);
    if (s < a->best_score[k]) {
      char *c = keep_name(show);
      if (c != NULL) {
        free(a->best[k]);
        a->best[k] = c;
        a->best_score[k] = s;
      }
    }
  }
}

/* Whether the show filter keeps `show`; counts the named shows it is. */
static bool show_kept(epcal_selection_audit *a, const char *show) {
  bool ok = false;
  for (size_t k = 0; k < a->sel->n_shows; k++) {
    if (strcasecmp(a->sel->shows[k], show) == 0) {
      if (a->show_hits[k]++ == 0) {
        a->shows_open--;
      }
      ok = true;
    }
  }
  /* Every name, kept or not, for the list in the message. */
  if (a->shows_open > 0) {
    look_at(a, show);
  }
  return ok;
}

void epcal_selection_audit_add(epcal_selection_audit *a,
                               const epcal_episode *ep) {
  const epcal_selection *sel = a->sel;
  a->rows++;
  if (sel == NULL || (sel->n_shows == 0 && sel->n_seasons == 0)) {
    return;
  }
  bool ok = true;
  if (sel->n_shows > 0) {
    if (a->last != NULL && strcmp(a->last, ep->show) == 0) {
      ok = a->last_ok;
    } else {
      ok = show_kept(a, ep->show);
      size_t n = strlen(ep->show) + 1;
      if (n > a->last_cap) {
        char *p = realloc(a->last, n);
        if (p == NULL) {
          free(a->last);
          a->last = NULL;
          a->last_cap = 0;
          return; /* the next row looks again */
        }
        a->last = p;
        a->last_cap = n;
      }
      memcpy(a->last, ep->show, n);
      a->last_ok = ok;
    }
  }
  if (!ok || sel->n_seasons == 0) {
    return;
  }
  if (ep->season >= 0 && ep->season < SEASON_BITS) {
    a->seasons[ep->season / 64] |= (uint64_t)1 << (ep->season % 64);
  } else {
    a->seasons_over = true;
  }
  for (size_t k = 0; k < sel->n_seasons; k++) {
    if (ep->season >= sel->seasons[k].first &&
        ep->season <= sel->seasons[k].last) {
      a->season_hits[k]++;
    }
  }
}

/* A message being built: appends that do not fit are cut. */
typedef struct text {
  char buf[sizeof(((epcal_error *)0)->msg)];
  size_t len;
} text;

static void put(text *t, const char *fmt, ...) EPCAL__PRINTF(2, 3);
static void put(text *t, const char *fmt, ...) {
  if (t->len >= sizeof t->buf - 1) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
  va_end(ap);
  if (n > 0) {
    t->len += (size_t)n;
    if (t->len > sizeof t->buf - 1) {
      t->len = sizeof t->buf - 1;
    }
  }
}

static size_t room(const text *t) { return sizeof t->buf - 1 - t->len; }

static epcal_status shows_error(const epcal_selection_audit *a,
                                epcal_error *err) {
  text t = {.len = 0};
  t.buf[0] = '\0';
  const char *sep = "no show in the input is named ";
  for (size_t k = 0; k < a->sel->n_shows; k++) {
    if (a->show_hits[k] != 0) {
      continue;
    }
    put(&t, "%s\"%s\"", sep, a->sel->shows[k]);
    if (a->best[k] != NULL) {
      put(&t, " (did you mean \"%s\"?)", a->best[k]);
    }
    sep = ", nor ";
  }
  if (a->rows == 0) {
    put(&t, "; it has no episodes");
  } else if (a->names_cut) {
    put(&t, "; it has more than %zu shows, among them ", a->n_names);
  } else {
    put(&t, "; it has %zu show%s: ", a->n_names, a->n_names == 1 ? "" : "s");
  }
  for (size_t i = 0; i < a->n_names; i++) {
    /* Room for this name and for what may follow it. */
    if (strlen(a->names[i]) + 24 > room(&t)) {
      put(&t, " and %zu more", a->n_names - i);
      break;
    }
    put(&t, "%s\"%s\"", i > 0 ? ", " : "", a->names[i]);
  }
  return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0, "%s", t.buf);
}

static bool has_season(const epcal_selection_audit *a, long s) {
  return (a->seasons[s / 64] >> (s % 64)) & 1;
}

static epcal_status seasons_error(const epcal_selection_audit *a,
                                  epcal_error *err) {
  const epcal_selection *sel = a->sel;
  text t = {.len = 0};
  t.buf[0] = '\0';
  if (sel->n_shows == 1) {
    put(&t, "no episode of \"%s\" is in ", sel->shows[0]);
  } else if (sel->n_shows > 1) {
    put(&t, "no episode of the selected shows is in ");
  } else {
    put(&t, "no episode in the input is in ");
  }
  const char *sep = "";
  for (size_t k = 0; k < sel->n_seasons; k++) {
    if (a->season_hits[k] != 0) {
      continue;
    }
    if (sel->seasons[k].first == sel->seasons[k].last) {
      put(&t, "%sseason %ld", sep, sel->seasons[k].first);
    } else {
      put(&t, "%sseasons %ld-%ld", sep, sel->seasons[k].first,
          sel->seasons[k].last);
    }
    sep = " or ";
  }
  const char *whose = sel->n_shows == 1   ? "its"
                      : sel->n_shows > 1 ? "their"
                                         : "the input's";
  size_t n = 0;
  for (long s = 0; s < SEASON_BITS; s++) {
    n += has_season(a, s);
  }
  if (n == 0 && !a->seasons_over) {
    put(&t, " (%s no episodes)",
        sel->n_shows == 0 ? "the input has" : sel->n_shows == 1 ? "it has"
                                                                : "they have");
    return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0, "%s", t.buf);
  }
  put(&t, " (%s season%s: ", whose,
      n + (a->seasons_over ? 1 : 0) == 1 ? "" : "s");
  sep = "";
  for (long s = 0; s < SEASON_BITS; s++) {
    if (!has_season(a, s)) {
      continue;
    }
    long e = s;
    while (e + 1 < SEASON_BITS && has_season(a, e + 1)) {
      e++;
    }
    if (room(&t) < 32) {
      put(&t, ", ...");
      break;
    }
    if (e == s) {
      put(&t, "%s%ld", sep, s);
    } else {
      put(&t, "%s%ld-%ld", sep, s, e);
    }
    sep = ", ";
    s = e;
  }
  if (a->seasons_over) {
    put(&t, "%sover %d", sep, SEASON_BITS - 1);
  }
  put(&t, ")");
  return epcal__fail(err, EPCAL_EDATA, NULL, 0, 0, "%s", t.buf);
}

epcal_status epcal_selection_audit_end(const epcal_selection_audit *a,
                                       epcal_error *err) {
  const epcal_selection *sel = a->sel;
  if (sel == NULL) {
    return EPCAL_OK;
  }
  if (a->shows_open > 0) {
    return shows_error(a, err);
  }
  for (size_t k = 0; k < sel->n_seasons; k++) {
    if (a->season_hits[k] == 0) {
      return seasons_error(a, err);
    }
  }
  return EPCAL_OK;
}
