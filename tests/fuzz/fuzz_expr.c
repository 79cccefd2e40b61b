// Fuzz target: the MASM expression evaluator, over a small synthetic x64
// bitmap dump (registers, module names, poi() reads) and without a target.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/bugcheck.h"
#include "mkdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bc_target *target;  // built once: the dump is the same for every input
	static uint8_t *dump;
	if (!target) {
		size_t dump_size;
		struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL };
		if (bc_fixture_build(&spec, NULL, &dump, &dump_size) ||
		    bc_target_open_memory(dump, dump_size, "fuzz.dmp", &target))
			abort();
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	uint64_t v;
	size_t used;
	bc_error_destroy(bc_expr_eval(target, bc_target_context(target), text, &v));
	bc_error_destroy(bc_expr_eval_prefix(target, bc_target_context(target), text, &used, &v));
	bc_error_destroy(bc_expr_eval(NULL, NULL, text, &v));
	free(text);
	return 0;
}
