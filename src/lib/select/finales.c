#include "finales.h"

#include "error.h"
#include "keytab.h" /* epcal__hash64 */

#include <stdlib.h>
#include <string.h>

typedef struct slot {
  uint64_t key; /* show + season; 0: empty */
  long last;
} slot;

struct epcal__finales {
  slot *slots;
  size_t cap; /* a power of two */
  size_t count;
};

static uint64_t season_key(const epcal_episode *ep) {
  uint64_t h = epcal__hash64(ep->show, strlen(ep->show));
  h = (h ^ (uint64_t)ep->season) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
  return h != 0 ? h : 1;
}

static slot *find(const epcal__finales *f, uint64_t key) {
  size_t j = (size_t)key & (f->cap - 1);
  while (f->slots[j].key != 0 && f->slots[j].key != key) {
    j = (j + 1) & (f->cap - 1);
  }
  return &f->slots[j];
}

static bool grow(epcal__finales *f) {
  epcal__finales bigger = {calloc(f->cap * 2, sizeof(slot)), f->cap * 2, 0};
  if (bigger.slots == NULL) {
    return false;
  }
  for (size_t i = 0; i < f->cap; i++) {
    if (f->slots[i].key != 0) {
      *find(&bigger, f->slots[i].key) = f->slots[i];
    }
  }
  free(f->slots);
  f->slots = bigger.slots;
  f->cap = bigger.cap;
  return true;
}

static bool record(epcal__finales *f, const epcal_episode *ep) {
  if ((f->count + 1) * 4 > f->cap * 3 && !grow(f)) {
    return false;
  }
  uint64_t key = season_key(ep);
  slot *s = find(f, key);
  if (s->key == 0) {
    s->key = key;
    s->last = ep->number;
    f->count++;
  } else if (ep->number > s->last) {
    s->last = ep->number;
  }
  return true;
}

epcal_status epcal__finales_scan(epcal__finales **out,
                                 const char *const *inputs, size_t n,
                                 const epcal_read_options *ro,
                                 epcal_error *err) {
  epcal__finales *f = calloc(1, sizeof *f);
  if (f == NULL || (f->slots = calloc(64, sizeof(slot))) == NULL) {
    free(f);
    return epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
  }
  f->cap = 64;
  epcal_status st = EPCAL_OK;
  for (size_t i = 0; i < n && st == EPCAL_OK; i++) {
    if (strcmp(inputs[i], "-") == 0) {
      st = epcal__fail(err, EPCAL_EUSAGE, NULL, 0, 0,
                       "--finales-only reads its inputs twice: give files, "
                       "not standard input");
      break;
    }
    epcal_reader *rd = NULL;
    st = epcal_reader_open(&rd, inputs[i], ro, err);
    while (st == EPCAL_OK) {
      const epcal_episode *ep;
      epcal_status rs = epcal_reader_next(rd, &ep, NULL);
      if (rs == EPCAL_EDATA && epcal_reader_columns(rd) > 0) {
        continue;
      }
      if (rs != EPCAL_OK || ep == NULL) {
        break; /* the main pass reports what went wrong */
      }
      if (!record(f, ep)) {
        st = epcal__fail(err, EPCAL_ENOMEM, NULL, 0, 0, "out of memory");
      }
    }
    epcal_reader_free(rd);
  }
  if (st != EPCAL_OK) {
    epcal__finales_free(f);
    return st;
  }
  *out = f;
  return EPCAL_OK;
}

bool epcal__finales_has(const epcal__finales *f, const epcal_episode *ep) {
  const slot *s = find(f, season_key(ep));
  return s->key != 0 && s->last == ep->number;
}

void epcal__finales_free(epcal__finales *f) {
  if (f != NULL) {
    free(f->slots);
    free(f);
  }
}
