// Loaded and unloaded kernel modules of full, kernel and bitmap dumps:
// walking nt!PsLoadedModuleList (KLDR_DATA_TABLE_ENTRY, KERNEL_DUMP_FORMAT.md
// 6.3) and nt!MmUnloadedDrivers. Walks are capped and detect cycles; an
// unreadable entry ends the walk with a warning, never the open.
#include <stdlib.h>
#include <string.h>

#include "target_private.h"

enum { MAX_MODULES = 8192, MAX_NAME_BYTES = 2048, MI_UNLOADED_DRIVERS = 50 };

struct ldr_layout {
	uint64_t dll_base, size_of_image, full_name, base_name, flags, checksum, timestamp;
	uint64_t entry_size;
};

// KLDR_DATA_TABLE_ENTRY: stable from XP to Windows 11 up to CheckSum;
// TimeDateStamp exists in the live entry only since Windows 10.
static const struct ldr_layout ldr64 = { 0x30, 0x40, 0x48, 0x58, 0x68, 0x78, 0x9c, 0xa0 };
static const struct ldr_layout ldr32 = { 0x18, 0x20, 0x24, 0x2c, 0x34, 0x40, 0x58, 0x5c };

// A small open-addressing set of visited list entries.
struct visited {
	uint64_t *slots;
	size_t cap;
};

static bool visited_add(struct visited *v, uint64_t a)
{
	size_t i = (size_t)((a >> 4) * 0x9e3779b97f4a7c15ull) & (v->cap - 1);
	while (v->slots[i]) {
		if (v->slots[i] == a)
			return false;
		i = (i + 1) & (v->cap - 1);
	}
	v->slots[i] = a;
	return true;
}

// Reads memory when it is there; a missing page is simply "no".
static bool try_read(struct bc_target *t, uint64_t address, void *buf, size_t size)
{
	struct bc_error *err = bc_target_read(t, address, buf, size);
	bc_error_destroy(err);
	return !err;
}

// Reads a UNICODE_STRING at @us into an owned UTF-8 string (NULL if unreadable).
static const char *read_unicode_string(struct bc_target *t, uint64_t us)
{
	unsigned ps = t->info.pointer_size;
	uint8_t hdr[16];
	if (!try_read(t, us, hdr, ps == 8 ? 16 : 8))
		return NULL;
	uint16_t len = bc_le16(hdr);
	uint64_t buffer = ps == 8 ? bc_le64(hdr + 8) : (uint64_t)(int64_t)(int32_t)bc_le32(hdr + 4);
	if (!len || !buffer)
		return NULL;
	len &= (uint16_t)~1u;
	if (len > MAX_NAME_BYTES)
		len = MAX_NAME_BYTES;
	uint8_t raw[MAX_NAME_BYTES];
	if (!try_read(t, buffer, raw, len))
		return NULL;
	return bc_target_keep_utf16(t, raw, len / 2);
}

// The PE header's TimeDateStamp and CheckSum, when the header page is in the dump.
static bool read_pe_stamp(struct bc_target *t, uint64_t base, uint32_t *stamp, uint32_t *sum)
{
	uint8_t mz[0x40], nt[0x5c];
	if (!try_read(t, base, mz, sizeof(mz)) || memcmp(mz, "MZ", 2))
		return false;
	uint32_t lfanew = bc_le32(mz + 0x3c);
	if (lfanew > 0x1000 || !try_read(t, base + lfanew, nt, sizeof(nt)) ||
	    memcmp(nt, "PE\0\0", 4))
		return false;
	*stamp = bc_le32(nt + 8);
	*sum = bc_le32(nt + 0x18 + 0x40);  // OptionalHeader.CheckSum, same offset in PE32/PE32+
	return true;
}

static struct bc_error *read_entry(struct bc_target *t, uint64_t entry,
				   const struct ldr_layout *l, struct bc_module *m)
{
	uint8_t e[0xa0];
	struct bc_error *err = bc_target_read(t, entry, e, l->entry_size);
	if (err)
		return err;
	struct bc_span s = { e, l->entry_size };
	unsigned ps = t->info.pointer_size;
	memset(m, 0, sizeof(*m));
	bc_span_ptr(s, l->dll_base, ps, &m->base);
	if (ps == 4)
		m->base = (uint64_t)(int64_t)(int32_t)m->base;
	m->size = bc_le32(e + l->size_of_image);
	m->flags = bc_le32(e + l->flags);
	m->checksum = bc_le32(e + l->checksum);
	m->name = read_unicode_string(t, entry + l->base_name);
	m->path = read_unicode_string(t, entry + l->full_name);
	uint32_t stamp, sum;
	if (read_pe_stamp(t, m->base, &stamp, &sum)) {
		m->timestamp = stamp;
		m->has_timestamp = true;
	} else if (t->info.build >= 10240) {
		m->timestamp = bc_le32(e + l->timestamp);
		m->has_timestamp = true;
	}
	if (!m->name) {
		const char *slash = m->path ? strrchr(m->path, '\\') : NULL;
		m->name = slash ? slash + 1 : (m->path ? m->path : "<unreadable name>");
	}
	return NULL;
}

static void walk_loaded(struct bc_target *t)
{
	uint64_t head = t->kdbg.present && t->kdbg.ps_loaded_module_list
				? t->kdbg.ps_loaded_module_list
				: t->info.ps_loaded_module_list;
	const struct ldr_layout *l = t->info.pointer_size == 8 ? &ldr64 : &ldr32;
	t->module_source = "PsLoadedModuleList";
	struct visited v = { calloc(2 * MAX_MODULES, sizeof(uint64_t)), 2 * MAX_MODULES };
	if (!v.slots) {
		bc_target_warn(t, "out of memory walking the module list");
		return;
	}
	uint64_t entry;
	struct bc_error *err = bc_target_read_pointer(t, head, &entry);
	size_t n = 0;
	while (!err && entry != head) {
		if (n == MAX_MODULES) {
			bc_target_warn(t, "the module list has more than %d entries; stopped",
				       MAX_MODULES);
			break;
		}
		if (!entry || !visited_add(&v, entry)) {
			bc_target_warn(t, "the module list loops back to %#llx without reaching its "
				       "head %#llx; stopped after %zu modules",
				       (unsigned long long)entry, (unsigned long long)head, n);
			break;
		}
		struct bc_module m;
		if ((err = read_entry(t, entry, l, &m)))
			break;
		if ((err = bc_target_add_module(t, &m)))
			break;
		n++;
		err = bc_target_read_pointer(t, entry, &entry);
	}
	if (err) {
		bc_target_warn(t, "the module list (PsLoadedModuleList %#llx) is incomplete after %zu "
			       "modules: %s", (unsigned long long)head, n, err->message);
		bc_error_destroy(err);
	}
	free(v.slots);
}

// MmUnloadedDrivers points to an array of MI_UNLOADED_DRIVERS
// {UNICODE_STRING Name; ptr StartAddress; ptr EndAddress; LARGE_INTEGER CurrentTime}.
static void walk_unloaded(struct bc_target *t)
{
	unsigned ps = t->info.pointer_size;
	uint64_t array;
	if (!t->kdbg.mm_unloaded_drivers)
		return;
	struct bc_error *err = bc_target_read_pointer(t, t->kdbg.mm_unloaded_drivers, &array);
	if (err || !array) {
		bc_error_destroy(err);
		return;
	}
	uint64_t stride = ps == 8 ? 0x28 : 0x18, us = ps == 8 ? 0x10 : 0x8;
	for (unsigned i = 0; i < MI_UNLOADED_DRIVERS; i++) {
		uint64_t e = array + stride * i;
		uint8_t raw[0x28];
		if (!try_read(t, e, raw, stride))
			break;
		struct bc_unloaded_module u = { 0 };
		u.name = read_unicode_string(t, e);
		if (!u.name)
			continue;
		struct bc_span s = { raw, stride };
		bc_span_ptr(s, us, ps, &u.base);
		bc_span_ptr(s, us + ps, ps, &u.end);
		if (ps == 4) {
			u.base = (uint64_t)(int64_t)(int32_t)u.base;
			u.end = (uint64_t)(int64_t)(int32_t)u.end;
		}
		u.unload_time = bc_le64(raw + us + 2 * ps);
		u.has_time = u.unload_time != 0;
		if (bc_target_add_unloaded(t, &u))
			break;
	}
}

void bc_nt_load_modules(struct bc_target *t)
{
	walk_loaded(t);
	walk_unloaded(t);
}
