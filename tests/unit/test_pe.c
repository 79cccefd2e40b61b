// The PE reader over synthetic images (tests/fixtures/gen/mkpe.h): headers,
// sections and reads with zero fill, exports, debug directory (RSDS and
// NB10), .pdata (x64 and ARM64), the version resource, the export symbol
// table, and the mapped layout with missing pages. Every expected value is
// one planted here; hostile inputs are in test_pe_hostile.c.
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pe.h"
#include "mkpe.h"
#include "test.h"

/* ---- Planting structures ---------------------------------------------------------- */

enum {
	EXPORT_DIR = 0x2000, EXPORT_DIR_SIZE = 0x500,
	DEBUG_DIR = 0x2800, CODEVIEW = 0x2900,
	PDATA = 0x3000, XDATA = 0x5800,
	RESOURCES = 0x4000, VERSION_DATA = 0x4100,
};

// Exports, ordinal base 10: Alpha and AlphaAlias (10), an unused slot (11),
// ordinal 12 without a name, Forwarded (13) to NTOSKRNL.ExFreePool,
// DataItem (14) in .data, Beta (15).
static void plant_exports(struct bc_mkpe *mk)
{
	static const uint32_t functions[] = { 0x1000, 0, 0x1100, 0x2400, 0x7100, 0x1200 };
	static const char *const names[] = { "Alpha", "AlphaAlias", "Beta", "DataItem", "Forwarded" };
	static const uint16_t indexes[] = { 0, 0, 5, 4, 3 };
	uint8_t d[40] = { 0 };
	memcpy(d + 0x04, "\x78\x56\x34\x12", 4);        // TimeDateStamp 0x12345678
	memcpy(d + 0x0c, "\x00\x23\x00\x00", 4);        // Name -> 0x2300
	memcpy(d + 0x10, "\x0a\x00\x00\x00", 4);        // Base 10
	memcpy(d + 0x14, "\x06\x00\x00\x00", 4);        // NumberOfFunctions
	memcpy(d + 0x18, "\x05\x00\x00\x00", 4);        // NumberOfNames
	memcpy(d + 0x1c, "\x40\x20\x00\x00", 4);        // AddressOfFunctions 0x2040
	memcpy(d + 0x20, "\x80\x20\x00\x00", 4);        // AddressOfNames 0x2080
	memcpy(d + 0x24, "\xc0\x20\x00\x00", 4);        // AddressOfNameOrdinals 0x20c0
	bc_mkpe_put(mk, EXPORT_DIR, d, sizeof(d));
	for (int i = 0; i < 6; i++)
		bc_mkpe_put32(mk, 0x2040 + i * 4, functions[i]);
	uint32_t at = 0x2100;
	for (int i = 0; i < 5; i++) {
		bc_mkpe_put32(mk, 0x2080 + i * 4, at);
		bc_mkpe_put16(mk, 0x20c0 + i * 2, indexes[i]);
		at = bc_mkpe_put_str(mk, at, names[i]);
	}
	bc_mkpe_put_str(mk, 0x2300, "synthetic.dll");
	bc_mkpe_put_str(mk, 0x2400, "NTOSKRNL.ExFreePool");
	bc_mkpe_set_dir(mk, 0, EXPORT_DIR, EXPORT_DIR_SIZE);
}

static const uint8_t planted_guid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
					  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static void put_debug_entry(struct bc_mkpe *mk, uint32_t rva, uint32_t type, uint32_t size,
			    uint32_t data_rva, uint32_t data_offset)
{
	bc_mkpe_put32(mk, rva + 0x04, BC_MKPE_TIMESTAMP);
	bc_mkpe_put32(mk, rva + 0x0c, type);
	bc_mkpe_put32(mk, rva + 0x10, size);
	bc_mkpe_put32(mk, rva + 0x14, data_rva);
	bc_mkpe_put32(mk, rva + 0x18, data_offset);
}

// A POGO entry, then CodeView: RSDS (GUID planted_guid, age 7,
// "D:\build\out\synthetic.pdb") or NB10 (signature 0x3f000001, age 2,
// "synth20.pdb"). With @unmapped the record has no RVA, only a file offset.
static void plant_debug(struct bc_mkpe *mk, bool nb10, bool unmapped)
{
	uint32_t size;
	if (nb10) {
		bc_mkpe_put(mk, CODEVIEW, "NB10", 4);
		bc_mkpe_put32(mk, CODEVIEW + 4, 0);
		bc_mkpe_put32(mk, CODEVIEW + 8, 0x3f000001);
		bc_mkpe_put32(mk, CODEVIEW + 12, 2);
		size = bc_mkpe_put_str(mk, CODEVIEW + 16, "synth20.pdb") - CODEVIEW;
	} else {
		bc_mkpe_put(mk, CODEVIEW, "RSDS", 4);
		bc_mkpe_put(mk, CODEVIEW + 4, planted_guid, 16);
		bc_mkpe_put32(mk, CODEVIEW + 20, 7);
		size = bc_mkpe_put_str(mk, CODEVIEW + 24, "D:\\build\\out\\synthetic.pdb") - CODEVIEW;
	}
	put_debug_entry(mk, DEBUG_DIR, 13, 0x10, 0x2a00, (uint32_t)bc_mkpe_offset(mk, 0x2a00));
	put_debug_entry(mk, DEBUG_DIR + 28, 2, size, unmapped ? 0 : CODEVIEW,
			(uint32_t)bc_mkpe_offset(mk, CODEVIEW));
	bc_mkpe_set_dir(mk, 6, DEBUG_DIR, 2 * 28);
}

static void put_rf(struct bc_mkpe *mk, uint32_t rva, uint32_t begin, uint32_t end,
		   uint32_t unwind)
{
	bc_mkpe_put32(mk, rva, begin);
	bc_mkpe_put32(mk, rva + 4, end);
	bc_mkpe_put32(mk, rva + 8, unwind);
}

// x64: [0x1000,0x1040) [0x1100,0x1180) indirect [0x1200,0x1300).
static void plant_pdata_x64(struct bc_mkpe *mk)
{
	put_rf(mk, PDATA, 0x1000, 0x1040, XDATA);
	put_rf(mk, PDATA + 12, 0x1100, 0x1180, XDATA + 0x10);
	put_rf(mk, PDATA + 24, 0x1200, 0x1300, (PDATA + 12) | 1);
	bc_mkpe_set_dir(mk, 3, PDATA, 36);
}

// ARM64: 0x1000 packed (0x40 bytes), 0x1100 with .xdata (0x80 bytes),
// 0x1200 packed fragment (0x20 bytes).
static void plant_pdata_arm64(struct bc_mkpe *mk)
{
	bc_mkpe_put32(mk, PDATA, 0x1000);
	bc_mkpe_put32(mk, PDATA + 4, 1 | (0x10 << 2) | 0x12340000);
	bc_mkpe_put32(mk, PDATA + 8, 0x1100);
	bc_mkpe_put32(mk, PDATA + 12, XDATA);
	bc_mkpe_put32(mk, XDATA, 0x20 | (1u << 21) | (3u << 27));  // length 0x20 words, E, 3 code words
	bc_mkpe_put32(mk, PDATA + 16, 0x1200);
	bc_mkpe_put32(mk, PDATA + 20, 2 | (8 << 2));
	bc_mkpe_set_dir(mk, 3, PDATA, 24);
}

/* ---- A version resource ------------------------------------------------------------ */

static uint32_t align4(uint32_t v)
{
	return (v + 3) & ~3u;
}

// Writes a block header and key; returns where its value starts.
static uint32_t put_block(struct bc_mkpe *mk, uint32_t at, uint16_t value_length, uint16_t type,
			  const char *key)
{
	bc_mkpe_put16(mk, at + 2, value_length);
	bc_mkpe_put16(mk, at + 4, type);
	return align4(bc_mkpe_put_utf16(mk, at + 6, key));
}

static void end_block(struct bc_mkpe *mk, uint32_t start, uint32_t end)
{
	bc_mkpe_put16(mk, start, (uint16_t)(end - start));
}

static uint32_t put_string(struct bc_mkpe *mk, uint32_t at, const char *key,
			   const uint16_t *units, size_t n)
{
	uint32_t v = put_block(mk, at, (uint16_t)(n + 1), 1, key);
	for (size_t i = 0; i < n; i++)
		bc_mkpe_put16(mk, v + (uint32_t)i * 2, units[i]);
	bc_mkpe_put16(mk, v + (uint32_t)n * 2, 0);
	uint32_t end = v + (uint32_t)(n + 1) * 2;
	end_block(mk, at, end);
	return align4(end);
}

static uint32_t put_ascii_string(struct bc_mkpe *mk, uint32_t at, const char *key,
				 const char *value)
{
	uint16_t units[64];
	size_t n = strlen(value);
	for (size_t i = 0; i < n; i++)
		units[i] = (uint8_t)value[i];
	return put_string(mk, at, key, units, n);
}

// "Caf\u00e9 \U0001F600" then an unpaired high surrogate.
static const uint16_t description[] = { 'C', 'a', 'f', 0xe9, ' ', 0xd83d, 0xde00, ' ', 0xd800 };
static const char description_utf8[] = "Caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd";

static uint32_t plant_version_info(struct bc_mkpe *mk)
{
	uint32_t root = VERSION_DATA;
	uint32_t fixed = put_block(mk, root, 52, 0, "VS_VERSION_INFO");
	uint32_t ffi[13] = { 0xfeef04bd, 0x10000, 0x00020001, 0x00040003, 0x00060005, 0x00080007,
			     0x3f, 0x2, 0x40004, 0x3, 0x7, 0, 0 };  // file 2.1.4.3, product 6.5.8.7
	for (int i = 0; i < 13; i++)
		bc_mkpe_put32(mk, fixed + (uint32_t)i * 4, ffi[i]);
	uint32_t sfi = align4(fixed + 52);
	uint32_t table = put_block(mk, sfi, 0, 1, "StringFileInfo");
	uint32_t s = put_block(mk, table, 0, 1, "040904B0");
	s = put_ascii_string(mk, s, "CompanyName", "Synthetic Works");
	s = put_string(mk, s, "FileDescription", description,
		       sizeof(description) / sizeof(description[0]));
	s = put_ascii_string(mk, s, "FileVersion", "2.1.4.3 (built here)");
	end_block(mk, table, s);
	end_block(mk, sfi, s);
	// VarFileInfo: skipped by the reader.
	uint32_t var = s;
	uint32_t tr = put_block(mk, var, 0, 1, "VarFileInfo");
	uint32_t tv = put_block(mk, tr, 4, 0, "Translation");
	bc_mkpe_put32(mk, tv, 0x04b00409);
	end_block(mk, tr, tv + 4);
	end_block(mk, var, tv + 4);
	end_block(mk, root, tv + 4);
	return tv + 4 - root;
}

static void put_dir(struct bc_mkpe *mk, uint32_t at, uint16_t ids)
{
	bc_mkpe_put16(mk, at + 0x0e, ids);
}

static void put_entry(struct bc_mkpe *mk, uint32_t at, uint32_t name, uint32_t target)
{
	bc_mkpe_put32(mk, at, name);
	bc_mkpe_put32(mk, at + 4, target);
}

// Root: RT_ICON (3) then RT_VERSION (16), both -> the name directory at
// 0x20 (ID 1) -> the language directory at 0x38 (0x409) -> data entry 0x50.
static void plant_resources(struct bc_mkpe *mk)
{
	uint32_t size = plant_version_info(mk);
	put_dir(mk, RESOURCES, 2);
	put_entry(mk, RESOURCES + 0x10, 3, 0x80000020);
	put_entry(mk, RESOURCES + 0x18, 16, 0x80000020);
	put_dir(mk, RESOURCES + 0x20, 1);
	put_entry(mk, RESOURCES + 0x30, 1, 0x80000038);
	put_dir(mk, RESOURCES + 0x38, 1);
	put_entry(mk, RESOURCES + 0x48, 0x409, 0x50);
	bc_mkpe_put32(mk, RESOURCES + 0x50, VERSION_DATA);
	bc_mkpe_put32(mk, RESOURCES + 0x54, size);
	bc_mkpe_set_dir(mk, 2, RESOURCES, 0x100);
}

static bool build_full(struct bc_mkpe *mk, uint16_t machine, bool pe32)
{
	if (!bc_mkpe_init(mk, machine, pe32))
		return false;
	plant_exports(mk);
	plant_debug(mk, false, false);
	if (machine == 0xaa64)
		plant_pdata_arm64(mk);
	else
		plant_pdata_x64(mk);
	plant_resources(mk);
	return true;
}

/* ---- Mapped images with missing pages --------------------------------------------------- */

struct mapped {
	uint8_t *bytes;
	uint32_t missing;  // bit n: page n (rva n*0x1000) is not available
	unsigned reads;
};

static struct bc_error *read_mapped(void *arg, uint64_t rva, void *buf, size_t size)
{
	struct mapped *m = arg;
	m->reads++;
	if (rva + size > BC_MKPE_SIZE_OF_IMAGE)
		return bc_error_create(BC_ERR_INVALID_ARG, "test reader: read past the image");
	for (uint64_t p = rva / 0x1000; p <= (rva + size - 1) / 0x1000; p++) {
		if (m->missing & (1u << p))
			return bc_error_fault(0xfffff80000000000ull + p * 0x1000,
					      BC_FAULT_NOT_IN_DUMP, "page %#llx is not in the dump",
					      (unsigned long long)p * 0x1000);
	}
	memcpy(buf, m->bytes + rva, size);
	return NULL;
}

static struct bc_error *open_mapped(struct mapped *m, const struct bc_mkpe *mk, uint32_t missing,
				    struct bc_pe **ret)
{
	*m = (struct mapped){ bc_mkpe_map(mk), missing, 0 };
	return bc_pe_open_image(read_mapped, m, 0xfffff80000000000ull, "synthetic.sys at fffff800`00000000", ret);
}

/* ---- Headers, sections, reads ----------------------------------------------------------- */

TEST(headers_pe32plus)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, 0x8664);
	CHECK(i->is_64bit);
	CHECK_EQ(i->timestamp, BC_MKPE_TIMESTAMP);
	CHECK_EQ(i->characteristics, BC_MKPE_CHARACTERISTICS);
	CHECK_EQ(i->section_count, 3);
	CHECK_EQ(i->linker_major, 14);
	CHECK_EQ(i->linker_minor, 20);
	CHECK_EQ(i->entry_point_rva, BC_MKPE_ENTRY_RVA);
	CHECK_EQ(i->image_base, BC_MKPE_IMAGE_BASE64);
	CHECK_EQ(i->load_base, 0);
	CHECK_EQ(i->section_alignment, 0x1000);
	CHECK_EQ(i->file_alignment, 0x200);
	CHECK_EQ(i->os_major, 10);
	CHECK_EQ(i->image_major, 3);
	CHECK_EQ(i->image_minor, 4);
	CHECK_EQ(i->subsystem_major, 6);
	CHECK_EQ(i->subsystem_minor, 1);
	CHECK_EQ(i->size_of_image, BC_MKPE_SIZE_OF_IMAGE);
	CHECK_EQ(i->size_of_headers, 0x400);
	CHECK_EQ(i->checksum, BC_MKPE_CHECKSUM);
	CHECK_EQ(i->subsystem, BC_MKPE_SUBSYSTEM);
	CHECK_EQ(i->dll_characteristics, BC_MKPE_DLL_CHARACTERISTICS);
	CHECK_EQ(i->directory_count, 16);
	CHECK_STR(bc_pe_name(pe), "synthetic.dll");
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(headers_pe32)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x14c, true));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, NULL, &pe));
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, 0x14c);
	CHECK(!i->is_64bit);
	CHECK_EQ(i->image_base, BC_MKPE_IMAGE_BASE32);
	CHECK_EQ(i->size_of_image, BC_MKPE_SIZE_OF_IMAGE);
	CHECK_EQ(i->subsystem, BC_MKPE_SUBSYSTEM);
	CHECK_EQ(i->directory_count, 16);
	CHECK_STR(bc_pe_name(pe), "<memory>");
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(sections_and_lookup)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	REQUIRE_EQ(bc_pe_section_count(pe), 3);
	const struct bc_pe_section *s = bc_pe_section(pe, 1);
	CHECK_STR(s->name, ".rdata");
	CHECK_EQ(s->rva, 0x2000);
	CHECK_EQ(s->virtual_size, 0x4000);
	CHECK_EQ(s->raw_offset, 0x1000);
	CHECK_EQ(s->raw_size, 0x4000);
	CHECK_EQ(s->characteristics, 0x40000040);
	CHECK(bc_pe_section(pe, 3) == NULL);
	CHECK(bc_pe_section_at(pe, 0x1000) == bc_pe_section(pe, 0));
	CHECK(bc_pe_section_at(pe, 0x1bff) == bc_pe_section(pe, 0));
	CHECK(bc_pe_section_at(pe, 0x1c00) == NULL);   // past VirtualSize, in the aligned tail
	CHECK(bc_pe_section_at(pe, 0x5fff) == bc_pe_section(pe, 1));
	CHECK(bc_pe_section_at(pe, 0x6000) == NULL);   // the hole
	CHECK(bc_pe_section_at(pe, 0x9fff) == bc_pe_section(pe, 2));
	CHECK(bc_pe_section_at(pe, 0x400) == NULL);    // headers
	CHECK(bc_pe_section_at(pe, 0xa000) == NULL);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(read_maps_rvas_and_zero_fills)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x8664, false));
	bc_mkpe_put32(&mk, 0x1bfc, 0x11223344);  // last bytes of .text
	bc_mkpe_put32(&mk, 0x2000, 0x55667788);  // first of .rdata
	bc_mkpe_put32(&mk, 0x71fc, 0xaabbccdd);  // last file bytes of .data
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	uint8_t b[16];
	// Headers: RVA = file offset.
	REQUIRE_OK(bc_pe_read(pe, 0, b, 2));
	CHECK(b[0] == 'M' && b[1] == 'Z');
	// Across .text's zero-filled tail (0x1c00..0x2000) into .rdata.
	uint8_t big[0x408];
	REQUIRE_OK(bc_pe_read(pe, 0x1bfc, big, sizeof(big)));
	CHECK_EQ(big[0], 0x44);
	CHECK_EQ(big[3], 0x11);
	bool zeros = true;
	for (size_t i = 4; i < 0x404; i++)
		zeros &= big[i] == 0;
	CHECK(zeros);
	CHECK_EQ(big[0x404], 0x88);
	// .data: file bytes then zero fill.
	memset(b, 0xee, sizeof(b));
	REQUIRE_OK(bc_pe_read(pe, 0x71fc, b, 8));
	CHECK_EQ(b[0], 0xdd);
	CHECK_EQ(b[4] | b[5] | b[6] | b[7], 0);
	REQUIRE_OK(bc_pe_read(pe, 0x9ff0, b, 16));
	CHECK_EQ(b[15], 0);
	// The hole, and past SizeOfImage.
	struct bc_error *err = bc_pe_read(pe, 0x6010, b, 4);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "synthetic.dll: ");
	CHECK_CONTAINS(err->message, "lies in no section");
	bc_error_destroy(err);
	err = bc_pe_read(pe, 0x5ffe, b, 4);  // runs from .rdata into the hole
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	err = bc_pe_read(pe, 0x9ffe, b, 4);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "outside the image");
	bc_error_destroy(err);
	err = bc_pe_read(pe, UINT64_MAX - 1, b, 4);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(image_key_follows_ssqp)
{
	char key[BC_PE_IMAGE_KEY_SIZE];
	// The SSQP "PE-timestamp-filesize" example: 0x542d574e, 0xc2000.
	bc_pe_image_key(0x542d574e, 0xc2000, key);
	CHECK_STR(key, "542D574Ec2000");
	bc_pe_image_key(0x0000abcd, 0x1000, key);
	CHECK_STR(key, "0000ABCD1000");
	bc_pe_image_key(0xffffffff, 0xffffffff, key);
	CHECK_STR(key, "FFFFFFFFffffffff");
}

/* ---- Exports ------------------------------------------------------------------------------- */

TEST(exports_names_ordinals_forwarders)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_exports *ex;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	CHECK_STR(ex->dll_name, "synthetic.dll");
	CHECK_EQ(ex->timestamp, 0x12345678);
	CHECK_EQ(ex->ordinal_base, 10);
	CHECK_EQ(ex->function_count, 6);
	CHECK_EQ(ex->name_count, 5);
	REQUIRE_EQ(ex->count, 6);
	// Sorted by ordinal, then name; the unused slot 11 exports nothing.
	static const struct { const char *name; uint32_t ordinal, rva; const char *fwd; } want[] = {
		{ "Alpha", 10, 0x1000, NULL }, { "AlphaAlias", 10, 0x1000, NULL },
		{ NULL, 12, 0x1100, NULL }, { "Forwarded", 13, 0x2400, "NTOSKRNL.ExFreePool" },
		{ "DataItem", 14, 0x7100, NULL }, { "Beta", 15, 0x1200, NULL },
	};
	for (size_t i = 0; i < 6; i++) {
		const struct bc_pe_export *e = &ex->entries[i];
		if (want[i].name)
			CHECK_STR(e->name, want[i].name);
		else
			CHECK(e->name == NULL);
		CHECK_EQ(e->ordinal, want[i].ordinal);
		CHECK_EQ(e->rva, want[i].rva);
		if (want[i].fwd)
			CHECK_STR(e->forwarder, want[i].fwd);
		else
			CHECK(e->forwarder == NULL);
	}
	const struct bc_pe_export *e = bc_pe_export_by_name(ex, "Beta");
	REQUIRE(e);
	CHECK_EQ(e->ordinal, 15);
	CHECK(bc_pe_export_by_name(ex, "beta") == NULL);
	CHECK(bc_pe_export_by_name(ex, "Gamma") == NULL);
	e = bc_pe_export_by_ordinal(ex, 12);
	REQUIRE(e);
	CHECK_EQ(e->rva, 0x1100);
	CHECK(bc_pe_export_by_ordinal(ex, 11) == NULL);
	CHECK(bc_pe_export_by_ordinal(ex, 9) == NULL);
	CHECK(bc_pe_export_by_ordinal(ex, 16) == NULL);
	// Cached: the same object again.
	const struct bc_pe_exports *again;
	REQUIRE_OK(bc_pe_exports(pe, &again));
	CHECK(again == ex);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(exports_absent_is_not_found)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "plain.sys", &pe));
	const struct bc_pe_exports *ex;
	struct bc_error *err = bc_pe_exports(pe, &ex);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	CHECK_CONTAINS(err->message, "plain.sys has no export directory");
	bc_error_destroy(err);
	struct bc_symtab *tab;
	err = bc_exports_symtab_create(pe, NULL, &tab);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

struct collected {
	const char *names[16];
	int count;
	int stop_after;
};

static bool collect(void *arg, const struct bc_symbol *sym)
{
	struct collected *c = arg;
	if (c->count < 16)
		c->names[c->count++] = sym->name;
	return c->count != c->stop_after;
}

TEST(exports_symtab)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	struct bc_symtab *tab;
	REQUIRE_OK(bc_exports_symtab_create(pe, "/symbols/synthetic.dll", &tab));
	bc_pe_close(pe);  // the table keeps no pointer into the image
	memset(mk.file, 0xcc, mk.size);
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_EXPORTS);
	CHECK_STR(bc_symtab_source(tab), "/symbols/synthetic.dll");
	CHECK_EQ(bc_symtab_machine(tab), 0x8664);
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	CHECK(memcmp(id->guid, planted_guid, 16) == 0);
	CHECK_EQ(id->age, 7);
	CHECK_STR(id->name, "synthetic.pdb");
	CHECK_EQ(bc_symtab_symbol_count(tab), 6);
	CHECK(!bc_symtab_has_types(tab));

	struct bc_symbol sym;
	REQUIRE_OK(bc_symtab_lookup_name(tab, "Beta", &sym));
	CHECK_EQ(sym.rva, 0x1200);
	CHECK(sym.is_function);
	CHECK_EQ(sym.kind, BC_SYMBOL_PUBLIC);
	REQUIRE_OK(bc_symtab_lookup_name(tab, "dataitem", &sym));  // case-insensitive fallback
	CHECK_STR(sym.name, "DataItem");
	CHECK(!sym.is_function);  // .data is not executable
	REQUIRE_OK(bc_symtab_lookup_name(tab, "Ordinal12", &sym));
	CHECK_EQ(sym.rva, 0x1100);
	REQUIRE_OK(bc_symtab_lookup_name(tab, "Forwarded", &sym));
	CHECK_STR(sym.forwarder, "NTOSKRNL.ExFreePool");
	// RVA lookups: the nearest export at or below, never the forwarder.
	REQUIRE_OK(bc_symtab_lookup_rva(tab, 0x1180, &sym));
	CHECK_STR(sym.name, "Ordinal12");
	REQUIRE_OK(bc_symtab_lookup_rva(tab, 0x1000, &sym));
	CHECK_STR(sym.name, "Alpha");  // of two names at one RVA, the shorter
	REQUIRE_OK(bc_symtab_lookup_rva(tab, 0x2410, &sym));
	CHECK_STR(sym.name, "Beta");   // 0x2400 holds the forwarder string, not a symbol
	struct bc_error *err = bc_symtab_lookup_rva(tab, 0xfff, &sym);
	CHECK(err && err->code == BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	// each: RVA order, then forwarders; a pattern; early stop.
	struct collected c = { .stop_after = -1 };
	REQUIRE_OK(bc_symtab_each(tab, NULL, collect, &c));
	REQUIRE_EQ(c.count, 6);
	CHECK_STR(c.names[0], "Alpha");
	CHECK_STR(c.names[1], "AlphaAlias");
	CHECK_STR(c.names[2], "Ordinal12");
	CHECK_STR(c.names[3], "Beta");
	CHECK_STR(c.names[4], "DataItem");
	CHECK_STR(c.names[5], "Forwarded");
	c = (struct collected){ .stop_after = -1 };
	REQUIRE_OK(bc_symtab_each(tab, "*E*", collect, &c));
	REQUIRE_EQ(c.count, 3);
	CHECK_STR(c.names[0], "Beta");
	CHECK_STR(c.names[2], "Forwarded");
	c = (struct collected){ .stop_after = 2 };
	REQUIRE_OK(bc_symtab_each(tab, NULL, collect, &c));
	CHECK_EQ(c.count, 2);
	bc_symtab_destroy(tab);
	bc_mkpe_free(&mk);
}

/* ---- Debug directory ------------------------------------------------------------------------ */

TEST(codeview_rsds)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_debug_entry *entries;
	size_t n;
	REQUIRE_OK(bc_pe_debug_entries(pe, &entries, &n));
	REQUIRE_EQ(n, 2);
	CHECK_EQ(entries[0].type, 13);
	CHECK_EQ(entries[1].type, BC_PE_DEBUG_CODEVIEW);
	CHECK_EQ(entries[1].timestamp, BC_MKPE_TIMESTAMP);
	CHECK_EQ(entries[1].address_of_raw_data, CODEVIEW);
	CHECK_EQ(entries[1].pointer_to_raw_data, bc_mkpe_offset(&mk, CODEVIEW));
	const struct bc_pe_codeview *cv;
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_EQ(cv->format, BC_PE_CODEVIEW_RSDS);
	CHECK(memcmp(cv->guid, planted_guid, 16) == 0);
	CHECK_EQ(cv->age, 7);
	CHECK_EQ(cv->signature, 0);
	CHECK_STR(cv->pdb_path, "D:\\build\\out\\synthetic.pdb");
	struct bc_pdb_identity id;
	REQUIRE_OK(bc_pe_pdb_identity(pe, &id));
	CHECK_STR(id.name, "synthetic.pdb");
	CHECK_EQ(id.age, 7);
	CHECK(memcmp(id.guid, planted_guid, 16) == 0);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(codeview_nb10_and_unmapped)
{
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0x14c, true));
	plant_debug(&mk, true, true);  // NB10, only a file offset
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "old.dll", &pe));
	const struct bc_pe_codeview *cv;
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_EQ(cv->format, BC_PE_CODEVIEW_NB10);
	CHECK_EQ(cv->signature, 0x3f000001);
	CHECK_EQ(cv->age, 2);
	CHECK_STR(cv->pdb_path, "synth20.pdb");
	static const uint8_t zero[16];
	CHECK(memcmp(cv->guid, zero, 16) == 0);
	struct bc_pdb_identity id;
	REQUIRE_OK(bc_pe_pdb_identity(pe, &id));
	CHECK_EQ(id.signature, 0x3f000001);
	CHECK_STR(id.name, "synth20.pdb");
	bc_pe_close(pe);
	// Mapped, a record with no RVA cannot be read: not found, not corrupt.
	struct mapped m;
	REQUIRE_OK(open_mapped(&m, &mk, 0, &pe));
	struct bc_error *err = bc_pe_codeview(pe, &cv);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	bc_pe_close(pe);
	free(m.bytes);
	bc_mkpe_free(&mk);
}

/* ---- .pdata ------------------------------------------------------------------------------------ */

TEST(pdata_x64)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	CHECK_EQ(pd->format, BC_PE_PDATA_X64);
	REQUIRE_EQ(pd->count, 3);
	CHECK_EQ(pd->entries[1].begin, 0x1100);
	CHECK_EQ(pd->entries[1].end, 0x1180);
	CHECK_EQ(pd->entries[1].unwind, XDATA + 0x10);
	CHECK_EQ(pd->entries[2].unwind, (PDATA + 12) | 1);  // indirect, kept as stored
	CHECK(bc_pe_pdata_lookup(pd, 0xfff) == NULL);
	CHECK(bc_pe_pdata_lookup(pd, 0x1000) == &pd->entries[0]);
	CHECK(bc_pe_pdata_lookup(pd, 0x103f) == &pd->entries[0]);
	CHECK(bc_pe_pdata_lookup(pd, 0x1040) == NULL);  // between functions: a leaf
	CHECK(bc_pe_pdata_lookup(pd, 0x117f) == &pd->entries[1]);
	CHECK(bc_pe_pdata_lookup(pd, 0x12ff) == &pd->entries[2]);
	CHECK(bc_pe_pdata_lookup(pd, 0x1300) == NULL);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(pdata_arm64_packed_and_xdata)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0xaa64, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic-arm64.dll", &pe));
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	CHECK_EQ(pd->format, BC_PE_PDATA_ARM64);
	REQUIRE_EQ(pd->count, 3);
	CHECK_EQ(pd->entries[0].arm64_flag, BC_PE_ARM64_PACKED);
	CHECK_EQ(pd->entries[0].end, 0x1040);
	CHECK_EQ(pd->entries[0].unwind, 1 | (0x10 << 2) | 0x12340000);
	CHECK_EQ(pd->entries[1].arm64_flag, BC_PE_ARM64_XDATA);
	CHECK_EQ(pd->entries[1].unwind, XDATA);
	CHECK_EQ(pd->entries[1].end, 0x1180);  // 0x20 words from the .xdata header
	CHECK_EQ(pd->entries[2].arm64_flag, BC_PE_ARM64_PACKED_FRAGMENT);
	CHECK_EQ(pd->entries[2].end, 0x1220);
	CHECK(bc_pe_pdata_lookup(pd, 0x117c) == &pd->entries[1]);
	CHECK(bc_pe_pdata_lookup(pd, 0x1180) == NULL);
	CHECK(bc_pe_pdata_lookup(pd, 0x121f) == &pd->entries[2]);
	bc_pe_close(pe);
	// An x86 image has no .pdata reader.
	bc_mkpe_free(&mk);
	REQUIRE(bc_mkpe_init(&mk, 0x14c, true));
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "x86.dll", &pe));
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_UNSUPPORTED);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(pdata_out_of_order_is_corrupt)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	put_rf(&mk, PDATA + 12, 0x1010, 0x1080, XDATA);  // begins inside entry 0
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_pdata *pd;
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "inside entry 0");
	bc_error_destroy(err);
	bc_pe_close(pe);
	put_rf(&mk, PDATA + 12, 0x0800, 0x0900, XDATA);  // before entry 0
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "not sorted");
	bc_error_destroy(err);
	bc_pe_close(pe);
	put_rf(&mk, PDATA + 12, 0x1100, 0x1100, XDATA);  // empty
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

/* ---- Version resource ---------------------------------------------------------------------------- */

TEST(version_resource)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_version *v;
	REQUIRE_OK(bc_pe_version(pe, &v));
	CHECK(v->has_fixed);
	CHECK_EQ(v->file_version[0], 2);
	CHECK_EQ(v->file_version[1], 1);
	CHECK_EQ(v->file_version[2], 4);
	CHECK_EQ(v->file_version[3], 3);
	CHECK_EQ(v->product_version[0], 6);
	CHECK_EQ(v->product_version[3], 7);
	CHECK_EQ(v->file_flags_mask, 0x3f);
	CHECK_EQ(v->file_flags, 2);
	CHECK_EQ(v->file_os, 0x40004);
	CHECK_EQ(v->file_type, 3);
	CHECK_EQ(v->file_subtype, 7);
	REQUIRE_EQ(v->string_count, 3);
	CHECK_STR(v->strings[0].table, "040904B0");
	CHECK_STR(v->strings[0].key, "CompanyName");
	CHECK_STR(v->strings[0].value, "Synthetic Works");
	CHECK_STR(v->strings[1].value, description_utf8);
	CHECK_STR(bc_pe_version_string(v, "fileversion"), "2.1.4.3 (built here)");
	CHECK(bc_pe_version_string(v, "ProductName") == NULL);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(version_absent_and_cycles)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	put_entry(&mk, RESOURCES + 0x18, 24, 0x80000020);  // RT_MANIFEST instead of RT_VERSION
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	const struct bc_pe_version *v;
	struct bc_error *err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	CHECK_CONTAINS(err->message, "no version resource");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// The name level points back at the root: a cycle.
	put_entry(&mk, RESOURCES + 0x18, 16, 0x80000020);
	put_entry(&mk, RESOURCES + 0x30, 1, 0x80000000);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "cycle");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// The name level points at itself.
	put_entry(&mk, RESOURCES + 0x30, 1, 0x80000020);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "cycle");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// The language level is a directory, not data.
	put_entry(&mk, RESOURCES + 0x30, 1, 0x80000038);
	put_entry(&mk, RESOURCES + 0x48, 0x409, 0x80000050);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	// A block of length 0 inside StringFileInfo ends the walk without looping.
	put_entry(&mk, RESOURCES + 0x48, 0x409, 0x50);
	bc_mkpe_put16(&mk, VERSION_DATA + 92 + 36 + 24, 0);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "synthetic.dll", &pe));
	REQUIRE_OK(bc_pe_version(pe, &v));
	CHECK_EQ(v->string_count, 0);
	CHECK(v->has_fixed);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

/* ---- Mapped layout: missing pages are "not available", not "corrupt" ------------------------------ */

TEST(mapped_image_matches_file)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct mapped m;
	struct bc_pe *pe;
	REQUIRE_OK(open_mapped(&m, &mk, 0, &pe));
	CHECK_EQ(bc_pe_info(pe)->load_base, 0xfffff80000000000ull);
	CHECK_EQ(bc_pe_info(pe)->timestamp, BC_MKPE_TIMESTAMP);
	const struct bc_pe_exports *ex;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	CHECK_EQ(ex->count, 6);
	CHECK_STR(bc_pe_export_by_ordinal(ex, 13)->forwarder, "NTOSKRNL.ExFreePool");
	const struct bc_pe_codeview *cv;
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_EQ(cv->age, 7);
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	CHECK_EQ(pd->count, 3);
	const struct bc_pe_version *v;
	REQUIRE_OK(bc_pe_version(pe, &v));
	CHECK_EQ(v->string_count, 3);
	uint8_t b[4];
	REQUIRE_OK(bc_pe_read(pe, 0x9ffc, b, 4));  // the zero-filled tail exists in memory
	struct bc_error *err = bc_pe_read(pe, 0x9ffe, b, 4);  // but not past SizeOfImage
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	free(m.bytes);
	bc_mkpe_free(&mk);
}

static void check_fault(struct bc_error *err, uint64_t address)
{
	if (!err) {
		TEST_FAIL_AT("expected a fault, got success");
		return;
	}
	CHECK_EQ(err->code, BC_ERR_FAULT);
	CHECK_EQ(err->fault, BC_FAULT_NOT_IN_DUMP);
	CHECK_EQ(err->address, address);
	CHECK_CONTAINS(err->message, "synthetic.sys at fffff800`00000000: ");
	CHECK_CONTAINS(err->message, "is not in the dump");
	bc_error_destroy(err);
}

TEST(mapped_image_missing_pages)
{
	struct bc_mkpe mk;
	REQUIRE(build_full(&mk, 0x8664, false));
	struct mapped m;
	struct bc_pe *pe;
	// Page 0x2000 (export and debug directories) is missing.
	REQUIRE_OK(open_mapped(&m, &mk, 1u << 2, &pe));
	const struct bc_pe_exports *ex;
	check_fault(bc_pe_exports(pe, &ex), 0xfffff80000002000ull);
	const struct bc_pe_codeview *cv;
	check_fault(bc_pe_codeview(pe, &cv), 0xfffff80000002000ull);
	struct bc_symtab *tab;
	check_fault(bc_exports_symtab_create(pe, NULL, &tab), 0xfffff80000002000ull);
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	const struct bc_pe_version *v;
	REQUIRE_OK(bc_pe_version(pe, &v));
	// A failure is not cached: once the page "arrives" the reader succeeds.
	m.missing = 0;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	CHECK_EQ(ex->count, 6);
	bc_pe_close(pe);
	free(m.bytes);

	// Page 0x4000 (resources) missing: only the version fails.
	REQUIRE_OK(open_mapped(&m, &mk, 1u << 4, &pe));
	check_fault(bc_pe_version(pe, &v), 0xfffff80000004000ull);
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	bc_pe_close(pe);
	free(m.bytes);

	// Page 0x5000 (.xdata of ARM64) missing: the table stays, the length is unknown.
	bc_mkpe_free(&mk);
	REQUIRE(build_full(&mk, 0xaa64, false));
	REQUIRE_OK(open_mapped(&m, &mk, 1u << 5, &pe));
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	REQUIRE_EQ(pd->count, 3);
	CHECK_EQ(pd->entries[1].end, pd->entries[1].begin);
	CHECK_EQ(pd->entries[0].end, 0x1040);
	bc_pe_close(pe);
	free(m.bytes);

	// The headers page missing: opening fails with the fault.
	struct bc_error *err = open_mapped(&m, &mk, 1u << 0, &pe);
	check_fault(err, 0xfffff80000000000ull);
	free(m.bytes);
	bc_mkpe_free(&mk);
}

TEST(symtab_identity_optional)
{
	// Without a debug directory the export table still loads, identity empty.
	struct bc_mkpe mk;
	REQUIRE(bc_mkpe_init(&mk, 0xaa64, false));
	plant_exports(&mk);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "noid.dll", &pe));
	struct bc_symtab *tab;
	REQUIRE_OK(bc_exports_symtab_create(pe, NULL, &tab));
	CHECK_STR(bc_symtab_source(tab), "noid.dll");
	CHECK_EQ(bc_symtab_machine(tab), 0xaa64);
	CHECK_EQ(bc_symtab_identity(tab)->age, 0);
	CHECK_STR(bc_symtab_identity(tab)->name, "");
	bc_symtab_destroy(tab);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST_MAIN()
