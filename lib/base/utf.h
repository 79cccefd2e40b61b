/*
 * base/utf.h: UTF-16LE from files to UTF-8 for the rest of the program.
 *
 * Windows stores names (module paths, version strings, unloaded drivers) as
 * UTF-16LE. These helpers are the one conversion: surrogate pairs are joined,
 * unpaired surrogates become U+FFFD, and (optionally) NUL code units too, so
 * the result is a C string that says everything the bytes said.
 */
#ifndef BC_BASE_UTF_H
#define BC_BASE_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Writes code point @c as UTF-8 into @buf (room for 4 bytes); returns the length. */
size_t bc_utf8_encode(uint32_t c, char buf[4]);

/**
 * Converts @units UTF-16LE code units at @p into @out, which must hold
 * 3 * @units + 1 bytes (no code unit makes more than 3 bytes; a pair makes
 * 4 from 2). With @nul_to_replacement, NUL units become U+FFFD instead of
 * ending the string early. Returns the length written (NUL-terminated).
 */
size_t bc_utf16le_to_utf8(const uint8_t *p, size_t units, char *out, bool nul_to_replacement);

#endif
