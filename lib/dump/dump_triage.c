// DumpType 4: the small memory dump ("Mini Kernel Dump", C:\Windows\Minidump).
// KERNEL_DUMP_FORMAT.md 2.4. A TRIAGE_DUMP directory follows the header and
// names VA-tagged blobs (stack, thread, process, data blocks) and a driver
// list; there are no page tables. Everything after SizeOfDump is secondary
// (bug check callback) data, which is normal.
#include <string.h>

#include "target_private.h"

// TRIAGE_DUMP64 / TRIAGE_DUMP32 field offsets (from the directory start).
enum {
	TD_SERVICE_PACK_BUILD = 0x00,
	TD_SIZE_OF_DUMP = 0x04,
	TD_VALID_OFFSET = 0x08,
	TD_CONTEXT_OFFSET = 0x0c,
	TD_EXCEPTION_OFFSET = 0x10,
	TD_MM_OFFSET = 0x14,
	TD_UNLOADED_DRIVERS_OFFSET = 0x18,
	TD_PRCB_OFFSET = 0x1c,
	TD_PROCESS_OFFSET = 0x20,
	TD_THREAD_OFFSET = 0x24,
	TD_CALL_STACK_OFFSET = 0x28,
	TD_SIZE_OF_CALL_STACK = 0x2c,
	TD_DRIVER_LIST_OFFSET = 0x30,
	TD_DRIVER_COUNT = 0x34,
	TD_STRING_POOL_OFFSET = 0x38,
	TD_STRING_POOL_SIZE = 0x3c,
	TD_BROKEN_DRIVER_OFFSET = 0x40,
	TD_TRIAGE_OPTIONS = 0x44,
	TD_TOP_OF_STACK = 0x48,
	// 64-bit only from here; the 32-bit directory has no ArchitectureSpecific union.
	TD64_DATA_PAGE_ADDRESS = 0x60,
	TD64_SIZE = 0x80,
	TD32_DATA_PAGE_ADDRESS = 0x4c,
	TD32_SIZE = 0x68,
};

// MiniDumpFields bits.
enum {
	TRIAGE_DUMP_BASIC_INFO = 0xff,
	TRIAGE_DUMP_DATAPAGE = 0x200,
	TRIAGE_DUMP_DEBUGGER_DATA = 0x400,
	TRIAGE_DUMP_DATA_BLOCKS = 0x800,
};

static const uint32_t TRGD = 0x44475254;  // bytes "TRGD"

// Hard caps on counts from the file: real dumps have ~150-300 drivers, a few
// hundred data blocks and ~50 unloaded drivers.
enum { MAX_DRIVERS = 65536, MAX_DATA_BLOCKS = 1u << 20, MAX_UNLOADED = 4096 };

static uint64_t extend(const struct bc_target *t, uint64_t v)
{
	return t->info.pointer_size == 4 ? (uint64_t)(int64_t)(int32_t)(uint32_t)v : v;
}

static struct bc_error *read_directory(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	bool is64 = t->info.pointer_size == 8;
	uint64_t at = t->header_size;
	struct bc_span d = bc_span_sub(f, at, is64 ? TD64_SIZE : TD32_SIZE);
	if (!d.data)
		return bc_error_format(f.size,
				       "truncated small memory dump: the file ends at %#llx, inside "
				       "the TRIAGE_DUMP directory at %#llx",
				       (unsigned long long)f.size, (unsigned long long)at);
	struct bc_triage *tr = &t->triage;
	uint32_t *u32s[] = {
		&tr->service_pack_build, &tr->size_of_dump, &tr->valid_offset,
		&tr->context_offset, &tr->exception_offset, &tr->mm_offset,
		&tr->unloaded_drivers_offset, &tr->prcb_offset, &tr->process_offset,
		&tr->thread_offset, &tr->call_stack_offset, &tr->size_of_call_stack,
		&tr->driver_list_offset, &tr->driver_count, &tr->string_pool_offset,
		&tr->string_pool_size, &tr->broken_driver_offset, &tr->triage_options,
	};
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		*u32s[i] = bc_le32(d.data + 4 * i);
	uint64_t dp = is64 ? TD64_DATA_PAGE_ADDRESS : TD32_DATA_PAGE_ADDRESS;
	unsigned ps = t->info.pointer_size;
	bc_span_ptr(d, TD_TOP_OF_STACK, ps, &tr->top_of_stack);
	tr->top_of_stack = extend(t, tr->top_of_stack);
	bc_span_ptr(d, dp, ps, &tr->data_page_address);
	tr->data_page_address = extend(t, tr->data_page_address);
	uint32_t *tail[] = { &tr->data_page_offset, &tr->data_page_size,
			     &tr->debugger_data_offset, &tr->debugger_data_size,
			     &tr->data_blocks_offset, &tr->data_blocks_count };
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		bc_span_u32(d, dp + ps + 4 * i, tail[i]);
	return NULL;
}

static struct bc_error *check_validity(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	const struct bc_triage *tr = &t->triage;
	uint32_t sig;
	if (tr->size_of_dump > f.size)
		return bc_error_format(f.size,
				       "truncated small memory dump: the triage directory says the "
				       "dump is %#x bytes long, the file has only %#llx",
				       tr->size_of_dump, (unsigned long long)f.size);
	if (!bc_span_u32(f, tr->valid_offset, &sig) || sig != TRGD) {
		// dbgeng checks the dword before SizeOfDump; accept either place.
		if (tr->size_of_dump < 4 || !bc_span_u32(f, tr->size_of_dump - 4, &sig) ||
		    sig != TRGD)
			return bc_error_format(tr->valid_offset,
					       "damaged small memory dump: no \"TRGD\" validity mark at "
					       "ValidOffset %#x (SizeOfDump %#x)",
					       tr->valid_offset, tr->size_of_dump);
	}
	if (!tr->context_offset || !tr->prcb_offset || !tr->call_stack_offset)
		return bc_error_format(t->header_size,
				       "damaged small memory dump: the triage directory has no "
				       "context, processor block or stack");
	return NULL;
}

static void load_context(struct bc_target *t)
{
	size_t need = bc_context_raw_size(t->info.machine);
	struct bc_span raw = bc_span_sub(t->file->bytes, t->triage.context_offset, need);
	if (!raw.data) {
		bc_target_warn(t, "the crashing thread's CONTEXT at file offset %#x is past the end",
			       t->triage.context_offset);
		return;
	}
	if (!bc_context_decode(t->info.machine, raw.data, raw.size, &t->context)) {
		t->has_context = true;
		t->context_file_offset = t->triage.context_offset;
	}
}

static void load_debugger_data(struct bc_target *t)
{
	const struct bc_triage *tr = &t->triage;
	bool complete = (t->info.mini_dump_fields & TRIAGE_DUMP_BASIC_INFO) == TRIAGE_DUMP_BASIC_INFO;
	if (!complete || !(t->info.mini_dump_fields & TRIAGE_DUMP_DEBUGGER_DATA) ||
	    !tr->debugger_data_offset || !tr->debugger_data_size)
		return;
	struct bc_span kd = bc_span_sub(t->file->bytes, tr->debugger_data_offset,
					tr->debugger_data_size);
	if (!kd.data) {
		bc_target_warn(t, "the KDDEBUGGER_DATA64 copy (%#x bytes at %#x) is past the end",
			       tr->debugger_data_size, tr->debugger_data_offset);
		return;
	}
	bc_target_add_region(t, t->info.kd_debugger_data_block, kd.size, tr->debugger_data_offset,
			     "debugger data (KDDEBUGGER_DATA64)");
}

// ETHREAD and EPROCESS copies are tagged with VAs found inside the KPRCB and
// KTHREAD copies, at offsets the debugger data gives (dbgeng does the same).
static void add_thread_and_process(struct bc_target *t)
{
	const struct bc_triage *tr = &t->triage;
	const struct bc_kdbg *kd = &t->kdbg;
	struct bc_span f = t->file->bytes;
	unsigned ps = t->info.pointer_size;
	if (!kd->present)
		return;
	uint8_t number;
	if (bc_span_u8(f, (uint64_t)tr->prcb_offset + kd->offset_prcb_number, &number))
		t->current_processor = number;
	uint64_t thread = 0, process = 0;
	if (tr->thread_offset && kd->size_ethread &&
	    bc_span_ptr(f, (uint64_t)tr->prcb_offset + kd->offset_prcb_current_thread, ps, &thread) &&
	    thread) {
		thread = extend(t, thread);
		t->current_thread = thread;
		bc_target_add_region(t, thread, kd->size_ethread, tr->thread_offset,
				     "current thread (ETHREAD copy)");
	}
	// The process pointer is read from the ETHREAD copy: no copy, no process.
	if (tr->process_offset && tr->thread_offset && kd->size_eprocess &&
	    bc_span_ptr(f, (uint64_t)tr->thread_offset + kd->offset_kthread_apc_process, ps,
			&process) &&
	    process) {
		process = extend(t, process);
		t->current_process = process;
		bc_target_add_region(t, process, kd->size_eprocess, tr->process_offset,
				     "current process (EPROCESS copy)");
	}
}

static void add_data_blocks(struct bc_target *t)
{
	const struct bc_triage *tr = &t->triage;
	uint32_t fields = t->info.mini_dump_fields;
	bool complete = (fields & TRIAGE_DUMP_BASIC_INFO) == TRIAGE_DUMP_BASIC_INFO;
	if (complete && (fields & TRIAGE_DUMP_DATAPAGE) && tr->data_page_offset)
		bc_target_add_region(t, tr->data_page_address, tr->data_page_size,
				     tr->data_page_offset, "data page");
	if (!complete || !(fields & TRIAGE_DUMP_DATA_BLOCKS) || !tr->data_blocks_count)
		return;
	uint32_t count = tr->data_blocks_count;
	if (count > MAX_DATA_BLOCKS) {
		bc_target_warn(t, "the dump claims %u triage data blocks; only %u were read", count,
			       MAX_DATA_BLOCKS);
		count = MAX_DATA_BLOCKS;
	}
	// TRIAGE_DATA_BLOCK is {u64 Address; u32 Offset; u32 Size} in both widths.
	struct bc_span f = t->file->bytes;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t at = (uint64_t)tr->data_blocks_offset + 16ull * i;
		uint64_t va;
		uint32_t off, size;
		if (!bc_span_u64(f, at, &va) || !bc_span_u32(f, at + 8, &off) ||
		    !bc_span_u32(f, at + 12, &size)) {
			bc_target_warn(t, "the triage data block list ends early at block %u of %u "
				       "(file offset %#llx)", i, count, (unsigned long long)at);
			break;
		}
		bc_target_add_region(t, extend(t, va), size, off, "data block");
	}
}

// Reads a DUMP_STRING {u32 Length (UTF-16 units); u16 Buffer[Length]; u16 0}
// that must lie inside the string pool.
static const char *pool_string(struct bc_target *t, uint32_t offset)
{
	const struct bc_triage *tr = &t->triage;
	uint64_t pool_end = (uint64_t)tr->string_pool_offset + tr->string_pool_size;
	uint32_t len;
	if (offset < tr->string_pool_offset || offset >= pool_end ||
	    !bc_span_u32(t->file->bytes, offset, &len))
		return NULL;
	uint64_t bytes = 2ull * len;
	if (offset + 4ull + bytes > pool_end || !bc_span_has(t->file->bytes, offset + 4ull, bytes))
		return NULL;
	return bc_target_keep_utf16(t, t->file->bytes.data + offset + 4, len);
}

// The entry stride is 0x90 (x64) / 0x4c (x86) in every dump seen, but one
// third-party report mentions others; pick the first stride for which every
// entry's name offset lands inside the string pool.
static uint32_t driver_stride(struct bc_target *t, uint32_t count)
{
	static const uint32_t strides64[] = { 0x90, 0x98, 0xa0, 0xa8 };
	static const uint32_t strides32[] = { 0x4c, 0x50, 0x58 };
	const struct bc_triage *tr = &t->triage;
	bool is64 = t->info.pointer_size == 8;
	const uint32_t *cand = is64 ? strides64 : strides32;
	size_t n = is64 ? 4 : 3;
	uint64_t pool_end = (uint64_t)tr->string_pool_offset + tr->string_pool_size;
	for (size_t s = 0; s < n; s++) {
		bool ok = true;
		for (uint32_t i = 0; i < count && ok; i++) {
			uint32_t name;
			ok = bc_span_u32(t->file->bytes, tr->driver_list_offset + (uint64_t)cand[s] * i,
					 &name) &&
			     name >= tr->string_pool_offset && name < pool_end;
		}
		if (ok)
			return cand[s];
	}
	return 0;
}

static void load_driver_list(struct bc_target *t)
{
	const struct bc_triage *tr = &t->triage;
	struct bc_span f = t->file->bytes;
	bool is64 = t->info.pointer_size == 8;
	uint32_t count = tr->driver_count;
	t->module_source = "triage driver list";
	if (!count || !tr->driver_list_offset)
		return;
	if (count > MAX_DRIVERS) {
		bc_target_warn(t, "the dump claims %u drivers; only %u were read", count, MAX_DRIVERS);
		count = MAX_DRIVERS;
	}
	uint32_t stride = driver_stride(t, count);
	if (!stride) {
		bc_target_warn(t, "the triage driver list (%u entries at %#x) does not match any "
			       "known entry layout; no modules listed", count, tr->driver_list_offset);
		return;
	}
	t->triage.driver_entry_stride = stride;
	// Offsets inside DUMP_DRIVER_ENTRY64 / 32 (KLDR_DATA_TABLE_ENTRY after the name offset).
	uint64_t o_base = is64 ? 0x38 : 0x1c, o_size = is64 ? 0x48 : 0x24;
	uint64_t o_flags = is64 ? 0x70 : 0x38, o_sum = is64 ? 0x80 : 0x44;
	uint64_t o_stamp = is64 ? 0x88 : 0x48;
	for (uint32_t i = 0; i < count; i++) {
		struct bc_span e = bc_span_sub(f, tr->driver_list_offset + (uint64_t)stride * i,
					       is64 ? 0x90 : 0x4c);
		if (!e.data) {
			bc_target_warn(t, "the triage driver list ends early at entry %u of %u", i,
				       count);
			break;
		}
		struct bc_module m = { 0 };
		// The pool holds the full path ("\SystemRoot\system32\ntoskrnl.exe").
		m.path = pool_string(t, bc_le32(e.data));
		const char *slash = m.path ? strrchr(m.path, '\\') : NULL;
		m.name = slash ? slash + 1 : m.path ? m.path : "<unreadable name>";
		bc_span_ptr(e, o_base, t->info.pointer_size, &m.base);
		m.base = extend(t, m.base);
		m.size = bc_le32(e.data + o_size);
		m.flags = bc_le32(e.data + o_flags);
		m.checksum = bc_le32(e.data + o_sum);
		m.timestamp = bc_le32(e.data + o_stamp);
		m.has_timestamp = true;
		if (bc_target_add_module(t, &m))
			break;
	}
}

// Unloaded drivers: a count (u64 on x64, u32 on x86) then DUMP_UNLOADED_DRIVERS
// entries {UNICODE_STRING Name; WCHAR DriverName[12]; ptr Start; ptr End}.
static void load_unloaded(struct bc_target *t)
{
	const struct bc_triage *tr = &t->triage;
	struct bc_span f = t->file->bytes;
	bool is64 = t->info.pointer_size == 8;
	if (!tr->unloaded_drivers_offset)
		return;
	uint64_t count;
	if (!bc_span_ptr(f, tr->unloaded_drivers_offset, t->info.pointer_size, &count))
		return;
	if (count > MAX_UNLOADED) {
		bc_target_warn(t, "implausible unloaded-driver count %llu at %#x; list ignored",
			       (unsigned long long)count, tr->unloaded_drivers_offset);
		return;
	}
	uint64_t stride = is64 ? 0x38 : 0x28, name_at = is64 ? 0x10 : 0x8;
	uint64_t first = tr->unloaded_drivers_offset + (uint64_t)t->info.pointer_size;
	for (uint64_t i = 0; i < count; i++) {
		struct bc_span e = bc_span_sub(f, first + stride * i, stride);
		if (!e.data)
			break;
		// Name.Length (bytes) tells how much of the 12-character copy is valid.
		uint16_t len_bytes = bc_le16(e.data);
		size_t chars = len_bytes / 2 < 12 ? len_bytes / 2 : 12;
		struct bc_unloaded_module u = { 0 };
		u.name = bc_target_keep_utf16(t, e.data + name_at, chars);
		if (!u.name)
			break;
		bc_span_ptr(e, name_at + 24, t->info.pointer_size, &u.base);
		bc_span_ptr(e, name_at + 24 + t->info.pointer_size, t->info.pointer_size, &u.end);
		u.base = extend(t, u.base);
		u.end = extend(t, u.end);
		if (bc_target_add_unloaded(t, &u))
			break;
	}
}

struct bc_error *bc_dump_triage_open(struct bc_target *t)
{
	struct bc_error *err = read_directory(t);
	if (err)
		return err;
	if ((err = check_validity(t)))
		return err;
	t->info.format = BC_DUMP_TRIAGE;
	t->paging = BC_PAGING_NONE;
	load_context(t);
	// The KDBG copy goes first: the thread/process VAs below need its offsets.
	load_debugger_data(t);
	bc_nt_load_kdbg(t);
	add_thread_and_process(t);
	add_data_blocks(t);
	const struct bc_triage *tr = &t->triage;
	bc_target_add_region(t, tr->top_of_stack, tr->size_of_call_stack, tr->call_stack_offset,
			     "stack");
	load_driver_list(t);
	load_unloaded(t);
	return NULL;
}
