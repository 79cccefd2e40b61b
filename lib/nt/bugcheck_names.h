// The sorted table of bug check names (nt/bugcheck_names.c, generated).
#ifndef BC_NT_BUGCHECK_NAMES_H
#define BC_NT_BUGCHECK_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct bc_bugcheck_name {
	uint32_t code;
	const char *name;
};

extern const struct bc_bugcheck_name bc_bugcheck_names[];
extern const size_t bc_bugcheck_name_count;

#endif
