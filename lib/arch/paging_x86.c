// x86 paging, PAE and non-PAE: KERNEL_DUMP_FORMAT.md 3.4.
#include "arch/paging_private.h"

static struct bc_error *walk_nonpae(uint64_t dtb, uint64_t va, bc_phys_read_fn *read, void *arg,
				    uint64_t *pa_ret, uint64_t *page_size_ret)
{
	const uint64_t frame = 0xfffff000;
	uint64_t pde_pa = (dtb & frame) + ((va >> 22) & 0x3ff) * 4, pde;
	if (!read(arg, pde_pa, 4, &pde))
		return bc_paging__table_missing(va, "PDE", pde_pa);
	uint64_t table;
	if (!(pde & 1)) {
		struct bc_error *err = bc_paging__not_valid(va, "PDE", pde, frame, &table);
		if (err)
			return err;
	} else if (pde & 0x80) {
		*pa_ret = (pde & 0xffc00000) | (va & 0x3fffff);
		*page_size_ret = 0x400000;
		return NULL;
	} else {
		table = pde & frame;
	}
	uint64_t pte_pa = table + ((va >> 12) & 0x3ff) * 4, pte;
	if (!read(arg, pte_pa, 4, &pte))
		return bc_paging__table_missing(va, "PTE", pte_pa);
	uint64_t page = pte & frame;
	if (!(pte & 1)) {
		struct bc_error *err = bc_paging__not_valid(va, "PTE", pte, frame, &page);
		if (err)
			return err;
	}
	*pa_ret = page | (va & 0xfff);
	*page_size_ret = 0x1000;
	return NULL;
}

static struct bc_error *walk_pae(uint64_t dtb, uint64_t va, bc_phys_read_fn *read, void *arg,
				 uint64_t *pa_ret, uint64_t *page_size_ret)
{
	const uint64_t frame = 0x000ffffffffff000ull;
	// CR3 holds a 32-byte-aligned PDPT of four entries; only bit 0 matters there.
	uint64_t pdpte_pa = (dtb & 0xffffffe0) + ((va >> 30) & 3) * 8, pdpte;
	if (!read(arg, pdpte_pa, 8, &pdpte))
		return bc_paging__table_missing(va, "PDPTE", pdpte_pa);
	if (!(pdpte & 1))
		return bc_error_fault(va, BC_FAULT_NOT_PRESENT, "%#llx is not mapped (PDPTE %#llx)",
				      (unsigned long long)va, (unsigned long long)pdpte);
	uint64_t pde_pa = (pdpte & frame) + ((va >> 21) & 0x1ff) * 8, pde;
	if (!read(arg, pde_pa, 8, &pde))
		return bc_paging__table_missing(va, "PDE", pde_pa);
	uint64_t table;
	if (!(pde & 1)) {
		struct bc_error *err = bc_paging__not_valid(va, "PDE", pde, frame, &table);
		if (err)
			return err;
	} else if (pde & 0x80) {
		*pa_ret = (pde & 0x000fffffffe00000ull) | (va & 0x1fffff);
		*page_size_ret = 0x200000;
		return NULL;
	} else {
		table = pde & frame;
	}
	uint64_t pte_pa = table + ((va >> 12) & 0x1ff) * 8, pte;
	if (!read(arg, pte_pa, 8, &pte))
		return bc_paging__table_missing(va, "PTE", pte_pa);
	uint64_t page = pte & frame;
	if (!(pte & 1)) {
		struct bc_error *err = bc_paging__not_valid(va, "PTE", pte, frame, &page);
		if (err)
			return err;
	}
	*pa_ret = page | (va & 0xfff);
	*page_size_ret = 0x1000;
	return NULL;
}

struct bc_error *bc_paging_x86(bool pae, uint64_t dtb, uint64_t va, bc_phys_read_fn *read,
			       void *arg, uint64_t *pa_ret, uint64_t *page_size_ret)
{
	// Callers may pass sign-extended 32-bit addresses (as KDBG stores them).
	// The walks only use bits 31:0, so the address is kept as given: a fault
	// then names the address the caller read, not its truncation.
	uint64_t hi = va >> 32;
	if (hi && hi != 0xffffffff)
		return bc_error_fault(va, BC_FAULT_NON_CANONICAL,
				      "%#llx is not a 32-bit address", (unsigned long long)va);
	return pae ? walk_pae(dtb, va, read, arg, pa_ret, page_size_ret)
		   : walk_nonpae(dtb, va, read, arg, pa_ret, page_size_ret);
}
