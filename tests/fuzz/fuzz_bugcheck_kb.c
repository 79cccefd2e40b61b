// Fuzz target: the bug check knowledge base parser (data/bugcheck_kb.txt's
// format) and lookups in whatever it accepts. The input is the knowledge base
// text; the NTSTATUS list is the compiled-in one.
#include <stdint.h>
#include <stdlib.h>

#include "nt/bugcheck_kb_private.h"

extern const char bc_ntstatus_names_text[];
extern const size_t bc_ntstatus_names_text_size;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_error *err = bc_bugcheck_kb_parse((const char *)data, size, bc_ntstatus_names_text,
						   bc_ntstatus_names_text_size, &kb);
	if (!err) {
		// Codes near the ones the seeds use, with values that select cases.
		static const uint64_t params[4] = { 8, 0x10, 0xffffffffc0000005ull, 0x41790 };
		struct bc_bugcheck_info info;
		char buf[256];
		for (uint32_t code = 0; code < 0x200; code++) {
			uint32_t variants[2] = { code, code | 0x10000000u };
			for (int v = 0; v < 2; v++) {
				bc_error_destroy(bc_bugcheck_kb_lookup(kb, variants[v], params, &info));
				for (int i = 0; i < 4; i++)
					if (info.name)
						bc_bugcheck_arg_text(&info.args[i], buf, sizeof(buf));
			}
		}
		bc_bugcheck_kb_close(kb);
	}
	bc_error_destroy(err);
	return 0;
}
