// Fuzz target: procedures and parameters from a module symbol stream
// (sym/pdb_params.c). The first byte picks the machine (odd: x64, even:
// x86); the rest is the stream: a u32 signature, then CodeView records.
// Sections are 4 KiB apart; no type streams (parameter counts unknown).
#include <stdint.h>

#include "sym/pdb_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned fuzz_sink;  ///< keeps the coverage checks from being optimised away

static bool place(void *arg, uint16_t seg, uint32_t off, uint64_t *rva)
{
	(void)arg;
	if (!seg || seg > 16)
		return false;
	*rva = (uint64_t)seg * 0x1000 + off;
	return true;
}

static struct bc_error *no_stream(void *arg, uint32_t stream, uint8_t **data, uint32_t *size)
{
	(void)arg;
	(void)stream;
	*data = NULL;
	*size = 0;
	return &bc_not_found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > UINT32_MAX)
		return 0;
	const struct pdb_msf_view msf = { no_stream, NULL };
	const struct pdb_params_source src = {
		.msf = &msf, .what = "fuzz.pdb", .machine = (data[0] & 1) ? 0x8664 : 0x14c,
		.place = place,
	};
	struct pdb_params_procs procs;
	struct bc_error *err = pdb_params_decode_module(&src, 1, data + 1, (uint32_t)(size - 1),
							(uint32_t)(size - 1), &procs);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < procs.count; i++)
		for (size_t k = 0; k < procs.v[i].param_count; k++)
			for (size_t l = 0; l < procs.v[i].params[k].location_count; l++)
				fuzz_sink += bc_param_location_covers(&procs.v[i].params[k].locations[l],
								    procs.v[i].rva + 4);
	pdb_params_procs_free(&procs);
	return 0;
}
