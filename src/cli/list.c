/* `epcal list`: what `generate` would publish, as a table in date order
 * (or CSV/JSON for scripts). Reads and filters exactly like generate; the
 * selected rows are held in memory (compactly, see list_store.h) because
 * date order needs them all. Nothing is printed unless every input was read
 * without error, so a failed run prints no half list. */
#include "cli.h"
#include "list_format.h"
#include "list_store.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const epcal_cli_opt_id output_rows[] = {EPCAL_CLI_FORMAT, EPCAL_CLI_END};
static const epcal_cli_opt_id run_rows[] = {EPCAL_CLI_HELP, EPCAL_CLI_END};

static const epcal_cli_section sections[] = {
    {"Output", output_rows},
    {"Selection", epcal_cli_selection_rows},
    {"Input", epcal_cli_input_rows},
    {NULL, run_rows},
};

static const epcal_cli_command command = {
    "list",
    "Usage: epcal list [OPTIONS] [FILE.csv ...]\n"
    "\n"
    "Shows what 'epcal generate' would publish from the same input and\n"
    "filters: date, code (S02E01), show and title, in date order. On a\n"
    "terminal, upcoming episodes (today or later) are marked with '*'.\n"
    "Reads standard input when no FILE or '-'.\n",
    sections,
    sizeof sections / sizeof sections[0],
    "Without --skip-invalid, every invalid row is reported (the first 20,\n"
    "then how many more) and nothing is listed.\n",
    "Exit status: 0 listed; 1 invalid data (nothing listed); 2 usage;\n"
    "3 input/output error; 4 listed but invalid rows were skipped.\n"};

/*
 * --finales-only: the highest episode number of each season among every
 * valid row, scheduled or not and before the other filters, as generate
 * counts it. An open-addressing table keyed by a 64-bit hash of show and
 * season; list reads its input once, so standard input works too.
 */
typedef struct finale {
  uint64_t key; /* 0: empty */
  long last;
} finale;

typedef struct finales {
  finale *slots;
  size_t cap; /* a power of two, or 0 */
  size_t count;
} finales;

static uint64_t season_key(const char *show, long season) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)show; *p; p++) {
    h = (h ^ *p) * 0x100000001b3ULL;
  }
  h = (h ^ (uint64_t)season) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
  return h != 0 ? h : 1;
}

static finale *finale_slot(finale *slots, size_t cap, uint64_t key) {
  size_t j = (size_t)key & (cap - 1);
  while (slots[j].key != 0 && slots[j].key != key) {
    j = (j + 1) & (cap - 1);
  }
  return &slots[j];
}

/* Notes an episode number. Returns false when out of memory. */
static bool finales_note(finales *f, const char *show, long season,
                         long number) {
  if ((f->count + 1) * 4 > f->cap * 3) {
    size_t cap = f->cap > 0 ? f->cap * 2 : 64;
    finale *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
      return false;
    }
    for (size_t i = 0; i < f->cap; i++) {
      if (f->slots[i].key != 0) {
        *finale_slot(slots, cap, f->slots[i].key) = f->slots[i];
      }
    }
    free(f->slots);
    f->slots = slots;
    f->cap = cap;
  }
  uint64_t key = season_key(show, season);
  finale *s = finale_slot(f->slots, f->cap, key);
  if (s->key == 0) {
    s->key = key;
    s->last = number;
    f->count++;
  } else if (number > s->last) {
    s->last = number;
  }
  return true;
}

/* Keeps the stored rows that are their season's last episode. */
static void finales_keep(const finales *f, epcal_list_store *store) {
  size_t kept = 0;
  for (size_t i = 0; i < store->n; i++) {
    const epcal_list_row *r = &store->rows[i];
    const char *show = epcal_list_store_text(store, r->show);
    const finale *s =
        f->cap > 0 ? finale_slot(f->slots, f->cap, season_key(show, r->season))
                   : NULL;
    if (s != NULL && s->key != 0 && s->last == r->number) {
      store->rows[kept++] = *r;
    }
  }
  store->n = kept;
}

/* Reads one input to its end, keeping the rows the selection keeps. */
static epcal_status read_input(const char *path, const epcal_cli_opts *f,
                               const epcal_selection *sel,
                               epcal_selection_audit *audit,
                               epcal_list_store *store, finales *fin,
                               unsigned long *skipped,
                               epcal_cli_errors *invalid, epcal_error *err) {
  epcal_reader *rd;
  epcal_status st = epcal_reader_open(&rd, path, &f->read, err);
  if (st != EPCAL_OK) {
    return st;
  }
  for (;;) {
    const epcal_episode *ep;
    epcal_error row_err;
    st = epcal_reader_next(rd, &ep, &row_err);
    if (st == EPCAL_EDATA && f->skip_invalid && epcal_reader_columns(rd) > 0) {
      (*skipped)++;
      epcal_cli_report("warning: skipped row", &row_err);
      continue;
    }
    /* Every invalid row is named, then the run fails (as generate). */
    if (st == EPCAL_EDATA && epcal_reader_columns(rd) > 0) {
      epcal_cli_errors_add(invalid, &row_err);
      continue;
    }
    if (st != EPCAL_OK) {
      *err = row_err;
      break;
    }
    if (ep == NULL) {
      break;
    }
    epcal_selection_audit_add(audit, ep);
    bool ok =
        !f->finales_only || finales_note(fin, ep->show, ep->season, ep->number);
    if (ok && !epcal_selection_matches(sel, ep)) {
      continue;
    }
    if (!ok || !epcal_list_store_add(store, ep)) {
      st = EPCAL_ENOMEM;
      snprintf(err->file, sizeof err->file, "%s", ep->file);
      err->line = ep->line;
      err->column = 0;
      snprintf(err->msg, sizeof err->msg, "out of memory");
      break;
    }
  }
  epcal_reader_free(rd);
  return st;
}

/* Today as YYYYMMDD in local time: "upcoming" is about the viewer's day.
 * "Now" honours SOURCE_DATE_EPOCH like everything else. */
static uint32_t today(void) {
  time_t now = (time_t)epcal_now();
  struct tm tm;
  if (localtime_r(&now, &tm) == NULL) {
    return 0;
  }
  return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
                    tm.tm_mday);
}

int epcal_cli_list(int argc, char **argv) {
  epcal_list_store store;
  memset(&store, 0, sizeof store);
  finales fin = {NULL, 0, 0};
  epcal_selection_audit *audit = NULL;
  epcal_cli_opts f;
  int first = 0;
  int code;
  if (!epcal_cli_opts_init(&f, argc)) {
    epcal_cli_message("out of memory");
    code = EPCAL_EXIT_IO;
    goto done;
  }
  code = epcal_cli_parse(&command, argc, argv, &f, &first);
  if (code >= 0) {
    goto done;
  }
  epcal_list_format format = (epcal_list_format)f.format;

  epcal_selection sel;
  memset(&sel, 0, sizeof sel);
  epcal_cli_opts_select(&f, epcal_now(), &sel);
  static const char *const stdin_only[] = {"-"};
  const char *const *inputs =
      first < argc ? (const char *const *)argv + first : stdin_only;
  size_t n_inputs = first < argc ? (size_t)(argc - first) : 1;
  unsigned long skipped = 0;
  epcal_cli_errors invalid;
  memset(&invalid, 0, sizeof invalid);
  epcal_error err;
  epcal_error_clear(&err);
  epcal_status st = epcal_selection_audit_new(&audit, &sel, &err);
  for (size_t i = 0; i < n_inputs && st == EPCAL_OK; i++) {
    st = read_input(inputs[i], &f, &sel, audit, &store, &fin, &skipped,
                    &invalid, &err);
  }
  if (st == EPCAL_OK && invalid.count > 0) {
    st = EPCAL_EDATA;
    err = invalid.first;
  }
  /* A named show or season that matched nothing is an error, as for
   * generate: nothing is listed. */
  if (st == EPCAL_OK) {
    st = epcal_selection_audit_end(audit, &err);
  }
  if (st != EPCAL_OK) {
    epcal_cli_errors_finish(&invalid, &err);
    code = epcal_cli_exit_code(st);
    goto done;
  }

  if (f.finales_only) {
    finales_keep(&fin, &store);
  }
  epcal_list_store_sort(&store);
  uint32_t mark =
      format == EPCAL_LIST_TABLE && isatty(STDOUT_FILENO) ? today() : 0;
  epcal_list_print(stdout, &store, format, mark);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    epcal_cli_message("cannot write to standard output");
    code = EPCAL_EXIT_IO;
    goto done;
  }
  if (store.n == 0) {
    epcal_cli_message("note: no episodes selected");
  }
  code = skipped > 0 ? EPCAL_EXIT_SKIPPED : EPCAL_EXIT_OK;

done:
  epcal_selection_audit_free(audit);
  free(fin.slots);
  epcal_list_store_free(&store);
  epcal_cli_opts_free(&f);
  return code;
}
