// bc_bugcheck_name(): binary search in the generated table.
#include "bugcheck/bugcheck_code.h"
#include "nt/bugcheck_names.h"

BC_PUBLIC const char *bc_bugcheck_name(uint32_t code)
{
	size_t lo = 0, hi = bc_bugcheck_name_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bc_bugcheck_names[mid].code < code)
			lo = mid + 1;
		else if (bc_bugcheck_names[mid].code > code)
			hi = mid;
		else
			return bc_bugcheck_names[mid].name;
	}
	return NULL;
}
