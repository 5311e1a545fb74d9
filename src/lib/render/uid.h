/* Derived UIDs, with the part that depends on the show remembered. */
#ifndef EPCAL_UID_H
#define EPCAL_UID_H

#include "epcal/epcal.h"

/*
 * The slug and hash of the last show a UID was derived for: input is
 * nearly always grouped by show, and the two cost more than the rest of
 * the UID. Start with show[0] = '\0'.
 */
typedef struct epcal__uid_memo {
  char show[128]; /* the show they are for; "" for none */
  char slug[41];
  size_t slug_len;
  char hash[16]; /* FNV-1a 64 of the show, in hex */
} epcal__uid_memo;

/* epcal_episode_uid(), reusing and updating `m`. */
size_t epcal__uid_derive(epcal__uid_memo *m, const epcal_episode *ep,
                         char *buf, size_t cap);

#endif
