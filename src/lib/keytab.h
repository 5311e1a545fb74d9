/*
 * A set of fixed-size records keyed by a non-zero 64-bit hash stored in
 * their first 8 bytes: the repeat index (seen.c) and the previous-feed index
 * (previous.c), which hold one record per row or event.
 *
 * It is split into shards chosen by the key's top bits, each an
 * open-addressing table that grows on its own by half again at a 0.9 load.
 * A shard's growth holds its old and new slots only briefly, so splitting
 * keeps that peak to a sliver of the whole, and the slack stays small:
 * about 1.2 times the records' size in all.
 */
#ifndef EPCAL_KEYTAB_H
#define EPCAL_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EPCAL__KEYTAB_SHARD_BITS 6
#define EPCAL__KEYTAB_SHARDS (1 << EPCAL__KEYTAB_SHARD_BITS)

typedef struct epcal__keytab_shard {
  unsigned char *slots; /* cap records; a zero key marks an empty slot */
  size_t cap;
  size_t count;
} epcal__keytab_shard;

typedef struct epcal__keytab {
  size_t size; /* of a record, a multiple of 8, key first */
  size_t count;
  epcal__keytab_shard shards[EPCAL__KEYTAB_SHARDS];
} epcal__keytab;

/* An empty table of `size`-byte records (zero-initialised storage). */
void epcal__keytab_init(epcal__keytab *t, size_t size);

void epcal__keytab_free(epcal__keytab *t);

/* The record with `key`, or NULL. */
void *epcal__keytab_find(const epcal__keytab *t, uint64_t key);

/*
 * The record with `key`: the existing one (*added false) or a new zeroed
 * one with the key set (*added true). NULL when out of memory.
 */
void *epcal__keytab_put(epcal__keytab *t, uint64_t key, bool *added);

/* Removes the record with `key`, if any (split output drops a finished
 * feed's previous events). Returns whether there was one. */
bool epcal__keytab_remove(epcal__keytab *t, uint64_t key);

/* Asks the CPU to start loading the slot where `key` would be. */
void epcal__keytab_prefetch(const epcal__keytab *t, uint64_t key);

/* Calls fn for every record. */
void epcal__keytab_each(const epcal__keytab *t,
                        void (*fn)(void *ctx, void *record), void *ctx);

/* A fast 64-bit hash of s[0, n), word at a time. Not cryptographic: it
 * tells "same bytes" from "changed bytes" and spreads keys in tables. */
uint64_t epcal__hash64(const char *s, size_t n);

#endif
