// !analyze -show CODE [P1..P4] run through the bugcheck CLI ($BC_BUGCHECK) on
// synthetic x64 and x86 dumps: the layout of the head of WinDbg's !analyze -v
// (../shared/docs/WINDBG_OUTPUT.md 1.5 and 1.7: "NAME (code)", the
// explanation, "Arguments:", "ArgN: value, text" with 16 hex digits on x64
// and 8 on x86, the line ending after the value when nothing is known), with
// the meanings the bug check reference gives (0x7F Arg1 8 is
// EXCEPTION_DOUBLE_FAULT).
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mkdump.h"
#include "test.h"

// Writes a synthetic dump of @machine; returns its path (malloc'd) or NULL.
static char *write_dump(enum bc_fixture_machine machine)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/bc_test_analyze_show_XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return NULL;
	int fd = mkstemp(path);
	if (fd < 0) {
		TEST_FAIL_AT("mkstemp %s failed", path);
		free(path);
		return NULL;
	}
	close(fd);
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL, .machine = machine };
	struct bc_error *err = bc_fixture_write_file(&spec, NULL, path);
	if (err) {
		TEST_FAIL_AT("writing the dump: %s", err->message);
		bc_error_destroy(err);
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

// Writes a dump of @machine, runs "bugcheck -q DUMP -c COMMANDS" on it and
// returns stdout and stderr (malloc'd), or NULL after failing the test.
static char *run_cli(enum bc_fixture_machine machine, const char *commands)
{
	const char *exe = getenv("BC_BUGCHECK");
	if (!exe) {
		TEST_FAIL_AT("BC_BUGCHECK is not set (ctest sets it to the built CLI)");
		return NULL;
	}
	char *dump = write_dump(machine);
	if (!dump)
		return NULL;
	// The paths come from ctest and mkstemp, the commands from this file:
	// none holds a single quote.
	char *cmd = NULL, *out = NULL;
	if (asprintf(&cmd, "'%s' -q '%s' -c '%s' 2>&1", exe, dump, commands) >= 0)
		out = bc_test_command_output(cmd);
	if (!out)
		TEST_FAIL_AT("could not run %s", exe);
	free(cmd);
	unlink(dump);
	free(dump);
	return out;
}

// Does @out hold @line as a whole line?
static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define CHECK_LINE(out, line)                                                  \
	do {                                                                   \
		if (!has_line((out), (line)))                                  \
			TEST_FAIL_AT("no line \"%s\" in:\n%s", (line), (out)); \
	} while (0)

TEST(double_fault_x64)
{
	char *out = run_cli(BC_FIXTURE_X64, "!analyze -show 7f 8 0 0 0");
	REQUIRE(out);
	// The first line names the check; "Arguments:" follows the explanation.
	CHECK(!strncmp(out, "UNEXPECTED_KERNEL_MODE_TRAP (7f)\n", 33));
	const char *args = strstr(out, "\nArguments:\n");
	CHECK(args != NULL);
	CHECK_LINE(out, "Arg1: 0000000000000008, EXCEPTION_DOUBLE_FAULT");
	// The reference documents nothing for Arg2-Arg4: the value alone.
	CHECK_LINE(out, "Arg2: 0000000000000000");
	CHECK_LINE(out, "Arg3: 0000000000000000");
	CHECK_LINE(out, "Arg4: 0000000000000000");
	// Arg1's longer note follows on lines that start with a TAB.
	const char *arg1 = strstr(out, "Arg1: ");
	const char *nl = arg1 ? strchr(arg1, '\n') : NULL;
	CHECK(nl && nl[1] == '\t');
	free(out);
}

TEST(double_fault_x86)
{
	char *out = run_cli(BC_FIXTURE_X86_PAE, "!analyze -show 7f 8 801e6000");
	REQUIRE(out);
	CHECK_LINE(out, "UNEXPECTED_KERNEL_MODE_TRAP (7f)");
	CHECK_LINE(out, "Arg1: 00000008, EXCEPTION_DOUBLE_FAULT");
	CHECK_LINE(out, "Arg2: 801e6000");
	CHECK_LINE(out, "Arg4: 00000000");
	free(out);
}

// WINDBG_OUTPUT.md 1.1's values; the texts are ours, the kinds the reference's.
TEST(irql_and_exceptions_x64)
{
	char *out = run_cli(BC_FIXTURE_X64, "!analyze -show d1 ffff8001acdc6010 2 0 fffff805736312d0; "
				  "!analyze -show 1000007e ffffffffc0000005 0 0 0; "
				  "!analyze -show 50 0 10 0 4");
	REQUIRE(out);
	CHECK_LINE(out, "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)");
	CHECK_LINE(out, "Arg1: ffff8001acdc6010, the address referenced");
	CHECK_LINE(out, "Arg3: 0000000000000000, kind of access: read");
	CHECK_LINE(out, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (1000007e)");
	CHECK_LINE(out, "Arg1: ffffffffc0000005, the exception code that was not handled: "
			"STATUS_ACCESS_VIOLATION");
	CHECK_LINE(out, "PAGE_FAULT_IN_NONPAGED_AREA (50)");
	CHECK_LINE(out, "Arg2: 0000000000000010, kind of access: execute");
	CHECK_LINE(out, "Arg4: 0000000000000004, NONPAGED_BUGCHECK_VA_NOT_CANONICAL");
	free(out);
}

TEST(refusals)
{
	char *out = run_cli(BC_FIXTURE_X64, "!analyze -x; !analyze -show; !analyze -show 12345; "
				  "!analyze -show 7f zz; !analyze -show 1 2 3 4 5 6");
	REQUIRE(out);
	CHECK_LINE(out, "!analyze: usage: !analyze [-v] | !analyze -show CODE [P1 [P2 [P3 [P4]]]]");
	CHECK_LINE(out, "!analyze: usage: !analyze -show CODE [P1 [P2 [P3 [P4]]]]");
	CHECK_LINE(out, "!analyze: bug check 0x12345 is not in the knowledge base");
	CHECK_CONTAINS(out, "zz");
	CHECK_LINE(out, "!analyze: too many values: -show CODE [P1 [P2 [P3 [P4]]]]");
	CHECK(!strstr(out, "Arguments:"));
	free(out);
}
TEST_MAIN()
