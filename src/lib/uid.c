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
#include "epcal/epcal.h"

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

size_t epcal_slug(const char *text, char *buf, size_t cap) {
  size_t max = cap - 1 < 40 ? cap - 1 : 40;
  size_t n = 0;
  bool dash = false;
  for (const char *p = text; *p != '\0' && n < max; p++) {
    unsigned char c = (unsigned char)*p;
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

/* Whether text has anything but blanks and control characters: a uid
 * column without would give an empty UID (TEXT drops control characters),
 * so it counts as absent. */
static bool has_visible(const char *s) {
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c > 0x20 && c != 0x7F) {
      return true;
    }
  }
  return false;
}

size_t epcal_episode_uid(const epcal_episode *ep, char *buf, size_t cap) {
  if (ep->uid != NULL && has_visible(ep->uid)) {
    return (size_t)snprintf(buf, cap, "%s", ep->uid);
  }
  char slug[41];
  epcal_slug(ep->show, slug, sizeof slug);
  return (size_t)snprintf(buf, cap, "%s-s%02lde%02ld-%016llx@epcal", slug,
                          ep->season, ep->number,
                          (unsigned long long)fnv1a64(ep->show));
}
