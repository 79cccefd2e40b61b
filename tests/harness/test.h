/*
 * tests/harness/test.h: the in-tree unit test harness (TAP output).
 *
 * A test file defines functions with TEST(name) { ... } and ends with
 * TEST_MAIN(). Each test runs in order; `prog NAME` runs only tests whose
 * name contains NAME. CHECK* macros record a failure and continue; REQUIRE*
 * stop the current test. SKIP("why") ends a test as skipped (TAP "# SKIP").
 * Values in failure messages are printed in hex, the way dumps are read.
 */
#ifndef BC_TEST_H
#define BC_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bc_test {
	const char *name;
	void (*fn)(void);
};

struct bc_test_state {
	int failures;      // in the current test
	bool skipped;
	const char *skip_reason;
};

extern struct bc_test_state bc_test_state;
void bc_test_register(const char *name, void (*fn)(void));
int bc_test_main(int argc, char **argv);
/**
 * Runs the shell command @cmd and returns what it wrote to stdout (malloc'd,
 * NUL-terminated, at most 64 KiB), or NULL if it could not be started.
 */
char *bc_test_command_output(const char *cmd);
/**
 * Runs the shell command @cmd with its stderr joined to stdout; returns all
 * it wrote (malloc'd, NUL-terminated; NULL when it could not be started)
 * and its exit status in *@status (may be NULL; -1 when it did not exit).
 */
char *bc_test_run_shell(const char *cmd, int *status);
/**
 * Runs "bugcheck -q OPTIONS DUMP [-c COMMANDS]" (the CLI ctest names in
 * $BC_BUGCHECK) as bc_test_run_shell() does; @options go to the shell as
 * they are (quote them), @commands may be NULL. NULL after failing the test.
 */
char *bc_test_run_bugcheck(const char *options, const char *dump, const char *commands,
			   int *status);
/** Appends @s to the command line @cmd quoted for sh ('...', ' as '\''). */
void bc_test_append_quoted(char *cmd, size_t size, const char *s);
/**
 * Puts the shared test inputs' directory (BC_SHARED_DIR, else ../shared)
 * into @dir; true when @probe (a path under it) exists, so the test can run.
 */
bool bc_test_find_shared(char *dir, size_t size, const char *probe);

#define TEST(name)                                                             \
	static void test_##name(void);                                         \
	__attribute__((constructor)) static void register_##name(void)         \
	{                                                                      \
		bc_test_register(#name, test_##name);                          \
	}                                                                      \
	static void test_##name(void)

#define TEST_FAIL_AT(...)                                                      \
	do {                                                                   \
		printf("#   %s:%d: ", __FILE__, __LINE__);                     \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		bc_test_state.failures++;                                      \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			TEST_FAIL_AT("CHECK(%s) failed", #cond);               \
	} while (0)

#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			TEST_FAIL_AT("REQUIRE(%s) failed", #cond);             \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		if (a_ != b_)                                                  \
			TEST_FAIL_AT("%s == %#" PRIx64 ", expected %s == %#" PRIx64, \
				     #a, a_, #b, b_);                          \
	} while (0)

#define REQUIRE_EQ(a, b)                                                       \
	do {                                                                   \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);               \
		if (a_ != b_) {                                                \
			TEST_FAIL_AT("%s == %#" PRIx64 ", expected %s == %#" PRIx64, \
				     #a, a_, #b, b_);                          \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_))                              \
			TEST_FAIL_AT("%s == \"%s\", expected \"%s\"", #a,      \
				     a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                   \
		const char *h_ = (hay), *n_ = (needle);                        \
		if (!h_ || !strstr(h_, n_))                                    \
			TEST_FAIL_AT("%s does not contain \"%s\": \"%s\"", #hay, n_, \
				     h_ ? h_ : "(null)");                      \
	} while (0)

/** Fails the test if err is non-NULL, printing its message, and returns. */
#define REQUIRE_OK(expr)                                                       \
	do {                                                                   \
		struct bc_error *e_ = (expr);                                  \
		if (e_) {                                                      \
			TEST_FAIL_AT("%s failed: %s", #expr, e_->message);     \
			bc_error_destroy(e_);                                  \
			return;                                                \
		}                                                              \
	} while (0)

#define SKIP(why)                                                              \
	do {                                                                   \
		bc_test_state.skipped = true;                                  \
		bc_test_state.skip_reason = (why);                             \
		return;                                                        \
	} while (0)

#define TEST_MAIN()                                                            \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		return bc_test_main(argc, argv);                               \
	}

#endif
