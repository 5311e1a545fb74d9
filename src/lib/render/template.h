/*
 * Summary and description templates: "{show} {code} – {title}" with the
 * fields {show} {season} {episode} {title} {code} {network} {description}
 * {url}, zero-padded numbers ({season:02}), and {{ / }} for braces. A
 * template is checked once, when the renderer is made, then expanded per
 * event into a reusable buffer.
 */
#ifndef EPCAL_TEMPLATE_H
#define EPCAL_TEMPLATE_H

#include "epcal/epcal.h"

/* A growable byte buffer; `oom` sticks once an allocation failed. */
typedef struct epcal__buf {
  char *data;
  size_t len;
  size_t cap;
  bool oom;
} epcal__buf;

void epcal__buf_append(epcal__buf *b, const char *s, size_t n);
void epcal__buf_free(epcal__buf *b);

typedef struct epcal__template epcal__template;

/*
 * Compiles `text`; `what` names it in messages ("--summary"). Returns
 * EPCAL_OK, EPCAL_EUSAGE (an unknown field, a bad width, an unmatched
 * brace: err says which and where) or EPCAL_ENOMEM. *out is freed with
 * epcal__template_free().
 */
epcal_status epcal__template_compile(epcal__template **out, const char *text,
                                     const char *what, epcal_error *err);

/* Replaces b's contents with t expanded for ep (NUL-terminated; absent
 * fields are empty). */
void epcal__template_expand(const epcal__template *t, const epcal_episode *ep,
                            epcal__buf *b);

/* Replaces b's contents with the default summary, "Show S02E01 – Title"
 * (without " – Title" when there is no title). */
void epcal__summary_default(const epcal_episode *ep, epcal__buf *b);

void epcal__template_free(epcal__template *t);

#endif
