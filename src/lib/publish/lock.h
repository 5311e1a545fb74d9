/* Internals of the output lock (lock.c), for tests. */
#ifndef EPCAL_LOCK_H
#define EPCAL_LOCK_H

#include <stdbool.h>

/* True: always lock with a file of its own in /run/lock (or /tmp), as
 * where flock cannot lock a descriptor opened for reading (NFS). */
extern bool epcal__lock_keyed;

/* The path of that file for `target` (malloc'd), or NULL. */
char *epcal__lock_keyed_path(const char *target);

#endif
