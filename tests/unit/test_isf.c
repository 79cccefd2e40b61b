// ISF tables built in the test: symbols, lazy types of every descriptor kind,
// the GUID's byte order, and hostile documents.
#include <stdlib.h>
#include <string.h>

#include "bugcheck/isf.h"
#include "test.h"

static const char table[] =
	"{\"metadata\": {\"format\": \"6.1.0\", \"windows\": {\"pdb\": {"
	"  \"GUID\": \"30B5FB31AE7E4ACAABA750AA241FF331\", \"age\": 2, \"database\": \"demo.pdb\","
	"  \"machine_type\": 34404}}},"
	" \"base_types\": {"
	"  \"unsigned long\": {\"kind\": \"int\", \"size\": 4, \"signed\": false, \"endian\": \"little\"},"
	"  \"long\": {\"kind\": \"int\", \"size\": 4, \"signed\": true, \"endian\": \"little\"},"
	"  \"wchar\": {\"kind\": \"char\", \"size\": 2, \"signed\": false, \"endian\": \"little\"},"
	"  \"pointer\": {\"kind\": \"int\", \"size\": 8, \"signed\": false, \"endian\": \"little\"}},"
	" \"user_types\": {"
	"  \"_NODE\": {\"kind\": \"struct\", \"size\": 48, \"fields\": {"
	"    \"Flags\": {\"offset\": 12, \"type\": {\"kind\": \"bitfield\", \"bit_position\": 3,"
	"        \"bit_length\": 2, \"type\": {\"kind\": \"base\", \"name\": \"unsigned long\"}}},"
	"    \"Next\": {\"offset\": 0, \"type\": {\"kind\": \"pointer\", \"subtype\":"
	"        {\"kind\": \"struct\", \"name\": \"_NODE\"}}},"
	"    \"Name\": {\"offset\": 16, \"type\": {\"kind\": \"array\", \"count\": 8, \"subtype\":"
	"        {\"kind\": \"base\", \"name\": \"wchar\"}}},"
	"    \"State\": {\"offset\": 8, \"type\": {\"kind\": \"enum\", \"name\": \"_STATE\"}},"
	"    \"Missing\": {\"offset\": 32, \"type\": {\"kind\": \"struct\", \"name\": \"_NOWHERE\"}},"
	"    \"Callback\": {\"offset\": 40, \"type\": {\"kind\": \"pointer\", \"subtype\":"
	"        {\"kind\": \"function\"}}}}},"
	"  \"_U\": {\"kind\": \"union\", \"size\": 4, \"fields\": {}}},"
	" \"enums\": {\"_STATE\": {\"size\": 4, \"base\": \"long\", \"constants\": {"
	"    \"Running\": 1, \"Idle\": 0, \"Gone\": -1}}},"
	" \"symbols\": {\"NodeList\": {\"address\": 8192}, \"InitNode\": {\"address\": 4096,"
	"    \"type\": {\"kind\": \"function\"}}, \"Absolute\": {\"address\": -5},"
	"    \"AfterInit\": {\"address\": 4160}}}";

static struct bc_symtab *open_table(void)
{
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_isf_open_memory(table, strlen(table), "demo.json", &tab);
	bc_error_destroy(err);
	return tab;
}

TEST(symbols_and_identity)
{
	struct bc_symtab *tab = open_table();
	REQUIRE(tab);
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_ISF);
	CHECK_EQ(bc_symtab_machine(tab), 0x8664);
	CHECK_EQ(bc_symtab_symbol_count(tab), 3);  // the negative address is not a symbol
	const struct bc_pdb_identity *id = bc_symtab_identity(tab);
	static const uint8_t guid[16] = { 0x31, 0xfb, 0xb5, 0x30, 0x7e, 0xae, 0xca, 0x4a,
					  0xab, 0xa7, 0x50, 0xaa, 0x24, 0x1f, 0xf3, 0x31 };
	CHECK(!memcmp(id->guid, guid, 16));
	CHECK_EQ(id->age, 2);
	CHECK_STR(id->name, "demo.pdb");
	struct bc_symbol s;
	REQUIRE_OK(bc_symtab_lookup_name(tab, "InitNode", &s));
	CHECK_EQ(s.rva, 4096);
	CHECK(s.is_function);
	REQUIRE_OK(bc_symtab_lookup_name(tab, "nodelist", &s));  // case-insensitive fallback
	CHECK_EQ(s.rva, 8192);
	CHECK(!s.is_function);
	REQUIRE_OK(bc_symtab_lookup_rva(tab, 4100, &s));
	CHECK_STR(s.name, "InitNode");
	REQUIRE_OK(bc_symtab_lookup_next(tab, 4100, &s));
	CHECK_STR(s.name, "AfterInit");
	CHECK(bc_symtab_lookup_rva(tab, 100, &s) == &bc_not_found);
	CHECK(bc_symtab_lookup_name(tab, "Absolute", &s) == &bc_not_found);
	bc_symtab_destroy(tab);
}

TEST(types_materialize_on_demand)
{
	struct bc_symtab *tab = open_table();
	REQUIRE(tab);
	CHECK(bc_symtab_has_types(tab));
	const struct bc_type *t, *ft;
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_NODE", &t));
	CHECK_EQ(t->kind, BC_TYPE_STRUCT);
	CHECK_EQ(t->size, 48);
	REQUIRE_EQ(t->field_count, 6);
	// Declaration order is offset order.
	CHECK_STR(t->fields[0].name, "Next");
	CHECK_STR(t->fields[1].name, "State");
	CHECK_STR(t->fields[2].name, "Flags");
	CHECK_EQ(t->fields[2].bit_position, 3);
	CHECK_EQ(t->fields[2].bit_length, 2);
	REQUIRE_OK(bc_symtab_type(tab, t->fields[0].type_id, &ft));
	CHECK_EQ(ft->kind, BC_TYPE_POINTER);
	CHECK_EQ(ft->size, 8);
	const struct bc_type *target;
	REQUIRE_OK(bc_symtab_type(tab, ft->target_id, &target));
	CHECK_EQ(target, t);  // the pointer leads back to the same _NODE
	REQUIRE_OK(bc_symtab_type(tab, t->fields[1].type_id, &ft));
	CHECK_EQ(ft->kind, BC_TYPE_ENUM);
	REQUIRE_EQ(ft->enumerator_count, 3);
	CHECK_STR(ft->enumerators[0].name, "Gone");
	CHECK_EQ(ft->enumerators[0].value, -1);
	REQUIRE_OK(bc_symtab_type(tab, t->fields[3].type_id, &ft));
	CHECK_EQ(ft->kind, BC_TYPE_ARRAY);
	CHECK_EQ(ft->count, 8);
	REQUIRE_OK(bc_symtab_type(tab, ft->target_id, &target));
	CHECK(target->is_char);
	CHECK_EQ(target->size, 2);
	REQUIRE_OK(bc_symtab_type(tab, t->fields[4].type_id, &ft));
	CHECK(ft->incomplete);
	CHECK_STR(ft->name, "_NOWHERE");
	REQUIRE_OK(bc_symtab_type(tab, t->fields[5].type_id, &ft));
	REQUIRE_OK(bc_symtab_type(tab, ft->target_id, &target));
	CHECK_EQ(target->kind, BC_TYPE_FUNCTION);
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_U", &t));
	CHECK_EQ(t->kind, BC_TYPE_UNION);
	CHECK(bc_symtab_type_by_name(tab, "_ABSENT", &t) == &bc_not_found);
	CHECK(bc_symtab_type(tab, 999999, &t) == &bc_not_found);
	bc_symtab_destroy(tab);
}

static void check_rejected(const char *json, const char *needle)
{
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_isf_open_memory(json, strlen(json), "bad.json", &tab);
	CHECK(err != NULL);
	if (err) {
		CHECK_CONTAINS(err->message, needle);
		bc_error_destroy(err);
	}
	bc_symtab_destroy(tab);
}

TEST(hostile_documents)
{
	check_rejected("", "not a JSON symbol table");
	check_rejected("[1,2,3]", "not a Volatility ISF table");
	check_rejected("{\"metadata\": {}, \"symbols\": 5}", "not a Volatility ISF table");
	check_rejected("{\"metadata\": {}, \"symbols\": {\"a\": {\"address\": 1}, "
		       "\"a\": {\"address\": 2}}}", "not a JSON symbol table");
	// Deep nesting: jansson's own depth limit refuses it, never a stack overflow.
	size_t n = 100000;
	char *deep = malloc(2 * n + 1);
	REQUIRE(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = 0;
	check_rejected(deep, "not a JSON symbol table");
	free(deep);
	// A pointer chain deeper than the descriptor limit fails when the type is asked for.
	char chain[8192] = "{\"metadata\": {}, \"symbols\": {}, \"base_types\": {}, \"enums\": {},"
			   " \"user_types\": {\"_T\": {\"kind\": \"struct\", \"size\": 8, \"fields\":"
			   " {\"p\": {\"offset\": 0, \"type\": ";
	for (int i = 0; i < 40; i++)
		strcat(chain, "{\"kind\": \"pointer\", \"subtype\": ");
	strcat(chain, "{\"kind\": \"base\", \"name\": \"x\"}");
	for (int i = 0; i < 40; i++)
		strcat(chain, "}");
	strcat(chain, "}}}}}");
	struct bc_symtab *tab;
	REQUIRE_OK(bc_isf_open_memory(chain, strlen(chain), "chain.json", &tab));
	const struct bc_type *t;
	struct bc_error *err = bc_symtab_type_by_name(tab, "_T", &t);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_symtab_destroy(tab);
	// Wrong types where objects are expected are ignored field by field.
	const char *odd = "{\"metadata\": {\"windows\": 7}, \"symbols\": {\"s\": 5, \"t\": "
			  "{\"address\": \"x\"}}, \"user_types\": {\"_X\": {\"kind\": 3, "
			  "\"fields\": {\"f\": {\"type\": {\"kind\": \"nonsense\"}}}}}}";
	REQUIRE_OK(bc_isf_open_memory(odd, strlen(odd), "odd.json", &tab));
	CHECK_EQ(bc_symtab_symbol_count(tab), 0);
	err = bc_symtab_type_by_name(tab, "_X", &t);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_symtab_destroy(tab);
}

TEST_MAIN()
