// Kernel virtual and physical reads (include/bugcheck/target.h).
//
// Page-storing formats translate through the dump's own page tables
// (arch/paging.h) and read pages through the physical map. Small memory
// dumps have no page tables: a read is served from the VA-tagged regions,
// the first region that covers an address winning (dbgeng's order).
#include <string.h>

#include "base/utf.h"
#include "target_private.h"

static bool phys_read_entry(void *arg, uint64_t address, unsigned size, uint64_t *ret)
{
	struct bc_target *t = arg;
	uint64_t off;
	if ((address & (BC_PAGE_SIZE - 1)) + size > BC_PAGE_SIZE ||
	    !bc_physmap_lookup(&t->phys, address >> BC_PAGE_SHIFT, &off))
		return false;
	off += address & (BC_PAGE_SIZE - 1);
	struct bc_span f = t->file->bytes;
	if (size == 8)
		return bc_span_u64(f, off, ret);
	uint32_t v;
	if (!bc_span_u32(f, off, &v))
		return false;
	*ret = v;
	return true;
}

BC_PUBLIC struct bc_error *bc_target_read_physical(struct bc_target *t, uint64_t address,
						   void *buf, size_t size)
{
	uint8_t *out = buf;
	if (t->phys.kind == BC_PHYSMAP_NONE)
		return bc_error_fault(address, BC_FAULT_NO_TRANSLATION,
				      "physical address %#llx: a small memory dump holds no "
				      "physical memory", (unsigned long long)address);
	while (size) {
		uint64_t in_page = address & (BC_PAGE_SIZE - 1);
		size_t chunk = BC_PAGE_SIZE - in_page < size ? BC_PAGE_SIZE - in_page : size;
		uint64_t off;
		if (!bc_physmap_lookup(&t->phys, address >> BC_PAGE_SHIFT, &off) ||
		    !bc_span_has(t->file->bytes, off + in_page, chunk))
			return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP,
					      "physical address %#llx is not in the dump",
					      (unsigned long long)address);
		memcpy(out, t->file->bytes.data + off + in_page, chunk);
		out += chunk;
		address += chunk;
		size -= chunk;
	}
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_translate(struct bc_target *t, uint64_t address,
					       uint64_t *physical_ret)
{
	if (t->paging == BC_PAGING_NONE)
		return bc_error_fault(address, BC_FAULT_NO_TRANSLATION,
				      "%#llx: a small memory dump has no page tables to translate "
				      "addresses", (unsigned long long)address);
	return bc_paging_translate(t->paging, t->dtb, address, phys_read_entry, t, physical_ret,
				   NULL);
}

// The walk's entries, recorded by wrapping the physical reader: a walker
// reads exactly one entry per level, top level first (`!pte`).
struct traced {
	struct bc_target *t;
	struct bc_page_walk *walk;
};

static bool phys_read_traced(void *arg, uint64_t address, unsigned size, uint64_t *ret)
{
	struct traced *tr = arg;
	bool ok = phys_read_entry(tr->t, address, size, ret);
	struct bc_page_walk *w = tr->walk;
	if (ok && w->levels < BC_PAGE_WALK_MAX_LEVELS) {
		w->entry_address[w->levels] = address;
		w->entry[w->levels] = *ret;
		w->levels++;
	}
	return ok;
}

BC_PUBLIC struct bc_error *bc_target_page_walk(struct bc_target *t, uint64_t address,
					       struct bc_page_walk *ret)
{
	*ret = (struct bc_page_walk){ .va = address };
	if (t->paging == BC_PAGING_NONE)
		return bc_error_fault(address, BC_FAULT_NO_TRANSLATION,
				      "%#llx: a small memory dump has no page tables",
				      (unsigned long long)address);
	static const unsigned levels[] = {
		[BC_PAGING_X64_4LEVEL] = 4, [BC_PAGING_X64_5LEVEL] = 5, [BC_PAGING_X86_PAE] = 3,
		[BC_PAGING_X86] = 2,        [BC_PAGING_ARM64_4K] = 4,
	};
	ret->paging_levels = (unsigned)t->paging < sizeof(levels) / sizeof(levels[0])
				     ? levels[t->paging] : 0;
	struct traced tr = { t, ret };
	struct bc_error *err = bc_paging_translate(t->paging, t->dtb, address, phys_read_traced,
						   &tr, &ret->physical, &ret->page_size);
	ret->translated = err == NULL;
	return err;
}

static const struct bc_va_region *find_region(const struct bc_target *t, uint64_t va)
{
	for (size_t i = 0; i < t->region_count; i++) {
		const struct bc_va_region *r = &t->regions[i];
		if (va >= r->va && va - r->va < r->size)
			return r;
	}
	return NULL;
}

static struct bc_error *read_regions(struct bc_target *t, uint64_t va, uint8_t *out, size_t size)
{
	while (size) {
		const struct bc_va_region *r = find_region(t, va);
		if (!r)
			return bc_error_fault(va, BC_FAULT_NOT_IN_DUMP,
					      "memory at %#llx is not in this small memory dump",
					      (unsigned long long)va);
		uint64_t in = va - r->va;
		size_t chunk = r->size - in < size ? (size_t)(r->size - in) : size;
		memcpy(out, t->file->bytes.data + r->file_offset + in, chunk);
		out += chunk;
		va += chunk;
		size -= chunk;
	}
	return NULL;
}

static struct bc_error *read_paged(struct bc_target *t, uint64_t va, uint8_t *out, size_t size)
{
	while (size) {
		uint64_t in_page = va & (BC_PAGE_SIZE - 1);
		size_t chunk = BC_PAGE_SIZE - in_page < size ? BC_PAGE_SIZE - in_page : size;
		uint64_t pa;
		struct bc_error *err = bc_paging_translate(t->paging, t->dtb, va, phys_read_entry, t,
							   &pa, NULL);
		if (err)
			return err;
		uint64_t off;
		if (!bc_physmap_lookup(&t->phys, pa >> BC_PAGE_SHIFT, &off) ||
		    !bc_span_has(t->file->bytes, off + (pa & (BC_PAGE_SIZE - 1)), chunk))
			return bc_error_fault(va, BC_FAULT_NOT_IN_DUMP,
					      "memory at %#llx (physical %#llx) is not in the dump",
					      (unsigned long long)va, (unsigned long long)pa);
		memcpy(out, t->file->bytes.data + off + (pa & (BC_PAGE_SIZE - 1)), chunk);
		out += chunk;
		va += chunk;
		size -= chunk;
	}
	return NULL;
}

BC_PUBLIC uint64_t bc_target_next_stored(const struct bc_target *t, uint64_t address,
					 uint64_t limit)
{
	if (t->paging != BC_PAGING_NONE || address >= limit)
		return address < limit ? address : limit;
	uint64_t next = limit;
	for (size_t i = 0; i < t->region_count; i++) {
		const struct bc_va_region *r = &t->regions[i];
		if (address >= r->va && address - r->va < r->size)
			return address;
		if (r->va > address && r->va < next)
			next = r->va;
	}
	return next;
}

BC_PUBLIC struct bc_error *bc_target_read(struct bc_target *t, uint64_t address, void *buf,
					  size_t size)
{
	if (t->paging == BC_PAGING_NONE)
		return read_regions(t, address, buf, size);
	return read_paged(t, address, buf, size);
}

BC_PUBLIC struct bc_error *bc_target_read_pointer(struct bc_target *t, uint64_t address,
						  uint64_t *ret)
{
	uint8_t b[8];
	struct bc_error *err = bc_target_read(t, address, b, t->info.pointer_size);
	if (err)
		return err;
	*ret = t->info.pointer_size == 8 ? bc_le64(b) : (uint64_t)(int64_t)(int32_t)bc_le32(b);
	return NULL;
}

static size_t put_utf8(char *buf, size_t room, uint32_t c)
{
	char tmp[4];
	size_t n = bc_utf8_encode(c, tmp);
	if (n > room)
		return 0;
	memcpy(buf, tmp, n);
	return n;
}

BC_PUBLIC struct bc_error *bc_target_read_string(struct bc_target *t, uint64_t address,
						 bool wide, size_t max_chars, char *buf,
						 size_t buf_size, size_t *len_ret)
{
	size_t unit = wide ? 2 : 1, o = 0, n = 0;
	if (!buf_size)
		return bc_error_create(BC_ERR_INVALID_ARG, "no room for the string");
	struct bc_error *first_err = NULL;
	for (; n < max_chars; n++) {
		uint8_t b[2];
		struct bc_error *err = bc_target_read(t, address + n * unit, b, unit);
		if (err) {
			first_err = err;
			break;
		}
		uint32_t c = wide ? bc_le16(b) : b[0];
		if (!c)
			break;
		if (wide && c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		o += put_utf8(buf + o, buf_size - 1 - o, c);
	}
	buf[o] = 0;
	*len_ret = n;
	if (first_err && n == 0)
		return first_err;
	bc_error_destroy(first_err);
	return NULL;
}
