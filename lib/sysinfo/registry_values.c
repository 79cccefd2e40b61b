// Registry values as a bug-check callback stores them in secondary data
// (the processor key's blob, bugcheck/sysinfo.h): {u32 NameSize, UTF-16
// name with its NUL, u32 Type, u32 DataSize, data} repeated, no padding.
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/utf.h"
#include "bugcheck/sysinfo.h"

enum { MAX_VALUES = 1024, MAX_NAME_BYTES = 2 * 16383 };

BC_PUBLIC void bc_registry_values_free(struct bc_registry_value *values, size_t count)
{
	for (size_t i = 0; values && i < count; i++)
		free(values[i].name);
	free(values);
}

BC_PUBLIC struct bc_error *bc_registry_values_parse(const uint8_t *data, size_t size,
						    struct bc_registry_value **ret,
						    size_t *count, const char **note_ret)
{
	struct bc_span s = { data, size };
	struct bc_registry_value *values = NULL;
	size_t n = 0, cap = 0;
	uint64_t at = 0;
	const char *note = NULL;
	*ret = NULL;
	*count = 0;
	while (at < size) {
		uint32_t name_size, type, data_size;
		if (n == MAX_VALUES) {
			note = "more than 1024 values: the rest are not listed";
			break;
		}
		if (!bc_span_u32(s, at, &name_size) || name_size > MAX_NAME_BYTES ||
		    !bc_span_has(s, at + 4, name_size) ||
		    !bc_span_u32(s, at + 4 + name_size, &type) ||
		    !bc_span_u32(s, at + 8 + name_size, &data_size) ||
		    !bc_span_has(s, at + 12 + name_size, data_size)) {
			note = "a value runs past the end of the blob";
			break;
		}
		if (n == cap) {
			size_t grown = cap ? cap * 2 : 16;
			struct bc_registry_value *p = realloc(values, grown * sizeof(*p));
			if (!p) {
				bc_registry_values_free(values, n);
				return &bc_enomem;
			}
			values = p;
			cap = grown;
		}
		size_t units = name_size / 2;
		char *name = malloc(3 * units + 1);
		if (!name) {
			bc_registry_values_free(values, n);
			return &bc_enomem;
		}
		bc_utf16le_to_utf8(data + at + 4, units, name, false);
		values[n++] = (struct bc_registry_value){ name, type, data + at + 12 + name_size,
							  data_size };
		at += 12ull + name_size + data_size;
	}
	*ret = values;
	*count = n;
	if (note_ret)
		*note_ret = note;
	return NULL;
}

BC_PUBLIC const char *bc_registry_type_name(uint32_t type)
{
	static const char *const names[] = {
		"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
		"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
		"REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
	};
	return type < sizeof(names) / sizeof(*names) ? names[type] : NULL;
}

BC_PUBLIC char *bc_registry_string(const struct bc_registry_value *v)
{
	enum { MAX_TEXT_BYTES = 1 << 20 };
	if ((v->type != 1 && v->type != 2) || v->size > MAX_TEXT_BYTES)
		return NULL;
	char *text = malloc(3 * (v->size / 2) + 1);
	if (text)
		bc_utf16le_to_utf8(v->data, v->size / 2, text, false);
	return text;
}
