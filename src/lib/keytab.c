#include "keytab.h"

#include <stdlib.h>
#include <string.h>

#define SHARD_BITS EPCAL__KEYTAB_SHARD_BITS

static uint64_t key_at(const unsigned char *record) {
  uint64_t k;
  memcpy(&k, record, sizeof k);
  return k;
}

/* The home slot of `key` in `cap` slots: the key's middle bits scaled to
 * [0, cap) (the top bits chose the shard), so any capacity works. */
static size_t home(uint64_t key, size_t cap) {
  return (size_t)((((key << SHARD_BITS) >> 32) * (uint64_t)cap) >> 32);
}

static const epcal__keytab_shard *shard_of(const epcal__keytab *t,
                                           uint64_t key) {
  return &t->shards[key >> (64 - SHARD_BITS)];
}

void epcal__keytab_init(epcal__keytab *t, size_t size) {
  memset(t, 0, sizeof *t);
  t->size = size;
}

void epcal__keytab_free(epcal__keytab *t) {
  for (int i = 0; i < EPCAL__KEYTAB_SHARDS; i++) {
    free(t->shards[i].slots);
  }
  memset(t->shards, 0, sizeof t->shards);
  t->count = 0;
}

static bool grow(epcal__keytab_shard *h, size_t size) {
  size_t cap = h->cap != 0 ? h->cap + h->cap / 2 : 16;
  unsigned char *slots = calloc(cap, size);
  if (slots == NULL) {
    return false;
  }
  for (size_t i = 0; i < h->cap; i++) {
    const unsigned char *rec = h->slots + i * size;
    uint64_t key = key_at(rec);
    if (key != 0) {
      size_t j = home(key, cap);
      while (key_at(slots + j * size) != 0) {
        j = j + 1 < cap ? j + 1 : 0;
      }
      memcpy(slots + j * size, rec, size);
    }
  }
  free(h->slots);
  h->slots = slots;
  h->cap = cap;
  return true;
}

void *epcal__keytab_find(const epcal__keytab *t, uint64_t key) {
  const epcal__keytab_shard *h = shard_of(t, key);
  if (h->cap == 0) {
    return NULL;
  }
  for (size_t j = home(key, h->cap);; j = j + 1 < h->cap ? j + 1 : 0) {
    unsigned char *rec = h->slots + j * t->size;
    uint64_t k = key_at(rec);
    if (k == key) {
      return rec;
    }
    if (k == 0) {
      return NULL;
    }
  }
}

void *epcal__keytab_put(epcal__keytab *t, uint64_t key, bool *added) {
  epcal__keytab_shard *h = &t->shards[key >> (64 - SHARD_BITS)];
  if ((h->count + 1) * 10 > h->cap * 9 && !grow(h, t->size)) {
    return NULL;
  }
  size_t j = home(key, h->cap);
  for (;;) {
    unsigned char *rec = h->slots + j * t->size;
    uint64_t k = key_at(rec);
    if (k == key) {
      *added = false;
      return rec;
    }
    if (k == 0) {
      memcpy(rec, &key, sizeof key);
      h->count++;
      t->count++;
      *added = true;
      return rec;
    }
    j = j + 1 < h->cap ? j + 1 : 0;
  }
}

void epcal__keytab_prefetch(const epcal__keytab *t, uint64_t key) {
  const epcal__keytab_shard *h = shard_of(t, key);
  if (h->cap != 0) {
#if defined(__GNUC__)
    __builtin_prefetch(h->slots + home(key, h->cap) * t->size, 1);
#endif
  }
}

void epcal__keytab_each(const epcal__keytab *t,
                        void (*fn)(void *ctx, void *record), void *ctx) {
  for (int i = 0; i < EPCAL__KEYTAB_SHARDS; i++) {
    const epcal__keytab_shard *h = &t->shards[i];
    for (size_t j = 0; j < h->cap; j++) {
      unsigned char *rec = h->slots + j * t->size;
      if (key_at(rec) != 0) {
        fn(ctx, rec);
      }
    }
  }
}
