// PDB reading over small PDBs generated for the fuzz corpus (tests/fuzz/corpus/
// fuzz_pdb: tiny.pdb has three publics, types.pdb a structure _T with a
// member, a pointer to itself and a bitfield), and hostile edits of them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/pdb.h"
#include "test.h"

static uint8_t *load(const char *name, size_t *size)
{
	const char *src = getenv("BC_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz_pdb/%s", src ? src : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static uint8_t buf[1 << 16];
	*size = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint8_t *copy = malloc(*size);
	if (copy)
		memcpy(copy, buf, *size);
	return copy;
}

TEST(planted_publics_and_types)
{
	size_t size;
	uint8_t *data = load("tiny.pdb", &size);
	REQUIRE(data);
	struct bc_symtab *tab;
	REQUIRE_OK(bc_pdb_open_memory(data, size, "tiny.pdb", &tab));
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	CHECK_EQ(id->signature, 0x12345678);
	CHECK_EQ(id->age, 1);
	CHECK_EQ(id->guid[0], 0);
	CHECK_EQ(id->guid[15], 15);
	CHECK_EQ(bc_symtab_machine(tab), 0x8664);
	struct bc_symbol s;
	REQUIRE_OK(bc_symtab_lookup_name(tab, "helper", &s));
	CHECK_EQ(s.rva, 0x1040);  // .text at 0x1000, offset 0x40
	REQUIRE_OK(bc_symtab_lookup_name(tab, "g_data", &s));
	CHECK_EQ(s.rva, 0x2008);
	CHECK(!s.is_function);
	bc_symtab_destroy(tab);
	free(data);

	data = load("types.pdb", &size);
	REQUIRE(data);
	REQUIRE_OK(bc_pdb_open_memory(data, size, "types.pdb", &tab));
	const struct bc_type *t, *f;
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_T", &t));
	CHECK_EQ(t->kind, BC_TYPE_STRUCT);
	CHECK_EQ(t->size, 24);
	REQUIRE_EQ(t->field_count, 3);
	CHECK_STR(t->fields[1].name, "next");
	CHECK_EQ(t->fields[1].offset, 8);
	REQUIRE_OK(bc_symtab_type(tab, t->fields[1].type_id, &f));
	CHECK_EQ(f->kind, BC_TYPE_POINTER);
	CHECK_EQ(f->size, 8);
	CHECK_EQ(f->target_id, t->id);
	CHECK_EQ(t->fields[2].bit_position, 2);
	CHECK_EQ(t->fields[2].bit_length, 3);
	REQUIRE_OK(bc_symtab_type(tab, t->fields[0].type_id, &f));
	CHECK_EQ(f->kind, BC_TYPE_BASE);
	CHECK_EQ(f->size, 4);
	CHECK(!f->is_signed);
	bc_symtab_destroy(tab);
	free(data);
}

static void check_refused(uint8_t *data, size_t size, const char *needle)
{
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open_memory(data, size, "bad.pdb", &tab);
	CHECK(err != NULL);
	if (err) {
		CHECK_CONTAINS(err->message, needle);
		bc_error_destroy(err);
	} else {
		bc_symtab_destroy(tab);
	}
}

TEST(hostile_containers)
{
	size_t size;
	uint8_t *orig = load("types.pdb", &size);
	REQUIRE(orig);
	uint8_t *d = malloc(size);
	REQUIRE(d);
	// Block size that no PDB uses.
	memcpy(d, orig, size);
	bc_put_le32(d + 0x20, 3000);
	check_refused(d, size, "block size");
	// More blocks than the file holds.
	memcpy(d, orig, size);
	bc_put_le32(d + 0x28, 0x100000);
	check_refused(d, size, "truncated PDB");
	// The directory's block map outside the file.
	memcpy(d, orig, size);
	bc_put_le32(d + 0x34, 0x7fffffff);
	check_refused(d, size, "block map");
	// A directory of 2^30 bytes.
	memcpy(d, orig, size);
	bc_put_le32(d + 0x2c, 0x40000001);
	check_refused(d, size, "stream directory");
	// A stream of 0xFFFFFFFE bytes: its blocks are not in the directory.
	memcpy(d, orig, size);
	uint32_t dir_block = bc_le32(d + bc_le32(d + 0x34) * 512);
	bc_put_le32(d + dir_block * 512 + 4 + 4 * 2, 0xfffffffe);
	check_refused(d, size, "stream directory");
	// A stream block beyond the file.
	memcpy(d, orig, size);
	uint32_t streams = bc_le32(d + dir_block * 512);
	bc_put_le32(d + dir_block * 512 + 4 + 4 * streams, 0x7fff);
	check_refused(d, size, "outside");
	free(d);
	free(orig);
}

TEST_MAIN()
