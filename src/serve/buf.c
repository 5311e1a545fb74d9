#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void serve_buf_init(serve_buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

static int grow(serve_buf *b, size_t need) {
  if (need > b->max) {
    b->failed = true;
    errno = ENOMEM;
    return -1;
  }
  size_t cap = b->cap > 0 ? b->cap : 256;
  while (cap < need + 1) {
    cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
  }
  char *p = realloc(b->data, cap);
  if (p == NULL) {
    b->failed = true;
    errno = ENOMEM;
    return -1;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

int serve_buf_append(serve_buf *b, const void *p, size_t len) {
  if (b->failed) {
    errno = ENOMEM;
    return -1;
  }
  if (len > b->max - b->len) {
    b->failed = true;
    errno = ENOMEM;
    return -1;
  }
  if (b->len + len + 1 > b->cap && grow(b, b->len + len) != 0) {
    return -1;
  }
  if (len > 0) {
    memcpy(b->data + b->len, p, len);
  }
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int serve_buf_puts(serve_buf *b, const char *s) {
  return serve_buf_append(b, s, strlen(s));
}

int serve_buf_printf(serve_buf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return -1;
  }
  if ((size_t)n < sizeof small) {
    return serve_buf_append(b, small, (size_t)n);
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    b->failed = true;
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int rc = serve_buf_append(b, big, (size_t)n);
  free(big);
  return rc;
}

int serve_buf_write(void *ctx, const char *buf, size_t len) {
  return serve_buf_append(ctx, buf, len);
}

char *serve_buf_take(serve_buf *b, size_t *len) {
  if (b->failed) {
    return NULL;
  }
  if (b->data == NULL && grow(b, 0) != 0) {
    return NULL;
  }
  if (b->data != NULL && b->len == 0) {
    b->data[0] = '\0';
  }
  char *p = b->data;
  *len = b->len;
  size_t max = b->max;
  serve_buf_init(b, max);
  return p;
}

void serve_buf_free(serve_buf *b) {
  free(b->data);
  size_t max = b->max;
  serve_buf_init(b, max);
}
