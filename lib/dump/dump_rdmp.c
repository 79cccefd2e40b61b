// DumpType 8 / 9 / 0xA: "RDMP" dumps written by newer debuggers
// (.dump /k, /ka, /f), KERNEL_DUMP_FORMAT.md 2.5. A range table
// {u64 BasePfn; u64 PageCount} follows a small header at 0x2000; pages are
// stored in table order from FirstPageOffset.
#include <stdlib.h>
#include <string.h>

#include "target_private.h"

enum {
	RDMP_MARKER = 0x00,       // u32 0x40
	RDMP_SIGNATURE = 0x04,    // "RDMP"
	RDMP_VALID_DUMP = 0x08,   // "DUMP"
	RDMP_METADATA_SIZE = 0x10,
	RDMP_FIRST_PAGE_OFFSET = 0x18,
	RDMP_NUMBER_OF_RANGES = 0x20,  // type 0xA only
	RDMP_TOTAL_PAGES = 0x28,       // type 0xA only
	RDMP_RANGES = 0x30,
	MAX_RANGES = 1 << 20,
};

struct bc_error *bc_dump_rdmp_open(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	uint64_t at = t->header_size;
	struct bc_span h = bc_span_sub(f, at, RDMP_RANGES);
	if (!h.data)
		return bc_error_format(f.size, "truncated RDMP dump: the file ends inside the RDMP "
				       "header at %#llx", (unsigned long long)at);
	if (bc_le32(h.data + RDMP_MARKER) != 0x40 || memcmp(h.data + RDMP_SIGNATURE, "RDMP", 4) ||
	    memcmp(h.data + RDMP_VALID_DUMP, "DUMP", 4))
		return bc_error_format(at, "damaged dump (DumpType %#x): expected the \"RDMP\" header "
				       "at %#llx", t->info.dump_type, (unsigned long long)at);
	uint64_t meta = bc_le64(h.data + RDMP_METADATA_SIZE);
	uint64_t first = bc_le64(h.data + RDMP_FIRST_PAGE_OFFSET);
	// The writer's invariant: the range table ends where the pages start.
	if (meta < 0x20 || first < at + 0x40 || meta - 0x20 != first - (at + 0x40))
		return bc_error_format(at + RDMP_METADATA_SIZE, "damaged RDMP dump: metadata size "
				       "%#llx and first page offset %#llx disagree",
				       (unsigned long long)meta, (unsigned long long)first);
	if (first > f.size)
		return bc_error_format(f.size, "truncated RDMP dump: its range table runs to the "
				       "first page at %#llx, the file has %#llx",
				       (unsigned long long)first, (unsigned long long)f.size);
	bool complete = t->info.dump_type == 0xa;
	uint64_t total_pages = complete ? bc_le64(h.data + RDMP_TOTAL_PAGES) : UINT64_MAX;
	uint64_t max = (first - (at + RDMP_RANGES)) / 16;
	if (complete && bc_le32(h.data + RDMP_NUMBER_OF_RANGES) < max)
		max = bc_le32(h.data + RDMP_NUMBER_OF_RANGES);
	if (max > MAX_RANGES)
		max = MAX_RANGES;
	struct bc_phys_run *runs = calloc(max ? max : 1, sizeof(*runs));
	if (!runs)
		return &bc_enomem;
	size_t n = 0;
	uint64_t off = first, pages = 0;
	for (uint64_t i = 0; i < max && pages < total_pages; i++) {
		const uint8_t *r = f.data + at + RDMP_RANGES + 16 * i;
		uint64_t base = bc_le64(r), count = bc_le64(r + 8);
		if (!complete && base == 0 && count == 0)
			break;  // types 8/9 end the table with an empty entry
		uint64_t bytes;
		if (!count)
			continue;
		if (!bc_mul_ok(count, BC_PAGE_SIZE, &bytes) || !bc_add_ok(pages, count, &pages)) {
			free(runs);
			return bc_error_format(at + RDMP_RANGES + 16 * i, "damaged RDMP dump: range %llu "
					       "claims %#llx pages", (unsigned long long)i,
					       (unsigned long long)count);
		}
		runs[n++] = (struct bc_phys_run){ base, count, off };
		if (!bc_add_ok(off, bytes, &off)) {
			free(runs);
			return bc_error_format(at + RDMP_RANGES + 16 * i, "damaged RDMP dump: ranges "
					       "overflow the file offset space");
		}
	}
	if (complete && pages != total_pages)
		bc_target_warn(t, "the RDMP ranges add up to %#llx pages, the header says %#llx",
			       (unsigned long long)pages, (unsigned long long)total_pages);
	struct bc_error *err = bc_physmap_init_runs(&t->phys, runs, n, f.size, "RDMP range table");
	if (err)
		return err;
	t->info.format = t->info.dump_type == 8   ? BC_DUMP_RDMP_KERNEL
			 : t->info.dump_type == 9 ? BC_DUMP_RDMP_KERNEL_USER
						  : BC_DUMP_RDMP_COMPLETE;
	t->info.present_pages = pages;
	if (n)
		t->info.highest_pfn = t->phys.runs[n - 1].base_pfn + t->phys.runs[n - 1].page_count;
	return NULL;
}
