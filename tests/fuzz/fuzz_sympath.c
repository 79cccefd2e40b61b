// Fuzz target: symbol path parsing and rendering, and key names.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/sympath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct bc_sympath *sp;
	struct bc_error *err = bc_sympath_parse(text, "/nonexistent-cache", &sp);
	if (!err) {
		free(bc_sympath_render(sp));
		// Offline lookups of a name taken from the input: only local, refused if hostile.
		struct bc_symfile_key key = { .kind = BC_SYMFILE_PDB, .name = text };
		char *path = NULL, *tried = NULL;
		struct bc_symsrv_options opt = { .allow_network = false };
		bc_error_destroy(bc_sympath_find(sp, &key, &opt, &path, &tried));
		free(path);
		free(tried);
		bc_sympath_free(sp);
	}
	bc_error_destroy(err);
	free(text);
	return 0;
}
