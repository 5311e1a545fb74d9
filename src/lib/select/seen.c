#include "seen.h"

#include "keytab.h"

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

/* Compact mode, an episode with a season key: the season's episode
 * numbers. Most episodes are these, so a run keeps about two bits an
 * episode (a season of 12 in 16 bytes, plus the table's slack). */
typedef struct season_set {
  uint64_t key;     /* season_tag() of the season: never 0 */
  uint64_t numbers; /* bit n: episode n was read */
} season_set;

struct epcal__seen {
  bool exact;
  tag_shard *tags;        /* compact mode: TAG_SHARDS shards */
  epcal__keytab seasons;  /* compact mode: of season_set */
  uint64_t last_season;   /* the season of the last row, whose set is */
  uint64_t *last_numbers; /* here: rows come grouped by season */
  epcal__keytab index; /* exact mode: of entry */
  /* Files in order, with the global line each starts at. */
  char **names;
  uint64_t *base;
  size_t n_files;
  uint64_t next_base;
};

/* The table key of a season: all 64 bits of its hash, or for the test seam
 * (tags narrower than 48 bits) that many, spread again over 64 bits by an
 * odd multiplier (a bijection) for the table's shard and slot. Never 0. */
static uint64_t season_tag(uint64_t season) {
  unsigned bits = epcal__seen_tag_bits;
  if (bits < 48) {
    season = (season & ((UINT64_C(1) << bits) - 1)) * 0x9E3779B97F4A7C15ULL;
  }
  return season != 0 ? season : 1;
}

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

/* Adds episode `number` of the season `season`: 1 when new, 0 when
 * present, -1 out of memory. */
static int season_put(epcal__seen *s, uint64_t season, long number) {
  uint64_t key = season_tag(season);
  if (key != s->last_season || s->last_numbers == NULL) {
    bool added;
    season_set *set = epcal__keytab_put(&s->seasons, key, &added);
    if (set == NULL) {
      return -1;
    }
    /* A put may move the records: the pointer is taken after it. */
    s->last_season = key;
    s->last_numbers = &set->numbers;
  }
  uint64_t bit = UINT64_C(1) << number;
  if ((*s->last_numbers & bit) != 0) {
    return 0;
  }
  *s->last_numbers |= bit;
  return 1;
}

/* Frees compact mode's state: the season sets and the tags. */
static void compact_free(epcal__seen *s) {
  epcal__keytab_free(&s->seasons);
  epcal__keytab_init(&s->seasons, sizeof(season_set));
  s->last_season = 0;
  s->last_numbers = NULL;
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
  epcal__keytab_init(&s->seasons, sizeof(season_set));
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
  compact_free(s);
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
  compact_free(s);
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

epcal__seen_key epcal__seen_key_of(const epcal_episode *ep) {
  epcal__seen_key k = {0, 0};
  if (ep->uid != NULL) {
    k.identity = mix(0x55, ep->uid);
    k.identity += k.identity == 0;
    return k;
  }
  uint64_t h = mix(0xAA, ep->show);
  h = (h ^ (uint64_t)ep->season) * 0x9E3779B97F4A7C15ULL;
  if (ep->number >= 0 && ep->number < 64) {
    k.season = h ^ h >> 29;
    k.season += k.season == 0;
  }
  h = (h ^ (uint64_t)ep->number) * 0xD6E8FEB86659FD93ULL;
  h ^= h >> 31;
  k.identity = h != 0 ? h : 1;
  return k;
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

void epcal__seen_prefetch(const epcal__seen *s, epcal__seen_key key) {
  uint64_t identity = key.identity;
  if (s->exact) {
    epcal__keytab_prefetch(&s->index, identity);
    return;
  }
  if (key.season != 0) {
    if (season_tag(key.season) != s->last_season) {
      epcal__keytab_prefetch(&s->seasons, season_tag(key.season));
    }
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
                                   epcal__seen_key key,
                                   const char **first_file,
                                   unsigned long *first_line) {
  uint64_t identity = key.identity;
  uint64_t global = (s->n_files > 0 ? s->base[s->n_files - 1] : 0) + ep->line;
  if (global + 1 > s->next_base) {
    s->next_base = global + 1;
  }
  if (!s->exact) {
    int put = key.season != 0 ? season_put(s, key.season, ep->number)
                              : tag_put(s, identity);
    switch (put) {
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
