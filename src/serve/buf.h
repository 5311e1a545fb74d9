/* A growable byte buffer with a hard size cap, so that no request can make
 * the server allocate without bound. */
#ifndef EPCAL_SERVE_BUF_H
#define EPCAL_SERVE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct serve_buf {
  char *data; /* owned; NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;  /* appending past this fails */
  bool failed; /* sticky: an append failed (cap or memory) */
} serve_buf;

/* An empty buffer that may grow up to `max` bytes. Allocates nothing. */
void serve_buf_init(serve_buf *b, size_t max);

/* Appends `len` bytes. Returns 0, or -1 (and sets `failed` and errno to
 * ENOMEM) when the cap or memory runs out; the contents stay as they were. */
int serve_buf_append(serve_buf *b, const void *p, size_t len);

/* Appends a NUL-terminated string. */
int serve_buf_puts(serve_buf *b, const char *s);

/* Appends formatted text. */
int serve_buf_printf(serve_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* An epcal_write_fn over a serve_buf (ctx). */
int serve_buf_write(void *ctx, const char *buf, size_t len);

/* Hands the bytes to the caller (caller frees; never NULL on success, even
 * for an empty buffer) and resets the buffer. Returns NULL on failure. */
char *serve_buf_take(serve_buf *b, size_t *len);

/* Frees the bytes. */
void serve_buf_free(serve_buf *b);

#endif
