// The exception directory (.pdata): x64 RUNTIME_FUNCTION and ARM64
// IMAGE_ARM64_RUNTIME_FUNCTION_ENTRY tables, checked sorted and disjoint so a
// binary search finds the function of an RVA (bugcheck/pe.h;
// UNWIND_AND_SYMBOLS.md 2.1; ARM64: Microsoft's "ARM64 exception handling").
#include <stdlib.h>
#include <string.h>

#include "image/pe_layout.h"
#include "image/pe_private.h"

struct pe_pdata {
	struct bc_pe_pdata pub;
	struct bc_pe_runtime_function *entries;
};

void pe_pdata_free(struct pe_pdata *pd)
{
	if (!pd)
		return;
	free(pd->entries);
	free(pd);
}

// An unpacked ARM64 entry's length is in its .xdata header; an unreadable
// header leaves the length unknown (0), which is not an error: the table
// itself is intact.
static uint32_t arm64_length(struct bc_pe *pe, uint32_t unwind, uint8_t flag)
{
	if (flag == BC_PE_ARM64_PACKED || flag == BC_PE_ARM64_PACKED_FRAGMENT)
		return ((unwind >> PE_ARM64_PACKED_LENGTH_SHIFT) & PE_ARM64_PACKED_LENGTH_MASK) * 4;
	if (flag != BC_PE_ARM64_XDATA)
		return 0;
	uint8_t w[4];
	struct bc_error *err = pe_read(pe, unwind, w, sizeof(w));
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	return (bc_le32(w) & PE_ARM64_XDATA_LENGTH_MASK) * 4;
}

static struct bc_error *decode_entry(struct bc_pe *pe, enum bc_pe_pdata_format format,
				     const uint8_t *raw, struct bc_pe_runtime_function *rf)
{
	rf->begin = bc_le32(raw);
	if (format == BC_PE_PDATA_X64) {
		rf->end = bc_le32(raw + 4);
		rf->unwind = bc_le32(raw + 8);
		rf->arm64_flag = 0;
		return NULL;
	}
	rf->unwind = bc_le32(raw + 4);
	rf->arm64_flag = (uint8_t)(rf->unwind & 3);
	uint64_t end = (uint64_t)rf->begin + arm64_length(pe, rf->unwind, rf->arm64_flag);
	if (end > UINT32_MAX)
		return pe_corrupt("the function at rva 0x%x ends beyond 4 GiB", rf->begin);
	rf->end = (uint32_t)end;
	return NULL;
}

// Entries must ascend without overlap; an x64 entry must not be empty.
static struct bc_error *check_order(const struct bc_pe_pdata *pd)
{
	for (size_t i = 0; i < pd->count; i++) {
		const struct bc_pe_runtime_function *rf = &pd->entries[i];
		if (pd->format == BC_PE_PDATA_X64 && rf->end <= rf->begin)
			return pe_corrupt("entry %zu runs from rva 0x%x to 0x%x", i, rf->begin,
					  rf->end);
		if (!i)
			continue;
		const struct bc_pe_runtime_function *prev = rf - 1;
		if (rf->begin <= prev->begin)
			return pe_corrupt("entry %zu begins at rva 0x%x, not after entry %zu at 0x%x: the table is not sorted",
					  i, rf->begin, i - 1, prev->begin);
		if (rf->begin < prev->end)
			return pe_corrupt("entry %zu begins at rva 0x%x, inside entry %zu (0x%x-0x%x)",
					  i, rf->begin, i - 1, prev->begin, prev->end);
	}
	return NULL;
}

static struct bc_error *parse_pdata(struct bc_pe *pe, struct pe_pdata *pd)
{
	enum bc_pe_pdata_format format;
	size_t entry_size;
	if (pe->info.machine == BC_PE_MACHINE_AMD64) {
		format = BC_PE_PDATA_X64;
		entry_size = PE_X64_RF_SIZE;
	} else if (pe->info.machine == BC_PE_MACHINE_ARM64) {
		format = BC_PE_PDATA_ARM64;
		entry_size = PE_ARM64_RF_SIZE;
	} else {
		return bc_error_create(BC_ERR_UNSUPPORTED, "no .pdata reader for machine 0x%x",
				       pe->info.machine);
	}
	struct bc_pe_directory dir;
	if (!pe_directory(pe, BC_PE_DIR_EXCEPTION, &dir))
		return pe_not_found(pe, "exception directory");
	size_t n = dir.size / entry_size;
	if (n > PE_MAX_PDATA)
		return pe_corrupt("the exception directory claims %zu entries, more than the %u this reader accepts",
				  n, (unsigned)PE_MAX_PDATA);
	uint8_t *raw;
	struct bc_error *err = pe_read_alloc(pe, dir.rva, (uint64_t)n * entry_size, &raw);
	if (err)
		return err;
	pd->entries = calloc(n ? n : 1, sizeof(*pd->entries));
	if (!pd->entries) {
		free(raw);
		return &bc_enomem;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = decode_entry(pe, format, raw + i * entry_size, &pd->entries[i]);
	free(raw);
	if (err)
		return err;
	pd->pub = (struct bc_pe_pdata){ format, n, pd->entries };
	return check_order(&pd->pub);
}

BC_PUBLIC struct bc_error *bc_pe_pdata(struct bc_pe *pe, const struct bc_pe_pdata **ret)
{
	if (!pe->pdata) {
		struct pe_pdata *pd = calloc(1, sizeof(*pd));
		if (!pd)
			return &bc_enomem;
		struct bc_error *err = parse_pdata(pe, pd);
		if (err) {
			pe_pdata_free(pd);
			return pe_wrap(pe, err, "exception directory");
		}
		pe->pdata = pd;
	}
	*ret = &pe->pdata->pub;
	return NULL;
}

BC_PUBLIC const struct bc_pe_runtime_function *bc_pe_pdata_lookup(const struct bc_pe_pdata *pdata,
								  uint64_t rva)
{
	size_t lo = 0, hi = pdata->count;  // first entry beginning after @rva
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pdata->entries[mid].begin <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct bc_pe_runtime_function *rf = &pdata->entries[lo - 1];
	return rva < rf->end ? rf : NULL;
}
