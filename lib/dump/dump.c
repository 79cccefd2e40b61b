// Dump format dispatch: DumpType plus the sub-header signature select the
// function that sets up memory access for the format.
//
// To add a format:
//  1. write dump/dump_<format>.c with `struct bc_error *bc_dump_<format>_open(struct bc_target *)`
//     that fills t->phys (page-storing formats) or t->regions (triage), sets
//     t->info.format and present_pages, and validates every count and offset
//     against the file size;
//  2. declare it in target_private.h and add a row to `formats` below;
//  3. teach tests/fixtures/gen/mkdump.c to write it and add a test in
//     tests/unit/test_formats.c and a fuzz seed;
//  4. document it in docs/FORMATS.md.
#include <string.h>

#include "target_private.h"

struct format_row {
	uint32_t dump_type;
	const char *name;  ///< for messages: what this DumpType is
	struct bc_error *(*open)(struct bc_target *t);
};

static const struct format_row formats[] = {
	{ 1, "full memory dump (run list)", bc_dump_runs_open },
	{ 2, "summary dump (legacy kernel bitmap)", bc_dump_summary_open },
	{ 4, "small memory dump (triage)", bc_dump_triage_open },
	{ 5, "bitmap dump", bc_dump_bitmap_open },
	{ 6, "bitmap dump", bc_dump_bitmap_open },
	{ 8, "kernel memory dump (RDMP)", bc_dump_rdmp_open },
	{ 9, "kernel and user memory dump (RDMP)", bc_dump_rdmp_open },
	{ 0xa, "complete memory dump (RDMP)", bc_dump_rdmp_open },
};

static const char *dump_type_word(uint32_t type)
{
	switch (type) {
	case 0: return "DUMP_TYPE_UNKNOWN";
	case 3: return "DUMP_TYPE_HEADER (header only, no memory)";
	case 7: return "DUMP_TYPE_AUTOMATIC (a configuration value, not a file type)";
	case 0xffffffff: return "DUMP_TYPE_INVALID";
	case BC_PAGE_FILL32: return "never filled in (\"PAGE\")";
	}
	return "unknown";
}

struct bc_error *bc_dump_open_format(struct bc_target *t)
{
	uint32_t type = t->info.dump_type;
	if (t->info.has_attributes && (t->info.attributes & BC_ATTR_ENCRYPTED_DUMP_DATA))
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       "the dump's data is encrypted (DUMP_FILE_ATTRIBUTES "
				       "EncryptedDumpData); decrypt it first");
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].dump_type == type)
			return formats[i].open(t);
	}
	return bc_error_format(t->header_size == 0x2000 ? 0xf98 : 0xf88,
			       "kernel dump with DumpType %#x (%s): no memory this tool can read",
			       type, dump_type_word(type));
}
