/*
 * base/words.h: cutting the lines of the library's own data files (the bug
 * check knowledge base, the known-problem list) into words, in place.
 */
#ifndef BC_BASE_WORDS_H
#define BC_BASE_WORDS_H

/**
 * Cuts the next space- or tab-separated word off *@rest, NUL-terminating it
 * in place, and leaves *@rest at the word after it; NULL at the end.
 */
char *bc_next_word(char **rest);

#endif
