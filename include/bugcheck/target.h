/*
 * bugcheck/target.h: an opened Windows kernel crash dump.
 *
 * struct bc_target is the root object of libbugcheck. It owns the mapped dump
 * file, the physical page map of its format, the kernel address space, the
 * decoded header facts, the KDDEBUGGER_DATA64 block and the module lists.
 * Nothing in the library is global: two targets can be open in one process.
 *
 * Opening validates the headers and builds only what is O(1) in the dump size
 * (page maps are run tables or a bitmap rank directory built lazily). Module
 * lists are read at open (bounded walks with cycle detection); problems found
 * there do not fail the open but are recorded as warnings.
 *
 * Ownership: everything a getter returns is borrowed and lives as long as the
 * target. Strings from the dump are stored as decoded UTF-8 and are NOT
 * sanitised: they may contain control characters; escape before printing.
 */
#ifndef BUGCHECK_TARGET_H
#define BUGCHECK_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_target;

/** The page-storage scheme of a dump file (after DumpType and the sub-header). */
enum bc_dump_format {
	BC_DUMP_FULL_RUNS = 1,  ///< DumpType 1: physical pages listed by a run table
	BC_DUMP_SUMMARY,        ///< DumpType 2: legacy (XP/2003) kernel summary bitmap
	BC_DUMP_TRIAGE,         ///< DumpType 4: small memory dump (VA-tagged regions)
	BC_DUMP_BITMAP_KERNEL,  ///< DumpType 5/6 with "SDMP": kernel bitmap dump
	BC_DUMP_BITMAP_FULL,    ///< DumpType 5/6 with "FDMP": complete bitmap dump
	BC_DUMP_RDMP_KERNEL,    ///< DumpType 8: "RDMP" kernel memory dump (dbgeng .dump /k)
	BC_DUMP_RDMP_KERNEL_USER, ///< DumpType 9: "RDMP" kernel and user memory
	BC_DUMP_RDMP_COMPLETE,  ///< DumpType 0xA: "RDMP" complete memory dump
	BC_TARGET_IMAGE,        ///< not a dump: a PE image file mapped at its base (windbg -z)
	BC_TARGET_SYMBOLS,      ///< not a dump: a PDB or ISF file alone, no memory
};

/** Facts from the dump header and its format-specific sub-header. */
struct bc_dump_info {
	enum bc_machine machine;
	unsigned pointer_size;           ///< 4 or 8
	uint32_t machine_image_type;     ///< PE machine: 0x14c, 0x8664, 0xaa64
	enum bc_dump_format format;
	uint32_t dump_type;              ///< the header's DumpType value
	uint64_t file_size;

	uint32_t major_version;          ///< 0xf free build, 0xc checked build
	uint32_t build;                  ///< MinorVersion: NT build number
	uint32_t processors;
	uint32_t bugcheck_code;
	uint64_t bugcheck_parameters[4];

	uint64_t directory_table_base;   ///< CR3 (flags as stored)
	uint64_t pfn_database;
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint64_t kd_debugger_data_block; ///< VA of KDDEBUGGER_DATA64
	uint64_t kernel_base;            ///< from KDDEBUGGER_DATA64.KernBase, 0 if unknown

	bool has_system_time;            ///< false when the field is "PAGE" fill or 0
	uint64_t system_time;            ///< FILETIME (100 ns since 1601-01-01 UTC)
	bool has_system_uptime;
	uint64_t system_uptime;          ///< 100 ns units
	bool has_product_type;
	uint32_t product_type;           ///< 1 WinNt, 2 LanManNt, 3 ServerNt
	uint32_t suite_mask;             ///< VER_SUITE_* bits
	bool has_attributes;
	uint32_t attributes;             ///< DUMP_FILE_ATTRIBUTES
	uint32_t mini_dump_fields;       ///< TRIAGE_DUMP_* bits
	uint32_t secondary_data_state;
	uint32_t writer_status;
	uint8_t kd_secondary_version;
	bool pae_enabled;                ///< 32-bit dumps: PAE paging
	uint64_t required_dump_space;
	char comment[129];               ///< the header's Comment, NUL-terminated, may be ""

	uint64_t present_pages;          ///< pages stored in the file (0 for triage)
	uint64_t highest_pfn;            ///< exclusive bound of PFNs the dump can hold
};

/** DUMP_FILE_ATTRIBUTES bits. */
enum {
	BC_ATTR_HIBER_CRASH = 1u << 0,
	BC_ATTR_DUMP_DEVICE_POWER_OFF = 1u << 1,
	BC_ATTR_INSUFFICIENT_DUMPFILE_SIZE = 1u << 2,
	BC_ATTR_KERNEL_GENERATED_TRIAGE_DUMP = 1u << 3,
	BC_ATTR_LIVE_DUMP_GENERATED = 1u << 4,
	BC_ATTR_DUMP_IS_GENERATED_OFFLINE = 1u << 5,
	BC_ATTR_FILTER_DUMP_FILE = 1u << 6,
	BC_ATTR_EARLY_BOOT_CRASH = 1u << 7,
	BC_ATTR_ENCRYPTED_DUMP_DATA = 1u << 8,
	BC_ATTR_DECRYPTED_DUMP = 1u << 9,
};

/** EXCEPTION_RECORD64/32 from the header (pointers zero-extended). */
struct bc_exception_record {
	uint32_t code;
	uint32_t flags;
	uint64_t record;
	uint64_t address;
	uint32_t number_parameters;      ///< as stored (may exceed 15 in bad dumps)
	uint64_t information[15];
};

/** A loaded or unloaded kernel module. */
struct bc_module {
	const char *name;       ///< base name as stored ("amdppm.sys"); never NULL
	const char *path;       ///< full path when the dump has it, else NULL
	uint64_t base;
	uint64_t size;          ///< SizeOfImage (end = base + size)
	uint32_t timestamp;     ///< PE TimeDateStamp (a hash on Windows 10+ builds)
	uint32_t checksum;
	uint32_t flags;         ///< KLDR_DATA_TABLE_ENTRY.Flags
	bool has_timestamp;     ///< false where the source has no such field
};

/** An unloaded driver (from the triage list or MmUnloadedDrivers). */
struct bc_unloaded_module {
	const char *name;
	uint64_t base;
	uint64_t end;
	bool has_time;
	uint64_t unload_time;   ///< FILETIME when known
};

/**
 * KDDEBUGGER_DATA64, as far as the kernel wrote it (fields beyond @size are
 * zero). Pointers of 32-bit kernels are sign-extended, as the kernel stores
 * them. @raw holds the block's bytes for display.
 */
struct bc_kdbg {
	bool present;           ///< the block was found and reads "KDBG"
	bool was_encoded;       ///< stored encoded; decoded with a recovered key
	uint64_t address;       ///< its VA
	uint32_t size;          ///< Header.Size
	uint64_t kern_base;
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint64_t mm_pfn_database;
	uint64_t nt_build_lab;
	uint64_t ki_processor_block;
	uint64_t mm_unloaded_drivers;
	uint64_t mm_last_unloaded_driver;
	uint64_t cm_nt_csd_version;
	uint64_t pte_base;
	uint16_t offset_kthread_apc_process;
	uint16_t offset_kthread_initial_stack;
	uint16_t offset_kthread_kernel_stack;
	uint16_t offset_eprocess_directory_table_base;
	uint16_t offset_prcb_current_thread;
	uint16_t offset_prcb_number;
	uint16_t offset_prcb_proc_state_context;
	uint16_t offset_prcb_proc_state_special_reg;
	uint16_t offset_prcb_context;
	uint16_t size_prcb;
	uint16_t size_eprocess;
	uint16_t size_ethread;
	uint8_t raw[0x400];
	uint32_t raw_size;      ///< bytes valid in @raw (<= size, <= 0x400)
};

/**
 * Opens the crash dump at @path. On failure the error's message is one line
 * saying what the file is and what is wrong with it.
 */
BC_PUBLIC struct bc_error *bc_target_open(const char *path, struct bc_target **ret);

/**
 * Opens a PE image file (.sys, .exe, .dll) as a target, like `windbg -z`:
 * its headers and sections readable at @base (0: the image's own ImageBase),
 * one module, no registers. Symbols come through the symbol path as for a
 * dump's modules.
 */
BC_PUBLIC struct bc_error *bc_target_open_image(const char *path, uint64_t base,
						struct bc_target **ret);

/**
 * Opens a symbol file alone (a PDB, or an ISF table .json[.xz]) as a target
 * with one module at @base and no memory, so `x`, `ln` and `dt` (ISF) work
 * without a dump.
 */
BC_PUBLIC struct bc_error *bc_target_open_symbols(const char *path, uint64_t base,
						  struct bc_target **ret);

/**
 * Opens a dump held in caller memory (tests, fuzzers). The bytes must outlive
 * the target; nothing is copied.
 */
BC_PUBLIC struct bc_error *bc_target_open_memory(const void *data, size_t size,
						 const char *name, struct bc_target **ret);

/** Closes @target; NULL is accepted. */
BC_PUBLIC void bc_target_close(struct bc_target *target);

BC_PUBLIC const char *bc_target_path(const struct bc_target *target);
BC_PUBLIC const struct bc_dump_info *bc_target_info(const struct bc_target *target);

/** The header's exception record. */
BC_PUBLIC const struct bc_exception_record *bc_target_exception(const struct bc_target *target);

/**
 * The CONTEXT of the processor that bug-checked, as stored in the dump
 * (the triage ContextOffset or the header's ContextRecord).
 */
BC_PUBLIC const struct bc_context *bc_target_context(const struct bc_target *target);

/** The processor that bug-checked (from the KPRCB copy), or 0 if unknown. */
BC_PUBLIC uint32_t bc_target_current_processor(const struct bc_target *target);
/**
 * The bug-checking thread's ETHREAD and its process's EPROCESS (VAs), as the
 * dump records them (a small memory dump's KPRCB and ETHREAD copies), or 0.
 */
BC_PUBLIC uint64_t bc_target_current_thread(const struct bc_target *target);
BC_PUBLIC uint64_t bc_target_current_process(const struct bc_target *target);

BC_PUBLIC const struct bc_kdbg *bc_target_kdbg(const struct bc_target *target);

BC_PUBLIC size_t bc_target_module_count(const struct bc_target *target);
BC_PUBLIC const struct bc_module *bc_target_module(const struct bc_target *target, size_t i);
/** The module containing @address, or NULL. */
BC_PUBLIC const struct bc_module *bc_target_module_at(const struct bc_target *target,
						      uint64_t address);
/**
 * The module named @name (case-insensitive; "nt" means the kernel, and a name
 * without extension matches "name.sys/.dll/.exe"), or NULL.
 */
BC_PUBLIC const struct bc_module *bc_target_module_named(const struct bc_target *target,
							 const char *name);
/** Where the module list came from: "triage driver list", "PsLoadedModuleList", "none". */
BC_PUBLIC const char *bc_target_module_source(const struct bc_target *target);
/** What a PE TimeDateStamp of this dump's modules can be. */
enum bc_timestamp_kind {
	BC_TIMESTAMP_DATE,         ///< a link date (kernels before Windows 10)
	BC_TIMESTAMP_MAYBE_HASH,   ///< a date, or on Windows 10+ a reproducible build's hash
	BC_TIMESTAMP_NOT_A_DATE,   ///< before Windows NT 3.1 (1993) or after the crash: a hash
};
/**
 * Classifies @stamp: Windows 10+ builds Microsoft's binaries reproducibly,
 * storing a hash where the link date was; without the image only a value
 * outside [1993, the crash] is certainly not a date.
 */
BC_PUBLIC enum bc_timestamp_kind bc_target_timestamp_kind(const struct bc_target *target,
							  uint32_t stamp);

BC_PUBLIC size_t bc_target_unloaded_count(const struct bc_target *target);
BC_PUBLIC const struct bc_unloaded_module *bc_target_unloaded(const struct bc_target *target,
							     size_t i);

/** Notes about partially unreadable data found while opening (borrowed strings). */
BC_PUBLIC size_t bc_target_warning_count(const struct bc_target *target);
BC_PUBLIC const char *bc_target_warning(const struct bc_target *target, size_t i);

/**
 * Reads @size bytes of kernel virtual memory at @address. Fails with
 * BC_ERR_FAULT naming the first missing address and why; @buf may then be
 * partly written. Reads may cross pages and regions.
 */
BC_PUBLIC struct bc_error *bc_target_read(struct bc_target *target, uint64_t address,
					  void *buf, size_t size);

/** Reads physical memory (not available in small memory dumps). */
BC_PUBLIC struct bc_error *bc_target_read_physical(struct bc_target *target, uint64_t address,
						   void *buf, size_t size);

/**
 * Translates a kernel virtual address to a physical one through the dump's
 * page tables. Small memory dumps have none (BC_FAULT_NO_TRANSLATION).
 */
BC_PUBLIC struct bc_error *bc_target_translate(struct bc_target *target, uint64_t address,
					       uint64_t *physical_ret);

enum { BC_PAGE_WALK_MAX_LEVELS = 5 };

/** The page-table entries one translation read, top level first (`!pte`). */
struct bc_page_walk {
	uint64_t va;
	unsigned paging_levels;                          ///< of this paging mode (x64: 4 or 5)
	unsigned levels;                                 ///< entries read
	uint64_t entry_address[BC_PAGE_WALK_MAX_LEVELS]; ///< physical address of each
	uint64_t entry[BC_PAGE_WALK_MAX_LEVELS];         ///< its value
	bool translated;
	uint64_t physical, page_size;                    ///< when translated
};

/**
 * Translates @address as bc_target_translate() does and records every entry
 * read on the way. On a fault, @ret still holds the entries read before it
 * (the last one says why: not present, paged out...).
 */
BC_PUBLIC struct bc_error *bc_target_page_walk(struct bc_target *target, uint64_t address,
					       struct bc_page_walk *ret);

/**
 * Reads an EXCEPTION_RECORD (64- or 32-bit layout, as the dump's machine
 * uses) from kernel memory, e.g. the one a 0x7E bug check's Arg3 points at.
 */
BC_PUBLIC struct bc_error *bc_target_read_exception_record(struct bc_target *target,
							   uint64_t address,
							   struct bc_exception_record *ret);

/**
 * The first address in [@address, @limit) that a small memory dump holds
 * (the start of the next stored region), so a reader can skip a hole in one
 * step. Returns @limit when nothing there is stored. For dumps that store
 * pages, returns @address (holes are whole pages: probe page by page).
 */
BC_PUBLIC uint64_t bc_target_next_stored(const struct bc_target *target, uint64_t address,
					 uint64_t limit);

/** Reads a pointer-sized value (sign-extended on 32-bit targets, as WinDbg shows). */
BC_PUBLIC struct bc_error *bc_target_read_pointer(struct bc_target *target, uint64_t address,
						  uint64_t *ret);

/**
 * Reads up to @max_chars characters of a NUL-terminated string (ASCII when
 * @wide is false, UTF-16LE when true) and returns it as UTF-8 in @buf
 * (NUL-terminated, truncated to @buf_size). *@len_ret gets the number of
 * characters read; the read stops at the first unreadable byte, and then
 * fails only if nothing could be read.
 */
BC_PUBLIC struct bc_error *bc_target_read_string(struct bc_target *target, uint64_t address,
						 bool wide, size_t max_chars, char *buf,
						 size_t buf_size, size_t *len_ret);

#ifdef __cplusplus
}
#endif
#endif
