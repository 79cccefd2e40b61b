// Fuzz target: CONTEXT decoding and register lookup for every machine.
#include <stdint.h>
#include <string.h>

#include "bugcheck/context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum bc_machine machines[] = { BC_MACHINE_X64, BC_MACHINE_X86,
						    BC_MACHINE_ARM64 };
	static const char *const names[] = { "rip", "eax", "x19", "r8d", "al", "sp", "efl", "x30" };
	for (size_t i = 0; i < 3; i++) {
		struct bc_context c;
		struct bc_error *err = bc_context_decode(machines[i], data, size, &c);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			uint64_t v;
			(void)bc_context_register(&c, names[k], &v);
		}
	}
	return 0;
}
