// DumpType 1: full ("complete") memory dump with a run list in the header's
// PhysicalMemoryBlock (KERNEL_DUMP_FORMAT.md 2.1). Pages follow the header
// back to back, run after run; holes between runs are not stored.
#include <stdlib.h>

#include "target_private.h"

enum {
	PMD64_OFFSET = 0x88,  // PHYSICAL_MEMORY_DESCRIPTOR64 in DUMP_HEADER64
	PMD32_OFFSET = 0x64,  // PHYSICAL_MEMORY_DESCRIPTOR32 in DUMP_HEADER32
	MAX_RUNS64 = 43,      // what fits in the 700-byte area
	MAX_RUNS32 = 86,
};

struct bc_error *bc_dump_runs_open(struct bc_target *t)
{
	struct bc_span h = t->file->bytes;
	bool is64 = t->info.pointer_size == 8;
	uint64_t pmd = is64 ? PMD64_OFFSET : PMD32_OFFSET;
	uint32_t nruns = bc_le32(h.data + pmd);
	uint64_t declared = is64 ? bc_le64(h.data + pmd + 8) : bc_le32(h.data + pmd + 4);
	if (nruns == BC_PAGE_FILL32)
		return bc_error_format(pmd, "full memory dump without a run list: "
				       "PhysicalMemoryBlock was never filled in (\"PAGE\")");
	uint32_t max = is64 ? MAX_RUNS64 : MAX_RUNS32;
	if (nruns == 0 || nruns > max)
		return bc_error_format(pmd, "damaged full memory dump: %u physical memory runs "
				       "(the header holds 1 to %u)", nruns, max);
	struct bc_phys_run *runs = calloc(nruns, sizeof(*runs));
	if (!runs)
		return &bc_enomem;
	uint64_t off = t->header_size, total = 0;
	uint64_t first = pmd + (is64 ? 0x10 : 0x8), width = is64 ? 16 : 8;
	bool clipped = false;
	size_t kept = 0;
	for (uint32_t i = 0; i < nruns; i++) {
		const uint8_t *r = h.data + first + width * i;
		uint64_t base = is64 ? bc_le64(r) : bc_le32(r);
		uint64_t count = is64 ? bc_le64(r + 8) : bc_le32(r + 4);
		uint64_t bytes, end;
		if (!bc_add_ok(total, count, &total) || !bc_mul_ok(count, BC_PAGE_SIZE, &bytes) ||
		    !bc_add_ok(off, bytes, &end)) {
			free(runs);
			return bc_error_format(first + width * i, "damaged full memory dump: run %u "
					       "claims %#llx pages", i, (unsigned long long)count);
		}
		// A dump written to a too-small file says so in its attributes; keep
		// what it holds. Otherwise missing pages mean the file was cut.
		if (end > h.size) {
			if (!(t->info.attributes & BC_ATTR_INSUFFICIENT_DUMPFILE_SIZE)) {
				free(runs);
				return bc_error_format(h.size,
						       "truncated full memory dump: its %u runs need %#llx "
						       "bytes or more, the file has %#llx",
						       nruns, (unsigned long long)end,
						       (unsigned long long)h.size);
			}
			count = off < h.size ? (h.size - off) / BC_PAGE_SIZE : 0;
			bytes = count * BC_PAGE_SIZE;
			clipped = true;
		}
		if (count)
			runs[kept++] = (struct bc_phys_run){ base, count, off };
		off += bytes;
	}
	if (total != declared)
		bc_target_warn(t, "the run list adds up to %#llx pages, the header says %#llx",
			       (unsigned long long)total, (unsigned long long)declared);
	if (clipped)
		bc_target_warn(t, "the dump file was too small for all of memory "
			       "(InsufficientDumpfileSize); later pages are missing");
	struct bc_error *err = bc_physmap_init_runs(&t->phys, runs, kept, h.size,
						    "full memory dump run list");
	if (err)
		return err;
	t->info.format = BC_DUMP_FULL_RUNS;
	t->info.present_pages = bc_physmap_page_count(&t->phys);
	if (kept)
		t->info.highest_pfn = t->phys.runs[kept - 1].base_pfn + t->phys.runs[kept - 1].page_count;
	return NULL;
}
