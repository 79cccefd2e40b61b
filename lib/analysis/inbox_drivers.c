// Whether an image ships with Windows: a case-insensitive match against the
// compiled-in data/inbox_drivers.txt, read line by line in place (a few
// kilobytes; no allocation, nothing kept between calls).
#include <string.h>
#include <strings.h>

#include "analysis/analysis_private.h"

extern const char bc_inbox_drivers_text[];
extern const size_t bc_inbox_drivers_text_size;

bool bc_analysis_inbox_image(const char *image_name)
{
	size_t want = strlen(image_name);
	const char *p = bc_inbox_drivers_text, *end = p + bc_inbox_drivers_text_size;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && p[0] != '#' && n == want && !strncasecmp(p, image_name, n))
			return true;
		p += n;
		p = eol ? eol + 1 : end;
	}
	return false;
}
