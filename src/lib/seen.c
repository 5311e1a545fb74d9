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

struct epcal__seen {
  epcal__keytab index; /* of entry */
  /* Files in order, with the global line each starts at. */
  char **names;
  uint64_t *base;
  size_t n_files;
  uint64_t next_base;
};

epcal__seen *epcal__seen_new(void) {
  epcal__seen *s = calloc(1, sizeof *s);
  if (s != NULL) {
    epcal__keytab_init(&s->index, sizeof(entry));
  }
  return s;
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
  if (identity != 0) {
    epcal__keytab_prefetch(&s->index, identity);
  }
}

epcal__seen_result epcal__seen_add(epcal__seen *s, const epcal_episode *ep,
                                   uint64_t identity, const char **first_file,
                                   unsigned long *first_line) {
  uint64_t global = (s->n_files > 0 ? s->base[s->n_files - 1] : 0) + ep->line;
  if (global + 1 > s->next_base) {
    s->next_base = global + 1;
  }
  uint32_t sum = content(ep);
  bool added;
  entry *e = epcal__keytab_put(&s->index, identity, &added);
  if (e == NULL) {
    return EPCAL__SEEN_NOMEM;
  }
  if (!added) {
    locate(s, e->line, first_file, first_line);
    return e->content == sum ? EPCAL__SEEN_SAME : EPCAL__SEEN_CONFLICT;
  }
  e->content = sum;
  e->line = global > UINT32_MAX ? UINT32_MAX : (uint32_t)global;
  return EPCAL__SEEN_NEW;
}
