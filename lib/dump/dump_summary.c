// DumpType 2: the legacy (Windows XP / Server 2003) kernel summary dump,
// KERNEL_DUMP_FORMAT.md 2.3. Same idea as the newer bitmap dumps, with 32-bit
// counts and an RTL_BITMAP header whose Buffer pointer is pointer-sized.
#include <string.h>

#include "target_private.h"

enum {
	SUM_SIGNATURE = 0x00,
	SUM_VALID_DUMP = 0x04,
	SUM_HEADER_SIZE = 0x0c,  // file offset of the first page
	SUM_BITMAP_SIZE = 0x10,  // bits
	SUM_PAGES = 0x14,        // set bits
	SUM_BUFFER32 = 0x20,
	SUM_BUFFER64 = 0x28,
};

struct bc_error *bc_dump_summary_open(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	uint64_t at = t->header_size;
	uint64_t buffer = t->info.pointer_size == 8 ? SUM_BUFFER64 : SUM_BUFFER32;
	struct bc_span h = bc_span_sub(f, at, buffer);
	if (!h.data)
		return bc_error_format(f.size, "truncated summary dump: the file ends inside the "
				       "summary header at %#llx", (unsigned long long)at);
	if (memcmp(h.data + SUM_SIGNATURE, "SDMP", 4) || memcmp(h.data + SUM_VALID_DUMP, "DUMP", 4))
		return bc_error_format(at, "damaged summary dump (DumpType 2): expected \"SDMP\" "
				       "\"DUMP\" at %#llx", (unsigned long long)at);
	uint64_t first = bc_le32(h.data + SUM_HEADER_SIZE);
	uint64_t bits = bc_le32(h.data + SUM_BITMAP_SIZE);
	uint64_t present = bc_le32(h.data + SUM_PAGES);
	uint64_t bitmap_bytes = (bits + 7) / 8;
	struct bc_span bitmap = bc_span_sub(f, at + buffer, bitmap_bytes);
	if (!bits || !bitmap.data)
		return bc_error_format(f.size, "truncated summary dump: a bitmap of %#llx pages does "
				       "not fit in the file", (unsigned long long)bits);
	uint64_t end = first + present * BC_PAGE_SIZE;  // 32-bit inputs: cannot overflow
	if (present > bits || first < at + buffer + bitmap_bytes)
		return bc_error_format(at + SUM_HEADER_SIZE, "damaged summary dump: %#llx pages from "
				       "file offset %#llx do not fit its bitmap",
				       (unsigned long long)present, (unsigned long long)first);
	if (end > f.size)
		return bc_error_format(f.size, "truncated summary dump: %#llx pages need %#llx bytes, "
				       "the file has %#llx", (unsigned long long)present,
				       (unsigned long long)end, (unsigned long long)f.size);
	bc_physmap_init_bitmap(&t->phys, bitmap, bits, first, present, f.size);
	// A population count that disagrees with the header would make every
	// page lookup fail later; say so now. (Opening reads KDBG through the
	// map anyway, so building the rank directory here costs nothing extra.)
	struct bc_error *err = bc_physmap_check(&t->phys);
	if (err)
		return err;
	t->info.format = BC_DUMP_SUMMARY;
	t->info.present_pages = present;
	t->info.highest_pfn = bits;
	return NULL;
}
