// ISF tables and kernel identification over the real material in ../shared:
// the x86 XP kernel's table against the public symbols of its real PDB
// (ntkrnlpa.sym.txt, written by a different tool from the PDB itself), type
// layouts against Vergilius, and the kernels of real small memory dumps.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/isf.h"
#include "sym/isf_file.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "symbols/isf/ntkrnlpa.pdb");
}

#define NEED_SHARED()                                                            \
	do {                                                                     \
		if (!have_shared())                                              \
			SKIP("skipped: ../shared/symbols/isf not found");        \
	} while (0)

static const char *XP_TABLE = "symbols/isf/ntkrnlpa.pdb/30B5FB31AE7E4ACAABA750AA241FF331-1.json.xz";

static struct bc_symtab *open_xp(void)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", shared, XP_TABLE);
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_isf_open(path, &tab);
	if (err) {
		fprintf(stderr, "# %s\n", err->message);
		bc_error_destroy(err);
	}
	return tab;
}

TEST(xp_table_agrees_with_the_pdb_publics)
{
	NEED_SHARED();
	struct bc_symtab *tab = open_xp();
	REQUIRE(tab);
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_ISF);
	CHECK_EQ(bc_symtab_machine(tab), 0x14c);
	// MANIFEST.tsv: GUID 30B5FB31AE7E4ACAABA750AA241FF331, DBI age 1; stored GUID bytes
	// have Data1..3 little-endian.
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	static const uint8_t guid[16] = { 0x31, 0xfb, 0xb5, 0x30, 0x7e, 0xae, 0xca, 0x4a,
					  0xab, 0xa7, 0x50, 0xaa, 0x24, 0x1f, 0xf3, 0x31 };
	CHECK(!memcmp(id->guid, guid, 16));
	CHECK_EQ(id->age, 1);
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/pdb/kernel/ntkrnlpa.sym.txt", shared);
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	char line[512];
	unsigned lines = 0, found = 0, mismatched = 0;
	// Names listed twice (static functions of different files, e.g. "_real")
	// cannot be compared by name: count them first.
	static char seen[16384][128];
	unsigned seen_count = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ignored;
		if (sscanf(line, "%llx %127s", &ignored, seen[seen_count]) == 2 && seen_count < 16383)
			seen_count++;
	}
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long va;
		char name[400];
		if (sscanf(line, "%llx %399s", &va, name) != 2)
			continue;
		lines++;
		unsigned times = 0;
		for (unsigned i = 0; i < seen_count && times < 2; i++)
			times += !strcmp(seen[i], name);
		if (times > 1)
			continue;
		struct bc_symbol sym;
		if (bc_symtab_lookup_name(tab, name, &sym))
			continue;
		found++;
		if (sym.rva != va - 0x804d7000ull) {
			if (mismatched++ < 5)
				fprintf(stderr, "# %s: table %#" PRIx64 ", sym.txt %#llx\n", name,
					sym.rva, va - 0x804d7000ull);
		}
	}
	fclose(f);
	fprintf(stderr, "# %u of %u sym.txt names found, %u mismatched\n", found, lines, mismatched);
	CHECK(lines > 9000);
	CHECK(found * 10 > lines * 9);
	CHECK_EQ(mismatched, 0);
	// The nearest-symbol lookup lands on KiTrap0E's start and inside it.
	struct bc_symbol sym;
	REQUIRE_OK(bc_symtab_lookup_rva(tab, 0x69450 + 0x10, &sym));
	CHECK_STR(sym.name, "KiTrap0E");
	CHECK_EQ(sym.rva, 0x69450);
	bc_symtab_destroy(tab);
}

// Vergilius's layout of a structure: field name -> offset, from its YAML.
static int vergilius_offsets(const char *file, const char *type, char names[][64],
			     uint64_t *offsets, int room)
{
	char cmd[4400];
	snprintf(cmd, sizeof(cmd), "xz -dc '%s/symbols/vergilius/%s'", shared, file);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[512], want[128], field[64] = "";
	snprintf(want, sizeof(want), "    name: %s\n", type);
	bool in = false;
	int n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\r")] = 0;  // the YAML has CRLF line ends
		if (!*line || line[strlen(line) - 1] != '\n')
			strcat(line, "\n");
		if (!in) {
			in = !strcmp(line, want);
			continue;
		}
		if (!strncmp(line, "  -", 3) && line[3] == '\n')
			break;  // the next type
		unsigned long long off;
		if (sscanf(line, "        name: %63s", field) == 1) {
			field[strcspn(field, ":")] = 0;  // bitfields read "CreateReported:1"
			continue;
		}
		if (sscanf(line, "        offset: %llu", &off) == 1 && *field && n < room) {
			snprintf(names[n], 64, "%s", field);
			offsets[n++] = off;
			field[0] = 0;
		}
	}
	pclose(p);
	return n;
}

TEST(xp_eprocess_layout_matches_vergilius)
{
	NEED_SHARED();
	struct bc_symtab *tab = open_xp();
	REQUIRE(tab);
	REQUIRE(bc_symtab_has_types(tab));
	static char names[256][64];
	static uint64_t offsets[256];
	int n = vergilius_offsets("5.1.2600.5512-x86.yml.xz", "_EPROCESS", names, offsets, 256);
	if (n <= 0) {
		bc_symtab_destroy(tab);
		SKIP("skipped: xz or the Vergilius layout is not available");
	}
	const struct bc_type *t;
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_EPROCESS", &t));
	CHECK_EQ(t->kind, BC_TYPE_STRUCT);
	CHECK_EQ(t->size, 608);  // Vergilius: sizeof 608
	CHECK_EQ(t->field_count, (size_t)n);
	int compared = 0;
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < t->field_count; k++) {
			if (strcmp(t->fields[k].name, names[i]))
				continue;
			CHECK_EQ(t->fields[k].offset, offsets[i]);
			compared++;
		}
	}
	CHECK_EQ(compared, n);
	// Pcb is the embedded _KPROCESS; ActiveProcessLinks a _LIST_ENTRY of two pointers.
	for (size_t k = 0; k < t->field_count; k++) {
		const struct bc_type *ft;
		REQUIRE_OK(bc_symtab_type(tab, t->fields[k].type_id, &ft));
		if (!strcmp(t->fields[k].name, "Pcb"))
			CHECK_STR(ft->name, "_KPROCESS");
		if (!strcmp(t->fields[k].name, "ActiveProcessLinks")) {
			CHECK_STR(ft->name, "_LIST_ENTRY");
			CHECK_EQ(ft->size, 8);
			REQUIRE_EQ(ft->field_count, 2);
			const struct bc_type *flink;
			REQUIRE_OK(bc_symtab_type(tab, ft->fields[0].type_id, &flink));
			CHECK_EQ(flink->kind, BC_TYPE_POINTER);
			CHECK_EQ(flink->size, 4);
		}
	}
	bc_symtab_destroy(tab);
}

static char *cache_dir(void)
{
	// One index for every build directory of this machine: building it reads
	// all 200+ tables once (about half a minute).
	static char dir[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/bugcheck-test-isf-index", tmp && *tmp ? tmp : "/tmp");
	return dir;
}

// The context of a small memory dump stops at nt!KeBugCheckEx's first
// instruction (rizin's registers beside the dump give that RIP). The table
// found by identification must name exactly that address KeBugCheckEx.
TEST(kernels_of_real_small_dumps_are_identified)
{
	NEED_SHARED();
	static const struct {
		const char *dump;
		uint64_t rip;  ///< rizin-offline.txt "rip = "
	} cases[] = {
		{ "ojusha__100623-6156-01.dmp", 0xfffff805531fbca0ull },
	};
	char isf[4200];
	snprintf(isf, sizeof(isf), "%s/symbols/isf", shared);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[4300];
		snprintf(path, sizeof(path), "%s/dumps/kernel/%s", shared, cases[i].dump);
		struct bc_target *t;
		REQUIRE_OK(bc_target_open(path, &t));
		struct bc_kernel_match m;
		REQUIRE_OK(bc_kernel_identify(t, isf, cache_dir(), &m));
		fprintf(stderr, "# %s: %s\n", cases[i].dump, m.explanation);
		REQUIRE(m.path != NULL);
		CHECK(m.fields_agreed * 10 >= m.fields_checked * 9);
		struct bc_symbol_options opt = { .symbol_path = isf, .cache_dir = cache_dir() };
		REQUIRE_OK(bc_target_set_symbol_options(t, &opt));
		struct bc_address_symbol a;
		bc_target_describe_address(t, cases[i].rip, &a);
		CHECK(a.symbol && !strcmp(a.symbol, "KeBugCheckEx"));
		CHECK_EQ(a.displacement, 0);
		uint64_t addr;
		REQUIRE_OK(bc_target_resolve_symbol(t, "nt!KeBugCheckEx", &addr));
		CHECK_EQ(addr, cases[i].rip);
		bc_kernel_match_free(&m);
		bc_target_close(t);
	}
}

TEST(kernels_without_a_table_say_so)
{
	NEED_SHARED();
	char isf[4200], path[4300];
	snprintf(isf, sizeof(isf), "%s/symbols/isf", shared);
	snprintf(path, sizeof(path), "%s/dumps/kernel/rizintb__triage_arm64.dmp", shared);
	struct bc_target *t;
	REQUIRE_OK(bc_target_open(path, &t));
	struct bc_kernel_match m;
	REQUIRE_OK(bc_kernel_identify(t, isf, cache_dir(), &m));
	CHECK(m.path == NULL);
	CHECK_CONTAINS(m.explanation, "no symbol table");
	bc_kernel_match_free(&m);
	bc_target_close(t);
}

// The decompressed-text cache: the first open writes it, the next reads it
// and gets the same table, a damaged cache file is replaced, and the table
// names its .xz file either way.
TEST(decompressed_tables_are_cached)
{
	NEED_SHARED();
	char path[4200], cache[] = "/tmp/bc_isf_cache_XXXXXX";
	snprintf(path, sizeof(path), "%s/%s", shared, XP_TABLE);
	REQUIRE(mkdtemp(cache));
	struct bc_symtab *plain = open_xp(), *first = NULL, *again = NULL, *repaired = NULL;
	REQUIRE(plain);
	REQUIRE_OK(bc_isf_open_cached(path, cache, &first));
	char dir[4300], cmd[4400];
	snprintf(dir, sizeof(dir), "%s/isf-json", cache);
	snprintf(cmd, sizeof(cmd), "ls '%s' | wc -l", dir);
	char *listed = bc_test_command_output(cmd);
	CHECK(listed && atoi(listed) == 1);
	free(listed);
	REQUIRE_OK(bc_isf_open_cached(path, cache, &again));
	CHECK_EQ(bc_symtab_symbol_count(again), bc_symtab_symbol_count(plain));
	CHECK_EQ(bc_symtab_symbol_count(first), bc_symtab_symbol_count(plain));
	CHECK_STR(bc_symtab_source(again), path);
	struct bc_symbol a, b;
	REQUIRE_OK(bc_symtab_lookup_name(plain, "KeBugCheckEx", &a));
	REQUIRE_OK(bc_symtab_lookup_name(again, "KeBugCheckEx", &b));
	CHECK_EQ(a.rva, b.rva);
	// Cut the cached text short (no table has it mapped any more): the next
	// open decompresses and rewrites it.
	bc_symtab_destroy(first);
	bc_symtab_destroy(again);
	first = again = NULL;
	snprintf(cmd, sizeof(cmd), "for f in '%s'/*; do truncate -s 1000 \"$f\"; done", dir);
	REQUIRE(system(cmd) == 0);
	REQUIRE_OK(bc_isf_open_cached(path, cache, &repaired));
	CHECK_EQ(bc_symtab_symbol_count(repaired), bc_symtab_symbol_count(plain));
	snprintf(cmd, sizeof(cmd), "stat -c %%s '%s'/*", dir);
	char *size = bc_test_command_output(cmd);
	CHECK(size && atol(size) > 1000);
	free(size);
	bc_symtab_destroy(plain);
	bc_symtab_destroy(first);
	bc_symtab_destroy(again);
	bc_symtab_destroy(repaired);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	CHECK(system(cmd) == 0);
}

TEST_MAIN()
