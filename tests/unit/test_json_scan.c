// The span walker the ISF tables are read with (sym/json_scan.h): what it
// accepts and refuses, member lookup, string decoding, integers.
#include <string.h>

#include "sym/json_scan.h"
#include "test.h"

static bool whole(const char *json)
{
	struct bc_json_span v;
	return bc_json_value(json, strlen(json), 0, &v) && v.start == strspn(json, " \n\t") &&
	       json[v.end + strspn(json + v.end, " \n\t")] == 0;
}

TEST(values_are_delimited)
{
	CHECK(whole("{}"));
	CHECK(whole(" [1, -2.5e3, true, null, \"a\\\"b\", {\"k\": [[], {}]}] "));
	CHECK(whole("\"\\u00e9\""));
	CHECK(whole("123"));
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\": 1,}", "{\"a\" 1}", "{1: 2}", "[1 2]", "{\"a\": 1]",
		"[}", "\"unterminated", "\"tab\tinside\"", "{\"a\":}", "]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (whole(bad[i]))
			TEST_FAIL_AT("accepted %s", bad[i]);
	char deep[601];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600] = 0;  // 300 deep, well-formed, but over the cap of 256
	CHECK(!whole(deep));
	memset(deep, 0, sizeof(deep));
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	CHECK(whole(deep));
}

TEST(members_and_strings)
{
	const char *json = "{\"address\": 4096, \"type\": {\"kind\": \"function\"}, "
			   "\"n\\u00e9\": -7, \"big\": 99999999999999999999}";
	struct bc_json_span obj, v, kind;
	REQUIRE(bc_json_value(json, strlen(json), 0, &obj));
	int64_t i;
	REQUIRE(bc_json_member(json, obj, "address", &v));
	CHECK(bc_json_integer(json, v, &i) && i == 4096);
	REQUIRE(bc_json_member(json, obj, "type", &v));
	REQUIRE(bc_json_member(json, v, "kind", &kind));
	CHECK(bc_json_string_is(json, kind, "function"));
	CHECK(!bc_json_string_is(json, kind, "func"));
	REQUIRE(bc_json_member(json, obj, "n\\u00e9", &v));  // raw key comparison
	CHECK(bc_json_integer(json, v, &i) && i == -7);
	REQUIRE(bc_json_member(json, obj, "big", &v));
	CHECK(!bc_json_integer(json, v, &i));
	CHECK(!bc_json_member(json, obj, "absent", &v));
	// Decoding: escapes, a two-byte and a four-byte (surrogate pair) character.
	const char *s = "a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00";
	char out[64];
	REQUIRE(bc_json_decode_string(s, (struct bc_json_span){ 0, strlen(s) }, out));
	CHECK_STR(out, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
	static const char *const bad[] = { "\\x", "\\u12", "\\ud83d", "\\ude00", "\\u0000", "\\" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (bc_json_decode_string(bad[k], (struct bc_json_span){ 0, strlen(bad[k]) }, out))
			TEST_FAIL_AT("decoded %s", bad[k]);
}

TEST_MAIN()
