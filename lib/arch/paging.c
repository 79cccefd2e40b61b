// Paging dispatch and the pieces shared by the walkers: see arch/paging.h.
#include "arch/paging.h"
#include "arch/paging_private.h"

const char *bc_paging_mode_name(enum bc_paging_mode mode)
{
	switch (mode) {
	case BC_PAGING_X64_4LEVEL: return "x64 4-level";
	case BC_PAGING_X64_5LEVEL: return "x64 5-level (LA57)";
	case BC_PAGING_X86_PAE: return "x86 PAE";
	case BC_PAGING_X86: return "x86 (non-PAE)";
	case BC_PAGING_ARM64_4K: return "ARM64 4 KiB granule";
	case BC_PAGING_NONE: break;
	}
	return "none";
}

struct bc_error *bc_paging_translate(enum bc_paging_mode mode, uint64_t dtb, uint64_t va,
				     bc_phys_read_fn *read, void *arg, uint64_t *pa_ret,
				     uint64_t *page_size_ret)
{
	uint64_t page_size = 0;
	struct bc_error *err;
	switch (mode) {
	case BC_PAGING_X64_4LEVEL:
		err = bc_paging_x64(4, dtb, va, read, arg, pa_ret, &page_size);
		break;
	case BC_PAGING_X64_5LEVEL:
		err = bc_paging_x64(5, dtb, va, read, arg, pa_ret, &page_size);
		break;
	case BC_PAGING_X86_PAE:
		err = bc_paging_x86(true, dtb, va, read, arg, pa_ret, &page_size);
		break;
	case BC_PAGING_X86:
		err = bc_paging_x86(false, dtb, va, read, arg, pa_ret, &page_size);
		break;
	case BC_PAGING_ARM64_4K:
		err = bc_paging_arm64(dtb, va, read, arg, pa_ret, &page_size);
		break;
	default:
		return bc_error_fault(va, BC_FAULT_NO_TRANSLATION,
				      "%#llx: this dump has no page tables",
				      (unsigned long long)va);
	}
	if (!err && page_size_ret)
		*page_size_ret = page_size;
	return err;
}

struct bc_error *bc_paging__table_missing(uint64_t va, const char *level, uint64_t entry_pa)
{
	return bc_error_fault(va, BC_FAULT_PAGE_TABLE,
			      "%#llx: the %s entry at physical %#llx is not in the dump",
			      (unsigned long long)va, level, (unsigned long long)entry_pa);
}

// Windows software PTE states (bit 0 clear): transition (bit 11 set, bit 10
// clear) still names a page in RAM; prototype (bit 10) points into a shared
// section; any other non-zero value is a page-file location.
struct bc_error *bc_paging__not_valid(uint64_t va, const char *level, uint64_t entry,
				      uint64_t pfn_mask, uint64_t *transition_pa_ret)
{
	if (entry & (1ull << 10))
		return bc_error_fault(va, BC_FAULT_PROTOTYPE,
				      "%#llx: the %s is a prototype PTE (%#llx), which points into a "
				      "shared section", (unsigned long long)va, level,
				      (unsigned long long)entry);
	if (entry & (1ull << 11)) {
		*transition_pa_ret = entry & pfn_mask;
		return NULL;
	}
	if (entry)
		return bc_error_fault(va, BC_FAULT_PAGED_OUT,
				      "%#llx is paged out (%s %#llx)", (unsigned long long)va,
				      level, (unsigned long long)entry);
	return bc_error_fault(va, BC_FAULT_NOT_PRESENT, "%#llx is not mapped (%s is zero)",
			      (unsigned long long)va, level);
}
