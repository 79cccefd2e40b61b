// Fuzz target: ISF symbol tables from arbitrary JSON: open, look symbols up,
// and materialize every named type.
#include <stdint.h>
#include <string.h>

#include "bugcheck/isf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool visit(void *arg, const struct bc_symbol *sym)
{
	(void)sym;
	return ++*(int *)arg < 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_symtab *tab;
	struct bc_error *err = bc_isf_open_memory(data, size, "fuzz.json", &tab);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	struct bc_symbol s;
	bc_error_destroy(bc_symtab_lookup_rva(tab, 0x1000, &s));
	bc_error_destroy(bc_symtab_lookup_name(tab, "a", &s));
	int n = 0;
	bc_error_destroy(bc_symtab_each(tab, "*", visit, &n));
	// Types get ids 1, 2, ... as they are referenced: walk a bounded range.
	static const char *const names[] = { "_T", "_X", "a", "b", "pointer" };
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
