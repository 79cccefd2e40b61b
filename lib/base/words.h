/*
 * base/words.h: small text helpers for the files the library reads as text:
 * cutting the lines of its own data files (the bug check knowledge base, the
 * known-problem list) into words, in place, and hex digits (ISF GUIDs, JSON
 * escapes).
 */
#ifndef BC_BASE_WORDS_H
#define BC_BASE_WORDS_H

/**
 * Cuts the next space- or tab-separated word off *@rest, NUL-terminating it
 * in place, and leaves *@rest at the word after it; NULL at the end.
 */
char *bc_next_word(char **rest);

/** The value of hex digit @c (either case), or -1. */
int bc_hex_digit(char c);

#endif
