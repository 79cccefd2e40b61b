// The unit test runner: see test.h.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"

struct bc_test_state bc_test_state;
static struct bc_test tests[512];
static int test_count;

void bc_test_register(const char *name, void (*fn)(void))
{
	if (test_count < (int)(sizeof(tests) / sizeof(tests[0])))
		tests[test_count++] = (struct bc_test){ name, fn };
}

int bc_test_main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int run = 0, failed = 0, skipped = 0;
	for (int i = 0; i < test_count; i++)
		if (!filter || strstr(tests[i].name, filter))
			run++;
	printf("1..%d\n", run);
	int n = 0;
	for (int i = 0; i < test_count; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		bc_test_state = (struct bc_test_state){ 0 };
		tests[i].fn();
		fflush(stdout);
		n++;
		if (bc_test_state.failures) {
			printf("not ok %d - %s\n", n, tests[i].name);
			failed++;
		} else if (bc_test_state.skipped) {
			printf("ok %d - %s # SKIP %s\n", n, tests[i].name, bc_test_state.skip_reason);
			skipped++;
		} else {
			printf("ok %d - %s\n", n, tests[i].name);
		}
	}
	printf("# %d passed, %d failed, %d skipped\n", run - failed - skipped, failed, skipped);
	if (failed)
		return 1;
	// Everything skipped (e.g. ../shared absent): tell ctest with code 77.
	return run && skipped == run ? 77 : 0;
}

char *bc_test_command_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	size_t cap = 1 << 16, len = 0, n;
	char *out = malloc(cap);
	while (out && len + 1 < cap && (n = fread(out + len, 1, cap - len - 1, p)) > 0)
		len += n;
	pclose(p);
	if (out)
		out[len] = '\0';
	return out;
}

char *bc_test_run_shell(const char *cmd, int *status)
{
	char *joined = NULL;
	if (asprintf(&joined, "%s 2>&1", cmd) < 0)
		return NULL;
	FILE *p = popen(joined, "r");
	free(joined);
	if (!p)
		return NULL;
	size_t cap = 1 << 16, len = 0, n;
	char *out = malloc(cap);
	while (out && (n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *grown = realloc(out, cap * 2);
			if (!grown) {
				free(out);
				out = NULL;
				break;
			}
			out = grown;
			cap *= 2;
		}
	}
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (out)
		out[len] = '\0';
	return out;
}

void bc_test_append_quoted(char *cmd, size_t size, const char *s)
{
	size_t n = strlen(cmd);
	if (n + 1 < size)
		cmd[n++] = '\'';
	for (; *s && n + 5 < size; s++) {
		if (*s == '\'') {
			memcpy(cmd + n, "'\\''", 4);
			n += 4;
		} else {
			cmd[n++] = *s;
		}
	}
	if (n + 2 < size)
		cmd[n++] = '\'';
	cmd[n] = 0;
}

char *bc_test_run_bugcheck(const char *options, const char *dump, const char *commands,
			   int *status)
{
	const char *exe = getenv("BC_BUGCHECK");
	if (!exe) {
		TEST_FAIL_AT("BC_BUGCHECK is not set (ctest sets it to the built CLI)");
		return NULL;
	}
	char cmd[16384] = "";
	bc_test_append_quoted(cmd, sizeof(cmd), exe);
	strcat(cmd, " -q ");
	if (strlen(options) + strlen(cmd) + 2 < sizeof(cmd)) {
		strcat(cmd, options);
		strcat(cmd, " ");
	}
	bc_test_append_quoted(cmd, sizeof(cmd), dump);
	if (commands) {
		strcat(cmd, " -c ");
		bc_test_append_quoted(cmd, sizeof(cmd), commands);
	}
	char *out = bc_test_run_shell(cmd, status);
	if (!out)
		TEST_FAIL_AT("could not run %s", exe);
	return out;
}

bool bc_test_find_shared(char *dir, size_t size, const char *probe)
{
	const char *env = getenv("BC_SHARED_DIR");
	snprintf(dir, size, "%s", env && *env ? env : "../shared");
	char path[4400];
	snprintf(path, sizeof(path), "%s/%s", dir, probe);
	struct stat st;
	return stat(path, &st) == 0;
}
