/*
 * floor: libcsv parsing alone, no output. The lower bound for any program
 * built on libcsv: reads FILE in 64 KiB chunks, parses it with the same
 * options epcal uses, and counts rows and fields.
 *
 *   floor FILE
 */
#include <csv.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct counts {
  unsigned long rows;
  unsigned long fields;
  unsigned long long bytes;
} counts;

static void on_field(void *data, size_t len, void *user) {
  (void)data;
  counts *c = user;
  c->fields++;
  c->bytes += len;
}

static void on_row(int term, void *user) {
  (void)term;
  counts *c = user;
  c->rows++;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor FILE\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    return 1;
  }
  csv_set_blk_size(&p, 64 * 1024);
  counts c;
  memset(&c, 0, sizeof c);
  static char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      perror(argv[1]);
      return 1;
    }
    if (n == 0) {
      break;
    }
    if (csv_parse(&p, buf, (size_t)n, on_field, on_row, &c) != (size_t)n) {
      fprintf(stderr, "floor: %s\n", csv_strerror(csv_error(&p)));
      return 1;
    }
  }
  if (csv_fini(&p, on_field, on_row, &c) != 0) {
    fprintf(stderr, "floor: %s\n", csv_strerror(csv_error(&p)));
    return 1;
  }
  csv_free(&p);
  close(fd);
  printf("%lu rows (header included), %lu fields, %llu field bytes\n", c.rows,
         c.fields, c.bytes);
  return 0;
}
