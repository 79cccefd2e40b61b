// Hostile PE images: the synthetic image of tests/fixtures/gen/mkpe.h cut
// short at many lengths, headers that point past the end or claim absurd
// counts and sizes, tables of 2^20 to 2^32 entries, and random corruption.
// Each must open or fail with one BC_ERR_FORMAT message, and every reader
// then answers FORMAT, NOT_FOUND or UNSUPPORTED (never FAULT: a file has no
// missing pages) in bounded time. Copies are exactly as long as the input,
// so ASan sees any read past the end.
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bugcheck/pe.h"
#include "mkpe.h"
#include "test.h"

// "No huge allocation": outside ASan (which reserves terabytes of shadow
// memory), cap the address space so that an allocation sized from a hostile
// count fails as BC_ERR_NOMEM, which the checks below reject.
#ifndef __SANITIZE_ADDRESS__
__attribute__((constructor)) static void limit_address_space(void)
{
	struct rlimit r = { 1ull << 30, 1ull << 30 };
	setrlimit(RLIMIT_AS, &r);
}
#endif

static void patch16(struct bc_mkpe *mk, size_t off, uint16_t v)
{
	mk->file[off] = (uint8_t)v;
	mk->file[off + 1] = (uint8_t)(v >> 8);
}

static void patch32(struct bc_mkpe *mk, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		mk->file[off + i] = (uint8_t)(v >> (8 * i));
}

// Offsets into the PE32+ headers of the synthetic image.
static size_t fh(const struct bc_mkpe *mk) { return bc_mkpe_file_header(mk); }
static size_t oh(const struct bc_mkpe *mk) { return bc_mkpe_optional_header(mk); }
static size_t sh(const struct bc_mkpe *mk, int i) { return bc_mkpe_section_table(mk) + i * 40; }

static bool acceptable(const struct bc_error *err)
{
	return !err || err->code == BC_ERR_FORMAT || err->code == BC_ERR_NOT_FOUND ||
	       err->code == BC_ERR_UNSUPPORTED;
}

#define CHECK_ACCEPTABLE(expr)                                                          \
	do {                                                                            \
		struct bc_error *e_ = (expr);                                           \
		if (!acceptable(e_))                                                    \
			TEST_FAIL_AT("%s: code %d: %s", #expr, e_->code, e_->message);  \
		bc_error_destroy(e_);                                                   \
	} while (0)

// Calls every reader; returns how many succeeded.
static int exercise(struct bc_pe *pe)
{
	int ok = 0;
	const struct bc_pe_exports *ex;
	struct bc_error *err = bc_pe_exports(pe, &ex);
	ok += !err;
	if (!err) {
		for (size_t i = 0; i < ex->count; i++) {
			if (ex->entries[i].name)
				CHECK(bc_pe_export_by_name(ex, ex->entries[i].name));
			CHECK(bc_pe_export_by_ordinal(ex, ex->entries[i].ordinal));
		}
	}
	CHECK_ACCEPTABLE(err);
	const struct bc_pe_codeview *cv;
	ok += !(err = bc_pe_codeview(pe, &cv));
	CHECK_ACCEPTABLE(err);
	struct bc_pdb_identity id;
	CHECK_ACCEPTABLE(bc_pe_pdb_identity(pe, &id));
	const struct bc_pe_pdata *pd;
	ok += !(err = bc_pe_pdata(pe, &pd));
	if (!err)
		bc_pe_pdata_lookup(pd, 0x1234);
	CHECK_ACCEPTABLE(err);
	const struct bc_pe_version *v;
	ok += !(err = bc_pe_version(pe, &v));
	if (!err)
		bc_pe_version_string(v, "FileVersion");
	CHECK_ACCEPTABLE(err);
	struct bc_symtab *tab;
	ok += !(err = bc_exports_symtab_create(pe, NULL, &tab));
	if (!err) {
		struct bc_symbol sym;
		bc_error_destroy(bc_symtab_lookup_rva(tab, 0x1100, &sym));
		bc_symtab_destroy(tab);
	}
	CHECK_ACCEPTABLE(err);
	uint8_t buf[64];
	for (uint32_t rva = 0; rva < BC_MKPE_SIZE_OF_IMAGE + 0x1000; rva += 0x7c0)
		CHECK_ACCEPTABLE(bc_pe_read(pe, rva, buf, sizeof(buf)));
	for (uint32_t rva = 0; rva < BC_MKPE_SIZE_OF_IMAGE; rva += 0x100)
		bc_pe_section_at(pe, rva);
	return ok;
}

// Opens an exact-length copy of the first @len bytes; *@ok_ret = readers that succeeded.
static struct bc_error *open_prefix(const struct bc_mkpe *mk, size_t len, int *ok_ret)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return &bc_enomem;
	memcpy(copy, mk->file, len);
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_memory(copy, len, "hostile.dll", &pe);
	if (!err) {
		*ok_ret = exercise(pe);
		bc_pe_close(pe);
	}
	free(copy);
	return err;
}

static struct bc_error *open_whole(const struct bc_mkpe *mk, int *ok_ret)
{
	return open_prefix(mk, mk->size, ok_ret);
}

// The synthetic image with every directory planted (as in test_pe.c, smaller).
static bool build(struct bc_mkpe *mk)
{
	if (!bc_mkpe_init(mk, 0x8664, false))
		return false;
	// Exports: one name, one function, a forwarder.
	bc_mkpe_put32(mk, 0x2010, 1);       // Base
	bc_mkpe_put32(mk, 0x2014, 2);       // NumberOfFunctions
	bc_mkpe_put32(mk, 0x2018, 1);       // NumberOfNames
	bc_mkpe_put32(mk, 0x201c, 0x2040);
	bc_mkpe_put32(mk, 0x2020, 0x2050);
	bc_mkpe_put32(mk, 0x2024, 0x2060);
	bc_mkpe_put32(mk, 0x2040, 0x1000);
	bc_mkpe_put32(mk, 0x2044, 0x2080);  // forwarder
	bc_mkpe_put32(mk, 0x2050, 0x2070);
	bc_mkpe_put_str(mk, 0x2070, "Only");
	bc_mkpe_put_str(mk, 0x2080, "NTDLL.RtlOnly");
	bc_mkpe_set_dir(mk, 0, 0x2000, 0x100);
	// Debug: one RSDS record.
	bc_mkpe_put32(mk, 0x280c, 2);
	bc_mkpe_put32(mk, 0x2810, 0x30);
	bc_mkpe_put32(mk, 0x2814, 0x2900);
	bc_mkpe_put(mk, 0x2900, "RSDS", 4);
	bc_mkpe_put_str(mk, 0x2918, "hostile.pdb");
	bc_mkpe_set_dir(mk, 6, 0x2800, 28);
	// .pdata: two functions.
	bc_mkpe_put32(mk, 0x3000, 0x1000);
	bc_mkpe_put32(mk, 0x3004, 0x1010);
	bc_mkpe_put32(mk, 0x300c, 0x1020);
	bc_mkpe_put32(mk, 0x3010, 0x1030);
	bc_mkpe_set_dir(mk, 3, 0x3000, 24);
	// Resources: RT_VERSION -> 1 -> 0x409 -> a minimal VS_VERSION_INFO.
	bc_mkpe_put16(mk, 0x400e, 1);
	bc_mkpe_put32(mk, 0x4010, 16);
	bc_mkpe_put32(mk, 0x4014, 0x80000018);
	bc_mkpe_put16(mk, 0x4026, 1);
	bc_mkpe_put32(mk, 0x4028, 1);
	bc_mkpe_put32(mk, 0x402c, 0x80000030);
	bc_mkpe_put16(mk, 0x403e, 1);
	bc_mkpe_put32(mk, 0x4040, 0x409);
	bc_mkpe_put32(mk, 0x4044, 0x48);
	bc_mkpe_put32(mk, 0x4048, 0x4100);
	bc_mkpe_put32(mk, 0x404c, 40);
	bc_mkpe_put16(mk, 0x4100, 40);
	bc_mkpe_put_utf16(mk, 0x4106, "VS_VERSION_INFO");
	bc_mkpe_set_dir(mk, 2, 0x4000, 0x100);
	return true;
}

TEST(truncated_at_every_length)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	int ok = 0;
	REQUIRE_OK(open_whole(&mk, &ok));
	CHECK_EQ(ok, 5);  // every reader succeeds on the whole image
	size_t table_end = bc_mkpe_section_table(&mk) + 3 * 40;
	for (size_t len = 0; len < mk.size; len += len < 0x600 ? 1 : 0x40) {
		ok = 0;
		struct bc_error *err = open_prefix(&mk, len, &ok);
		if (len < table_end) {
			if (!err || err->code != BC_ERR_FORMAT)
				TEST_FAIL_AT("length 0x%zx: opened or failed wrongly (%s)", len,
					     err ? err->message : "opened");
			else if (len >= 0x40 && !strstr(err->message, "past the end of the file"))
				TEST_FAIL_AT("length 0x%zx: %s", len, err->message);
		} else if (err) {
			TEST_FAIL_AT("length 0x%zx: headers are whole but: %s", len, err->message);
		}
		bc_error_destroy(err);
	}
	bc_mkpe_free(&mk);
}

TEST(header_fields_pointing_away)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	int ok;
	struct {
		size_t off;
		unsigned width;
		uint32_t value;
		const char *message;
	} cases[] = {
		{ 0, 2, 0x4d5a, "no \"MZ\"" },
		{ 0x3c, 4, 0x10000, "past the end of the file" },      // e_lfanew past the end
		{ 0x3c, 4, 0xfffffff0, "beyond 256 MiB" },
		{ 0x80, 4, 0x4551, "no \"PE\\0\\0\" signature" },
		{ 0x84 + 0x10, 2, 0x10, "too small" },                 // SizeOfOptionalHeader
		{ 0x84 + 0x10, 2, 0xffff, "past the end of the file" },
		{ 0x98, 2, 0x107, "neither PE32" },                    // ROM image magic
		{ 0x84 + 0x02, 2, 0xffff, "past the end of the file" }, // NumberOfSections
		{ 0x98 + 0x20, 4, 0, "not a power of two" },           // SectionAlignment
		{ 0x98 + 0x20, 4, 0x3000, "not a power of two" },
		{ 0x98 + 0x38, 4, 0, "SizeOfImage is 0" },
		{ 0x98 + 0x3c, 4, 0xb000, "larger than SizeOfImage" },
	};
	REQUIRE_EQ(oh(&mk), 0x98);
	bc_mkpe_free(&mk);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(build(&mk));
		if (cases[i].width == 2)
			patch16(&mk, cases[i].off, (uint16_t)cases[i].value);
		else
			patch32(&mk, cases[i].off, cases[i].value);
		struct bc_error *err = open_whole(&mk, &ok);
		bc_mkpe_free(&mk);
		if (!err) {
			TEST_FAIL_AT("case %zu opened", i);
			continue;
		}
		CHECK_EQ(err->code, BC_ERR_FORMAT);
		CHECK_CONTAINS(err->message, "hostile.dll: PE headers: ");
		CHECK_CONTAINS(err->message, cases[i].message);
		bc_error_destroy(err);
	}
	// NumberOfRvaAndSizes beyond the header: only what fits is read.
	REQUIRE(build(&mk));
	patch32(&mk, oh(&mk) + 0x6c, 0xffffffff);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	CHECK_EQ(bc_pe_info(pe)->directory_count, 16);
	bc_pe_close(pe);
	patch16(&mk, fh(&mk) + 0x10, 0x70 + 3 * 8);  // SizeOfOptionalHeader: 3 directories
	patch16(&mk, fh(&mk) + 0x02, 0);              // (no sections: the table moved)
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	CHECK_EQ(bc_pe_info(pe)->directory_count, 3);
	CHECK_EQ(bc_pe_info(pe)->directories[2].rva, 0x4000);
	CHECK_EQ(bc_pe_info(pe)->directories[3].rva, 0);
	exercise(pe);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(section_table_hostile)
{
	struct bc_mkpe mk;
	int ok;
	// Overlapping and descending sections.
	REQUIRE(build(&mk));
	patch32(&mk, sh(&mk, 1) + 0x0c, 0x1800);
	struct bc_error *err = open_whole(&mk, &ok);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "overlaps");
	bc_error_destroy(err);
	patch32(&mk, sh(&mk, 1) + 0x0c, 0x800);
	err = open_whole(&mk, &ok);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "ascending");
	bc_error_destroy(err);
	bc_mkpe_free(&mk);
	// A name of eight non-ASCII bytes is kept raw and escaped in messages.
	REQUIRE(build(&mk));
	memcpy(mk.file + sh(&mk, 2), "\xff\x01\\abcde", 8);
	patch32(&mk, sh(&mk, 2) + 0x0c, 0x5000);
	err = open_whole(&mk, &ok);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "(\\xff\\x01\\x5cabcde)");
	bc_error_destroy(err);
	bc_mkpe_free(&mk);
	// Sizes at the top of the 32-bit range: no overflow, reads fail cleanly.
	REQUIRE(build(&mk));
	patch32(&mk, sh(&mk, 2) + 0x08, 0xffffffff);   // VirtualSize
	patch32(&mk, sh(&mk, 2) + 0x0c, 0xfffff000);   // VirtualAddress
	patch32(&mk, sh(&mk, 2) + 0x10, 0xffffffff);   // SizeOfRawData
	patch32(&mk, sh(&mk, 2) + 0x14, 0xffffff00);   // PointerToRawData
	patch32(&mk, oh(&mk) + 0x38, 0xffffffff);      // SizeOfImage
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	CHECK(bc_pe_section_at(pe, 0xfffffffe) == bc_pe_section(pe, 2));
	uint8_t b[8];
	err = bc_pe_read(pe, 0xfffff000, b, 8);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "past the end of the file");
	bc_error_destroy(err);
	err = bc_pe_read(pe, 0xfffffffc, b, 8);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "outside the image");
	bc_error_destroy(err);
	err = bc_pe_read(pe, 0x8000000, b, 8);  // between .rdata and the moved .data
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "lies in no section");
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(export_counts_and_indexes)
{
	struct bc_mkpe mk;
	int ok;
	struct {
		uint32_t rva, value;
		const char *message;
	} cases[] = {
		{ 0x2014, 0xffffffff, "more than the 1048576" },  // NumberOfFunctions 2^32-1
		{ 0x2018, 0x100001, "more than the 1048576" },    // NumberOfNames 2^20+1
		{ 0x2010, 0xffffffff, "overflows 32 bits" },      // Base + 2 functions
		{ 0x201c, 0x6ffe, "lies in no section" },         // AddressOfFunctions in the hole
		{ 0x2024, 0x9fff, "outside the image" },          // AddressOfNameOrdinals
		{ 0x2060, 0x0002, "beyond the 2 functions" },     // name -> index 2
		{ 0x2050, 0x6010, "lies in no section" },         // the name itself
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(build(&mk));
		if (cases[i].rva == 0x2060)
			bc_mkpe_put16(&mk, cases[i].rva, (uint16_t)cases[i].value);
		else
			bc_mkpe_put32(&mk, cases[i].rva, cases[i].value);
		struct bc_pe *pe;
		REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
		const struct bc_pe_exports *ex;
		struct bc_error *err = bc_pe_exports(pe, &ex);
		if (!err) {
			TEST_FAIL_AT("case %zu: exports parsed", i);
		} else {
			CHECK_EQ(err->code, BC_ERR_FORMAT);
			CHECK_CONTAINS(err->message, "hostile.dll: export directory: ");
			CHECK_CONTAINS(err->message, cases[i].message);
			bc_error_destroy(err);
		}
		exercise(pe);
		bc_pe_close(pe);
		bc_mkpe_free(&mk);
	}
	// A name without a NUL for 4 KiB.
	REQUIRE(build(&mk));
	for (uint32_t r = 0x2070; r < 0x2070 + 0x1100; r++)
		bc_mkpe_put(&mk, r, "A", 1);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	const struct bc_pe_exports *ex;
	struct bc_error *err = bc_pe_exports(pe, &ex);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "longer than 4096 bytes");
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
	(void)ok;
}

// .data grows to 16 MiB of zero fill: room for tables of 2^20 entries.
static void grow_data(struct bc_mkpe *mk)
{
	patch32(mk, sh(mk, 2) + 0x08, 0x01000000);
	patch32(mk, oh(mk) + 0x38, 0x01007000);
}

TEST(export_table_of_2_20_names)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	grow_data(&mk);
	// 2^20 names, all index 0; the address table's first entry is the last
	// file dword of .data, the rest zero fill (unused slots).
	bc_mkpe_put32(&mk, 0x2014, 1 << 20);
	bc_mkpe_put32(&mk, 0x2018, 1 << 20);
	bc_mkpe_put32(&mk, 0x201c, 0x71fc);
	bc_mkpe_put32(&mk, 0x71fc, 0x1000);
	bc_mkpe_put32(&mk, 0x2020, 0x8000);
	bc_mkpe_put32(&mk, 0x2024, 0x400000);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	const struct bc_pe_exports *ex;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	CHECK_EQ(ex->function_count, 1 << 20);
	CHECK_EQ(ex->count, 1 << 20);  // one entry per name; names of RVA 0 have none
	CHECK(ex->entries[0].name == NULL);
	CHECK_EQ(ex->entries[0].rva, 0x1000);
	struct bc_symtab *tab;
	REQUIRE_OK(bc_exports_symtab_create(pe, NULL, &tab));
	CHECK_EQ(bc_symtab_symbol_count(tab), 1 << 20);
	bc_symtab_destroy(tab);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(debug_directory_hostile)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	bc_mkpe_set_dir(&mk, 6, 0x2800, 0xffffffff);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	const struct bc_pe_codeview *cv;
	struct bc_error *err = bc_pe_codeview(pe, &cv);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "more than the 4096");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// SizeOfData of 4 GiB is capped; a path without NUL ends with the record.
	bc_mkpe_set_dir(&mk, 6, 0x2800, 28);
	bc_mkpe_put32(&mk, 0x2810, 0xffffffff);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_STR(cv->pdb_path, "hostile.pdb");
	bc_pe_close(pe);
	bc_mkpe_put32(&mk, 0x2810, 0x18 + 7);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_STR(cv->pdb_path, "hostile");
	bc_pe_close(pe);
	// A PDB name longer than bc_pdb_identity holds.
	bc_mkpe_put32(&mk, 0x2810, 0x400);
	for (uint32_t r = 0x2918; r < 0x2918 + 300; r++)
		bc_mkpe_put(&mk, r, "x", 1);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	struct bc_pdb_identity id;
	err = bc_pe_pdb_identity(pe, &id);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	// The record outside the image; other signatures are "not found".
	bc_mkpe_put32(&mk, 0x2814, 0x9ff0);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_codeview(pe, &cv);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_put32(&mk, 0x2814, 0x2900);
	bc_mkpe_put(&mk, 0x2900, "NB11", 4);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_codeview(pe, &cv);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(pdata_of_2_30_entries)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	// 12 * 2^30 does not fit in 32 bits: the largest claim is 0xfffffff0 bytes.
	bc_mkpe_set_dir(&mk, 3, 0x3000, 0xfffffff0);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	const struct bc_pe_pdata *pd;
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "more than the 4194304");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// Exactly at the cap but larger than the image.
	bc_mkpe_set_dir(&mk, 3, 0x3000, 12u << 22);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "do not fit in the image");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// 2^20 entries of zero fill: read, then rejected as empty functions.
	grow_data(&mk);
	bc_mkpe_set_dir(&mk, 3, 0x8000, 12u << 20);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_pdata(pe, &pd);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "entry 0 runs from rva 0x0 to 0x0");
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

TEST(resource_directory_hostile)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	// 2 * 65535 root entries: the entry array runs out of .rdata.
	bc_mkpe_put16(&mk, 0x400c, 0xffff);
	bc_mkpe_put16(&mk, 0x400e, 0xffff);
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	const struct bc_pe_version *v;
	struct bc_error *err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
	// Subdirectory offsets far away; a data entry of 4 GiB (read capped at 64 KiB).
	REQUIRE(build(&mk));
	bc_mkpe_put32(&mk, 0x402c, 0xffffffff);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_put32(&mk, 0x402c, 0x80000030);
	bc_mkpe_put32(&mk, 0x404c, 0xffffffff);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_version(pe, &v);  // even capped at 64 KiB, it leaves the image
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "do not fit in the image");
	bc_error_destroy(err);
	bc_pe_close(pe);
	// VS_VERSION_INFO claiming more than the resource, or a key with no NUL.
	bc_mkpe_put32(&mk, 0x404c, 40);
	bc_mkpe_put16(&mk, 0x4100, 0x1000);
	REQUIRE_OK(bc_pe_open_memory(mk.file, mk.size, "hostile.dll", &pe));
	err = bc_pe_version(pe, &v);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "VS_VERSION_INFO");
	bc_error_destroy(err);
	bc_pe_close(pe);
	bc_mkpe_free(&mk);
}

// A fixed-seed generator: the same corruption on every run.
static uint32_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*state >> 33);
}

TEST(random_corruption)
{
	struct bc_mkpe mk;
	REQUIRE(build(&mk));
	uint8_t *pristine = malloc(mk.size);
	REQUIRE(pristine);
	memcpy(pristine, mk.file, mk.size);
	uint64_t state = 0x5eed;
	int opened = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(mk.file, pristine, mk.size);
		int flips = 1 + next_random(&state) % 8;
		for (int i = 0; i < flips; i++) {
			// Mostly headers and the planted directories, where parsing happens.
			uint32_t r = next_random(&state);
			size_t off = r % 4 ? (r >> 8) % 0x200 : bc_mkpe_offset(&mk, 0x2000 + (r >> 8) % 0x2200);
			if (off < mk.size)
				mk.file[off] = (uint8_t)next_random(&state);
		}
		int ok;
		struct bc_error *err = open_whole(&mk, &ok);
		opened += !err;
		if (err && err->code != BC_ERR_FORMAT)
			TEST_FAIL_AT("round %d: %s", round, err->message);
		bc_error_destroy(err);
	}
	CHECK(opened > 100);  // the corruption does not only hit the headers
	free(pristine);
	bc_mkpe_free(&mk);
}

TEST_MAIN()
