/*
 * The sharded open-addressing table: after any mix of puts and removes,
 * every key put and not removed is found with its record, every removed
 * one is not, and the count agrees. Keys are drawn so that runs of
 * collisions wrap around the end of a shard's slots, where a removal
 * must shift the rest of the run back across the edge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"

typedef struct record {
  uint64_t key;
  uint64_t value;
} record;

#define KEYS 5000

/* Keys in few shards (top bits) and crowded homes (middle bits), so runs
 * are long and wrap; never 0. */
static uint64_t key_of(uint32_t i, unsigned spread) {
  uint64_t top = (uint64_t)(i % 3) << 58;
  uint64_t mid = (uint64_t)((i * 2654435761u) % spread) << 26;
  return top | mid | ((uint64_t)i << 1) | 1;
}

static void check_all(const epcal__keytab *t, const bool *present,
                      unsigned spread) {
  size_t count = 0;
  for (uint32_t i = 0; i < KEYS; i++) {
    record *r = epcal__keytab_find(t, key_of(i, spread));
    if (present[i]) {
      assert_non_null(r);
      assert_int_equal(r->value, (uint64_t)i * 7);
      count++;
    } else {
      assert_null(r);
    }
  }
  assert_int_equal(t->count, count);
}

static void puts_and_removes_agree(void **state) {
  (void)state;
  static const unsigned spreads[] = {1u << 31, 4096, 64, 7};
  for (size_t sp = 0; sp < sizeof spreads / sizeof *spreads; sp++) {
    unsigned spread = spreads[sp];
    epcal__keytab t;
    epcal__keytab_init(&t, sizeof(record));
    bool *present = calloc(KEYS, sizeof *present);
    assert_non_null(present);
    uint32_t x = 99;
    for (int round = 0; round < 8; round++) {
      for (int op = 0; op < KEYS; op++) {
        x = x * 1103515245u + 12345u;
        uint32_t i = (x >> 8) % KEYS;
        bool put = (x >> 4) % 3 != 0 || round == 0;
        uint64_t key = key_of(i, spread);
        if (put) {
          bool added;
          record *r = epcal__keytab_put(&t, key, &added);
          assert_non_null(r);
          assert_int_equal(added, !present[i]);
          r->value = (uint64_t)i * 7;
          present[i] = true;
        } else {
          assert_int_equal(epcal__keytab_remove(&t, key), present[i]);
          present[i] = false;
        }
      }
      check_all(&t, present, spread);
    }
    /* Remove everything: the table ends empty and finds nothing. */
    for (uint32_t i = 0; i < KEYS; i++) {
      assert_int_equal(epcal__keytab_remove(&t, key_of(i, spread)),
                       present[i]);
      present[i] = false;
    }
    check_all(&t, present, spread);
    assert_int_equal(t.count, 0);
    epcal__keytab_free(&t);
    free(present);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(puts_and_removes_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
