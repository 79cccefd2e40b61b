/*
 * target_private.h: the inside of struct bc_target, shared by the library's
 * layers (dump formats fill it, mem/ reads through it, nt/ walks kernel lists).
 *
 * Opening runs in this order (lib/target.c): identify the file, decode the
 * common header (dump/dump_header*.c), let the format's open function set up
 * the physical map or the triage regions (dump/dump.c table), choose the
 * paging mode, locate KDDEBUGGER_DATA64 (nt/kdbg.c), then read module lists
 * (nt/modules.c or the triage driver list).
 */
#ifndef BC_TARGET_PRIVATE_H
#define BC_TARGET_PRIVATE_H

#include "arch/paging.h"
#include "base/file.h"
#include "bugcheck/sysinfo.h"
#include "bugcheck/target.h"
#include "mem/physmap.h"

struct bc_modsyms;

/** A VA-tagged blob of a small memory dump. */
struct bc_va_region {
	uint64_t va;
	uint64_t size;
	uint64_t file_offset;
	const char *what;  ///< static string: "stack", "KPRCB copy", "data block", ...
};

/** TRIAGE_DUMP32/64 directory, widened. */
struct bc_triage {
	uint32_t service_pack_build, size_of_dump, valid_offset, context_offset;
	uint32_t exception_offset, mm_offset, unloaded_drivers_offset, prcb_offset;
	uint32_t process_offset, thread_offset, call_stack_offset, size_of_call_stack;
	uint32_t driver_list_offset, driver_count, string_pool_offset, string_pool_size;
	uint32_t broken_driver_offset, triage_options;
	uint64_t top_of_stack;
	uint64_t data_page_address;
	uint32_t data_page_offset, data_page_size;
	uint32_t debugger_data_offset, debugger_data_size;
	uint32_t data_blocks_offset, data_blocks_count;
	uint32_t driver_entry_stride;
};

struct bc_target {
	struct bc_file *file;
	struct bc_dump_info info;
	struct bc_exception_record exception;
	struct bc_context context;
	bool has_context;
	uint64_t context_file_offset;
	struct bc_kdbg kdbg;
	uint32_t current_processor;
	uint64_t current_thread;   ///< ETHREAD VA of the bug-checking thread, 0 if unknown
	uint64_t current_process;  ///< its EPROCESS (KTHREAD.ApcState.Process), 0 if unknown
	uint32_t header_size;  ///< 0x2000 (64-bit) or 0x1000 (32-bit)

	// Memory: exactly one of these is in use.
	struct bc_physmap phys;
	struct bc_va_region *regions;  ///< triage: in priority order
	size_t region_count;
	struct bc_triage triage;
	enum bc_paging_mode paging;
	uint64_t dtb;
	uint64_t implicit_process;  ///< .process: the EPROCESS whose DirectoryTableBase is dtb, 0: the header's

	// Lists found at open.
	struct bc_module *modules;
	size_t module_count;
	const char *module_source;
	struct bc_unloaded_module *unloaded;
	size_t unloaded_count;
	char **warnings;
	size_t warning_count;
	char **strings;  ///< owned copies of names/paths, freed at close
	size_t string_count;

	struct bc_modsyms *symbols;  ///< per-module symbols (sym/modsyms.c), NULL until used

	// Secondary data (dump/dump_blobs.c), read on first use.
	bool blobs_read;
	struct bc_dump_blob *blobs;
	size_t blob_count;
	char blob_note[160];
};

/** Records a warning; allocation failure drops the warning silently. */
void bc_target_warn(struct bc_target *t, const char *fmt, ...) BC_PRINTF(2, 3);

/** Keeps a copy of @s (UTF-8) owned by the target; NULL on OOM. */
const char *bc_target_keep_string(struct bc_target *t, const char *s);

/** Converts @n UTF-16LE code units to an owned UTF-8 string. */
const char *bc_target_keep_utf16(struct bc_target *t, const uint8_t *utf16, size_t n);

/** Appends a module / unloaded module (copied). */
struct bc_error *bc_target_add_module(struct bc_target *t, const struct bc_module *m);
struct bc_error *bc_target_add_unloaded(struct bc_target *t, const struct bc_unloaded_module *m);

/** Appends a triage VA region (size 0 or past-EOF regions are dropped with a warning). */
struct bc_error *bc_target_add_region(struct bc_target *t, uint64_t va, uint64_t size,
				      uint64_t file_offset, const char *what);

// Header decoding (dump/dump_header64.c, dump/dump_header32.c).
struct bc_error *bc_dump_header64_decode(struct bc_target *t);
struct bc_error *bc_dump_header32_decode(struct bc_target *t);

/** Copies an ASCII header string of at most @max bytes, stopping at NUL or "PAGE" fill. */
void bc_dump_copy_comment(const uint8_t *p, size_t max, char *out);

/** EXCEPTION_RECORD64 (0x98 bytes) or EXCEPTION_RECORD32 (0x50) from @raw (nt/exception.c). */
size_t bc_exception_record_size(unsigned pointer_size);
void bc_exception_record_decode(unsigned pointer_size, const uint8_t *raw,
				struct bc_exception_record *ret);

// Format dispatch (dump/dump.c): selects and runs the format's open function.
struct bc_error *bc_dump_open_format(struct bc_target *t);

// Formats (one file each).
struct bc_error *bc_dump_triage_open(struct bc_target *t);
struct bc_error *bc_dump_runs_open(struct bc_target *t);
struct bc_error *bc_dump_bitmap_open(struct bc_target *t);
struct bc_error *bc_dump_summary_open(struct bc_target *t);
struct bc_error *bc_dump_rdmp_open(struct bc_target *t);

/** Names a file that is not a kernel dump (dump/dump_identify.c); NULL if unknown. */
const char *bc_dump_identify_foreign(struct bc_span head);

// Kernel knowledge (nt/).
/** Reads and, if needed, decodes KDDEBUGGER_DATA64 into t->kdbg. Never fails the open. */
void bc_nt_load_kdbg(struct bc_target *t);
/** Parses a decoded KDBG block of @size bytes into @kdbg's typed fields. */
void bc_nt_kdbg_parse(struct bc_kdbg *kdbg, const uint8_t *raw, size_t size, bool is64);
/** Tries to decode an encoded KDBG in place using known plaintext (header fields). */
bool bc_nt_kdbg_decode(uint8_t *block, size_t size, uint64_t ps_loaded_module_list,
		       uint64_t ps_active_process_head);
/** Walks PsLoadedModuleList and MmUnloadedDrivers (full/kernel dumps). */
void bc_nt_load_modules(struct bc_target *t);
/**
 * Full and kernel dumps do not record which processor bug-checked: it is the
 * one whose saved CONTEXT (KPRCB.Context, through KDDEBUGGER_DATA64's
 * offsets) has the dump's own program counter and stack pointer. Sets
 * t->current_processor (and current_thread and its process); leaves 0 when
 * none matches. Reads one CONTEXT per processor (nt/processors.c).
 */
void bc_nt_find_current_processor(struct bc_target *t);

// Stacks (unwind/stack_target.c).
/**
 * Whether @address looks like where a call returns to: inside a loaded
 * module, just after a call instruction (BL/BLR on ARM64) when the code is
 * readable. What stack scans and .thread's switch-frame search accept.
 */
bool bc_target_is_return_address(struct bc_target *t, uint64_t address);

#endif
