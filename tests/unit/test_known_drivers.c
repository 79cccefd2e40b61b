// The known-problem driver list (bugcheck/known_drivers.h): the compiled-in
// data/known_drivers.txt parses and every entry is well formed; the demo's
// iaStor.sys linked 2012-02-01 gets the storage advice naming storahci.sys,
// while the same name linked in 2020 does not match the "old" entry; names
// match in any case, prefixes work and an exact name beats them; and hostile
// text is refused with the line it stopped at.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/known_drivers.h"
#include "test.h"

// Epoch seconds worked out by hand (days since 1970-01-01 times 86400) and
// checked with `date -u -d 2012-02-01 +%s`.
#define T_2012_02_01 1328054400u  // 2012-02-01 00:00:00 UTC
#define T_2013_12_31 1388534399u  // 2013-12-31 23:59:59 UTC, one second before 2014
#define T_2014_01_01 1388534400u  // 2014-01-01 00:00:00 UTC
#define T_2020_06_15 1592179200u  // 2020-06-15 00:00:00 UTC
// The demo scenario's iaStor.sys (tests/fixtures/gen/mkdump_scenario.c):
// 0x4f2995d9 is 2012-02-01 19:43:21 UTC.
#define T_DEMO_IASTOR 0x4f2995d9u

static struct bc_known_drivers *open_list(void)
{
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_open(&kd);
	if (err) {
		TEST_FAIL_AT("bc_known_drivers_open: %s", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	return kd;
}

static const char *const categories[] = {
	"storage",        "antivirus",  "anticheat", "vpn-network", "graphics",
	"virtualization", "monitoring", "overclocking-tools", "audio", "other",
};

TEST(compiled_in_list_parses)
{
	struct bc_known_drivers *kd = open_list();
	REQUIRE(kd);
	size_t n = bc_known_drivers_count(kd);
	CHECK(n >= 60);
	unsigned per_category[10] = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct bc_known_driver *d = bc_known_drivers_entry(kd, i);
		REQUIRE(d);
		CHECK(d->pattern && *d->pattern);
		CHECK(d->vendor && *d->vendor);
		CHECK(d->problem && *d->problem);
		CHECK(d->advice && *d->advice);
		CHECK(d->line > 0);
		CHECK(strncasecmp(d->vendor, "Microsoft", 9));
		bool known = false;
		for (size_t c = 0; c < 10; c++) {
			if (d->category && !strcmp(d->category, categories[c])) {
				known = true;
				per_category[c]++;
			}
		}
		if (!known)
			TEST_FAIL_AT("%s: category %s", d->pattern, d->category ? d->category : "(null)");
		// Every entry is found by its own name (a prefix by itself plus ".sys").
		char name[96];
		size_t len = strlen(d->pattern);
		if (d->pattern[len - 1] == '*')
			snprintf(name, sizeof(name), "%.*sX.sys", (int)(len - 1), d->pattern);
		else
			snprintf(name, sizeof(name), "%s", d->pattern);
		const struct bc_known_driver *found = bc_known_drivers_lookup(kd, name, 0);
		if (found != d)
			TEST_FAIL_AT("%s (line %zu) is not what %s finds", d->pattern, d->line, name);
	}
	CHECK(!bc_known_drivers_entry(kd, n));
	// The kinds the brief asks for are all there.
	for (size_t c = 0; c < 10; c++)
		if (!per_category[c])
			TEST_FAIL_AT("no %s drivers", categories[c]);
	printf("# %zu drivers\n", n);
	bc_known_drivers_close(kd);
}

TEST(year_start)
{
	CHECK_EQ(bc_known_drivers_year_start(1970), 0);
	CHECK_EQ(bc_known_drivers_year_start(1971), 31536000);
	CHECK_EQ(bc_known_drivers_year_start(2000), 946684800);
	CHECK_EQ(bc_known_drivers_year_start(2001), 978307200);  // 2000 was a leap year
	CHECK_EQ(bc_known_drivers_year_start(2012), 1325376000);
	CHECK_EQ(bc_known_drivers_year_start(2014), T_2014_01_01);
	CHECK_EQ(bc_known_drivers_year_start(2100), 4102444800ull);
	CHECK_EQ(bc_known_drivers_year_start(2101), 4133980800ull);  // 2100 is not
}

// The demo: an iaStor.sys from 2012 is the old Intel RST driver to replace.
TEST(old_iastor_gets_storage_advice)
{
	struct bc_known_drivers *kd = open_list();
	REQUIRE(kd);
	static const uint32_t stamps[] = { T_2012_02_01, T_DEMO_IASTOR, T_2013_12_31, 0 };
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		const struct bc_known_driver *d = bc_known_drivers_lookup(kd, "iaStor.sys", stamps[i]);
		if (!d) {
			TEST_FAIL_AT("iaStor.sys stamped %#x: no entry", stamps[i]);
			continue;
		}
		CHECK_STR(d->pattern, "iaStor.sys");
		CHECK_STR(d->category, "storage");
		CHECK_EQ(d->old_before_year, 2014);
		CHECK_CONTAINS(d->vendor, "Intel");
		CHECK_CONTAINS(d->advice, "storahci.sys");
		CHECK_CONTAINS(d->advice, "Update to the current Intel RST driver");
	}
	bc_known_drivers_close(kd);
}

TEST(new_iastor_does_not_match_the_old_entry)
{
	struct bc_known_drivers *kd = open_list();
	REQUIRE(kd);
	const struct bc_known_driver *d = bc_known_drivers_lookup(kd, "iaStor.sys", T_2020_06_15);
	CHECK(!d || d->old_before_year == 0);
	CHECK(!d);  // and no other entry names iaStor.sys
	d = bc_known_drivers_lookup(kd, "iaStor.sys", T_2014_01_01);
	CHECK(!d);
	bc_known_drivers_close(kd);
}

TEST(names_match_in_any_case_and_paths_are_cut)
{
	struct bc_known_drivers *kd = open_list();
	REQUIRE(kd);
	static const char *const names[] = {
		"IASTOR.SYS", "iastor.sys", "IaStOr.SyS",
		"\\SystemRoot\\System32\\drivers\\iaStor.sys", "C:/Windows/System32/drivers/IASTOR.sys",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct bc_known_driver *d = bc_known_drivers_lookup(kd, names[i], T_2012_02_01);
		if (!d || strcmp(d->pattern, "iaStor.sys"))
			TEST_FAIL_AT("%s: %s", names[i], d ? d->pattern : "no entry");
	}
	CHECK(!bc_known_drivers_lookup(kd, "iaStor", T_2012_02_01));  // the file name, not WinDbg's short name
	CHECK(!bc_known_drivers_lookup(kd, "iaStor.sys.bak", T_2012_02_01));
	CHECK(!bc_known_drivers_lookup(kd, "", 0));
	CHECK(!bc_known_drivers_lookup(kd, "drivers\\", 0));
	CHECK(!bc_known_drivers_lookup(kd, NULL, 0));
	CHECK(!bc_known_drivers_lookup(NULL, "iaStor.sys", 0));
	// Windows' own drivers are never anyone's culprit.
	static const char *const microsoft[] = { "ntoskrnl.exe", "storahci.sys", "ntfs.sys",
						 "tcpip.sys", "dxgkrnl.sys", "Wdf01000.sys" };
	for (size_t i = 0; i < sizeof(microsoft) / sizeof(microsoft[0]); i++)
		if (bc_known_drivers_lookup(kd, microsoft[i], 0))
			TEST_FAIL_AT("%s is listed", microsoft[i]);
	bc_known_drivers_close(kd);
}

TEST(prefixes_in_the_compiled_in_list)
{
	struct bc_known_drivers *kd = open_list();
	REQUIRE(kd);
	const struct bc_known_driver *d = bc_known_drivers_lookup(kd, "aswSP.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->pattern, "aswSP*");  // the longer prefix, not asw*
	CHECK_STR(d->category, "antivirus");
	d = bc_known_drivers_lookup(kd, "ASWSNX.SYS", 0);
	REQUIRE(d);
	CHECK_STR(d->pattern, "aswSnx.sys");  // the exact name, not asw*
	d = bc_known_drivers_lookup(kd, "aswStm.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->pattern, "asw*");
	d = bc_known_drivers_lookup(kd, "VBoxDrv.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->pattern, "VBoxDrv.sys");
	d = bc_known_drivers_lookup(kd, "VBoxNetLwf.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->pattern, "VBox*");
	d = bc_known_drivers_lookup(kd, "Netwtw08.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->category, "vpn-network");
	d = bc_known_drivers_lookup(kd, "RTCore64.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->category, "overclocking-tools");
	d = bc_known_drivers_lookup(kd, "nvlddmkm.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->category, "graphics");
	d = bc_known_drivers_lookup(kd, "vgk.sys", 0);
	REQUIRE(d);
	CHECK_STR(d->category, "anticheat");
	bc_known_drivers_close(kd);
}

static struct bc_known_drivers *parse_ok(const char *text)
{
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_parse(text, strlen(text), "test.txt", &kd);
	if (err) {
		TEST_FAIL_AT("refused: %s", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	return kd;
}

#define ENTRY(pattern, extra)                                                   \
	"driver " pattern "\ncategory other\nvendor V " pattern "\n" extra      \
	"problem P.\nadvice A.\n"

// Precedence on a small list: exact over any prefix, the longest prefix
// among prefixes, whatever the order of the lines; and an old entry that does
// not apply leaves the field to the others.
TEST(precedence)
{
	static const char text[] =
		"# precedence\r\n"
		ENTRY("abc*", "")
		"\n"
		ENTRY("abcdef.sys", "")
		ENTRY("abcde*", "")
		ENTRY("abcd*", "")
		ENTRY("xyzold.sys", "old-before 2014\n")
		ENTRY("xyz*", "");
	struct bc_known_drivers *kd = parse_ok(text);
	REQUIRE(kd);
	CHECK_EQ(bc_known_drivers_count(kd), 6);
	const struct bc_known_driver *d;
	CHECK((d = bc_known_drivers_lookup(kd, "ABCDEF.SYS", 0)) && !strcmp(d->pattern, "abcdef.sys"));
	CHECK((d = bc_known_drivers_lookup(kd, "abcdefg.sys", 0)) && !strcmp(d->pattern, "abcde*"));
	CHECK((d = bc_known_drivers_lookup(kd, "abcdX.sys", 0)) && !strcmp(d->pattern, "abcd*"));
	CHECK((d = bc_known_drivers_lookup(kd, "abc.sys", 0)) && !strcmp(d->pattern, "abc*"));
	CHECK((d = bc_known_drivers_lookup(kd, "abc", 0)) && !strcmp(d->pattern, "abc*"));
	CHECK(!bc_known_drivers_lookup(kd, "ab.sys", 0));
	d = bc_known_drivers_lookup(kd, "xyzold.sys", T_2012_02_01);
	CHECK(d && !strcmp(d->pattern, "xyzold.sys") && d->old_before_year == 2014);
	CHECK(d && !strcmp(d->vendor, "V xyzold.sys") && !strcmp(d->problem, "P.") &&
	      !strcmp(d->advice, "A.") && !strcmp(d->category, "other"));
	CHECK(d && d->line == 23);
	// Too new for the old entry: the prefix is what is left.
	CHECK((d = bc_known_drivers_lookup(kd, "xyzold.sys", T_2020_06_15)) && !strcmp(d->pattern, "xyz*"));
	CHECK((d = bc_known_drivers_lookup(kd, "xyzold.sys", 0)) && !strcmp(d->pattern, "xyzold.sys"));
	bc_known_drivers_close(kd);
}

// Parses @text (@size bytes) and expects it refused with a format error
// whose message holds @want.
static void expect_refused_n(const char *text, size_t size, const char *want)
{
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_parse(text, size, NULL, &kd);
	if (!err) {
		TEST_FAIL_AT("accepted: \"%.*s\"", (int)size, text);
		bc_known_drivers_close(kd);
		return;
	}
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK(!kd);
	CHECK_CONTAINS(err->message, want);
	bc_error_destroy(err);
}

static void expect_refused(const char *text, const char *want)
{
	expect_refused_n(text, strlen(text), want);
}

TEST(parser_refuses_hostile_text)
{
	expect_refused("", "known_drivers.txt: no drivers listed");
	expect_refused("# only a comment\n\n", "no drivers listed");
	expect_refused("frobnicate x\n", "known_drivers.txt line 1: unknown keyword");
	expect_refused("category storage\n", "line 1: category before any driver line");
	// Missing fields: the message names the driver's line.
	expect_refused("# c\ndriver a.sys\ncategory other\nvendor V\nproblem P.\n",
		       "known_drivers.txt line 2: a.sys has no advice line");
	expect_refused("driver a.sys\nvendor V\nproblem P.\nadvice A.\n", "line 1: a.sys has no category line");
	expect_refused("driver a.sys\ncategory other\nproblem P.\nadvice A.\n", "line 1: a.sys has no vendor line");
	expect_refused(ENTRY("a.sys", "") "driver b.sys\ncategory other\nvendor V\nadvice A.\n" ENTRY("c.sys", ""),
		       "line 6: b.sys has no problem line");
	expect_refused("driver\n", "line 1: driver: expected one image name");
	expect_refused("driver a.sys b.sys\n", "line 1: driver: expected one image name");
	expect_refused("driver a*b.sys\n", "'*' may only end a pattern");
	expect_refused("driver *\n", "at least 3 characters");
	expect_refused("driver ab*\n", "at least 3 characters");
	expect_refused("driver iaStor\n", "line 1: driver: an exact image name needs its extension");
	expect_refused("driver a.sys\"\n", "only letters, digits");
	expect_refused("driver a/b.sys\n", "only letters, digits");
	expect_refused("driver aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sys\n",
		       "longer than 64 characters");
	expect_refused(ENTRY("a.sys", "") ENTRY("A.SYS", ""), "line 6: A.SYS is already listed on line 1");
	expect_refused(ENTRY("abc*", "") ENTRY("ABC*", ""), "line 6: ABC* is already listed on line 1");
	// Bad categories and years.
	expect_refused("driver a.sys\ncategory Storage\n", "line 2: category: expected one of");
	expect_refused("driver a.sys\ncategory storage antivirus\n", "line 2: category: expected one of");
	expect_refused("driver a.sys\ncategory\n", "line 2: category: expected one of");
	expect_refused("driver a.sys\nold-before 14\n", "line 2: old-before: expected a year of four digits");
	expect_refused("driver a.sys\nold-before 20x4\n", "line 2: old-before: expected a year");
	expect_refused("driver a.sys\nold-before -201\n", "line 2: old-before: expected a year");
	expect_refused("driver a.sys\nold-before 2014 2015\n", "line 2: old-before: expected a year");
	expect_refused("driver a.sys\nold-before 1989\n", "line 2: old-before: the year must be between");
	expect_refused("driver a.sys\nold-before 9999\n", "line 2: old-before: the year must be between");
	expect_refused("driver a.sys\nold-before\n", "line 2: old-before: expected a year");
	expect_refused("driver a.sys\nold-before 2014\nold-before 2015\n", "line 3: old-before: given twice for a.sys");
	expect_refused("driver a.sys\nvendor V\nvendor W\n", "line 3: vendor: given twice for a.sys (line 1)");
	expect_refused("driver a.sys\nvendor\n", "line 2: vendor: empty");
	expect_refused("driver a.sys\nproblem no full stop\n", "line 2: problem: one sentence, ending with '.'");
	expect_refused("driver a.sys\nadvice   \n", "line 2: advice: empty");
	// Microsoft's own drivers are never listed.
	expect_refused("driver storahci.sys\n", "line 1: storahci.sys would name Microsoft's storahci.sys");
	expect_refused("driver NTFS.SYS\n", "Microsoft's ntfs.sys");
	expect_refused("driver ntos*\n", "Microsoft's ntoskrnl.exe");
	expect_refused("driver dxg*\n", "Microsoft's dxgkrnl.sys");
	expect_refused("driver a.sys\nvendor Microsoft Corporation\n", "line 2: vendor: Windows' own drivers are not listed");
	// Bytes that do not belong in the text.
	static const char nul[] = "# c\ndriver a.sys\ncategory oth\0er\n";
	expect_refused_n(nul, sizeof(nul) - 1, "known_drivers.txt line 3: a NUL byte");
	static const char nul_last[] = "driver a.sys\0";
	expect_refused_n(nul_last, sizeof(nul_last) - 1, "line 1: a NUL byte");
	expect_refused("driver a.sys\nvendor V\x01W\n", "line 2: only printable ASCII");
	expect_refused("driver a.sys\nvendor Soci\xc3\xa9t\xc3\xa9\n", "line 2: only printable ASCII");
	expect_refused("driver a.sys\nvendor V\x7f\n", "line 2: only printable ASCII");
	// An overlong line, even a comment.
	char *lng = malloc(2000);
	REQUIRE(lng);
	strcpy(lng, "driver a.sys\n#");
	memset(lng + strlen(lng), 'x', 600);
	strcpy(lng + 14 + 600, "\n");
	expect_refused(lng, "known_drivers.txt line 2: longer than 512 bytes");
	// 512 bytes exactly is fine (a comment here, then a valid entry).
	strcpy(lng, "#");
	memset(lng + 1, 'x', 511);
	strcpy(lng + 512, "\n" ENTRY("a.sys", ""));
	struct bc_known_drivers *kd = parse_ok(lng);
	CHECK(kd);
	bc_known_drivers_close(kd);
	free(lng);
}

// The error names the caller's @what and carries the bad line's offset.
TEST(errors_name_the_source)
{
	static const char text[] = "# one\ndriver a.sys\nbogus\n";
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_parse(text, strlen(text), "my-list.txt", &kd);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "my-list.txt line 3: unknown keyword");
	CHECK_EQ(err->file_offset, 19);
	CHECK(!kd);
	bc_error_destroy(err);
	// Text without a final newline, and not NUL-terminated.
	static const char unterminated[] = ENTRY("a.sys", "") "driver b.sys\ncategory other\n"
					   "vendor V\nproblem P.\nadvice A.XXXX";
	REQUIRE_OK(bc_known_drivers_parse(unterminated, sizeof(unterminated) - 1 - 4, NULL, &kd));
	const struct bc_known_driver *d = bc_known_drivers_lookup(kd, "b.sys", 0);
	CHECK(d && !strcmp(d->advice, "A."));
	bc_known_drivers_close(kd);
}

// Many entries: the cap holds and is reported with its line.
TEST(the_entry_count_is_capped)
{
	size_t cap = 5000 * 80;
	char *text = malloc(cap);
	REQUIRE(text);
	size_t at = 0;
	for (int i = 0; i < 5000; i++)
		at += (size_t)snprintf(text + at, cap - at,
				       "driver d%d.sys\ncategory other\nvendor V\nproblem P.\nadvice A.\n", i);
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_parse(text, at, NULL, &kd);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "line 20481: more than 4096 drivers");
	CHECK(!kd);
	bc_error_destroy(err);
	free(text);
}

// The text tools/embed_text.cmake compiles into the library.
extern const char bc_known_drivers_text[];
extern const size_t bc_known_drivers_text_size;

// Damaged copies of the real list (bytes overwritten, truncated) are parsed
// and, when accepted, looked up: no crash, no leak (ASan), and a refusal is
// always a format error naming a line or saying the list is empty.
TEST(parser_survives_damaged_text)
{
	size_t size = bc_known_drivers_text_size;
	char *copy = malloc(size);
	REQUIRE(copy);
	static const char junk[] = "\n \t#*.Zdriver\r\0\x80";
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	unsigned accepted = 0;
	for (int round = 0; round < 300; round++) {
		memcpy(copy, bc_known_drivers_text, size);
		size_t len = size;
		for (int k = 0; k < 6; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			copy[(seed >> 17) % size] = junk[(seed >> 7) % (sizeof(junk) - 1)];
		}
		if (round % 3 == 0)
			len = (seed >> 23) % size;
		struct bc_known_drivers *kd = NULL;
		struct bc_error *err = bc_known_drivers_parse(copy, len, NULL, &kd);
		if (err) {
			CHECK_EQ(err->code, BC_ERR_FORMAT);
			CHECK(strstr(err->message, " line ") || strstr(err->message, "no drivers"));
			CHECK(!kd);
			bc_error_destroy(err);
			continue;
		}
		accepted++;
		(void)bc_known_drivers_lookup(kd, "iaStor.sys", T_2012_02_01);
		(void)bc_known_drivers_lookup(kd, "aswSP.sys", 0);
		bc_known_drivers_close(kd);
	}
	free(copy);
	printf("# %u of 300 damaged texts still parsed\n", accepted);
}
TEST_MAIN()
