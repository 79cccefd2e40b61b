// PDB public symbols against independent listings: the XP kernel's real PDB
// against ntkrnlpa.sym.txt (written by another tool from the same PDB), and
// the amdppm.pdb of the symbol store against llvm-pdbutil's dump of it.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/isf.h"
#include "bugcheck/pdb.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "symbols/pdb/kernel/ntkrnlpa.pdb");
}

#define NEED_SHARED()                                                            \
	do {                                                                     \
		if (!have_shared())                                              \
			SKIP("skipped: ../shared/symbols not found");            \
	} while (0)

TEST(xp_kernel_publics_match_the_listing)
{
	NEED_SHARED();
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/pdb/kernel/ntkrnlpa.pdb", shared);
	struct bc_symtab *tab;
	REQUIRE_OK(bc_pdb_open(path, &tab));
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_PDB);
	// MANIFEST.tsv: GUID 30B5FB31AE7E4ACAABA750AA241FF331, DBI age 1; peinfo.jsonl: Signature 0x4802516A.
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	static const uint8_t guid[16] = { 0x31, 0xfb, 0xb5, 0x30, 0x7e, 0xae, 0xca, 0x4a,
					  0xab, 0xa7, 0x50, 0xaa, 0x24, 0x1f, 0xf3, 0x31 };
	CHECK(!memcmp(id->guid, guid, 16));
	CHECK_EQ(id->age, 1);
	CHECK_EQ(id->signature, 0x4802516a);
	snprintf(path, sizeof(path), "%s/symbols/pdb/kernel/ntkrnlpa.sym.txt", shared);
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	char line[512];
	unsigned lines = 0, matched = 0, other = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long va;
		char name[400];
		if (sscanf(line, "%llx %399s", &va, name) != 2)
			continue;
		lines++;
		struct bc_symbol sym;
		if (bc_symtab_lookup_name(tab, name, &sym))
			continue;
		if (sym.rva == va - 0x804d7000ull)
			matched++;
		else
			other++;  // names listed twice (file statics) can disagree
	}
	fclose(f);
	fprintf(stderr, "# %u of %u listed publics at the same RVA, %u elsewhere\n", matched, lines,
		other);
	CHECK(lines > 9000);
	CHECK(matched * 100 > lines * 99);
	CHECK(other < 10);
	bc_symtab_destroy(tab);
}

// llvm-pdbutil's "S_PUB32 ... `Name`" then "addr = SSSS:OOOO" (decimal), and
// its section headers' "virtual address" lines, give every public's RVA.
TEST(store_pdb_publics_match_llvm_pdbutil)
{
	NEED_SHARED();
	char path[4200], cmd[8600];
	snprintf(path, sizeof(path),
		 "%s/symbols/store/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", shared);
	snprintf(cmd, sizeof(cmd), "llvm-pdbutil-14 dump -section-headers -publics '%s' 2>/dev/null",
		 path);
	FILE *p = popen(cmd, "r");
	if (!p)
		SKIP("skipped: llvm-pdbutil-14 not available");
	uint64_t va[32] = { 0 };
	int sections = 0;
	char line[1024], name[512] = "";
	// Publics come before the section headers in the output: keep them first.
	static char names[4096][128];
	static unsigned segs[4096], offs[4096];
	unsigned publics = 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long v;
		unsigned seg, off;
		char *tick;
		if (strstr(line, " virtual address") && sscanf(line, " %llx virtual address", &v) == 1) {
			if (sections < 32)
				va[sections++] = v;
		} else if (strstr(line, "S_PUB32") && (tick = strchr(line, '`'))) {
			snprintf(name, sizeof(name), "%s", tick + 1);
			name[strcspn(name, "`")] = 0;
		} else if (*name && sscanf(line, " flags = %*[^,], addr = %u:%u", &seg, &off) == 2) {
			if (publics < 4096 && strlen(name) < 128) {
				memcpy(names[publics], name, strlen(name) + 1);  // < 128, checked above
				segs[publics] = seg;
				offs[publics++] = off;
			}
			name[0] = 0;
		}
	}
	struct bc_symtab *tab;
	REQUIRE_OK(bc_pdb_open(path, &tab));
	unsigned compared = 0, wrong = 0;
	for (unsigned i = 0; i < publics; i++) {
		if (segs[i] < 1 || (int)segs[i] > sections)
			continue;
		struct bc_symbol sym;
		compared++;
		uint64_t want = va[segs[i] - 1] + offs[i];
		if (bc_symtab_lookup_name(tab, names[i], &sym) || sym.rva != want) {
			if (wrong++ < 5)
				fprintf(stderr, "# %s: want %#" PRIx64 "\n", names[i], want);
		}
	}
	int status = pclose(p);
	if (status != 0 || !compared) {
		bc_symtab_destroy(tab);
		SKIP("skipped: llvm-pdbutil-14 not available");
	}
	fprintf(stderr, "# %u publics compared with llvm-pdbutil, %u differ\n", compared, wrong);
	CHECK(compared > 500);
	CHECK_EQ(wrong, 0);
	// The store names this PDB by GUID and age: the directory is 1C19FDDB...F31 (age 1).
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	CHECK_EQ(id->age, 1);
	CHECK_EQ(id->guid[3], 0x1c);
	CHECK_EQ(id->guid[15], 0xf3);
	CHECK_EQ(bc_symtab_machine(tab), 0x8664);
	bc_symtab_destroy(tab);
}

// Every truncation of a real PDB fails cleanly or reads a subset; never crashes.
TEST(truncated_pdbs_fail_cleanly)
{
	NEED_SHARED();
	char path[4200];
	snprintf(path, sizeof(path),
		 "%s/symbols/store/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", shared);
	FILE *f = fopen(path, "rb");
	REQUIRE(f);
	static uint8_t data[1 << 21];
	size_t size = fread(data, 1, sizeof(data), f);
	fclose(f);
	REQUIRE(size > 0x1000);
	for (size_t cut = 0; cut < size; cut += cut < 0x1000 ? 7 : 4093) {
		struct bc_symtab *tab;
		struct bc_error *err = bc_pdb_open_memory(data, cut, "cut.pdb", &tab);
		if (err) {
			CHECK(err->message && strstr(err->message, "cut.pdb"));
			bc_error_destroy(err);
			continue;
		}
		struct bc_symbol sym;
		bc_error_destroy(bc_symtab_lookup_name(tab, "InitAcpiCpc", &sym));
		bc_symtab_destroy(tab);
	}
	// A PDB 2.00 header is named as such.
	static const char jg[] = "Microsoft C/C++ program database 2.00\r\n\x1aJG\0\0";
	uint8_t old[256] = { 0 };
	memcpy(old, jg, sizeof(jg));
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open_memory(old, sizeof(old), "old.pdb", &tab);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "2.00");
	bc_error_destroy(err);
}

// Types from the XP kernel PDB against the ISF table Volatility's pdbconv
// made from the same PDB (an independent reader): every field's name, offset
// and bit position of the central kernel structures, sizes, enum constants.
TEST(xp_kernel_types_match_volatilitys_reading)
{
	NEED_SHARED();
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/pdb/kernel/ntkrnlpa.pdb", shared);
	struct bc_symtab *pdb, *isf;
	REQUIRE_OK(bc_pdb_open(path, &pdb));
	snprintf(path, sizeof(path),
		 "%s/symbols/isf/ntkrnlpa.pdb/30B5FB31AE7E4ACAABA750AA241FF331-1.json.xz", shared);
	REQUIRE_OK(bc_isf_open(path, &isf));
	CHECK(bc_symtab_has_types(pdb));
	static const char *const structs[] = { "_EPROCESS", "_KPROCESS", "_ETHREAD", "_KTHREAD",
					       "_KPRCB", "_KPCR", "_LIST_ENTRY", "_UNICODE_STRING",
					       "_DEVICE_OBJECT", "_IRP", "_MMPFN", "_KTRAP_FRAME" };
	unsigned fields = 0;
	for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++) {
		const struct bc_type *a, *b;
		REQUIRE_OK(bc_symtab_type_by_name(pdb, structs[i], &a));
		REQUIRE_OK(bc_symtab_type_by_name(isf, structs[i], &b));
		CHECK_EQ(a->size, b->size);
		REQUIRE_EQ(a->field_count, b->field_count);
		for (size_t k = 0; k < a->field_count; k++) {
			// The ISF orders by offset; the PDB by declaration (also by offset, bar unions).
			const struct bc_type_field *fa = &a->fields[k], *fb = NULL;
			for (size_t m = 0; m < b->field_count && !fb; m++)
				if (!strcmp(b->fields[m].name, fa->name))
					fb = &b->fields[m];
			CHECK(fb != NULL);
			if (!fb)
				continue;
			CHECK_EQ(fa->offset, fb->offset);
			CHECK_EQ(fa->bit_length, fb->bit_length);
			CHECK_EQ(fa->bit_position, fb->bit_position);
			const struct bc_type *ta, *tb;
			REQUIRE_OK(bc_symtab_type(pdb, fa->type_id, &ta));
			REQUIRE_OK(bc_symtab_type(isf, fb->type_id, &tb));
			// Volatility renames anonymous types "__unnamed_<index>".
			if ((ta->kind == BC_TYPE_STRUCT || ta->kind == BC_TYPE_UNION) &&
			    strncmp(ta->name, "__unnamed", 9))
				CHECK_STR(ta->name, tb->name);
			if (ta->kind == BC_TYPE_ARRAY)
				CHECK_EQ(ta->count, tb->count);
			fields++;
		}
	}
	fprintf(stderr, "# %u fields of %zu structures agree\n", fields,
		sizeof(structs) / sizeof(structs[0]));
	const struct bc_type *a, *b;
	REQUIRE_OK(bc_symtab_type_by_name(pdb, "_POOL_TYPE", &a));
	REQUIRE_OK(bc_symtab_type_by_name(isf, "_POOL_TYPE", &b));
	REQUIRE_EQ(a->enumerator_count, b->enumerator_count);
	for (size_t k = 0; k < a->enumerator_count; k++) {
		bool found = false;
		for (size_t m = 0; m < b->enumerator_count; m++)
			found |= !strcmp(a->enumerators[k].name, b->enumerators[m].name) &&
				 a->enumerators[k].value == b->enumerators[m].value;
		CHECK(found);
	}
	bc_symtab_destroy(pdb);
	bc_symtab_destroy(isf);
}

struct proc_check {
	const char *name;
	uint64_t rva, size;
	bool found;
};

static bool match_proc(void *arg, const struct bc_symbol *sym)
{
	struct proc_check *c = arg;
	if (sym->rva == c->rva && sym->size == c->size && !strcmp(sym->name, c->name))
		c->found = true;
	return !c->found;
}

// Procedures of a full MSVC PDB (S_GPROC32/S_LPROC32 in module streams,
// reached through S_PROCREF) against llvm-pdbutil's dump of every module:
// name, address and code size.
TEST(full_pdb_procedures_match_llvm_pdbutil)
{
	NEED_SHARED();
	char path[4200], cmd[8600];
	snprintf(path, sizeof(path), "%s/symbols/pdb/msvc/CrashWithException.pdb", shared);
	snprintf(cmd, sizeof(cmd), "llvm-pdbutil-14 dump -section-headers -symbols '%s' 2>/dev/null",
		 path);
	FILE *p = popen(cmd, "r");
	if (!p)
		SKIP("skipped: llvm-pdbutil-14 not available");
	uint64_t va[32] = { 0 };
	int sections = 0;
	static char names[8192][128];
	static unsigned segs[8192], offs[8192], sizes[8192];
	unsigned procs = 0;
	char line[2048], name[512] = "";
	while (fgets(line, sizeof(line), p)) {
		unsigned long long v;
		unsigned seg, off, size;
		char *tick, *addr;
		if (strstr(line, " virtual address") && sscanf(line, " %llx virtual address", &v) == 1) {
			if (sections < 32)
				va[sections++] = v;
		} else if ((strstr(line, "S_GPROC32 ") || strstr(line, "S_LPROC32 ")) &&
			   (tick = strchr(line, '`'))) {
			// The name runs to the line's last backtick (names may hold some).
			snprintf(name, sizeof(name), "%s", tick + 1);
			char *last = strrchr(name, '`');
			if (last)
				*last = 0;
		} else if (*name && (addr = strstr(line, "addr = ")) &&
			   sscanf(addr, "addr = %u:%u, code size = %u", &seg, &off, &size) == 3) {
			if (procs < 8192 && strlen(name) < 128) {
				memcpy(names[procs], name, strlen(name) + 1);
				segs[procs] = seg;
				offs[procs] = off;
				sizes[procs++] = size;
			}
			name[0] = 0;
		}
	}
	if (pclose(p) != 0 || !procs)
		SKIP("skipped: llvm-pdbutil-14 not available");
	struct bc_symtab *tab;
	REQUIRE_OK(bc_pdb_open(path, &tab));
	unsigned checked = 0, missing = 0;
	for (unsigned i = 0; i < procs; i++) {
		if (segs[i] < 1 || (int)segs[i] > sections)
			continue;
		struct proc_check c = { names[i], va[segs[i] - 1] + offs[i], sizes[i], false };
		REQUIRE_OK(bc_symtab_each(tab, NULL, match_proc, &c));
		checked++;
		if (!c.found && missing++ < 5)
			fprintf(stderr, "# not found: %s at %#" PRIx64 " size %#" PRIx64 "\n", c.name,
				c.rva, c.size);
	}
	fprintf(stderr, "# %u procedures compared with llvm-pdbutil, %u missing\n", checked, missing);
	CHECK(checked > 20);
	CHECK_EQ(missing, 0);
	bc_symtab_destroy(tab);
}

TEST_MAIN()
