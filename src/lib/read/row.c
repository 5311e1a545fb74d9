#include "row.h"

#include "date.h"
#include "error.h"
#include "place.h"
#include "utf8.h"

#include <ctype.h>
#include <string.h>

/* Trims blanks (space, tab, line breaks) in place; NULL when empty. */
static char *trimmed(char *s, size_t len) {
  size_t a = 0;
  while (a < len && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n')) {
    a++;
  }
  while (len > a &&
         (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n')) {
    len--;
  }
  s[len] = '\0';
  return len > a ? s + a : NULL;
}

/* Parses 0..999999 with optional surrounding blanks; false otherwise. */
static bool parse_count(const char *s, long *out) {
  long v = 0;
  int digits = 0;
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  while (isdigit((unsigned char)*s)) {
    if (++digits > 6) {
      return false;
    }
    v = v * 10 + (*s++ - '0');
  }
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  if (digits == 0 || *s != '\0') {
    return false;
  }
  *out = v;
  return true;
}

/* Parses an episode code: "2x01", "02X01", "S02E01", "s2e1", "S02 E01". */
static bool parse_code(const char *s, long *season, long *number) {
  char buf[32];
  size_t n = 0;
  for (; *s != '\0'; s++) {
    if (*s == ' ' || *s == '\t') {
      continue;
    }
    if (n + 1 >= sizeof buf) {
      return false;
    }
    buf[n++] = (char)tolower((unsigned char)*s);
  }
  buf[n] = '\0';
  const char *p = buf;
  bool s_form = *p == 's';
  if (s_form) {
    p++;
  }
  const char *sep = strchr(p, s_form ? 'e' : 'x');
  if (sep == NULL || sep == p) {
    return false;
  }
  char left[16];
  size_t ln = (size_t)(sep - p);
  if (ln >= sizeof left) {
    return false;
  }
  memcpy(left, p, ln);
  left[ln] = '\0';
  return parse_count(left, season) && parse_count(sep + 1, number);
}

static bool looks_like_code(const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == 'x' || *s == 'X' || *s == 'e' || *s == 'E') {
      return true;
    }
  }
  return false;
}

epcal_status epcal__row_convert(const epcal__place *place,
                                const epcal__header *h, char *data,
                                const size_t *off, const size_t *len, size_t n,
                                bool text_ok, const epcal_read_options *opts,
                                const epcal__event_rules *rules,
                                epcal_episode *ep, epcal_error *err) {
  for (size_t i = h->n_columns; i < n; i++) {
    if (len[i] != 0) {
      return epcal__place_fail(
          place, err, i, 0,
          "row has %zu fields but the header has %zu (does a field with "
          "a delimiter lack its quotes?)",
          n, h->n_columns);
    }
  }

  char *cell[EPCAL__F_COUNT];
  for (int f = 0; f < EPCAL__F_COUNT; f++) {
    int c = h->col[f];
    if (c < 0 || (size_t)c >= n) {
      cell[f] = NULL;
      continue;
    }
    if (text_ok) {
      cell[f] = trimmed(data + off[c], len[c]);
      continue;
    }
    size_t bad = epcal__utf8_valid_prefix(data + off[c], len[c]);
    if (bad != len[c]) {
      return epcal__place_fail(
          place, err, (size_t)c, bad,
          "invalid UTF-8 (byte 0x%02X) in %s (for a Windows export, try "
          "--encoding WINDOWS-1252)",
          (unsigned char)data[off[c] + bad],
          epcal__field_name((epcal__field)f));
    }
    /* Episode strings are C strings: a NUL would silently cut the value
     * short (or empty a required one). It mostly means UTF-16 input. */
    const char *nul = memchr(data + off[c], '\0', len[c]);
    if (nul != NULL) {
      return epcal__place_fail(
          place, err, (size_t)c, (size_t)(nul - (data + off[c])),
          "NUL byte in %s (is the file UTF-16?); convert the file to UTF-8",
          epcal__field_name((epcal__field)f));
    }
    cell[f] = trimmed(data + off[c], len[c]);
  }

  epcal_episode e;
  memset(&e, 0, sizeof e);
  if (h->col[EPCAL__F_SHOW] < 0) {
    /* A single-show table: the header was accepted because the show is
     * given (see epcal__header_map). */
    cell[EPCAL__F_SHOW] = (char *)opts->default_show;
  } else if (cell[EPCAL__F_SHOW] == NULL) {
    return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_SHOW], 0,
                             "show is empty");
  }
  if (!epcal__has_visible(cell[EPCAL__F_SHOW])) {
    return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_SHOW], 0,
                             "show has only control characters");
  }
  e.show = cell[EPCAL__F_SHOW];

  /* Season and number: from a code column, or season + episode (whose
   * value may itself be a code such as 2x01). */
  bool have_season = false;
  bool have_number = false;
  if (cell[EPCAL__F_CODE] != NULL) {
    if (!parse_code(cell[EPCAL__F_CODE], &e.season, &e.number)) {
      return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_CODE], 0,
                               "episode code \"%s\" is not like 2x01 or S02E01",
                               cell[EPCAL__F_CODE]);
    }
    have_season = have_number = true;
  }
  const char *epi = cell[EPCAL__F_EPISODE];
  if (!have_number && epi != NULL) {
    if (looks_like_code(epi)) {
      if (!parse_code(epi, &e.season, &e.number)) {
        return epcal__place_fail(
            place, err, (size_t)h->col[EPCAL__F_EPISODE], 0,
            "episode \"%s\" is neither a number nor a code like 2x01 or "
            "S02E01",
            epi);
      }
      have_season = true;
    } else if (!parse_count(epi, &e.number)) {
      return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_EPISODE], 0,
                               "episode \"%s\" is not a number", epi);
    }
    have_number = true;
  }
  if (!have_number) {
    int c = h->col[EPCAL__F_CODE] >= 0 ? h->col[EPCAL__F_CODE]
                                       : h->col[EPCAL__F_EPISODE];
    return epcal__place_fail(place, err, (size_t)c, 0,
                             "episode number is empty");
  }
  const char *sea = cell[EPCAL__F_SEASON];
  if (sea != NULL) {
    long season;
    if (!parse_count(sea, &season)) {
      return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_SEASON], 0,
                               "season \"%s\" is not a number", sea);
    }
    if (have_season && season != e.season) {
      return epcal__place_fail(
          place, err, (size_t)h->col[EPCAL__F_SEASON], 0,
          "season %ld disagrees with the episode code's season %ld", season,
          e.season);
    }
    e.season = season;
    have_season = true;
  }
  if (!have_season && h->col[EPCAL__F_SEASON] < 0 && opts->has_default_season) {
    e.season = opts->default_season;
    have_season = true;
  }
  if (!have_season) {
    int c = h->col[EPCAL__F_SEASON] >= 0 ? h->col[EPCAL__F_SEASON]
                                         : h->col[EPCAL__F_EPISODE];
    return epcal__place_fail(
        place, err, (size_t)c, 0,
        h->col[EPCAL__F_SEASON] >= 0
            ? "season is empty (give it, or a code like 2x01)"
            : "season is missing: give a season column, a code like 2x01, "
              "or the season with --season N (one)");
  }

  const char *date = cell[EPCAL__F_DATE];
  if (date == NULL || epcal__date_is_unscheduled(date)) {
    e.scheduled = false;
  } else {
    epcal_error derr;
    if (epcal_date_parse(date, opts->date_format, &e.date, &derr) != EPCAL_OK) {
      return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_DATE], 0,
                               "%s", derr.msg);
    }
    e.scheduled = true;
  }

  e.title = cell[EPCAL__F_TITLE];
  e.description = cell[EPCAL__F_DESCRIPTION];
  e.url = cell[EPCAL__F_URL];
  e.network = cell[EPCAL__F_NETWORK];
  e.uid = cell[EPCAL__F_UID];
  if (e.uid != NULL) {
    /* A UID is an identity: a control character in it would be dropped on
     * output and make two different uids one. */
    for (const char *p = e.uid; *p != '\0'; p++) {
      if ((unsigned char)*p < 0x20 || *p == 0x7F) {
        return epcal__place_fail(place, err, (size_t)h->col[EPCAL__F_UID],
                                 (size_t)(p - e.uid),
                                 "uid contains a control character");
      }
    }
  }
  epcal_status st = epcal__row_timing(place, h, cell, rules, &e, err);
  if (st != EPCAL_OK) {
    return st;
  }
  *ep = e;
  return EPCAL_OK;
}
