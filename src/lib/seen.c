#include "seen.h"

#include "keytab.h"
#include "previous.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  uint64_t key;     /* identity: 0 marks an empty slot */
  uint32_t content; /* everything else that is rendered */
  uint32_t line;    /* global line: file base + line in file */
} entry;

/* Compact mode: a set of 48-bit tags (the identity's low bits) in shards
 * chosen by its top 8 bits, so a repeat shares 56 bits with its first
 * occurrence. A tag's home slot comes from the tag itself, so a shard can
 * grow without the identities. Three uint16 per slot; all zero: empty. */
#define TAG_SHARD_BITS 8
#define TAG_SHARDS (1 << TAG_SHARD_BITS)

unsigned epcal__seen_tag_bits = 48;

typedef struct tag_shard {
  uint16_t *slots;
  size_t cap;
  size_t count;
} tag_shard;

struct epcal__seen {
  bool exact;
  tag_shard *tags;     /* compact mode: TAG_SHARDS shards */
  epcal__keytab index; /* exact mode: of entry */
  /* Files in order, with the global line each starts at. */
  char **names;
  uint64_t *base;
  size_t n_files;
  uint64_t next_base;
};

static uint64_t tag_of(uint64_t identity) {
  unsigned bits = epcal__seen_tag_bits;
  uint64_t t = identity & ((UINT64_C(1) << bits) - 1);
  return t != 0 ? t << (48 - bits) : UINT64_C(1) << (48 - bits);
}

static tag_shard *tag_shard_of(const epcal__seen *s, uint64_t identity) {
  return &s->tags[identity >> (64 - TAG_SHARD_BITS)];
}

/* The home slot of a tag in `cap` slots: its top 32 bits scaled. */
static size_t tag_home(uint64_t tag, size_t cap) {
  return (size_t)(((tag >> 16) * (uint64_t)cap) >> 32);
}

static uint64_t tag_at(const uint16_t *slots, size_t j) {
  const uint16_t *p = slots + 3 * j;
  return (uint64_t)p[0] << 32 | (uint64_t)p[1] << 16 | p[2];
}

static void tag_set(uint16_t *slots, size_t j, uint64_t tag) {
  uint16_t *p = slots + 3 * j;
  p[0] = (uint16_t)(tag >> 32);
  p[1] = (uint16_t)(tag >> 16);
  p[2] = (uint16_t)tag;
}

/* Grows a shard by a quarter: tags are most of a run's memory, and a
 * small step keeps the table fuller (0.72-0.9 loaded) for a little more
 * rehashing, which is sequential and cheap. */
static bool tag_grow(tag_shard *h) {
  size_t cap = h->cap != 0 ? h->cap + h->cap / 4 : 64;
  uint16_t *slots = calloc(cap, 3 * sizeof *slots);
  if (slots == NULL) {
    return false;
  }
  for (size_t i = 0; i < h->cap; i++) {
    uint64_t tag = tag_at(h->slots, i);
    if (tag != 0) {
      size_t j = tag_home(tag, cap);
      while (tag_at(slots, j) != 0) {
        j = j + 1 < cap ? j + 1 : 0;
      }
      tag_set(slots, j, tag);
    }
  }
  free(h->slots);
  h->slots = slots;
  h->cap = cap;
  return true;
}

/* Adds the identity's tag: 1 when new, 0 when present, -1 out of memory. */
static int tag_put(epcal__seen *s, uint64_t identity) {
  tag_shard *h = tag_shard_of(s, identity);
  if ((h->count + 1) * 10 > h->cap * 9 && !tag_grow(h)) {
    return -1;
  }
  uint64_t tag = tag_of(identity);
  for (size_t j = tag_home(tag, h->cap);; j = j + 1 < h->cap ? j + 1 : 0) {
    uint64_t t = tag_at(h->slots, j);
    if (t == tag) {
      return 0;
    }
    if (t == 0) {
      tag_set(h->slots, j, tag);
      h->count++;
      return 1;
    }
  }
}

static void tags_free(epcal__seen *s) {
  if (s->tags != NULL) {
    for (int i = 0; i < TAG_SHARDS; i++) {
      free(s->tags[i].slots);
    }
    free(s->tags);
    s->tags = NULL;
  }
}

epcal__seen *epcal__seen_new(bool compact) {
  epcal__seen *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return NULL;
  }
  epcal__keytab_init(&s->index, sizeof(entry));
  s->exact = !compact;
  if (compact) {
    s->tags = calloc(TAG_SHARDS, sizeof *s->tags);
    if (s->tags == NULL) {
      free(s);
      return NULL;
    }
  }
  return s;
}

bool epcal__seen_exact(const epcal__seen *s) { return s->exact; }

const char *epcal__seen_file(const epcal__seen *s, size_t i) {
  return s->names[i];
}

size_t epcal__seen_files(const epcal__seen *s) { return s->n_files; }

void epcal__seen_begin_exact(epcal__seen *s) {
  tags_free(s);
  s->exact = true;
}

void epcal__seen_free(epcal__seen *s) {
  if (s == NULL) {
    return;
  }
  for (size_t i = 0; i < s->n_files; i++) {
    free(s->names[i]);
  }
  free(s->names);
  free(s->base);
  tags_free(s);
  epcal__keytab_free(&s->index);
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

uint64_t epcal__seen_identity(const epcal_episode *ep) {
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

void epcal__seen_prefetch(const epcal__seen *s, uint64_t identity) {
  if (identity == 0) {
    return;
  }
  if (s->exact) {
    epcal__keytab_prefetch(&s->index, identity);
    return;
  }
  const tag_shard *h = tag_shard_of(s, identity);
  if (h->cap != 0) {
#if defined(__GNUC__)
    __builtin_prefetch(h->slots + 3 * tag_home(tag_of(identity), h->cap), 1);
#endif
  }
}

/* Adds an exact entry for the row at `global`: *e is the entry, new or
 * the earlier one. */
static epcal__seen_result exact_add(epcal__seen *s, const epcal_episode *ep,
                                    uint64_t identity, uint64_t global,
                                    entry **found) {
  uint32_t sum = content(ep);
  bool added;
  entry *e = epcal__keytab_put(&s->index, identity, &added);
  if (e == NULL) {
    return EPCAL__SEEN_NOMEM;
  }
  *found = e;
  if (!added) {
    return e->content == sum ? EPCAL__SEEN_SAME : EPCAL__SEEN_CONFLICT;
  }
  e->content = sum;
  e->line = global > UINT32_MAX ? UINT32_MAX : (uint32_t)global;
  return EPCAL__SEEN_NEW;
}

bool epcal__seen_readd(epcal__seen *s, size_t file, const epcal_episode *ep,
                       uint64_t identity) {
  entry *e;
  return exact_add(s, ep, identity, s->base[file] + ep->line, &e) !=
         EPCAL__SEEN_NOMEM;
}

epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   uint64_t identity, const char **first_file,
                                   unsigned long *first_line) {
  uint64_t global = (s->n_files > 0 ? s->base[s->n_files - 1] : 0) + ep->line;
  if (global + 1 > s->next_base) {
    s->next_base = global + 1;
  }
  if (!s->exact) {
    switch (tag_put(s, identity)) {
    case 1:
      return EPCAL__SEEN_NEW;
    case 0:
      return EPCAL__SEEN_MAYBE;
    default:
      return EPCAL__SEEN_NOMEM;
    }
  }
  entry *e;
  epcal__seen_result r = exact_add(s, ep, identity, global, &e);
  if (r == EPCAL__SEEN_SAME || r == EPCAL__SEEN_CONFLICT) {
    locate(s, e->line, first_file, first_line);
  }
  return r;
}
