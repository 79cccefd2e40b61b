// Words of the data files' lines (base/words.h).
#include <stddef.h>

#include "base/words.h"

static char *skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

char *bc_next_word(char **rest)
{
	char *p = skip_blanks(*rest);
	if (!*p) {
		*rest = p;
		return NULL;
	}
	char *word = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	*rest = skip_blanks(p);
	return word;
}
