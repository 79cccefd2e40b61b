// Fuzz target: WHEA error record decoding (bugcheck/whea.h), and the names
// of what it found.
#include <stdint.h>
#include <stdlib.h>

#include "bugcheck/whea.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_whea_record *r = malloc(sizeof(*r));
	if (!r)
		return 0;
	struct bc_error *err = bc_whea_decode(data, size, r);
	if (!err) {
		(void)bc_whea_severity_name(r->severity);
		for (size_t i = 0; i < r->decoded_sections; i++) {
			(void)bc_whea_section_name(r->sections[i].kind);
			(void)bc_whea_error_type_name(r->sections[i].error_type);
			(void)bc_whea_operation_name(r->sections[i].operation);
			(void)bc_whea_memory_error_name(r->sections[i].memory_error_type);
		}
	}
	bc_error_destroy(err);
	free(r);
	return 0;
}
