// Whether an image ships with Windows: a case-insensitive match against the
// compiled-in data/inbox_drivers.txt, read line by line in place (a few
// kilobytes; no allocation, nothing kept between calls).
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_private.h"

extern const char bc_inbox_drivers_text[];
extern const size_t bc_inbox_drivers_text_size;

bool bc_analysis_inbox_match(const char *pattern, size_t length, bool prefix, char *name,
			     size_t size)
{
	const char *p = bc_inbox_drivers_text, *end = p + bc_inbox_drivers_text_size;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && p[0] != '#' && (prefix ? n >= length : n == length) &&
		    !strncasecmp(p, pattern, length)) {
			if (size)
				snprintf(name, size, "%.*s", (int)n, p);
			return true;
		}
		p = eol ? eol + 1 : end;
	}
	return false;
}

bool bc_analysis_inbox_image(const char *image_name)
{
	return bc_analysis_inbox_match(image_name, strlen(image_name), false, NULL, 0);
}
