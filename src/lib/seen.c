#include "seen.h"

#include "previous.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  uint64_t key;     /* identity: 0 marks an empty slot */
  uint32_t content; /* everything else that is rendered */
  uint32_t line;    /* global line: file base + line in file */
} entry;

/*
 * The index is split into shards chosen by the key's top bits, each an
 * open-addressing table that grows on its own by half again. A shard's
 * growth briefly holds its old and new slots, so splitting keeps that peak
 * to a sliver of the whole, and growing by 1.5 (not 2) with a 0.9 load
 * keeps the slack small: about 18 bytes a row in all.
 */
#define SHARD_BITS 6
#define SHARDS (1 << SHARD_BITS)

typedef struct shard {
  entry *slots;
  size_t cap; /* any size: a slot is chosen by multiplying, not masking */
  size_t count;
} shard;

struct epcal__seen {
  shard shards[SHARDS];
  /* Files in order, with the global line each starts at. */
  char **names;
  uint64_t *base;
  size_t n_files;
  uint64_t next_base;
};

epcal__seen *epcal__seen_new(void) { return calloc(1, sizeof(epcal__seen)); }

void epcal__seen_free(epcal__seen *s) {
  if (s == NULL) {
    return;
  }
  for (size_t i = 0; i < s->n_files; i++) {
    free(s->names[i]);
  }
  free(s->names);
  free(s->base);
  for (int i = 0; i < SHARDS; i++) {
    free(s->shards[i].slots);
  }
  free(s);
}

bool epcal__seen_next_file(epcal__seen *s, const char *name) {
  char **names = realloc(s->names, (s->n_files + 1) * sizeof *names);
  if (names == NULL) {
    return false;
  }
  s->names = names;
  uint64_t *base = realloc(s->base, (s->n_files + 1) * sizeof *base);
  if (base == NULL) {
    return false;
  }
  s->base = base;
  s->names[s->n_files] = strdup(name);
  if (s->names[s->n_files] == NULL) {
    return false;
  }
  s->base[s->n_files] = s->next_base;
  s->n_files++;
  return true;
}

static uint64_t mix(uint64_t h, const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  /* NULL and "" differ from every text, and fields cannot run together. */
  return (h * 0x100000001B3ULL) ^ epcal__hash64(s != NULL ? s : "\x01", n + 1);
}

static uint64_t identity(const epcal_episode *ep) {
  if (ep->uid != NULL) {
    return mix(0x55, ep->uid);
  }
  uint64_t h = mix(0xAA, ep->show);
  h = (h ^ (uint64_t)ep->season) * 0x9E3779B97F4A7C15ULL;
  h = (h ^ (uint64_t)ep->number) * 0xD6E8FEB86659FD93ULL;
  h ^= h >> 31;
  return h != 0 ? h : 1;
}

static uint32_t content(const epcal_episode *ep) {
  uint64_t h = mix(0, ep->show);
  h = mix(h, ep->title);
  h = mix(h, ep->description);
  h = mix(h, ep->url);
  h = mix(h, ep->network);
  h ^= ep->scheduled ? (uint64_t)(ep->date.year * 10000 + ep->date.month * 100 +
                                  ep->date.day)
                     : 0xFFFFFFFFULL;
  h *= 0x9E3779B97F4A7C15ULL;
  return (uint32_t)(h >> 32);
}

/* The home slot of `key` in a table of `cap` slots: the key's middle bits
 * scaled to [0, cap) (the top bits chose the shard). */
static size_t home(uint64_t key, size_t cap) {
  return (size_t)((((key << SHARD_BITS) >> 32) * (uint64_t)cap) >> 32);
}

static bool grow(shard *h) {
  size_t cap = h->cap != 0 ? h->cap + h->cap / 2 : 64;
  entry *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) {
    return false;
  }
  for (size_t i = 0; i < h->cap; i++) {
    if (h->slots[i].key != 0) {
      size_t j = home(h->slots[i].key, cap);
      while (slots[j].key != 0) {
        j = j + 1 < cap ? j + 1 : 0;
      }
      slots[j] = h->slots[i];
    }
  }
  free(h->slots);
  h->slots = slots;
  h->cap = cap;
  return true;
}

/* The file and line a global line falls in. */
static void locate(const epcal__seen *s, uint64_t global, const char **file,
                   unsigned long *line) {
  size_t f = 0;
  while (f + 1 < s->n_files && s->base[f + 1] <= global) {
    f++;
  }
  *file = s->n_files > 0 ? s->names[f] : "";
  *line = (unsigned long)(global - (s->n_files > 0 ? s->base[f] : 0));
}

epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   const char **first_file,
                                   unsigned long *first_line) {
  uint64_t global = (s->n_files > 0 ? s->base[s->n_files - 1] : 0) + ep->line;
  if (global + 1 > s->next_base) {
    s->next_base = global + 1;
  }
  uint64_t key = identity(ep);
  uint32_t sum = content(ep);
  shard *h = &s->shards[key >> (64 - SHARD_BITS)];
  if ((h->count + 1) * 10 > h->cap * 9 && !grow(h)) {
    return EPCAL__SEEN_NOMEM;
  }
  size_t j = home(key, h->cap);
  while (h->slots[j].key != 0) {
    if (h->slots[j].key == key) {
      locate(s, h->slots[j].line, first_file, first_line);
      return h->slots[j].content == sum ? EPCAL__SEEN_SAME
                                        : EPCAL__SEEN_CONFLICT;
    }
    j = j + 1 < h->cap ? j + 1 : 0;
  }
  h->slots[j].key = key;
  h->slots[j].content = sum;
  h->slots[j].line = global > UINT32_MAX ? UINT32_MAX : (uint32_t)global;
  h->count++;
  return EPCAL__SEEN_NEW;
}
