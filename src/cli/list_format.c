#include "list_format.h"

#include <string.h>

int epcal_list_format_parse(const char *s, epcal_list_format *out) {
  if (strcmp(s, "table") == 0) {
    *out = EPCAL_LIST_TABLE;
  } else if (strcmp(s, "csv") == 0) {
    *out = EPCAL_LIST_CSV;
  } else if (strcmp(s, "json") == 0) {
    *out = EPCAL_LIST_JSON;
  } else {
    return -1;
  }
  return 0;
}

static void format_date(uint32_t d, char out[11]) {
  snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(d / 10000 % 10000),
           (unsigned)(d / 100 % 100), (unsigned)(d % 100));
}

static void format_code(const epcal_list_row *r, char out[24]) {
  snprintf(out, 24, "S%02dE%02d", (int)r->season, (int)r->number);
}

/* Columns on a terminal: one per UTF-8 character (input is valid UTF-8;
 * wide East Asian characters are counted as one). */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s != '\0'; s++) {
    w += ((unsigned char)*s & 0xC0) != 0x80;
  }
  return w;
}

static void put_cell(FILE *fp, const char *s, size_t width, bool pad) {
  size_t w = 0;
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    fputc(c < 0x20 || c == 0x7F ? ' ' : c, fp);
    w += (c & 0xC0) != 0x80;
  }
  for (; pad && w < width; w++) {
    fputc(' ', fp);
  }
}

static void print_table(FILE *fp, const epcal_list_store *s,
                        uint32_t upcoming_from) {
  size_t code_w = strlen("CODE"), show_w = strlen("SHOW");
  for (size_t i = 0; i < s->n; i++) {
    char code[24];
    format_code(&s->rows[i], code);
    size_t cw = strlen(code);
    size_t sw = text_width(epcal_list_store_text(s, s->rows[i].show));
    code_w = cw > code_w ? cw : code_w;
    show_w = sw > show_w ? sw : show_w;
  }
  const char *mark_pad = upcoming_from != 0 ? "  " : "";
  fprintf(fp, "%s%-10s  %-*s  %-*s  TITLE\n", mark_pad, "DATE", (int)code_w,
          "CODE", (int)show_w, "SHOW");
  for (size_t i = 0; i < s->n; i++) {
    const epcal_list_row *r = &s->rows[i];
    char date[11], code[24];
    format_date(r->date, date);
    format_code(r, code);
    if (upcoming_from != 0) {
      fputs(r->date >= upcoming_from ? "* " : "  ", fp);
    }
    fprintf(fp, "%s  %-*s  ", date, (int)code_w, code);
    const char *title = epcal_list_store_text(s, r->title);
    put_cell(fp, epcal_list_store_text(s, r->show), show_w, title != NULL);
    if (title != NULL) {
      fputs("  ", fp);
      put_cell(fp, title, 0, false);
    }
    fputc('\n', fp);
  }
  if (upcoming_from != 0) {
    char date[11];
    format_date(upcoming_from, date);
    fprintf(fp, "(* upcoming: on or after %s)\n", date);
  }
}

static void csv_field(FILE *fp, const char *s) {
  if (s == NULL) {
    return;
  }
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, fp);
    return;
  }
  fputc('"', fp);
  for (; *s != '\0'; s++) {
    if (*s == '"') {
      fputc('"', fp);
    }
    fputc(*s, fp);
  }
  fputc('"', fp);
}

static void print_csv(FILE *fp, const epcal_list_store *s) {
  fputs("date,code,show,season,episode,title\n", fp);
  for (size_t i = 0; i < s->n; i++) {
    const epcal_list_row *r = &s->rows[i];
    char date[11], code[24];
    format_date(r->date, date);
    format_code(r, code);
    fprintf(fp, "%s,%s,", date, code);
    csv_field(fp, epcal_list_store_text(s, r->show));
    fprintf(fp, ",%d,%d,", (int)r->season, (int)r->number);
    csv_field(fp, epcal_list_store_text(s, r->title));
    fputc('\n', fp);
  }
}

/* A JSON string: '"' '\\' and control characters escaped; the rest of the
 * (valid UTF-8) text is copied as it is. */
static void json_string(FILE *fp, const char *s) {
  if (s == NULL) {
    fputs("null", fp);
    return;
  }
  fputc('"', fp);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '"':
      fputs("\\\"", fp);
      break;
    case '\\':
      fputs("\\\\", fp);
      break;
    case '\n':
      fputs("\\n", fp);
      break;
    case '\r':
      fputs("\\r", fp);
      break;
    case '\t':
      fputs("\\t", fp);
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        fprintf(fp, "\\u%04x", c);
      } else {
        fputc(c, fp);
      }
    }
  }
  fputc('"', fp);
}

static void print_json(FILE *fp, const epcal_list_store *s) {
  if (s->n == 0) {
    fputs("[]\n", fp);
    return;
  }
  fputs("[\n", fp);
  for (size_t i = 0; i < s->n; i++) {
    const epcal_list_row *r = &s->rows[i];
    char date[11], code[24];
    format_date(r->date, date);
    format_code(r, code);
    fprintf(fp, "  {\"date\": \"%s\", \"code\": \"%s\", \"show\": ", date,
            code);
    json_string(fp, epcal_list_store_text(s, r->show));
    fprintf(fp,
            ", \"season\": %d, \"episode\": %d, \"title\": ", (int)r->season,
            (int)r->number);
    json_string(fp, epcal_list_store_text(s, r->title));
    fputs(i + 1 < s->n ? "},\n" : "}\n", fp);
  }
  fputs("]\n", fp);
}

void epcal_list_print(FILE *fp, const epcal_list_store *s,
                      epcal_list_format format, uint32_t upcoming_from) {
  switch (format) {
  case EPCAL_LIST_TABLE:
    print_table(fp, s, upcoming_from);
    break;
  case EPCAL_LIST_CSV:
    print_csv(fp, s);
    break;
  case EPCAL_LIST_JSON:
    print_json(fp, s);
    break;
  }
}
