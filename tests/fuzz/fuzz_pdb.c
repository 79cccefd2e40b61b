// Fuzz target: PDB containers: open, identity, publics and type records.
#include <stdint.h>

#include "bugcheck/pdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open_memory(data, size, "fuzz.pdb", &tab);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	struct bc_symbol s;
	bc_error_destroy(bc_symtab_lookup_rva(tab, 0x1000, &s));
	bc_error_destroy(bc_symtab_lookup_name(tab, "main", &s));
	const struct bc_type *t;
	bc_error_destroy(bc_symtab_type_by_name(tab, "_T", &t));
	for (uint32_t id = 0x1000; id < 0x1040; id++) {
		struct bc_error *e = bc_symtab_type(tab, id, &t);
		if (e == &bc_not_found)
			break;
		bc_error_destroy(e);
	}
	bc_symtab_destroy(tab);
	return 0;
}
