// Helpers shared by the page-table walkers (arch/paging_*.c) only.
#ifndef BC_ARCH_PAGING_PRIVATE_H
#define BC_ARCH_PAGING_PRIVATE_H

#include "arch/paging.h"

/** FAULT error: the page-table page holding an entry is not in the dump. */
struct bc_error *bc_paging__table_missing(uint64_t va, const char *level, uint64_t entry_pa);

/**
 * Decodes a not-valid (bit 0 clear) Windows PTE. Transition entries return
 * NULL with the physical page in *@transition_pa_ret (masked by @pfn_mask);
 * everything else returns a FAULT error with the reason.
 */
struct bc_error *bc_paging__not_valid(uint64_t va, const char *level, uint64_t entry,
				      uint64_t pfn_mask, uint64_t *transition_pa_ret);

#endif
