#include "header.h"

#include "place.h"

#include <ctype.h>
#include <string.h>

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

/* Normalised names (lower case, no separators) and the field they mean. */
static const struct alias {
  const char *name;
  epcal__field field;
} aliases[] = {
    {"show", EPCAL__F_SHOW},
    {"series", EPCAL__F_SHOW},
    {"showname", EPCAL__F_SHOW},
    {"seriesname", EPCAL__F_SHOW},
    {"program", EPCAL__F_SHOW},
    {"programme", EPCAL__F_SHOW},
    {"season", EPCAL__F_SEASON},
    {"seasonnumber", EPCAL__F_SEASON},
    {"seasonno", EPCAL__F_SEASON},
    {"episode", EPCAL__F_EPISODE},
    {"ep", EPCAL__F_EPISODE},
    {"episodenumber", EPCAL__F_EPISODE},
    {"episodeno", EPCAL__F_EPISODE},
    /* "number" may also hold a code such as 2x01: the row parser accepts
     * either in the episode column. */
    {"number", EPCAL__F_EPISODE},
    {"no", EPCAL__F_EPISODE},
    {"code", EPCAL__F_CODE},
    {"episodecode", EPCAL__F_CODE},
    {"airdate", EPCAL__F_DATE},
    {"date", EPCAL__F_DATE},
    {"releasedate", EPCAL__F_DATE},
    {"premiere", EPCAL__F_DATE},
    {"premieredate", EPCAL__F_DATE},
    {"originalairdate", EPCAL__F_DATE},
    {"title", EPCAL__F_TITLE},
    {"name", EPCAL__F_TITLE},
    {"episodetitle", EPCAL__F_TITLE},
    {"episodename", EPCAL__F_TITLE},
    {"seriestitle", EPCAL__F_TITLE},
    {"description", EPCAL__F_DESCRIPTION},
    {"overview", EPCAL__F_DESCRIPTION},
    {"summary", EPCAL__F_DESCRIPTION},
    {"synopsis", EPCAL__F_DESCRIPTION},
    {"url", EPCAL__F_URL},
    {"link", EPCAL__F_URL},
    {"network", EPCAL__F_NETWORK},
    {"channel", EPCAL__F_NETWORK},
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
    {"duration", EPCAL__F_RUNTIME},
    {"length", EPCAL__F_RUNTIME},
    {"minutes", EPCAL__F_RUNTIME},
    {"status", EPCAL__F_STATUS},
};

const char *epcal__field_name(epcal__field f) { return canonical[f]; }

int epcal__field_lookup(const char *cell, size_t len) {
  char norm[64];
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)cell[i];
    if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '\t') {
      continue;
    }
    if (n + 1 >= sizeof norm) {
      return -1;
    }
    norm[n++] = (char)tolower(c);
  }
  norm[n] = '\0';
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    if (strcmp(norm, aliases[i].name) == 0) {
      return (int)aliases[i].field;
    }
  }
  return -1;
}

epcal_status epcal__header_map(epcal__header *h, const epcal__place *place,
                               const char *data, const size_t *off,
                               const size_t *len, size_t n, epcal_error *err) {
  for (int f = 0; f < EPCAL__F_COUNT; f++) {
    h->col[f] = -1;
  }
  h->n_columns = n;
  for (size_t i = 0; i < n; i++) {
    int f = epcal__field_lookup(data + off[i], len[i]);
    if (f < 0) {
      continue;
    }
    int first = h->col[f];
    if (first >= 0) {
      return epcal__place_fail(
          place, err, i, 0,
          "columns \"%s\" (column %d) and \"%s\" (column %zu) both mean %s; "
          "rename or remove one",
          data + off[first], first + 1, data + off[i], i + 1,
          epcal__field_name((epcal__field)f));
    }
    h->col[f] = (int)i;
  }
  if (h->col[EPCAL__F_SHOW] < 0) {
    return epcal__place_fail(
        place, err, 0, 0,
        "missing required column \"show\" (also read as series, show name, "
        "program)");
  }
  if (h->col[EPCAL__F_DATE] < 0) {
    return epcal__place_fail(
        place, err, 0, 0,
        "missing required column \"air_date\" (also read as date, "
        "release date, airdate, premiere)");
  }
  if (h->col[EPCAL__F_CODE] < 0 && h->col[EPCAL__F_EPISODE] < 0) {
    return epcal__place_fail(
        place, err, 0, 0,
        "missing required column \"episode\" (with \"season\"), or \"code\" "
        "holding 2x01 or S02E01");
  }
  return EPCAL_OK;
}
