/*
 * arch/paging.h: virtual-to-physical translation for x64, x86 and ARM64.
 *
 * The walkers are leaves: they read page-table entries through a callback
 * that reads physical memory, so they know nothing about dump formats and
 * can be tested against a fake physical memory made of a few arrays.
 * A failed walk returns BC_ERR_FAULT with the virtual address and the reason
 * (not present, paged out, prototype, page table missing from the dump).
 *
 * To add a paging mode: one enum value, one walker function in its own
 * paging_<arch>.c, one case in bc_paging_translate(), and a unit test in
 * tests/unit/test_paging.c with hand-built tables.
 */
#ifndef BC_ARCH_PAGING_H
#define BC_ARCH_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

enum bc_paging_mode {
	BC_PAGING_NONE = 0,
	BC_PAGING_X64_4LEVEL,   ///< 48-bit VA, PML4; 1 GiB and 2 MiB large pages
	BC_PAGING_X64_5LEVEL,   ///< 57-bit VA (LA57), PML5
	BC_PAGING_X86_PAE,      ///< 3-level, 8-byte entries, 2 MiB large pages
	BC_PAGING_X86,          ///< 2-level, 4-byte entries, 4 MiB large pages
	BC_PAGING_ARM64_4K,     ///< 4-level, 4 KiB granule, 48-bit VA
};

/**
 * Reads @size (4 or 8) bytes of physical memory at @address into *@ret
 * (zero-extended). Returns false if that physical page is not in the dump.
 */
typedef bool bc_phys_read_fn(void *arg, uint64_t address, unsigned size, uint64_t *ret);

/**
 * Translates @va under the page tables rooted at @dtb (CR3 / TTBR, flag bits
 * are masked by the walker). On success *@pa_ret is the physical address and
 * *@page_size_ret (if not NULL) the size of the mapping page (0x1000,
 * 0x200000, ...). Transition PTEs (valid data still in RAM) translate.
 */
struct bc_error *bc_paging_translate(enum bc_paging_mode mode, uint64_t dtb, uint64_t va,
				     bc_phys_read_fn *read, void *arg, uint64_t *pa_ret,
				     uint64_t *page_size_ret);

/** Per-mode walkers, used by bc_paging_translate. */
struct bc_error *bc_paging_x64(unsigned levels, uint64_t dtb, uint64_t va, bc_phys_read_fn *read,
			       void *arg, uint64_t *pa_ret, uint64_t *page_size_ret);
struct bc_error *bc_paging_x86(bool pae, uint64_t dtb, uint64_t va, bc_phys_read_fn *read,
			       void *arg, uint64_t *pa_ret, uint64_t *page_size_ret);
struct bc_error *bc_paging_arm64(uint64_t dtb, uint64_t va, bc_phys_read_fn *read, void *arg,
				 uint64_t *pa_ret, uint64_t *page_size_ret);

/** "x64 4-level", ... for messages. */
const char *bc_paging_mode_name(enum bc_paging_mode mode);

#endif
