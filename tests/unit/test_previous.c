/*
 * Reading a previous feed: the scanner reads a buffer at a time, so lines
 * cross buffer edges, one line may be longer than the buffer, line ends
 * may be CRLF or LF, and the last line may have none. Whatever the layout,
 * every event's UID, DTSTAMP, SEQUENCE and LAST-MODIFIED must be read, and
 * two feeds that differ only in line ends must fingerprint alike.
 */
#define _GNU_SOURCE /* mkfifo, mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "epcal/epcal.h"
#include "keytab.h"
#include "render/previous.h"

enum { EVENTS = 20000 };

/* A feed of EVENTS events; `eol` ends lines; event 777 carries a line far
 * longer than the scanner's buffer. */
static char *feed(const char *eol, bool final_eol, size_t *len) {
  size_t cap = 64u << 20;
  char *f = malloc(cap);
  assert_non_null(f);
  size_t n = 0;
#define PUT(...) n += (size_t)snprintf(f + n, cap - n, __VA_ARGS__)
  PUT("BEGIN:VCALENDAR%sVERSION:2.0%sPRODID:-//t//t//EN%s", eol, eol, eol);
  for (int i = 0; i < EVENTS; i++) {
    PUT("BEGIN:VEVENT%sUID:event-%d@t%s", eol, i, eol);
    PUT("DTSTAMP:2024%02d%02dT%02d0000Z%s", 1 + i % 12, 1 + i % 28, i % 24,
        eol);
    if (i % 3 == 0) {
      PUT("SEQUENCE:%d%s", i % 1000, eol);
    } else if (i % 301 == 1) {
      PUT("SEQUENCE:987654321098%s", eol); /* past what is kept */
    }
    if (i % 10 == 0) { /* as epcal writes it: equal to DTSTAMP */
      PUT("LAST-MODIFIED:2024%02d%02dT%02d0000Z%s", 1 + i % 12, 1 + i % 28,
          i % 24, eol);
    } else if (i % 10 == 5) { /* another program's: another time */
      PUT("LAST-MODIFIED:20230101T000000Z%s", eol);
    }
    PUT("SUMMARY:Event %d with a summary of some length to vary lines%s", i,
        eol);
    if (i == 777) {
      PUT("X-LONG:");
      for (int k = 0; k < 70000; k++) {
        PUT("abcdefghij");
      }
      PUT("%s", eol);
    }
    PUT("DTSTART;VALUE=DATE:2024%02d%02d%sEND:VEVENT%s", 1 + i % 12,
        1 + i % 28, eol, eol);
  }
  PUT("END:VCALENDAR%s", final_eol ? eol : "");
#undef PUT
  *len = n;
  return f;
}

static epcal_previous *load(const char *text, size_t len) {
  char path[] = "/tmp/epcal-previous-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  close(fd);
  epcal_previous *p = NULL;
  epcal_error err;
  epcal_status st = epcal_previous_load(&p, path, &err);
  unlink(path);
  if (st != EPCAL_OK) {
    fail_msg("%s:%lu: %s", err.file, err.line, err.msg);
  }
  assert_non_null(p);
  return p;
}

static epcal__prev_event *find(epcal_previous *p, int i) {
  char uid[64];
  int n = snprintf(uid, sizeof uid, "event-%d@t", i);
  return epcal__previous_find(p, epcal__hash64(uid, (size_t)n));
}

static void every_event_across_buffer_edges(void **state) {
  (void)state;
  const char *eols[] = {"\r\n", "\n"};
  uint64_t fingerprint[2][EVENTS];
  for (int e = 0; e < 2; e++) {
    for (int final_eol = 0; final_eol <= 1; final_eol++) {
      size_t len;
      char *text = feed(eols[e], final_eol, &len);
      assert_true(len > 4 * 256 * 1024); /* many buffers */
      epcal_previous *p = load(text, len);
      free(text);
      assert_int_equal(epcal_previous_events(p), EVENTS);
      for (int i = 0; i < EVENTS; i++) {
        epcal__prev_event *ev = find(p, i);
        assert_non_null(ev);
        int64_t want;
        char stamp[32];
        snprintf(stamp, sizeof stamp, "2024%02d%02dT%02d0000Z", 1 + i % 12,
                 1 + i % 28, i % 24);
        assert_true(epcal__parse_utc(stamp, 16, &want));
        assert_int_equal(ev->dtstamp, want);
        assert_int_equal(ev->sequence, i % 3 == 0     ? (unsigned)(i % 1000)
                                       : i % 301 == 1 ? EPCAL__SEQUENCE_MAX
                                                      : 0);
        assert_int_equal(ev->modified, i % 10 == 0);
        assert_int_equal(ev->restamp, i % 10 == 5);
        fingerprint[e][i] = ev->fingerprint;
      }
      epcal_previous_free(p);
    }
  }
  /* The body's fingerprint is over the lines, not their ends. */
  assert_memory_equal(fingerprint[0], fingerprint[1], sizeof fingerprint[0]);
  assert_int_not_equal(fingerprint[0][1], fingerprint[0][2]);
}

/* Only a regular file is read, never waiting: a FIFO (no writer) or a
 * directory is refused at once. */
static void only_regular_files(void **state) {
  (void)state;
  char dir[] = "/tmp/epcal-previous-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char fifo[64];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  epcal_previous *p = NULL;
  epcal_error err;
  assert_int_equal(epcal_previous_load(&p, fifo, &err), EPCAL_EUSAGE);
  assert_int_equal(epcal_previous_load(&p, dir, &err), EPCAL_EUSAGE);
  assert_null(p);
  unlink(fifo);
  rmdir(dir);
}

/* A cap on the bytes read, and a cancel flag checked while scanning. */
static void capped_and_cancellable(void **state) {
  (void)state;
  size_t len;
  char *text = feed("\r\n", true, &len);
  char path[] = "/tmp/epcal-previous-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  close(fd);
  free(text);
  epcal_previous *p = NULL;
  epcal_error err;
  assert_int_equal(epcal__previous_load_capped(&p, path, len - 1, NULL, &err),
                   EPCAL_ENOMEM);
  volatile sig_atomic_t stop = 1;
  assert_int_equal(epcal__previous_load_capped(&p, path, 0, &stop, &err),
                   EPCAL_EIO);
  assert_string_equal(err.msg, "interrupted");
  assert_null(p);
  assert_int_equal(epcal__previous_load_capped(&p, path, len, NULL, &err),
                   EPCAL_OK);
  assert_int_equal(epcal_previous_events(p), EVENTS);
  epcal_previous_free(p);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_event_across_buffer_edges),
      cmocka_unit_test(only_regular_files),
      cmocka_unit_test(capped_and_cancellable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
