// x64 4-level and 5-level (LA57) paging: KERNEL_DUMP_FORMAT.md 3.2/3.3.
#include "arch/paging_private.h"

static const uint64_t FRAME_MASK = 0x000ffffffffff000ull;
// Windows keeps software bits in the high PFN bits of transition PTEs; as
// Volatility does, decode those with a 45-bit physical address cap.
static const uint64_t TRANSITION_MASK = 0x00001ffffffff000ull;
static const uint64_t PS_BIT = 1ull << 7;

static const char *const level_names[] = { "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

struct bc_error *bc_paging_x64(unsigned levels, uint64_t dtb, uint64_t va, bc_phys_read_fn *read,
			       void *arg, uint64_t *pa_ret, uint64_t *page_size_ret)
{
	unsigned va_bits = levels == 5 ? 57 : 48;
	int64_t sva = (int64_t)va;
	int64_t canon = (int64_t)(va << (64 - va_bits)) >> (64 - va_bits);
	if (sva != canon)
		return bc_error_fault(va, BC_FAULT_NON_CANONICAL,
				      "%#llx is not a canonical %u-bit address",
				      (unsigned long long)va, va_bits);
	uint64_t table = dtb & FRAME_MASK;
	for (int level = (int)levels - 1; level >= 0; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		uint64_t entry_pa = table + ((va >> shift) & 0x1ff) * 8;
		uint64_t e;
		if (!read(arg, entry_pa, 8, &e))
			return bc_paging__table_missing(va, level_names[level], entry_pa);
		uint64_t page_mask = (1ull << shift) - 1;
		if (!(e & 1)) {
			uint64_t pa;
			struct bc_error *err =
				bc_paging__not_valid(va, level_names[level], e, TRANSITION_MASK, &pa);
			if (err)
				return err;
			if (level != 0) {  // a transition page-table page: keep walking
				table = pa;
				continue;
			}
			*pa_ret = pa | (va & page_mask);
			*page_size_ret = 1ull << shift;
			return NULL;
		}
		if (level == 0 || ((level == 1 || level == 2) && (e & PS_BIT))) {
			// Large pages: bit 12 is PAT, not address, so mask below the page size.
			*pa_ret = (e & FRAME_MASK & ~page_mask) | (va & page_mask);
			*page_size_ret = 1ull << shift;
			return NULL;
		}
		table = e & FRAME_MASK;
	}
	return bc_error_fault(va, BC_FAULT_NOT_PRESENT, "%#llx: page walk ended without a page",
			      (unsigned long long)va);
}
