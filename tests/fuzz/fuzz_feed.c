/*
 * libFuzzer target over read -> render. The property lives in property.c,
 * shared with the corpus driver that CTest runs in every build.
 */
#include "property.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_check_input(data, size);
  return 0;
}
