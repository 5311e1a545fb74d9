#include "gzip.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int serve_gzip(const char *in, size_t len, char **out, size_t *out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  /* 15 window bits + 16: a gzip header and trailer instead of zlib's. */
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return -1;
  }
  if (len > (size_t)(uInt)-1) {
    deflateEnd(&z);
    return -1; /* no feed this large is ever cached */
  }
  uLong bound = deflateBound(&z, (uLong)len);
  char *buf = malloc(bound);
  if (buf == NULL) {
    deflateEnd(&z);
    return -1;
  }
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)buf;
  z.avail_out = (uInt)bound;
  int rc = deflate(&z, Z_FINISH);
  size_t n = (size_t)z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(buf);
    return -1;
  }
  *out = buf;
  *out_len = n;
  return 0;
}

/* Is the parameter list after a coding ";q=0", ";q=0.0", ... ? */
static int q_is_zero(const char *p, const char *end) {
  while (p < end) {
    while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) {
      p++;
    }
    if (end - p >= 2 && tolower((unsigned char)p[0]) == 'q' && p[1] == '=') {
      p += 2;
      int zero = 1;
      for (; p < end && *p != ';'; p++) {
        if (*p != '0' && *p != '.' && *p != ' ') {
          zero = 0;
        }
      }
      return zero;
    }
    while (p < end && *p != ';') {
      p++;
    }
  }
  return 0;
}

int serve_gzip_accepted(const char *ae) {
  if (ae == NULL) {
    return 0;
  }
  int accepted = 0, star = 0, explicit_gzip = 0;
  const char *p = ae;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',') {
      p++;
    }
    const char *start = p;
    while (*p != '\0' && *p != ',') {
      p++;
    }
    const char *end = p;
    const char *name_end = start;
    while (name_end < end && *name_end != ';' && *name_end != ' ' &&
           *name_end != '\t') {
      name_end++;
    }
    size_t n = (size_t)(name_end - start);
    int zero = q_is_zero(name_end, end);
    if ((n == 4 && strncasecmp(start, "gzip", 4) == 0) ||
        (n == 6 && strncasecmp(start, "x-gzip", 6) == 0)) {
      explicit_gzip = 1;
      accepted = !zero;
    } else if (n == 1 && *start == '*') {
      star = !zero;
    }
  }
  return explicit_gzip ? accepted : star;
}
