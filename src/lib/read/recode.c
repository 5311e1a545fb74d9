#include "recode.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

struct epcal__recode {
  iconv_t cd;
  epcal_read_fn read;
  void *ctx;
  /* Bytes read before the encoding was known, served before read(ctx). */
  char *pre;
  size_t pre_len, pre_pos;
  char in[16384];
  size_t in_len;
  bool eof;
};

epcal__recode *epcal__recode_new(const char *encoding, epcal_read_fn read,
                                 void *ctx) {
  epcal__recode *r = calloc(1, sizeof *r);
  if (r == NULL) {
    return NULL;
  }
  r->cd = iconv_open("UTF-8", encoding);
  if (r->cd == (iconv_t)-1) {
    free(r);
    errno = EINVAL;
    return NULL;
  }
  r->read = read;
  r->ctx = ctx;
  return r;
}

bool epcal__recode_prepend(epcal__recode *r, const char *bytes, size_t n) {
  if (n == 0) {
    return true;
  }
  r->pre = malloc(n);
  if (r->pre == NULL) {
    return false;
  }
  memcpy(r->pre, bytes, n);
  r->pre_len = n;
  r->pre_pos = 0;
  return true;
}

/* The source: the prepended bytes first, then read(ctx). */
static long source_read(epcal__recode *r, char *buf, size_t cap) {
  if (r->pre_pos < r->pre_len) {
    size_t n = r->pre_len - r->pre_pos;
    if (n > cap) {
      n = cap;
    }
    memcpy(buf, r->pre + r->pre_pos, n);
    r->pre_pos += n;
    return (long)n;
  }
  return r->read(r->ctx, buf, cap);
}

long epcal__recode_read(void *ctx, char *buf, size_t cap) {
  epcal__recode *r = ctx;
  for (;;) {
    if (!r->eof && r->in_len < sizeof r->in) {
      long n = source_read(r, r->in + r->in_len, sizeof r->in - r->in_len);
      if (n < 0) {
        return -1;
      }
      r->eof = n == 0;
      r->in_len += (size_t)n;
    }
    char *src = r->in, *dst = buf;
    size_t src_left = r->in_len, dst_left = cap;
    size_t rc = iconv(r->cd, &src, &src_left, &dst, &dst_left);
    int e = errno;
    memmove(r->in, src, src_left);
    r->in_len = src_left;
    size_t produced = cap - dst_left;
    if (rc == (size_t)-1 && e == EILSEQ && produced == 0) {
      /* Drop the byte that cannot be converted, so that reading can go on
       * (the reader drops the rest of its line). */
      memmove(r->in, r->in + 1, r->in_len - 1);
      r->in_len--;
      errno = EILSEQ;
      return -1;
    }
    if (rc == (size_t)-1 && e == EINVAL && r->eof && produced == 0) {
      r->in_len = 0; /* a truncated sequence at the very end */
      errno = EILSEQ;
      return -1;
    }
    if (produced > 0 || (r->eof && r->in_len == 0)) {
      return (long)produced;
    }
  }
}

void epcal__recode_free(epcal__recode *r) {
  if (r != NULL) {
    iconv_close(r->cd);
    free(r->pre);
    free(r);
  }
}
