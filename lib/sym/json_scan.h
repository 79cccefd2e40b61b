/*
 * sym/json_scan.h: walking a large JSON text without building a document.
 *
 * An ISF table is megabytes of JSON of which a dump analysis needs a few
 * dozen types and the symbol addresses. This module finds where values
 * begin and end (strings, numbers, literals, and objects and arrays by their
 * brackets), lists an object's members as (key, value) spans, and decodes
 * keys and strings; the few values that are needed whole are then parsed by
 * jansson from their spans. Every position is bounds-checked and nesting is
 * capped; a span that is not well-formed is refused, never read past.
 */
#ifndef BC_SYM_JSON_SCAN_H
#define BC_SYM_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** [start, end) of a value or a string's contents in the text. */
struct bc_json_span {
	size_t start, end;
};

/**
 * The value that starts at @pos (after white space) in @text: its span in
 * *@ret. False when it is not a well-formed value (brackets that do not
 * pair, an unterminated string, nesting deeper than 256).
 */
bool bc_json_value(const char *text, size_t size, size_t pos, struct bc_json_span *ret);

/**
 * Calls @fn for each member of the object at @object (a span from
 * bc_json_value): @key is the key's raw contents (between the quotes, escapes
 * undecoded), @value the member's value. Stops early when @fn returns false.
 * False when the object is not well-formed.
 */
bool bc_json_members(const char *text, struct bc_json_span object,
		     bool (*fn)(void *arg, struct bc_json_span key, struct bc_json_span value),
		     void *arg);

/** The member @name of @object (raw key comparison); false when absent or ill-formed. */
bool bc_json_member(const char *text, struct bc_json_span object, const char *name,
		    struct bc_json_span *ret);

/**
 * Decodes the raw string contents @raw (escapes, \uXXXX with surrogate
 * pairs) into @out as UTF-8, NUL-terminated; @out needs @raw's length + 1
 * bytes. False on a bad escape or a NUL character.
 */
bool bc_json_decode_string(const char *text, struct bc_json_span raw, char *out);

/** The integer value at @value; false when it is not an integer that fits in int64. */
bool bc_json_integer(const char *text, struct bc_json_span value, int64_t *ret);

/** True when @value is a string whose raw contents equal @s. */
bool bc_json_string_is(const char *text, struct bc_json_span value, const char *s);

#endif
