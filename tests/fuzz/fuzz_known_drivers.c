// Fuzz target: the known-problem driver list parser (data/known_drivers.txt's
// format) and lookups in whatever it accepts, with names taken from the
// input's patterns and a few fixed ones, at several timestamps.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/known_drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_parse((const char *)data, size, "fuzz", &kd);
	if (!err) {
		static const uint32_t stamps[] = { 0, 1, 0x4f2995d9, 0x5ee6ba80, UINT32_MAX };
		static const char *const fixed[] = { "iaStor.sys", "ASWSP.SYS", "a", "\\x\\",
						     "drivers/abc.sys" };
		size_t n = bc_known_drivers_count(kd);
		for (size_t i = 0; i <= n && i < 64; i++) {
			const struct bc_known_driver *d = bc_known_drivers_entry(kd, i);
			char name[128];
			if (d)
				snprintf(name, sizeof(name), "%s.sys", d->pattern);
			for (size_t s = 0; s < sizeof(stamps) / sizeof(stamps[0]); s++) {
				if (d) {
					(void)bc_known_drivers_lookup(kd, d->pattern, stamps[s]);
					(void)bc_known_drivers_lookup(kd, name, stamps[s]);
				} else {
					for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++)
						(void)bc_known_drivers_lookup(kd, fixed[f], stamps[s]);
				}
			}
		}
		bc_known_drivers_close(kd);
	}
	bc_error_destroy(err);
	return 0;
}
