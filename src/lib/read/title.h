/* Titles as a wiki's episode table writes them: "Penance"[a]. */
#ifndef EPCAL_TITLE_H
#define EPCAL_TITLE_H

#include <stddef.h>

/*
 * The length of s[0, len) without the footnote marks at its end ("[a]",
 * "[12]", "[note 1]", "[citation needed]", several in a row) and the
 * blanks before them. A text made only of marks is kept whole: it is what
 * the cell says, not a mark on something.
 */
size_t epcal__footnotes_cut(const char *s, size_t len);

/*
 * Cleans a title in place: footnote marks at its end, then the quotes
 * around the whole title ("..." or the typographic pair), when no other
 * straight quote is inside. Returns where the clean title starts (within
 * s). Never empties a title.
 */
char *epcal__title_clean(char *s);

#endif
