// ARM64 translation, 4 KiB granule, 48-bit VA, 4 levels (L0..L3).
// Descriptor bits[1:0]: 0b11 = table (L0-L2) or page (L3), 0b01 = block
// (L1: 1 GiB, L2: 2 MiB), bit 0 clear = invalid. Output address bits [47:12].
// Windows keeps kernel and user halves in one tree per process (the dump's
// DirectoryTableBase), so both halves index from the same root here.
#include "arch/paging_private.h"

static const uint64_t OA_MASK = 0x0000fffffffff000ull;
static const char *const level_names[] = { "L0 descriptor", "L1 descriptor", "L2 descriptor",
					   "L3 descriptor" };

struct bc_error *bc_paging_arm64(uint64_t dtb, uint64_t va, bc_phys_read_fn *read, void *arg,
				 uint64_t *pa_ret, uint64_t *page_size_ret)
{
	uint64_t top = va >> 48;
	if (top != 0 && top != 0xffff)
		return bc_error_fault(va, BC_FAULT_NON_CANONICAL,
				      "%#llx is not a valid 48-bit ARM64 address",
				      (unsigned long long)va);
	uint64_t table = dtb & OA_MASK;
	for (unsigned level = 0; level < 4; level++) {
		unsigned shift = 39 - 9 * level;
		uint64_t entry_pa = table + ((va >> shift) & 0x1ff) * 8, d;
		if (!read(arg, entry_pa, 8, &d))
			return bc_paging__table_missing(va, level_names[level], entry_pa);
		if (!(d & 1))
			return bc_error_fault(va, d ? BC_FAULT_PAGED_OUT : BC_FAULT_NOT_PRESENT,
					      "%#llx is %s (%s %#llx)", (unsigned long long)va,
					      d ? "not resident" : "not mapped", level_names[level],
					      (unsigned long long)d);
		uint64_t page_mask = (1ull << shift) - 1;
		bool is_table = (d & 2) != 0;
		if (level == 3 && !is_table)
			return bc_error_fault(va, BC_FAULT_NOT_PRESENT,
					      "%#llx: reserved L3 descriptor %#llx",
					      (unsigned long long)va, (unsigned long long)d);
		if (level == 3 || (!is_table && (level == 1 || level == 2))) {
			*pa_ret = (d & OA_MASK & ~page_mask) | (va & page_mask);
			*page_size_ret = 1ull << shift;
			return NULL;
		}
		if (!is_table)
			return bc_error_fault(va, BC_FAULT_NOT_PRESENT,
					      "%#llx: block descriptor at level 0 (%#llx)",
					      (unsigned long long)va, (unsigned long long)d);
		table = d & OA_MASK;
	}
	return bc_error_fault(va, BC_FAULT_NOT_PRESENT, "%#llx: walk ended without a page",
			      (unsigned long long)va);
}
