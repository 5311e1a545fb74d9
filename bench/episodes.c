/* The episode CSV generator: see episodes.h. */
#include "episodes.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* splitmix64: a good, tiny, stateless-seedable generator. */
static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static unsigned pick(uint64_t *s, unsigned n) {
  return (unsigned)(mix(s) % n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const shows[] = {
    "Star Trek: Picard",
    "The Expanse",
    "Caf\xC3\xA9 Ol\xC3\xA9 \xF0\x9F\x93\xBA",
    "Law & Order: Special Victims Unit",
    "Doctor Who",
    "Dark",
    "Money Heist, Korea",
    "The \"Office\"",
    "Sh\xC5\x8Dgun",
    "\xD0\x9C\xD0\xB0\xD1\x81\xD1\x82\xD0\xB5\xD1\x80 \xD0\xB8 "
    "\xD0\x9C\xD0\xB0\xD1\x80\xD0\xB3\xD0\xB0\xD1\x80\xD0\xB8\xD1\x82\xD0\xB0",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE3\x81\xAE\xE3\x83\x89\xE3\x83\xA9\xE3\x83\x9E",
    "Borgen",
    "Better Call Saul",
    "La Casa de Papel \xF0\x9F\x94\xA5",
    "Ted Lasso",
    "The Great British Bake Off",
    "Les Revenants",
    "Severance",
    "Tatort",
    "Star Wars: Andor",
    "M*A*S*H",
    "Fr\xC3\xA4ulein Detektiv",
    "What We Do in the Shadows",
    "The Bear",
};

static const char *const networks[] = {
    "HBO",         "BBC One",    "Netflix", "Paramount+", "ZDF",
    "Canal+",      "NHK \xE7\xB7\x8F\xE5\x90\x88", "AMC", "Apple TV+",
    "FX",          "ARD, Das Erste", "DR1",
};

static const char *const words[] = {
    "the",      "a",        "of",       "and",     "to",       "in",
    "crew",     "ship",     "returns",  "secret",  "old",      "friend",
    "night",    "city",     "after",    "before",  "finds",    "truth",
    "family",   "war",      "plan",     "storm",   "house",    "letter",
    "captain",  "doctor",   "mystery",  "garden",  "past",     "future",
    "journey",  "station",  "signal",   "border",  "winter",   "summer",
    "caf\xC3\xA9", "na\xC3\xAFve", "\xC3\xBC" "ber",  "fa\xC3\xA7" "ade",
    "se\xC3\xB1or", "\xCE\x95\xCE\xBB\xCE\xBB\xCE\xAC\xCE\xB4\xCE\xB1",
    "\xE6\x97\xA5\xE6\x9C\xAC", "\xD0\xBC\xD0\xB8\xD1\x80", "\xF0\x9F\x8E\xAC",
    "\xE2\x80\x94", "\xE2\x9C\x93",
};

static const char *const months[] = {"January", "February", "March",
                                     "April",   "May",      "June",
                                     "July",    "August",   "September",
                                     "October", "November", "December"};

/* Characters (not bytes) in a UTF-8 string. */
static size_t chars(const char *s) {
  size_t n = 0;
  for (; *s != '\0'; s++) {
    n += ((unsigned char)*s & 0xC0) != 0x80;
  }
  return n;
}

/* Appends a CSV field: quoted (quotes doubled) when it needs to be. */
static size_t field(char *out, const char *v, size_t n) {
  bool quote = false;
  for (size_t i = 0; i < n && !quote; i++) {
    quote = v[i] == ',' || v[i] == '"' || v[i] == '\n' || v[i] == '\r';
  }
  if (!quote) {
    memcpy(out, v, n);
    return n;
  }
  size_t w = 0;
  out[w++] = '"';
  for (size_t i = 0; i < n; i++) {
    if (v[i] == '"') {
      out[w++] = '"';
    }
    out[w++] = v[i];
  }
  out[w++] = '"';
  return w;
}

/* A title of 1-6 words; sometimes with a comma or quotes, 1% with a line
 * break. */
static size_t title(uint64_t *s, char *t) {
  size_t n = 0;
  unsigned nw = 1 + pick(s, 6);
  bool brk = pick(s, 100) == 0;
  unsigned quoted = pick(s, 10) == 0 ? pick(s, nw) : nw;
  for (unsigned w = 0; w < nw; w++) {
    if (w > 0) {
      t[n++] = brk && w == nw / 2 ? '\n' : ' ';
    }
    const char *word = words[pick(s, COUNT(words))];
    size_t len = strlen(word);
    if (w == quoted) {
      t[n++] = '"';
    }
    memcpy(t + n, word, len);
    n += len;
    if (w == quoted) {
      t[n++] = '"';
    }
    if (w + 1 < nw && pick(s, 12) == 0) {
      t[n++] = ',';
    }
  }
  if (n > 0 && t[0] >= 'a' && t[0] <= 'z') {
    t[0] = (char)(t[0] - 'a' + 'A');
  }
  return n;
}

/* A description of 100-400 characters (mostly 100-300) in sentences over 1-4 lines, with
 * ',' ';' '\' and the odd quoted word. */
static size_t description(uint64_t *s, char *d) {
  size_t want = 100 + (size_t)pick(s, 301) * pick(s, 301) / 240;
  size_t n = 0, nchars = 0;
  bool sentence_start = true;
  while (nchars < want) {
    const char *word = words[pick(s, COUNT(words))];
    size_t len = strlen(word);
    if (nchars > 0) {
      unsigned r = pick(s, 40);
      const char *sep = " ";
      if (sentence_start) {
        sep = pick(s, 3) == 0 ? "\n" : " ";
      } else if (r == 0) {
        sep = ", ";
      } else if (r == 1) {
        sep = "; ";
      } else if (r == 2) {
        sep = " \\ ";
      } else if (r == 3) {
        sep = " \"";
      }
      size_t sl = strlen(sep);
      memcpy(d + n, sep, sl);
      n += sl;
      nchars += sl;
    }
    memcpy(d + n, word, len);
    if (sentence_start && d[n] >= 'a' && d[n] <= 'z') {
      d[n] = (char)(d[n] - 'a' + 'A');
    }
    n += len;
    nchars += chars(word);
    sentence_start = pick(s, 9) == 0;
    if (sentence_start) {
      d[n++] = '.';
      nchars++;
    }
  }
  if (!sentence_start) {
    d[n++] = '.';
  }
  return n;
}

size_t episodes_header(char *buf) {
  static const char h[] =
      "show,season,episode,title,air_date,network,description,url\n";
  memcpy(buf, h, sizeof h - 1);
  return sizeof h - 1;
}

size_t episodes_row(unsigned long i, char *buf) {
  /* A show runs 20 seasons of 12 episodes; past the list of names, the
   * names come back with a number, so every row is a distinct episode. */
  unsigned long show_no = i / 240;
  long season = (long)(i % 240 / 12) + 1;
  long episode = (long)(i % 12) + 1;
  uint64_t s = 0x5EEDull ^ ((uint64_t)i * 0x100000001B3ULL);
  char tmp[2048];
  size_t n = 0, k;

  const char *base = shows[show_no % COUNT(shows)];
  if (show_no < COUNT(shows)) {
    k = (size_t)snprintf(tmp, sizeof tmp, "%s", base);
  } else {
    k = (size_t)snprintf(tmp, sizeof tmp, "%s %lu", base,
                         show_no / COUNT(shows) + 1);
  }
  n += field(buf + n, tmp, k);
  n += (size_t)sprintf(buf + n, ",%ld,%ld,", season, episode);

  k = title(&s, tmp);
  n += field(buf + n, tmp, k);
  buf[n++] = ',';

  int year = 1990 + (int)(show_no % 30) + (int)(season - 1) / 2;
  int month = 1 + (int)pick(&s, 12), day = 1 + (int)pick(&s, 28);
  if (pick(&s, 10) == 0) {
    k = (size_t)snprintf(tmp, sizeof tmp, "%s %d, %d", months[month - 1], day,
                         year);
  } else {
    k = (size_t)snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", year, month, day);
  }
  n += field(buf + n, tmp, k);
  buf[n++] = ',';

  const char *net = networks[show_no % COUNT(networks)];
  n += field(buf + n, net, strlen(net));
  buf[n++] = ',';

  k = description(&s, tmp);
  n += field(buf + n, tmp, k);
  buf[n++] = ',';

  unsigned u = pick(&s, 10);
  if (u < 7) {
    n += (size_t)sprintf(buf + n, "https://tv.example.org/shows/%lu/s%02lde%02ld",
                         show_no, season, episode);
  } else if (u == 7) {
    n += (size_t)sprintf(buf + n,
                         "https://tv.example.org/s\xC3\xA9rie/%lu?ep=%ld x %ld",
                         show_no, season, episode);
  }
  buf[n++] = '\n';
  return n;
}
