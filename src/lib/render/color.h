/* CSS colour names (CSS Color Module Level 4, the names RFC 7986 COLOR
 * takes) and their sRGB values. */
#ifndef EPCAL_COLOR_H
#define EPCAL_COLOR_H

#include "epcal/epcal.h"

/*
 * Reads `text` as a CSS colour name (any case) or a hex colour ("#RGB",
 * "#RRGGBB", with or without '#'). On success *name is the CSS name to
 * write in COLOR (for a hex colour without a name of its own, the nearest
 * named colour) and hex[] the "#RRGGBB" (upper case, NUL-terminated) for
 * X-APPLE-CALENDAR-COLOR. Returns false when it is neither.
 */
bool epcal__color_parse(const char *text, const char **name, char hex[8]);

#endif
