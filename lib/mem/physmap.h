/*
 * mem/physmap.h: where each physical page of a dump lives in the file.
 *
 * Every page-storing dump format normalises to one of two shapes:
 *  - RUNS: sorted, non-overlapping runs {first PFN, page count, file offset}
 *    (full dumps' PhysicalMemoryBlock, RDMP range tables);
 *  - BITMAP: one bit per PFN, pages stored back to back in PFN order from a
 *    first-page offset (SDMP/FDMP bitmap dumps, legacy summary dumps). The
 *    file offset of PFN p is first + rank(p) * 4096, where rank counts set
 *    bits below p. A rank directory (one u64 per 512 bits, about 0.2% of the
 *    bitmap) is built by bc_physmap_check(), which the bitmap formats call
 *    at open to verify the population count (or on the first lookup).
 *
 * The physmap never reads page contents; it only answers "which file offset
 * holds PFN p", and every answer is checked to lie inside the file.
 */
#ifndef BC_MEM_PHYSMAP_H
#define BC_MEM_PHYSMAP_H

#include "base/bytes.h"
#include "bugcheck/error.h"

enum { BC_PAGE_SIZE = 0x1000, BC_PAGE_SHIFT = 12 };

struct bc_phys_run {
	uint64_t base_pfn;
	uint64_t page_count;
	uint64_t file_offset;
};

enum bc_physmap_kind {
	BC_PHYSMAP_NONE = 0,  ///< no physical memory (small memory dumps)
	BC_PHYSMAP_RUNS,
	BC_PHYSMAP_BITMAP,
};

struct bc_physmap {
	enum bc_physmap_kind kind;
	uint64_t file_size;
	// RUNS
	struct bc_phys_run *runs;  ///< owned, sorted by base_pfn
	size_t run_count;
	// BITMAP
	struct bc_span bitmap;     ///< borrowed bytes of the bitmap in the file
	uint64_t bit_count;        ///< PFNs covered
	uint64_t first_page_offset;
	uint64_t *rank;            ///< owned; rank[i] = set bits before bit i*512; lazily built
	uint64_t rank_blocks;
	uint64_t present_pages;    ///< set bits (as declared; verified when rank is built)
	bool rank_failed;          ///< rank build found inconsistency; lookups fail
};

/**
 * Takes ownership of @runs (array of @count), sorts them and checks that
 * they do not overlap and that every page lies inside the file.
 * @what names the format in error messages ("full dump run list").
 */
struct bc_error *bc_physmap_init_runs(struct bc_physmap *map, struct bc_phys_run *runs,
				      size_t count, uint64_t file_size, const char *what);

/** Sets up a bitmap map; the bitmap bytes must already be inside the file. */
void bc_physmap_init_bitmap(struct bc_physmap *map, struct bc_span bitmap, uint64_t bit_count,
			    uint64_t first_page_offset, uint64_t present_pages,
			    uint64_t file_size);

void bc_physmap_deinit(struct bc_physmap *map);

/**
 * Finds the file offset of page @pfn. Returns false when the page is not in
 * the dump (or the map is inconsistent: see bc_physmap_check()).
 */
bool bc_physmap_lookup(struct bc_physmap *map, uint64_t pfn, uint64_t *file_offset_ret);

/**
 * Builds the rank directory if needed and verifies the bitmap's population
 * count against the declared number of pages and the file size. Returns a
 * FORMAT error describing the inconsistency. Cheap to call again.
 */
struct bc_error *bc_physmap_check(struct bc_physmap *map);

/** Number of pages the map holds. */
uint64_t bc_physmap_page_count(const struct bc_physmap *map);

#endif
