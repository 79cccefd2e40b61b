// Fuzz target: the secondary-data decoders of bugcheck/sysinfo.h. The first
// byte chooses: even, SMBIOS tables (RawSMBIOSData) and the machine-id
// fields read from them; odd, a registry-values blob and each value's text.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/sysinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	// A copy of exactly the input, so any read past it is caught.
	size_t n = size - 1;
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, n);
	if (data[0] % 2 == 0) {
		struct bc_smbios *s;
		struct bc_error *err = bc_smbios_parse(copy, n, &s);
		bc_error_destroy(err);
		if (!err) {
			struct bc_machine_id id;
			bc_smbios_machine_id(s, &id);
			for (size_t i = 0; i < s->count; i++)
				for (size_t k = 0; k < s->structures[i].string_count; k++)
					(void)strlen(s->structures[i].strings[k]);
			bc_smbios_free(s);
		}
	} else {
		struct bc_registry_value *v;
		size_t count;
		struct bc_error *err = bc_registry_values_parse(copy, n, &v, &count, NULL);
		bc_error_destroy(err);
		if (!err) {
			for (size_t i = 0; i < count; i++)
				free(bc_registry_string(&v[i]));
			bc_registry_values_free(v, count);
		}
	}
	free(copy);
	return 0;
}
