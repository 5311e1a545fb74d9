/*
 * read: the header row -> which column holds each field.
 *
 * Tables come from everywhere: a CSV written for epcal, a spreadsheet, an
 * episode list copied from a wiki or a release-date page. So a header cell
 * is compared in a normal form (ASCII lower case; spaces, no-break spaces,
 * '_', '-' and '.' dropped; a "(US)" or "[a]" qualifier dropped) against
 * the names below, and --column FIELD=HEADER names any other header. A
 * missing required column is reported once, with every field that is
 * missing and the header as it was read, so one run says what to fix.
 */
#include "header.h"

#include "error.h"
#include "place.h"
#include "utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const canonical[EPCAL__F_COUNT] = {
    [EPCAL__F_SHOW] = "show",
    [EPCAL__F_SEASON] = "season",
    [EPCAL__F_EPISODE] = "episode",
    [EPCAL__F_CODE] = "code",
    [EPCAL__F_DATE] = "air_date",
    [EPCAL__F_TITLE] = "title",
    [EPCAL__F_DESCRIPTION] = "description",
    [EPCAL__F_URL] = "url",
    [EPCAL__F_NETWORK] = "network",
    [EPCAL__F_UID] = "uid",
    [EPCAL__F_AIR_TIME] = "air_time",
    [EPCAL__F_TIMEZONE] = "timezone",
    [EPCAL__F_RUNTIME] = "runtime",
    [EPCAL__F_STATUS] = "status",
};

/* Normalised names (see normalise) and the field they mean. doc/epcal-csv.5
 * lists them all; keep the two in step. */
static const struct alias {
  const char *name;
  epcal__field field;
} aliases[] = {
    {"show", EPCAL__F_SHOW},
    {"series", EPCAL__F_SHOW},
    {"showname", EPCAL__F_SHOW},
    {"seriesname", EPCAL__F_SHOW},
    {"tvshow", EPCAL__F_SHOW},
    {"tvseries", EPCAL__F_SHOW},
    {"program", EPCAL__F_SHOW},
    {"programme", EPCAL__F_SHOW},
    {"season", EPCAL__F_SEASON},
    {"seasonnumber", EPCAL__F_SEASON},
    {"seasonno", EPCAL__F_SEASON},
    {"season#", EPCAL__F_SEASON},
    {"episode", EPCAL__F_EPISODE},
    {"ep", EPCAL__F_EPISODE},
    {"ep#", EPCAL__F_EPISODE},
    {"epno", EPCAL__F_EPISODE},
    {"episode#", EPCAL__F_EPISODE},
    {"episodenumber", EPCAL__F_EPISODE},
    {"episodeno", EPCAL__F_EPISODE},
    /* A wiki's episode tables number episodes twice: "No. in season" is
     * the episode; "No. overall" counts from the show's start, so it is
     * not one of these names and is ignored. */
    {"noinseason", EPCAL__F_EPISODE},
    {"numberinseason", EPCAL__F_EPISODE},
    {"episodeinseason", EPCAL__F_EPISODE},
    /* "number" may also hold a code such as 2x01: the row parser accepts
     * either in the episode column. */
    {"number", EPCAL__F_EPISODE},
    {"no", EPCAL__F_EPISODE},
    {"code", EPCAL__F_CODE},
    {"episodecode", EPCAL__F_CODE},
    {"airdate", EPCAL__F_DATE},
    {"date", EPCAL__F_DATE},
    {"aired", EPCAL__F_DATE},
    {"dateaired", EPCAL__F_DATE},
    {"firstaired", EPCAL__F_DATE},
    {"firstairdate", EPCAL__F_DATE},
    {"originalairdate", EPCAL__F_DATE},
    {"originalreleasedate", EPCAL__F_DATE},
    {"originalbroadcastdate", EPCAL__F_DATE},
    {"broadcastdate", EPCAL__F_DATE},
    {"release", EPCAL__F_DATE},
    {"released", EPCAL__F_DATE},
    {"releasedate", EPCAL__F_DATE},
    {"premiere", EPCAL__F_DATE},
    {"premieredate", EPCAL__F_DATE},
    {"title", EPCAL__F_TITLE},
    {"name", EPCAL__F_TITLE},
    {"episodetitle", EPCAL__F_TITLE},
    {"episodename", EPCAL__F_TITLE},
    {"seriestitle", EPCAL__F_TITLE},
    {"description", EPCAL__F_DESCRIPTION},
    {"overview", EPCAL__F_DESCRIPTION},
    {"summary", EPCAL__F_DESCRIPTION},
    {"synopsis", EPCAL__F_DESCRIPTION},
    {"plot", EPCAL__F_DESCRIPTION},
    {"url", EPCAL__F_URL},
    {"link", EPCAL__F_URL},
    {"website", EPCAL__F_URL},
    {"network", EPCAL__F_NETWORK},
    {"channel", EPCAL__F_NETWORK},
    {"broadcaster", EPCAL__F_NETWORK},
    {"originalnetwork", EPCAL__F_NETWORK},
    {"uid", EPCAL__F_UID},
    {"airtime", EPCAL__F_AIR_TIME},
    {"time", EPCAL__F_AIR_TIME},
    {"releasetime", EPCAL__F_AIR_TIME},
    {"starttime", EPCAL__F_AIR_TIME},
    {"timezone", EPCAL__F_TIMEZONE},
    {"tz", EPCAL__F_TIMEZONE},
    {"tzid", EPCAL__F_TIMEZONE},
    {"zone", EPCAL__F_TIMEZONE},
    {"runtime", EPCAL__F_RUNTIME},
    {"runningtime", EPCAL__F_RUNTIME},
    {"duration", EPCAL__F_RUNTIME},
    {"length", EPCAL__F_RUNTIME},
    {"minutes", EPCAL__F_RUNTIME},
    {"status", EPCAL__F_STATUS},
};

const char *epcal__field_name(epcal__field f) { return canonical[f]; }

/*
 * The normal form of a header cell into norm (NUL-terminated): ASCII lower
 * case without blanks, no-break spaces, '_', '-', '.', and without text in
 * parentheses or brackets ("Release date (US)", "Title[a]"). False when it
 * does not fit.
 */
static bool normalise(const char *cell, size_t len, char *norm, size_t cap,
                      bool *qualified) {
  size_t n = 0;
  int depth = 0;
  *qualified = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)cell[i];
    if (c == '(' || c == '[') {
      depth++;
      continue;
    }
    if ((c == ')' || c == ']') && depth > 0) {
      depth--;
      continue;
    }
    *qualified = *qualified || depth > 0;
    if (depth > 0 || c == ' ' || c == '_' || c == '-' || c == '.' ||
        c == '\t' || c == '\r' || c == '\n') {
      continue;
    }
    if (c == 0xC2 && i + 1 < len && (unsigned char)cell[i + 1] == 0xA0) {
      i++; /* U+00A0, which copied web tables are full of */
      continue;
    }
    if (n + 1 >= cap) {
      return false;
    }
    norm[n++] = (char)tolower(c);
  }
  norm[n] = '\0';
  return true;
}

/* epcal__field_lookup, and whether only a qualifier set aside made the
 * name match ("Title (original)"). */
static int lookup(const char *cell, size_t len, bool *qualified) {
  char norm[64];
  if (!normalise(cell, len, norm, sizeof norm, qualified)) {
    return -1;
  }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    if (strcmp(norm, aliases[i].name) == 0) {
      return (int)aliases[i].field;
    }
  }
  return -1;
}

int epcal__field_lookup(const char *cell, size_t len) {
  bool qualified;
  return lookup(cell, len, &qualified);
}

/* Splits "FIELD=HEADER": the field, and where HEADER starts. -1 when FIELD
 * is unknown or there is no '='. */
static int spec_field(const char *spec, const char **header) {
  const char *eq = strchr(spec, '=');
  if (eq == NULL) {
    return -1;
  }
  *header = eq + 1;
  return epcal__field_lookup(spec, (size_t)(eq - spec));
}

epcal_status epcal_column_spec_check(const char *spec, epcal_error *err) {
  const char *header = NULL;
  const char *eq = strchr(spec, '=');
  if (eq == NULL) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "FIELD=HEADER, e.g. air_date=Aired");
  }
  if (spec_field(spec, &header) < 0) {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "unknown field \"%.*s\"; FIELD is show, season, "
                       "episode, code, air_date, title, description, url, "
                       "network, uid, air_time, timezone, runtime or status",
                       (int)(eq - spec), spec);
  }
  while (*header == ' ' || *header == '\t') {
    header++;
  }
  if (*header == '\0') {
    return epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "FIELD=HEADER, and HEADER is empty");
  }
  return EPCAL_OK;
}

/* Whether a header cell is `want` (case-insensitive, blanks around the
 * cell and `want` ignored). */
static bool cell_is(const char *cell, size_t len, const char *want) {
  while (len > 0 && (*cell == ' ' || *cell == '\t')) {
    cell++;
    len--;
  }
  while (len > 0 && (cell[len - 1] == ' ' || cell[len - 1] == '\t')) {
    len--;
  }
  while (*want == ' ' || *want == '\t') {
    want++;
  }
  size_t wl = strlen(want);
  while (wl > 0 && (want[wl - 1] == ' ' || want[wl - 1] == '\t')) {
    wl--;
  }
  return wl == len && strncasecmp(cell, want, len) == 0;
}

/* A bounded message being built: appends, and remembers when it is full. */
typedef struct msgbuf {
  char *s;
  size_t cap, len;
} msgbuf;

static void put(msgbuf *m, const char *fmt, ...) EPCAL__PRINTF(2, 3);
static void put(msgbuf *m, const char *fmt, ...) {
  if (m->len + 1 >= m->cap) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(m->s + m->len, m->cap - m->len, fmt, ap);
  va_end(ap);
  if (n > 0) {
    m->len += (size_t)n < m->cap - m->len ? (size_t)n : m->cap - m->len - 1;
  }
}

/* The header as read, for a message: each cell quoted, long ones and a
 * long list cut short, bytes that are not text shown as '?'. At most
 * `room` bytes. */
static void put_header(msgbuf *m, const char *data, const size_t *off,
                       const size_t *len, size_t n, size_t room) {
  char list[320];
  msgbuf l = {list, sizeof list < room ? sizeof list : room, 0};
  list[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char cell[48];
    size_t w = 0;
    const char *c = data + off[i];
    size_t cl = len[i];
    size_t ok = epcal__utf8_valid_prefix(c, cl);
    for (size_t k = 0; k < cl && w + 5 < sizeof cell; k++) {
      unsigned char b = (unsigned char)c[k];
      bool text = k < ok && b >= 0x20 && b != 0x7F && b != '"';
      cell[w++] = text ? (char)b : '?';
    }
    /* Never end inside a UTF-8 character. */
    while (w > 0 && ((unsigned char)cell[w - 1] & 0xC0) == 0x80) {
      w--;
    }
    if (w > 0 && ((unsigned char)cell[w - 1] & 0xC0) == 0xC0) {
      w--;
    }
    cell[w] = '\0';
    size_t before = l.len;
    put(&l, "%s\"%s%s\"", i > 0 ? ", " : "", cell, w < cl ? "..." : "");
    if (l.len + 6 >= l.cap) {
      l.len = before;
      list[l.len] = '\0';
      put(&l, ", ...");
      break;
    }
  }
  put(m, "%s", list);
}

/* Whether any header cell holds a NUL byte: UTF-16 without a byte-order
 * mark, read as UTF-8. */
static bool header_has_nul(const char *data, const size_t *off,
                           const size_t *len, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (memchr(data + off[i], '\0', len[i]) != NULL) {
      return true;
    }
  }
  return false;
}

/* Reports every required field the header lacks, with the header as read,
 * at the header's start. */
static epcal_status fail_missing(const epcal__place *place,
                                 const bool missing[EPCAL__F_COUNT],
                                 const char *data, const size_t *off,
                                 const size_t *len, size_t n,
                                 epcal_error *err) {
  char buf[sizeof err->msg];
  msgbuf m = {buf, sizeof buf, 0};
  buf[0] = '\0';
  const epcal__field order[] = {EPCAL__F_SHOW, EPCAL__F_EPISODE, EPCAL__F_DATE};
  size_t count = 0;
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    count += missing[order[i]];
  }
  if (count == 1 && missing[EPCAL__F_SHOW]) {
    put(&m, "no \"show\" column: give the show with --show NAME (one), or "
            "add a show column; the header read: ");
  } else {
    put(&m, "missing required column%s ", count > 1 ? "s" : "");
    size_t k = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
      if (missing[order[i]]) {
        put(&m, "%s\"%s\"%s", k++ > 0 ? ", " : "", epcal__field_name(order[i]),
            order[i] == EPCAL__F_EPISODE ? " (or \"code\")" : "");
      }
    }
    put(&m, "; the header read: ");
  }
  /* Keep room for the hints after the header. */
  put_header(&m, data, off, len, n,
             m.cap > m.len + 200 ? m.cap - m.len - 200 : 0);
  if (header_has_nul(data, off, len, n)) {
    put(&m, " (is the file UTF-16? try --encoding UTF-16LE)");
  } else if (n == 1 && len[0] > 0) {
    /* A table copied out of a page as plain text loses its tabs: the
     * names run together in one cell, and no option can split them. */
    put(&m, " (one column: no ',' ';' '|' or TAB between the names; was "
            "the table copied without its tabs?)");
  }
  if (missing[EPCAL__F_SHOW] && count > 1) {
    put(&m, "; give the show with --show NAME (one), or add a show column");
  }
  if (missing[EPCAL__F_DATE] || missing[EPCAL__F_EPISODE]) {
    put(&m, "; rename a column (see epcal-csv(5)) or map it with --column "
            "FIELD=HEADER");
  }
  return epcal__place_fail(place, err, 0, 0, "%s", buf);
}

epcal_status epcal__header_map(epcal__header *h, const epcal__place *place,
                               const epcal_read_options *opts, const char *data,
                               const size_t *off, const size_t *len, size_t n,
                               epcal_error *err) {
  for (int f = 0; f < EPCAL__F_COUNT; f++) {
    h->col[f] = -1;
  }
  h->n_columns = n;
  /* Explicit names first: they win over the built-in ones. */
  bool explicit_field[EPCAL__F_COUNT] = {false};
  bool qualified_field[EPCAL__F_COUNT] = {false};
  size_t n_specs = opts != NULL ? opts->n_columns : 0;
  for (size_t s = 0; s < n_specs; s++) {
    const char *header = NULL;
    int f = spec_field(opts->columns[s], &header);
    if (f < 0) {
      continue; /* checked when the reader was opened */
    }
    int found = -1;
    for (size_t i = 0; i < n && found < 0; i++) {
      if (cell_is(data + off[i], len[i], header)) {
        found = (int)i;
      }
    }
    if (found < 0) {
      char buf[sizeof err->msg];
      msgbuf m = {buf, sizeof buf, 0};
      put(&m, "--column %s: no column \"%s\"; the header read: ",
          epcal__field_name((epcal__field)f), header);
      put_header(&m, data, off, len, n, m.cap - m.len);
      return epcal__place_fail(place, err, 0, 0, "%s", buf);
    }
    h->col[f] = found;
    explicit_field[f] = true;
  }
  for (size_t i = 0; i < n; i++) {
    bool taken = false;
    for (int f = 0; f < EPCAL__F_COUNT; f++) {
      taken = taken || (explicit_field[f] && h->col[f] == (int)i);
    }
    bool qualified = false;
    int f = taken ? -1 : lookup(data + off[i], len[i], &qualified);
    if (f < 0 || explicit_field[f]) {
      continue;
    }
    int first = h->col[f];
    /* "Title" beside "Title (original)": the plain name is the field, as
     * it was before qualifiers were set aside. */
    if (first >= 0 && qualified != qualified_field[f]) {
      if (qualified_field[f]) {
        h->col[f] = (int)i;
        qualified_field[f] = false;
      }
      continue;
    }
    if (first >= 0) {
      return epcal__place_fail(
          place, err, i, 0,
          "columns \"%s\" (column %d) and \"%s\" (column %zu) both mean %s; "
          "rename or remove one, or choose with --column %s=HEADER",
          data + off[first], first + 1, data + off[i], i + 1,
          epcal__field_name((epcal__field)f),
          epcal__field_name((epcal__field)f));
    }
    h->col[f] = (int)i;
    qualified_field[f] = qualified;
  }
  bool missing[EPCAL__F_COUNT] = {false};
  missing[EPCAL__F_SHOW] =
      h->col[EPCAL__F_SHOW] < 0 && (opts == NULL || opts->default_show == NULL);
  missing[EPCAL__F_DATE] = h->col[EPCAL__F_DATE] < 0;
  missing[EPCAL__F_EPISODE] =
      h->col[EPCAL__F_CODE] < 0 && h->col[EPCAL__F_EPISODE] < 0;
  if (missing[EPCAL__F_SHOW] || missing[EPCAL__F_DATE] ||
      missing[EPCAL__F_EPISODE]) {
    return fail_missing(place, missing, data, off, len, n, err);
  }
  return EPCAL_OK;
}
