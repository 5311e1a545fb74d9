#include "place.h"

#include <stdarg.h>
#include <stdio.h>

epcal_status epcal__place_fail(const epcal__place *p, epcal_error *err,
                               size_t field, size_t byte, const char *fmt,
                               ...) {
  if (err == NULL) {
    return EPCAL_EDATA;
  }
  char msg[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return p->fail_at(p->ctx, err, field, byte, msg);
}
