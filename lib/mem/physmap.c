// Physical page -> file offset maps: see mem/physmap.h.
#include <stdlib.h>

#include "mem/physmap.h"

enum { RANK_BLOCK_BITS = 512, RANK_BLOCK_BYTES = RANK_BLOCK_BITS / 8 };

static int run_cmp(const void *a, const void *b)
{
	const struct bc_phys_run *x = a, *y = b;
	return x->base_pfn < y->base_pfn ? -1 : x->base_pfn > y->base_pfn;
}

struct bc_error *bc_physmap_init_runs(struct bc_physmap *map, struct bc_phys_run *runs,
				      size_t count, uint64_t file_size, const char *what)
{
	*map = (struct bc_physmap){ .kind = BC_PHYSMAP_RUNS, .file_size = file_size };
	qsort(runs, count, sizeof(*runs), run_cmp);
	struct bc_error *err = NULL;
	for (size_t i = 0; i < count && !err; i++) {
		const struct bc_phys_run *r = &runs[i];
		uint64_t bytes, end_pfn, end_off;
		if (!bc_mul_ok(r->page_count, BC_PAGE_SIZE, &bytes) ||
		    !bc_add_ok(r->file_offset, bytes, &end_off) ||
		    !bc_add_ok(r->base_pfn, r->page_count, &end_pfn) || end_pfn > (1ull << 52))
			err = bc_error_format(UINT64_MAX,
					      "%s: run of %#llx pages at PFN %#llx is impossibly large",
					      what, (unsigned long long)r->page_count,
					      (unsigned long long)r->base_pfn);
		else if (end_off > file_size)
			err = bc_error_format(file_size,
					      "truncated dump: the %s needs pages up to file offset "
					      "%#llx, the file has %#llx",
					      what, (unsigned long long)end_off,
					      (unsigned long long)file_size);
		else if (i && runs[i - 1].base_pfn + runs[i - 1].page_count > r->base_pfn)
			err = bc_error_format(UINT64_MAX, "%s: runs at PFN %#llx and %#llx overlap",
					      what, (unsigned long long)runs[i - 1].base_pfn,
					      (unsigned long long)r->base_pfn);
	}
	if (err) {
		free(runs);
		return err;
	}
	map->runs = runs;
	map->run_count = count;
	return NULL;
}

void bc_physmap_init_bitmap(struct bc_physmap *map, struct bc_span bitmap, uint64_t bit_count,
			    uint64_t first_page_offset, uint64_t present_pages, uint64_t file_size)
{
	*map = (struct bc_physmap){
		.kind = BC_PHYSMAP_BITMAP,
		.file_size = file_size,
		.bitmap = bitmap,
		.bit_count = bit_count,
		.first_page_offset = first_page_offset,
		.present_pages = present_pages,
	};
}

void bc_physmap_deinit(struct bc_physmap *map)
{
	free(map->runs);
	free(map->rank);
	*map = (struct bc_physmap){ 0 };
}

static uint64_t block_popcount(const uint8_t *p, uint64_t bytes)
{
	uint64_t n = 0, i = 0;
	for (; i + 8 <= bytes; i += 8)
		n += (uint64_t)__builtin_popcountll(bc_le64(p + i));
	for (; i < bytes; i++)
		n += (uint64_t)__builtin_popcount(p[i]);
	return n;
}

struct bc_error *bc_physmap_check(struct bc_physmap *map)
{
	if (map->kind != BC_PHYSMAP_BITMAP || map->rank)
		return NULL;
	if (map->rank_failed)
		return bc_error_format(UINT64_MAX, "the dump's page bitmap is inconsistent");
	uint64_t bytes = (map->bit_count + 7) / 8;
	uint64_t blocks = (map->bit_count + RANK_BLOCK_BITS - 1) / RANK_BLOCK_BITS;
	uint64_t *rank = malloc((blocks + 1) * sizeof(*rank));
	if (!rank)
		return &bc_enomem;
	uint64_t total = 0;
	for (uint64_t b = 0; b < blocks; b++) {
		rank[b] = total;
		uint64_t at = b * RANK_BLOCK_BYTES;
		uint64_t n = bytes - at < RANK_BLOCK_BYTES ? bytes - at : RANK_BLOCK_BYTES;
		total += block_popcount(map->bitmap.data + at, n);
	}
	rank[blocks] = total;
	// Bits past bit_count in the last byte must not count as pages.
	uint64_t tail_bits = map->bit_count & 7;
	if (tail_bits) {
		uint8_t last = map->bitmap.data[bytes - 1];
		total -= (uint64_t)__builtin_popcount(last >> tail_bits);
		rank[blocks] = total;
	}
	uint64_t need;
	if (total != map->present_pages || !bc_mul_ok(total, BC_PAGE_SIZE, &need) ||
	    !bc_add_ok(need, map->first_page_offset, &need) || need > map->file_size) {
		free(rank);
		map->rank_failed = true;
		if (total != map->present_pages)
			return bc_error_format(UINT64_MAX,
					       "the page bitmap marks %#llx pages present but the "
					       "header declares %#llx",
					       (unsigned long long)total,
					       (unsigned long long)map->present_pages);
		return bc_error_format(map->file_size,
				       "truncated dump: %#llx pages from file offset %#llx do not "
				       "fit in %#llx bytes",
				       (unsigned long long)total,
				       (unsigned long long)map->first_page_offset,
				       (unsigned long long)map->file_size);
	}
	map->rank = rank;
	map->rank_blocks = blocks;
	return NULL;
}

static bool lookup_runs(const struct bc_physmap *map, uint64_t pfn, uint64_t *ret)
{
	size_t lo = 0, hi = map->run_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bc_phys_run *r = &map->runs[mid];
		if (pfn < r->base_pfn)
			hi = mid;
		else if (pfn - r->base_pfn >= r->page_count)
			lo = mid + 1;
		else {
			*ret = r->file_offset + (pfn - r->base_pfn) * BC_PAGE_SIZE;
			return true;
		}
	}
	return false;
}

static bool lookup_bitmap(struct bc_physmap *map, uint64_t pfn, uint64_t *ret)
{
	if (pfn >= map->bit_count)
		return false;
	const uint8_t *bits = map->bitmap.data;
	if (!(bits[pfn >> 3] & (1u << (pfn & 7))))
		return false;
	if (!map->rank) {
		struct bc_error *err = bc_physmap_check(map);
		if (err) {
			bc_error_destroy(err);
			return false;
		}
	}
	uint64_t block = pfn / RANK_BLOCK_BITS;
	uint64_t rank = map->rank[block];
	uint64_t at = block * RANK_BLOCK_BYTES, stop = pfn >> 3;
	for (; at + 8 <= stop; at += 8)
		rank += (uint64_t)__builtin_popcountll(bc_le64(bits + at));
	for (; at < stop; at++)
		rank += (uint64_t)__builtin_popcount(bits[at]);
	rank += (uint64_t)__builtin_popcount(bits[stop] & ((1u << (pfn & 7)) - 1));
	*ret = map->first_page_offset + rank * BC_PAGE_SIZE;
	return true;
}

bool bc_physmap_lookup(struct bc_physmap *map, uint64_t pfn, uint64_t *file_offset_ret)
{
	switch (map->kind) {
	case BC_PHYSMAP_RUNS: return lookup_runs(map, pfn, file_offset_ret);
	case BC_PHYSMAP_BITMAP: return lookup_bitmap(map, pfn, file_offset_ret);
	case BC_PHYSMAP_NONE: break;
	}
	return false;
}

uint64_t bc_physmap_page_count(const struct bc_physmap *map)
{
	if (map->kind == BC_PHYSMAP_BITMAP)
		return map->present_pages;
	uint64_t n = 0;
	for (size_t i = 0; i < map->run_count; i++)
		n += map->runs[i].page_count;
	return n;
}
