/* The shrink guard: how many events one regeneration may remove before it
 * is taken for an upstream failure rather than a real change. */
#include "epcal/epcal.h"

#include <errno.h>
#include <stdlib.h>

bool epcal_shrink_refused(unsigned long previous, unsigned long removed,
                          const epcal_shrink_policy *policy) {
  if (policy != NULL && policy->allow) {
    return false;
  }
  if (policy == NULL || !policy->set) {
    return removed >= 10 && (unsigned long long)removed * 2 > previous;
  }
  if (policy->percent) {
    return (unsigned long long)removed * 100 >
           (unsigned long long)policy->max_removed * previous;
  }
  return removed > policy->max_removed;
}

int epcal_shrink_policy_parse(const char *text, epcal_shrink_policy *policy) {
  if (text == NULL || *text < '0' || *text > '9') {
    return -1;
  }
  errno = 0;
  char *end;
  unsigned long v = strtoul(text, &end, 10);
  if (errno != 0) {
    return -1;
  }
  bool percent = *end == '%';
  if (percent) {
    end++;
    if (v > 100) {
      return -1;
    }
  }
  if (*end != '\0') {
    return -1;
  }
  policy->set = true;
  policy->max_removed = v;
  policy->percent = percent;
  return 0;
}
