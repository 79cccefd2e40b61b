// Fuzz target: Vergilius kernel layouts from arbitrary YAML text: open, then
// materialize types by name and by id (what dt and kernel fields do).
#include <stdint.h>
#include <string.h>

#include "bugcheck/vergilius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_symtab *tab;
	struct bc_vergilius_info info;
	struct bc_error *err = bc_vergilius_open_memory(data, size, "fuzz.yml", &tab, &info);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	static const char *const names[] = { "_KTHREAD", "_THING", "_STATE", "ULONG", "pointer" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct bc_type *t;
		bc_error_destroy(bc_symtab_type_by_name(tab, names[i], &t));
	}
	for (uint32_t id = 1; id < 200; id++) {
		const struct bc_type *t;
		struct bc_error *e = bc_symtab_type(tab, id, &t);
		if (e == &bc_not_found)
			break;
		bc_error_destroy(e);
	}
	bc_symtab_destroy(tab);
	return 0;
}
