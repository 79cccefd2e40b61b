// The PE reader over DLLs built at test time by clang and lld-link from
// tests/fixtures/pe (x64, x86, ARM64). Expected values are the ones planted
// in bcfixture.c/.def/.rc and on the link line (timestamp, PDB path), and
// what binutils objdump, llvm-pdbutil and llvm-readobj read from the same
// files. Skipped, saying why, when the toolchain did not build them.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/pe.h"
#include "pe_oracle_check.h"
#include "test.h"

static char fixture_path[4096];

// BUILD/pe-fixtures/bcfixture-<machine>.<ext>, or NULL when it was not built.
static const char *fixture(const char *machine, const char *ext)
{
	const char *dir = getenv("BC_BINARY_DIR");
	int n = snprintf(fixture_path, sizeof(fixture_path), "%s/pe-fixtures/bcfixture-%s.%s",
			 dir ? dir : ".", machine, ext);
	if (n < 0 || (size_t)n >= sizeof(fixture_path))
		return NULL;
	FILE *f = fopen(fixture_path, "rb");
	if (!f)
		return NULL;
	fclose(f);
	return fixture_path;
}

#define NEED_FIXTURE(pe, machine)                                                          \
	do {                                                                               \
		const char *p_ = fixture(machine, "dll");                                  \
		if (!p_) {                                                                 \
			printf("# skipped: BUILD/pe-fixtures/bcfixture-%s.dll not built "  \
			       "(clang and lld-link are needed)\n", machine);              \
			SKIP("skipped: PE fixtures not built");                            \
		}                                                                          \
		REQUIRE_OK(bc_pe_open_file(p_, &(pe)));                                    \
	} while (0)

static void check_planted_exports(struct bc_pe *pe, const char *machine)
{
	const struct bc_pe_exports *ex;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	char dll[64];
	snprintf(dll, sizeof(dll), "bcfixture-%s.dll", machine);
	CHECK_STR(ex->dll_name, dll);
	const struct bc_pe_export *add = bc_pe_export_by_name(ex, "fixture_add");
	const struct bc_pe_export *mul = bc_pe_export_by_name(ex, "fixture_mul");
	const struct bc_pe_export *times = bc_pe_export_by_name(ex, "fixture_times");
	const struct bc_pe_export *data = bc_pe_export_by_name(ex, "fixture_data");
	const struct bc_pe_export *fwd = bc_pe_export_by_name(ex, "fixture_forward");
	const struct bc_pe_export *fwd_ord = bc_pe_export_by_name(ex, "fixture_forward_ordinal");
	REQUIRE(add && mul && times && data && fwd && fwd_ord);
	REQUIRE(fwd->forwarder && fwd_ord->forwarder);
	CHECK_EQ(add->ordinal, 3);
	CHECK_EQ(mul->ordinal, 7);
	CHECK_EQ(times->ordinal, 8);
	CHECK_EQ(times->rva, mul->rva);  // one function, two names
	CHECK_EQ(data->ordinal, 20);
	CHECK(!add->forwarder && !data->forwarder);
	// lld-link 14 prefixes x86 forwarders with the C decoration "_" (the
	// file really says "_KERNEL32.GetTickCount"; objdump agrees below).
	bool x86 = !strcmp(machine, "x86");
	CHECK_STR(fwd->forwarder + (x86 && fwd->forwarder[0] == '_'), "KERNEL32.GetTickCount");
	CHECK_STR(fwd_ord->forwarder + (x86 && fwd_ord->forwarder[0] == '_'), "NTDLL.#5");
	const struct bc_pe_export *hidden = bc_pe_export_by_ordinal(ex, 9);
	REQUIRE(hidden);
	CHECK(hidden->name == NULL);  // NONAME
	CHECK(!hidden->forwarder);
	// Code in an executable section, data not.
	const struct bc_pe_section *s = bc_pe_section_at(pe, add->rva);
	REQUIRE(s);
	CHECK(s->characteristics & BC_PE_SCN_MEM_EXECUTE);
	s = bc_pe_section_at(pe, data->rva);
	REQUIRE(s);
	CHECK(!(s->characteristics & BC_PE_SCN_MEM_EXECUTE));
	CHECK_EQ(ex->count, 7);
}

static void check_planted_debug_and_version(struct bc_pe *pe, const char *machine)
{
	char path[128], name[64];
	snprintf(path, sizeof(path), "C:\\bc\\fixtures\\bcfixture-%s.pdb", machine);
	snprintf(name, sizeof(name), "bcfixture-%s.pdb", machine);
	const struct bc_pe_codeview *cv;
	REQUIRE_OK(bc_pe_codeview(pe, &cv));
	CHECK_EQ(cv->format, BC_PE_CODEVIEW_RSDS);
	CHECK_STR(cv->pdb_path, path);
	struct bc_pdb_identity id;
	REQUIRE_OK(bc_pe_pdb_identity(pe, &id));
	CHECK_STR(id.name, name);
	CHECK_EQ(id.age, cv->age);
	// The PDB lld-link wrote alongside has the same GUID and age.
	char want[40], have[33];
	uint32_t age = 0;
	const char *pdb = fixture(machine, "pdb");
	if (pdb && pe_oracle_pdb_guid(pdb, want, &age)) {
		guid_text(cv->guid, have);
		CHECK_STR(have, want);
		CHECK_EQ(cv->age, age);
	} else {
		printf("# llvm-pdbutil not available: PDB GUID not cross-checked\n");
	}
	const struct bc_pe_version *v;
	struct bc_error *err = bc_pe_version(pe, &v);
	if (err && err->code == BC_ERR_NOT_FOUND) {
		printf("# no version resource (llvm-rc was not found at build time)\n");
		bc_error_destroy(err);
		return;
	}
	REQUIRE_OK(err);
	CHECK(v->has_fixed);
	CHECK(!memcmp(v->file_version, ((uint16_t[]){ 1, 2, 3, 4 }), 8));
	CHECK(!memcmp(v->product_version, ((uint16_t[]){ 5, 6, 7, 8 }), 8));
	CHECK_EQ(v->file_flags_mask, 0x3f);
	CHECK_EQ(v->file_flags, 2);
	CHECK_EQ(v->file_os, 0x40004);
	CHECK_EQ(v->file_type, 2);
	CHECK_EQ(v->string_count, 5);
	CHECK_STR(v->strings[0].table, "040904B0");
	CHECK_STR(bc_pe_version_string(v, "CompanyName"), "Bugcheck Fixture Works");
	CHECK_STR(bc_pe_version_string(v, "FileDescription"),
		  "PE reader fixture \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80");
	CHECK_STR(bc_pe_version_string(v, "FileVersion"), "1.2.3.4 (fixture)");
	CHECK_STR(bc_pe_version_string(v, "ProductName"), "bugcheck");
	CHECK_STR(bc_pe_version_string(v, "OriginalFilename"), "bcfixture.dll");
}

TEST(x64_fixture)
{
	struct bc_pe *pe;
	NEED_FIXTURE(pe, "x64");
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, BC_PE_MACHINE_AMD64);
	CHECK(i->is_64bit);
	CHECK_EQ(i->timestamp, 0x5eadbeef);
	CHECK(i->characteristics & 0x2000);  // a DLL
	char key[BC_PE_IMAGE_KEY_SIZE], want[BC_PE_IMAGE_KEY_SIZE];
	bc_pe_image_key(i->timestamp, i->size_of_image, key);
	snprintf(want, sizeof(want), "5EADBEEF%x", i->size_of_image);
	CHECK_STR(key, want);
	check_planted_exports(pe, "x64");
	check_planted_debug_and_version(pe, "x64");
	// The non-leaf functions have .pdata; the entry point is inside one.
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	CHECK(pd->count >= 2);
	CHECK(bc_pe_pdata_lookup(pd, i->entry_point_rva) != NULL);
	check_against_objdump(pe, fixture("x64", "dll"));
	bc_pe_close(pe);
}

TEST(x86_fixture)
{
	struct bc_pe *pe;
	NEED_FIXTURE(pe, "x86");
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, BC_PE_MACHINE_I386);
	CHECK(!i->is_64bit);
	CHECK_EQ(i->timestamp, 0x5eadbeef);
	check_planted_exports(pe, "x86");
	check_planted_debug_and_version(pe, "x86");
	const struct bc_pe_pdata *pd;
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	CHECK(err && err->code == BC_ERR_UNSUPPORTED);
	bc_error_destroy(err);
	check_against_objdump(pe, fixture("x86", "dll"));
	bc_pe_close(pe);
}

TEST(arm64_fixture)
{
	struct bc_pe *pe;
	NEED_FIXTURE(pe, "arm64");
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, BC_PE_MACHINE_ARM64);
	CHECK(i->is_64bit);
	CHECK_EQ(i->timestamp, 0x5eadbeef);
	check_planted_exports(pe, "arm64");
	check_planted_debug_and_version(pe, "arm64");
	const struct bc_pe_pdata *pd;
	REQUIRE_OK(bc_pe_pdata(pe, &pd));
	CHECK_EQ(pd->format, BC_PE_PDATA_ARM64);
	CHECK(pd->count >= 2);
	struct pe_oracle_arm64_function want[64];
	int n = pe_oracle_arm64_unwind(fixture("arm64", "dll"), want, 64);
	if (n < 0) {
		printf("# llvm-readobj not available: ARM64 unwind entries not cross-checked\n");
	} else {
		REQUIRE_EQ(pd->count, (size_t)n);
		for (int k = 0; k < n; k++) {
			CHECK_EQ(i->image_base + pd->entries[k].begin, want[k].begin);
			CHECK_EQ(pd->entries[k].end - pd->entries[k].begin, want[k].length);
		}
	}
	bc_pe_close(pe);
}

TEST(fixture_export_symtab)
{
	struct bc_pe *pe;
	NEED_FIXTURE(pe, "x64");
	const struct bc_pe_exports *ex;
	REQUIRE_OK(bc_pe_exports(pe, &ex));
	uint32_t add_rva = bc_pe_export_by_name(ex, "fixture_add")->rva;
	struct bc_symtab *tab;
	REQUIRE_OK(bc_exports_symtab_create(pe, NULL, &tab));
	bc_pe_close(pe);
	CHECK_EQ(bc_symtab_machine(tab), BC_PE_MACHINE_AMD64);
	CHECK_STR(bc_symtab_identity(tab)->name, "bcfixture-x64.pdb");
	struct bc_symbol sym;
	REQUIRE_OK(bc_symtab_lookup_rva(tab, add_rva + 1, &sym));
	CHECK_STR(sym.name, "fixture_add");
	CHECK(sym.is_function);
	REQUIRE_OK(bc_symtab_lookup_name(tab, "Ordinal9", &sym));
	CHECK(sym.is_function);
	REQUIRE_OK(bc_symtab_lookup_name(tab, "fixture_forward", &sym));
	CHECK_STR(sym.forwarder, "KERNEL32.GetTickCount");
	REQUIRE_OK(bc_symtab_lookup_name(tab, "fixture_data", &sym));
	CHECK(!sym.is_function);
	bc_symtab_destroy(tab);
}

TEST_MAIN()
