// Fuzz target: PDB containers: open, read identity and publics.
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
	bc_symtab_destroy(tab);
	return 0;
}
