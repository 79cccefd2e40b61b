// SMBIOS structure tables (DMTF DSP0134) as Windows hands them out:
// RawSMBIOSData = {u8 Used20CallingMethod, u8 SMBIOSMajorVersion,
// u8 SMBIOSMinorVersion, u8 DmiRevision, u32 Length, table}. Each structure
// is a formatted area ({u8 Type, u8 Length, u16 Handle, ...}) followed by
// its string-set, NUL-terminated strings ending with an extra NUL.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/sysinfo.h"

enum {
	RAW_HEADER_SIZE = 8,
	STRUCTURE_HEADER_SIZE = 4,
	END_OF_TABLE = 127,
	MAX_STRUCTURES = 4096,
	MAX_STRINGS = 255,  // strings are numbered by one byte
};

BC_PUBLIC void bc_smbios_free(struct bc_smbios *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		free(s->structures[i].strings);
	free(s->structures);
	free(s);
}

// The string-set starting at @at: its strings, and where the next
// structure begins. False when it runs off the table.
static bool read_strings(const uint8_t *table, size_t size, size_t at,
			 struct bc_smbios_structure *st, size_t *next)
{
	const char *found[MAX_STRINGS];
	size_t n = 0;
	// An empty string-set is two NULs: the formatted area's end, then the set's.
	if (at + 1 < size && table[at] == 0 && table[at + 1] == 0) {
		*next = at + 2;
		st->strings = NULL;
		st->string_count = 0;
		return true;
	}
	while (at < size && table[at] != 0) {
		const uint8_t *nul = memchr(table + at, 0, size - at);
		if (!nul)
			return false;
		if (n < MAX_STRINGS)
			found[n++] = (const char *)table + at;
		at = (size_t)(nul - table) + 1;
	}
	if (at >= size)
		return false;
	*next = at + 1;
	st->strings = n ? malloc(n * sizeof(*st->strings)) : NULL;
	if (n && !st->strings)
		return false;
	memcpy(st->strings, found, n * sizeof(*st->strings));
	st->string_count = n;
	return true;
}

BC_PUBLIC struct bc_error *bc_smbios_parse(const uint8_t *data, size_t size,
					   struct bc_smbios **ret)
{
	*ret = NULL;
	if (size < RAW_HEADER_SIZE)
		return bc_error_create(BC_ERR_FORMAT, "SMBIOS data: %zu bytes, shorter than its "
				       "8-byte header", size);
	struct bc_smbios *s = calloc(1, sizeof(*s));
	if (!s)
		return &bc_enomem;
	s->major = data[1];
	s->minor = data[2];
	s->dmi_revision = data[3];
	s->table_length = bc_le32(data + 4);
	size_t table_size = size - RAW_HEADER_SIZE;
	if (s->table_length < table_size)
		table_size = s->table_length;
	else if (s->table_length > table_size)
		snprintf(s->note, sizeof(s->note), "the table claims %u bytes, the data holds %zu",
			 s->table_length, table_size);
	const uint8_t *table = data + RAW_HEADER_SIZE;
	size_t at = 0, cap = 0;
	while (at + STRUCTURE_HEADER_SIZE <= table_size) {
		if (s->count == MAX_STRUCTURES) {
			snprintf(s->note, sizeof(s->note), "more than %d structures", MAX_STRUCTURES);
			break;
		}
		uint8_t length = table[at + 1];
		if (length < STRUCTURE_HEADER_SIZE || at + length > table_size) {
			snprintf(s->note, sizeof(s->note), "the structure at table offset 0x%zx has "
				 "length %u", at, length);
			break;
		}
		struct bc_smbios_structure st = {
			.type = table[at], .length = length, .handle = bc_le16(table + at + 2),
			.formatted = table + at,
		};
		size_t next;
		if (!read_strings(table, table_size, at + length, &st, &next)) {
			snprintf(s->note, sizeof(s->note), "the strings of the structure at table "
				 "offset 0x%zx run past the table", at);
			break;
		}
		if (s->count == cap) {
			size_t grown = cap ? cap * 2 : 32;
			struct bc_smbios_structure *p = realloc(s->structures, grown * sizeof(*p));
			if (!p) {
				free(st.strings);
				bc_smbios_free(s);
				return &bc_enomem;
			}
			s->structures = p;
			cap = grown;
		}
		s->structures[s->count++] = st;
		at = next;
		if (st.type == END_OF_TABLE)
			break;
	}
	*ret = s;
	return NULL;
}

BC_PUBLIC const char *bc_smbios_string(const struct bc_smbios_structure *st, uint8_t number)
{
	return number && number <= st->string_count ? st->strings[number - 1] : NULL;
}

BC_PUBLIC bool bc_smbios_byte(const struct bc_smbios_structure *st, size_t offset, uint8_t *ret)
{
	if (offset >= st->length)
		return false;
	*ret = st->formatted[offset];
	return true;
}

BC_PUBLIC const struct bc_smbios_structure *bc_smbios_find(const struct bc_smbios *s,
							   uint8_t type)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->structures[i].type == type)
			return &s->structures[i];
	}
	return NULL;
}

// The string a structure's byte at @offset names (NULL: absent or none).
static const char *string_at(const struct bc_smbios_structure *st, size_t offset)
{
	uint8_t number;
	return st && bc_smbios_byte(st, offset, &number) ? bc_smbios_string(st, number) : NULL;
}

BC_PUBLIC void bc_smbios_machine_id(const struct bc_smbios *s, struct bc_machine_id *ret)
{
	memset(ret, 0, sizeof(*ret));
	// DSP0134: type 0 BIOS Information, 1 System Information, 2 Baseboard.
	const struct bc_smbios_structure *bios = bc_smbios_find(s, 0);
	const struct bc_smbios_structure *system = bc_smbios_find(s, 1);
	const struct bc_smbios_structure *board = bc_smbios_find(s, 2);
	ret->bios_vendor = string_at(bios, 0x04);
	ret->bios_version = string_at(bios, 0x05);
	ret->bios_release_date = string_at(bios, 0x08);
	ret->has_bios_release = bios && bc_smbios_byte(bios, 0x14, &ret->bios_major_release) &&
				bc_smbios_byte(bios, 0x15, &ret->bios_minor_release);
	ret->system_manufacturer = string_at(system, 0x04);
	ret->system_product_name = string_at(system, 0x05);
	ret->system_version = string_at(system, 0x06);
	ret->system_sku = string_at(system, 0x19);
	ret->system_family = string_at(system, 0x1a);
	ret->baseboard_manufacturer = string_at(board, 0x04);
	ret->baseboard_product = string_at(board, 0x05);
	ret->baseboard_version = string_at(board, 0x06);
}
