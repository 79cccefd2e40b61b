// DumpType 5/6: bitmap dumps ("SDMP" kernel / automatic, "FDMP" complete /
// active), KERNEL_DUMP_FORMAT.md 2.2. A bitmap with one bit per PFN follows
// the header; present pages are stored in PFN order from FirstPage.
#include <string.h>

#include "target_private.h"

enum {
	BMP_SIGNATURE = 0x00,
	BMP_VALID_DUMP = 0x04,
	BMP_FIRST_PAGE = 0x20,
	BMP_TOTAL_PRESENT_PAGES = 0x28,
	BMP_PAGES = 0x30,
	BMP_BITMAP = 0x38,
};

// Physical address bits of any x86/ARM64 machine: 52. More bits than that
// in a bitmap is damage, whatever the file size.
static const uint64_t MAX_PFN_BITS = 1ull << 40;

struct bc_error *bc_dump_bitmap_open(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	uint64_t at = t->header_size;
	struct bc_span h = bc_span_sub(f, at, BMP_BITMAP);
	if (!h.data)
		return bc_error_format(f.size, "truncated bitmap dump: the file ends at %#llx, inside "
				       "the bitmap header at %#llx", (unsigned long long)f.size,
				       (unsigned long long)at);
	bool kernel = !memcmp(h.data, "SDMP", 4), full = !memcmp(h.data, "FDMP", 4);
	if ((!kernel && !full) || memcmp(h.data + BMP_VALID_DUMP, "DUMP", 4))
		return bc_error_format(at, "damaged bitmap dump (DumpType %u): expected \"SDMP\" or "
				       "\"FDMP\" then \"DUMP\" at %#llx", t->info.dump_type,
				       (unsigned long long)at);
	uint64_t first = bc_le64(h.data + BMP_FIRST_PAGE);
	uint64_t present = bc_le64(h.data + BMP_TOTAL_PRESENT_PAGES);
	uint64_t bits = bc_le64(h.data + BMP_PAGES);
	if (bits == 0 || bits > MAX_PFN_BITS)
		return bc_error_format(at + BMP_PAGES, "damaged bitmap dump: the bitmap claims %#llx "
				       "pages of physical memory", (unsigned long long)bits);
	uint64_t bitmap_bytes = (bits + 7) / 8;
	struct bc_span bitmap = bc_span_sub(f, at + BMP_BITMAP, bitmap_bytes);
	if (!bitmap.data)
		return bc_error_format(f.size, "truncated bitmap dump: its bitmap of %#llx pages needs "
				       "%#llx bytes from %#llx, the file has %#llx",
				       (unsigned long long)bits, (unsigned long long)bitmap_bytes,
				       (unsigned long long)(at + BMP_BITMAP),
				       (unsigned long long)f.size);
	uint64_t data_bytes, end;
	if (first < at + BMP_BITMAP + bitmap_bytes || !bc_mul_ok(present, BC_PAGE_SIZE, &data_bytes) ||
	    !bc_add_ok(first, data_bytes, &end) || present > bits)
		return bc_error_format(at + BMP_FIRST_PAGE, "damaged bitmap dump: %#llx pages from "
				       "file offset %#llx is inconsistent with a %#llx-page bitmap",
				       (unsigned long long)present, (unsigned long long)first,
				       (unsigned long long)bits);
	if (end > f.size)
		return bc_error_format(f.size, "truncated bitmap dump: %#llx pages from %#llx need "
				       "%#llx bytes, the file has %#llx", (unsigned long long)present,
				       (unsigned long long)first, (unsigned long long)end,
				       (unsigned long long)f.size);
	bc_physmap_init_bitmap(&t->phys, bitmap, bits, first, present, f.size);
	// A population count that disagrees with the header would make every
	// page lookup fail later; say so now. (Opening reads KDBG through the
	// map anyway, so building the rank directory here costs nothing extra.)
	struct bc_error *err = bc_physmap_check(&t->phys);
	if (err)
		return err;
	t->info.format = kernel ? BC_DUMP_BITMAP_KERNEL : BC_DUMP_BITMAP_FULL;
	t->info.present_pages = present;
	t->info.highest_pfn = bits;
	return NULL;
}
