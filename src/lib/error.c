#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *epcal_strerror(epcal_status code) {
  switch (code) {
  case EPCAL_OK:
    return "success";
  case EPCAL_EDATA:
    return "invalid data";
  case EPCAL_EUSAGE:
    return "invalid usage";
  case EPCAL_EIO:
    return "input/output error";
  case EPCAL_ENOMEM:
    return "out of memory";
  case EPCAL_ELOCKED:
    return "output is locked by another run";
  }
  return "unknown error";
}

void epcal_error_clear(epcal_error *err) {
  if (err != NULL) {
    memset(err, 0, sizeof *err);
  }
}

epcal_status epcal__fail(epcal_error *err, epcal_status code, const char *file,
                         unsigned long line, unsigned long column,
                         const char *fmt, ...) {
  if (err == NULL) {
    return code;
  }
  err->code = code;
  snprintf(err->file, sizeof err->file, "%s", file != NULL ? file : "");
  err->line = line;
  err->column = column;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}
