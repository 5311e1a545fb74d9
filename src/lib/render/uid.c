/*
 * Event identity. A UID depends only on what the episode is: its own uid
 * column, else show + season + episode number. Never row position, date,
 * time or randomness, so calendars that have seen an event never see a
 * duplicate of it.
 *
 * Form: <slug>-s<SS>e<EE>-<hash>@epcal, where slug is the show name in
 * lower-case ASCII (readable in logs) and hash is FNV-1a 64 of the exact
 * show name, so two shows whose slugs agree ("Star Trek: Picard" and
 * "Star Trek Picard") still get distinct UIDs.
 */
#include "uid.h"

#include "read/utf8.h"

#include <stdio.h>
#include <string.h>

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* ASCII for the letters of U+00C0..U+00FF (Latin-1), so that "Café"
 * slugs as "cafe"; 0 for the two signs in that range. */
static const char latin1[] = "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTsaaaaaaaceeeeiiii"
                             "dnooooo\0ouuuuyty";

size_t epcal_slug(const char *text, char *buf, size_t cap) {
  size_t max = cap - 1 < 40 ? cap - 1 : 40;
  size_t n = 0;
  bool dash = false;
  for (const char *p = text; *p != '\0' && n < max; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == 0xC3 && (unsigned char)p[1] >= 0x80 &&
        (unsigned char)p[1] <= 0xBF) {
      char t = latin1[(unsigned char)p[1] - 0x80];
      if (t != '\0') {
        c = (unsigned char)t;
        p++;
      }
    }
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      buf[n++] = (char)c;
      dash = false;
    } else if (c >= 'A' && c <= 'Z') {
      buf[n++] = (char)(c - 'A' + 'a');
      dash = false;
    } else if (!dash && n > 0) {
      buf[n++] = '-';
      dash = true;
    }
  }
  while (n > 0 && buf[n - 1] == '-') {
    n--;
  }
  if (n == 0) {
    memcpy(buf, "show", 4);
    n = 4;
  }
  buf[n] = '\0';
  return n;
}

/* Appends %02ld of v at p; returns the end. Hand-made for 0..99, which is
 * nearly every season and episode number (UIDs are made once per event). */
static char *put_2digits(char *p, long v) {
  if (v >= 0 && v <= 99) {
    *p++ = (char)('0' + v / 10);
    *p++ = (char)('0' + v % 10);
    return p;
  }
  return p + sprintf(p, "%02ld", v);
}

/* Copies the n-byte s into buf like snprintf(buf, cap, "%s", s): truncated
 * and NUL-terminated when cap > 0. Returns n. */
static size_t put_result(char *buf, size_t cap, const char *s, size_t n) {
  if (cap > 0) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, s, k);
    buf[k] = '\0';
  }
  return n;
}

size_t epcal__uid_derive(epcal__uid_memo *m, const epcal_episode *ep,
                         char *buf, size_t cap) {
  if (ep->uid != NULL && epcal__has_visible(ep->uid)) {
    return put_result(buf, cap, ep->uid, strlen(ep->uid));
  }
  size_t show_len = strlen(ep->show);
  if (show_len >= sizeof m->show ||
      memcmp(m->show, ep->show, show_len + 1) != 0) {
    static const char hex[] = "0123456789abcdef";
    m->slug_len = epcal_slug(ep->show, m->slug, sizeof m->slug);
    uint64_t h = fnv1a64(ep->show);
    for (int i = 0; i < 16; i++) {
      m->hash[i] = hex[(h >> (60 - 4 * i)) & 15];
    }
    /* A show too long to remember is derived afresh each time. */
    if (show_len < sizeof m->show) {
      memcpy(m->show, ep->show, show_len + 1);
    } else {
      m->show[0] = '\0';
    }
  }
  /* <slug>-s<SS>e<EE>-<hash>@epcal, as snprintf's "%s-s%02lde%02ld-%016llx
   * @epcal" would write it, without its cost per event. */
  char out[128]; /* slug 40 + two longs 2 * 20 + hash 16 + the rest 12 */
  memcpy(out, m->slug, m->slug_len);
  char *p = out + m->slug_len;
  *p++ = '-';
  *p++ = 's';
  p = put_2digits(p, ep->season);
  *p++ = 'e';
  p = put_2digits(p, ep->number);
  *p++ = '-';
  memcpy(p, m->hash, 16);
  p += 16;
  memcpy(p, "@epcal", 6);
  p += 6;
  return put_result(buf, cap, out, (size_t)(p - out));
}

size_t epcal_episode_uid(const epcal_episode *ep, char *buf, size_t cap) {
  epcal__uid_memo memo;
  memo.show[0] = '\0';
  return epcal__uid_derive(&memo, ep, buf, cap);
}
