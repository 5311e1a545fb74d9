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

bool epcal__keytab_remove(epcal__keytab *t, uint64_t key) {
  epcal__keytab_shard *h = &t->shards[key >> (64 - SHARD_BITS)];
  if (h->cap == 0) {
    return false;
  }
  size_t i = home(key, h->cap);
  for (;; i = i + 1 < h->cap ? i + 1 : 0) {
    uint64_t k = key_at(h->slots + i * t->size);
    if (k == key) {
      break;
    }
    if (k == 0) {
      return false;
    }
  }
  /* Backward shift: move up every later record of the run whose home is
   * not between the hole and itself, so that no search stops early at the
   * hole. */
  size_t j = i;
  for (;;) {
    j = j + 1 < h->cap ? j + 1 : 0;
    unsigned char *rec = h->slots + j * t->size;
    uint64_t k = key_at(rec);
    if (k == 0) {
      break;
    }
    size_t want = home(k, h->cap);
    /* Does `want` lie cyclically in (i, j]? Then the record stays. */
    bool stays = i <= j ? (want > i && want <= j) : (want > i || want <= j);
    if (!stays) {
      memcpy(h->slots + i * t->size, rec, t->size);
      i = j;
    }
  }
  memset(h->slots + i * t->size, 0, t->size);
  h->count--;
  t->count--;
  return true;
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

uint64_t epcal__hash64(const char *s, size_t n) {
  const uint64_t k = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x243F6A8885A308D3ULL ^ (n * k);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  memcpy(&tail, s + i, n - i);
  h = (h ^ tail) * k;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return h != 0 ? h : 1; /* 0 marks an empty slot */
}
