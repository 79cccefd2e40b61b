// Vergilius YAML read from text written here: every kind of type, the
// meanings members take per kind, bitfield positions derived from runs, and
// hostile documents (each must fail with one line naming the file and line).
#include <stdlib.h>
#include <string.h>

#include "bugcheck/vergilius.h"
#include "test.h"

// A miniature kernel in the generator's shape (CRLF line ends, as the real
// files have). _THING overlaps an anonymous union's members (flattened) and
// has two bitfield runs; _THING is also given again as a volatile copy and as
// a short partial definition, which must not win.
static const char mini[] =
	"family: Windows Test\r\n"
	"osname: SP1\r\n"
	"buildnumber: 6.1.7601.17514\r\n"
	"arch: x86\r\n"
	"timestamp: 1290245416\r\n"
	"types:\r\n"
	"  -\r\n"
	"    name: ULONG\r\n"
	"    id: 1\r\n"
	"    kind: BASE\r\n"
	"    sizeof: 4\r\n"
	"  -\r\n"
	"    name: _THING\r\n"
	"    id: 2\r\n"
	"    kind: STRUCT\r\n"
	"    sizeof: 4\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: Flags\r\n"
	"        id: 1\r\n"
	"        offset: 0\r\n"
	"        ordinal: 0\r\n"
	"  -\r\n"
	"    name: _THING\r\n"
	"    id: 3\r\n"
	"    kind: STRUCT\r\n"
	"    sizeof: 24\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: Next\r\n"
	"        id: 4\r\n"
	"        offset: 0\r\n"
	"        ordinal: 0\r\n"
	"      -\r\n"
	"        name: Low:3\r\n"
	"        id: 1\r\n"
	"        offset: 4\r\n"
	"        ordinal: 1\r\n"
	"      -\r\n"
	"        name: Middle:20\r\n"
	"        id: 1\r\n"
	"        offset: 4\r\n"
	"        ordinal: 2\r\n"
	"      -\r\n"
	"        name: High:9\r\n"
	"        id: 1\r\n"
	"        offset: 4\r\n"
	"        ordinal: 3\r\n"
	"      -\r\n"
	"        name: AllFlags\r\n"
	"        id: 1\r\n"
	"        offset: 4\r\n"
	"        ordinal: 4\r\n"
	"      -\r\n"
	"        name: Again:2\r\n"
	"        id: 1\r\n"
	"        offset: 8\r\n"
	"        ordinal: 5\r\n"
	"      -\r\n"
	"        name: Name\r\n"
	"        id: 5\r\n"
	"        offset: 12\r\n"
	"        ordinal: 6\r\n"
	"      -\r\n"
	"        name: State\r\n"
	"        id: 6\r\n"
	"        offset: 20\r\n"
	"        ordinal: 7\r\n"
	"  -\r\n"
	"    id: 4\r\n"
	"    kind: POINTER\r\n"
	"    sizeof: 4\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: pointee\r\n"
	"        id: 3\r\n"
	"        offset: 0\r\n"
	"        ordinal: 0\r\n"
	"  -\r\n"
	"    name:\r\n"
	"    id: 5\r\n"
	"    kind: ARRAY\r\n"
	"    sizeof: 8\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: element\r\n"
	"        id: 7\r\n"
	"        offset: 4\r\n"
	"        ordinal: 0\r\n"
	"  -\r\n"
	"    name: _STATE\r\n"
	"    id: 6\r\n"
	"    kind: ENUM\r\n"
	"    sizeof: 4\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: Gone\r\n"
	"        id: 8\r\n"
	"        offset: -1\r\n"
	"        ordinal: 0\r\n"
	"      -\r\n"
	"        name: Running\r\n"
	"        id: 8\r\n"
	"        offset: 1\r\n"
	"        ordinal: 1\r\n"
	"  -\r\n"
	"    name: WCHAR\r\n"
	"    id: 7\r\n"
	"    kind: BASE\r\n"
	"    sizeof: 2\r\n"
	"  -\r\n"
	"    name: LONG\r\n"
	"    id: 8\r\n"
	"    kind: BASE\r\n"
	"    sizeof: 4\r\n"
	"  -\r\n"
	"    name: _THING\r\n"
	"    id: 9\r\n"
	"    kind: STRUCT\r\n"
	"    sizeof: 24\r\n"
	"    isVolatile: true\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: Volatile\r\n"
	"        id: 1\r\n"
	"        offset: 0\r\n"
	"        ordinal: 0\r\n"
	"  -\r\n"
	"    id: 10\r\n"
	"    kind: FUNCTION\r\n"
	"    sizeof: 0\r\n"
	"    data:\r\n"
	"      -\r\n"
	"        name: return\r\n"
	"        id: 8\r\n"
	"        offset: 0\r\n"
	"        ordinal: 0\r\n"
	"      -\r\n"
	"        id: 4\r\n"
	"        offset: 1\r\n"
	"        ordinal: 1\r\n";

static const struct bc_type_field *field(const struct bc_type *t, const char *name)
{
	for (size_t i = 0; i < t->field_count; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	return NULL;
}

TEST(reads_every_kind)
{
	struct bc_symtab *tab;
	struct bc_vergilius_info info;
	REQUIRE_OK(bc_vergilius_open_memory(mini, strlen(mini), "mini.yml", &tab, &info));
	CHECK_STR(info.build, "6.1.7601.17514");
	CHECK_EQ(info.major, 6);
	CHECK_EQ(info.minor, 1);
	CHECK_EQ(info.build_number, 7601);
	CHECK_EQ(info.revision, 17514);
	CHECK_EQ(info.machine, BC_MACHINE_X86);
	CHECK_EQ(info.timestamp, 1290245416);
	CHECK_STR(info.family, "Windows Test");
	CHECK_EQ(info.type_count, 10);
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_VERGILIUS);
	CHECK_EQ(bc_symtab_machine(tab), 0x14c);
	CHECK_EQ(bc_symtab_symbol_count(tab), 0);
	CHECK(bc_symtab_has_types(tab));

	const struct bc_type *thing, *t;
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_THING", &thing));
	CHECK_EQ(thing->size, 24);  // the full definition, not the 4-byte partial one
	CHECK(field(thing, "Volatile") == NULL);
	CHECK(field(thing, "Flags") == NULL);
	const struct bc_type_field *f = field(thing, "Next");
	REQUIRE(f);
	REQUIRE_OK(bc_symtab_type(tab, f->type_id, &t));
	CHECK_EQ(t->kind, BC_TYPE_POINTER);
	CHECK_EQ(t->size, 4);
	REQUIRE_OK(bc_symtab_type(tab, t->target_id, &t));
	CHECK_STR(t->name, "_THING");

	// Bitfields: Low 0..2, Middle 3..22, High 23..31 of the ULONG at 4; the
	// union's AllFlags overlaps them; Again starts a new run at 8.
	static const struct {
		const char *name;
		uint64_t offset;
		uint8_t position, length;
	} bits[] = { { "Low", 4, 0, 3 }, { "Middle", 4, 3, 20 }, { "High", 4, 23, 9 },
		     { "AllFlags", 4, 0, 0 }, { "Again", 8, 0, 2 } };
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		f = field(thing, bits[i].name);
		REQUIRE(f);
		CHECK_EQ(f->offset, bits[i].offset);
		CHECK_EQ(f->bit_position, bits[i].position);
		CHECK_EQ(f->bit_length, bits[i].length);
	}

	f = field(thing, "Name");
	REQUIRE(f);
	REQUIRE_OK(bc_symtab_type(tab, f->type_id, &t));
	CHECK_EQ(t->kind, BC_TYPE_ARRAY);
	CHECK_EQ(t->count, 4);  // an array's element "offset" is its count
	CHECK_EQ(t->size, 8);
	REQUIRE_OK(bc_symtab_type(tab, t->target_id, &t));
	CHECK(t->is_char);
	CHECK(!t->is_signed);

	f = field(thing, "State");
	REQUIRE(f);
	REQUIRE_OK(bc_symtab_type(tab, f->type_id, &t));
	CHECK_EQ(t->kind, BC_TYPE_ENUM);
	REQUIRE_EQ(t->enumerator_count, 2);
	CHECK_STR(t->enumerators[0].name, "Gone");
	CHECK_EQ(t->enumerators[0].value, -1);
	CHECK_EQ(t->enumerators[1].value, 1);
	bc_symtab_destroy(tab);
}

// @mini with the first occurrence of @from replaced by @to.
static char *edited(const char *from, const char *to)
{
	const char *at = strstr(mini, from);
	if (!at)
		return NULL;
	size_t head = (size_t)(at - mini), n = strlen(mini) - strlen(from) + strlen(to);
	char *out = malloc(n + 1);
	memcpy(out, mini, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

static void expect_error(const char *text, size_t size, const char *needle)
{
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_vergilius_open_memory(text, size, "bad.yml", &tab, NULL);
	CHECK(err != NULL);
	if (!err) {
		bc_symtab_destroy(tab);
		return;
	}
	CHECK_CONTAINS(err->message, "bad.yml");
	CHECK_CONTAINS(err->message, needle);
	CHECK(strchr(err->message, '\n') == NULL);
	bc_error_destroy(err);
}

static void expect_edit_error(const char *from, const char *to, const char *needle)
{
	char *text = edited(from, to);
	REQUIRE(text);
	expect_error(text, strlen(text), needle);
	free(text);
}

TEST(hostile_documents)
{
	// Truncated anywhere: an error or a smaller table, never a crash. Cut
	// inside the types, the last type is incomplete or refers to ids not yet
	// defined.
	for (size_t cut = 0; cut < strlen(mini); cut += 7) {
		struct bc_symtab *tab = NULL;
		struct bc_error *err = bc_vergilius_open_memory(mini, cut, "cut.yml", &tab, NULL);
		bc_error_destroy(err);
		bc_symtab_destroy(tab);
	}
	expect_error(mini, 35, "no buildnumber header");
	expect_error(mini, strstr(mini, "    kind: STRUCT") - mini, "line 12: the type starting "
		     "here has no kind");
	expect_error("", 0, "not a Vergilius kernel layout");
	// Indentation, syntax, and YAML this reader does not speak.
	expect_edit_error("    id: 2\r\n", "     id: 2\r\n", "line 14: unexpected indentation");
	expect_edit_error("    id: 2\r\n", "\tid: 2\r\n", "line 14: a tab in the indentation");
	expect_edit_error("    id: 2\r\n", "    id 2\r\n", "line 14: \"id 2\" is not \"key: value\"");
	expect_edit_error("    name: _THING\r\n    id: 2", "    name: \"_THING\"\r\n    id: 2",
			  "line 13: name: quoted or structured YAML values are not supported");
	expect_edit_error("    kind: BASE", "    kind: CLASSY", "line 10: unknown kind \"CLASSY\"");
	expect_edit_error("    sizeof: 4\r\n", "    sizeof: 4\r\n    colour: red\r\n",
			  "line 12: unknown type key \"colour\"");
	expect_edit_error("  -\r\n    name: ULONG", "    -\r\n    name: ULONG",
			  "line 7: a list item at an unexpected indentation");
	expect_edit_error("arch: x86", "arch: mips", "arch \"mips\" is not x86 or x64");
	expect_edit_error("buildnumber: 6.1.7601.17514", "buildnumber: 6.1",
			  "buildnumber \"6.1\" is not major.minor.build.revision");
	expect_edit_error("    name: LONG", "    name: \xbbONG", "line 112: name: a character outside "
			  "printable ASCII");
	// Numbers out of range.
	expect_edit_error("    sizeof: 4\r\n", "    sizeof: 99999999999999999999999\r\n",
			  "line 11: sizeof: \"99999999999999999999999\" is not a number");
	expect_edit_error("    id: 2\r\n", "    id: 4294967297\r\n", "line 14: id:");
	expect_edit_error("        offset: 4\r\n", "        offset: 77777\r\n",
			  "a member offset outside its structure");
	expect_edit_error("        offset: -1\r\n", "        offset: 1e5\r\n", "offset: \"1e5\"");
	// Missing fields, dangling and duplicate ids.
	expect_edit_error("        id: 1\r\n        offset: 0\r\n        ordinal: 0\r\n  -\r\n    name: _THING\r\n    id: 3",
			  "        id: 1\r\n        ordinal: 0\r\n  -\r\n    name: _THING\r\n    id: 3",
			  "line 18: the member starting here has no offset");
	expect_edit_error("        name: Next\r\n        id: 4\r\n", "        name: Next\r\n        id: 444\r\n",
			  "refers to type id 444, which the file does not define");
	expect_edit_error("    id: 9\r\n", "    id: 8\r\n", "type id 8 is defined twice");
	// Cycles: a pointer to itself, an array of an array of the first.
	expect_edit_error("        name: pointee\r\n        id: 3\r\n",
			  "        name: pointee\r\n        id: 4\r\n",
			  "type id 4 refers to itself through pointers or arrays (a cycle)");
	expect_edit_error("        name: element\r\n        id: 7\r\n",
			  "        name: element\r\n        id: 5\r\n", "a cycle");
	// Bitfields that cannot be.
	expect_edit_error("Middle:20", "Middle:33", "bitfield \"Middle:33\": its width does not fit");
	expect_edit_error("Middle:20", "Middle:0", "its width does not fit");
	// A pointer without its pointee, and a NUL byte.
	expect_edit_error("      -\r\n        name: pointee\r\n        id: 3\r\n        offset: 0\r\n        ordinal: 0\r\n",
			  "", "a pointer needs exactly one member");
	char nul[sizeof(mini)];
	memcpy(nul, mini, sizeof(mini));
	nul[30] = '\0';
	expect_error(nul, sizeof(mini) - 1, "line 2: a NUL byte");
}

TEST(open_names_the_file)
{
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_vergilius_open("/nonexistent/6.1.7601.17514-x86.yml.xz", &tab,
						 NULL);
	CHECK(err != NULL);
	if (err)
		CHECK_CONTAINS(err->message, "6.1.7601.17514-x86.yml.xz");
	bc_error_destroy(err);
}

TEST_MAIN()
