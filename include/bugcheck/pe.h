/*
 * bugcheck/pe.h: Portable Executable images, from a file or from dump memory.
 *
 * A struct bc_pe reads one PE image (PE32 or PE32+) through one of two
 * layouts:
 *   - file layout (bc_pe_open_file, bc_pe_open_memory): the bytes of an image
 *     file; RVAs are mapped to file offsets through the section table as the
 *     Windows loader does (headers at offset = RVA below SizeOfHeaders,
 *     section tails past SizeOfRawData read as zeros);
 *   - mapped layout (bc_pe_open_image): the image as loaded, read at RVAs
 *     through a caller's function, typically dump memory at the module base.
 *
 * On top of the headers and sections it decodes the export directory, the
 * debug directory and its CodeView record (the PDB identity), the exception
 * directory (.pdata of x64 and ARM64) and the version resource. Each of these
 * is parsed on first use and cached in the bc_pe; results are borrowed and
 * live as long as the bc_pe.
 *
 * Missing pages are normal in dumps (discarded INIT sections, paged-out
 * headers): every reader keeps three outcomes apart:
 *   - BC_ERR_NOT_FOUND: the image has no such thing (no export directory);
 *   - BC_ERR_FAULT: it exists but its bytes are not available (the read
 *     function's fault kind and address are kept);
 *   - BC_ERR_FORMAT: the bytes are there and wrong (a corrupt or hostile file).
 * Messages start with the image's name ("amdppm.sys at fffff804`8b580000: ...").
 * A failure is not cached: a later call tries again.
 *
 * Every value read from the image is untrusted: counts are capped (limits are
 * documented at each reader), offsets are overflow-checked, and strings are
 * stored raw (NUL-terminated, any bytes): callers escape them before printing
 * and never use them to build paths unchecked.
 *
 * A bc_pe is not thread-safe (it caches).
 */
#ifndef BUGCHECK_PE_H
#define BUGCHECK_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/symtab.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_pe;

/**
 * Reads @size bytes of a mapped image at @rva into @buf. Fails with
 * BC_ERR_FAULT for bytes that are not available (a page missing from a dump).
 */
typedef struct bc_error *(*bc_image_read_fn)(void *arg, uint64_t rva, void *buf, size_t size);

/** Opens the image file at @path (mapped, read on demand). Free with bc_pe_close(). */
BC_PUBLIC struct bc_error *bc_pe_open_file(const char *path, struct bc_pe **ret);
/**
 * Opens an image file held in memory (file layout). @data must outlive the
 * bc_pe; nothing is copied. @what names the image in errors (NULL: "<memory>").
 */
BC_PUBLIC struct bc_error *bc_pe_open_memory(const void *data, size_t size, const char *what,
					     struct bc_pe **ret);
/**
 * Opens a mapped image read through @read (RVA layout), loaded at @base
 * (recorded in bc_pe_info.load_base, never used to compute reads). @what names
 * it in errors, e.g. "amdppm.sys at fffff804`8b580000". @read and @arg must
 * stay usable as long as the bc_pe. Fails with BC_ERR_FAULT when the headers
 * are not available.
 */
BC_PUBLIC struct bc_error *bc_pe_open_image(bc_image_read_fn read, void *arg, uint64_t base,
					    const char *what, struct bc_pe **ret);
/** Frees @pe and everything borrowed from it; NULL is accepted. */
BC_PUBLIC void bc_pe_close(struct bc_pe *pe);

/** The name given at open (the path, or @what). */
BC_PUBLIC const char *bc_pe_name(const struct bc_pe *pe);

enum {
	BC_PE_MACHINE_I386 = 0x014c,
	BC_PE_MACHINE_AMD64 = 0x8664,
	BC_PE_MACHINE_ARM64 = 0xaa64,
};

/** Data directory indexes (IMAGE_DIRECTORY_ENTRY_*). */
enum bc_pe_directory_index {
	BC_PE_DIR_EXPORT = 0,
	BC_PE_DIR_IMPORT = 1,
	BC_PE_DIR_RESOURCE = 2,
	BC_PE_DIR_EXCEPTION = 3,
	BC_PE_DIR_SECURITY = 4,   ///< a file offset, not an RVA
	BC_PE_DIR_BASERELOC = 5,
	BC_PE_DIR_DEBUG = 6,
	BC_PE_DIR_TLS = 9,
	BC_PE_DIR_LOAD_CONFIG = 10,
	BC_PE_DIR_IAT = 12,
	BC_PE_DIR_DELAY_IMPORT = 13,
	BC_PE_DIR_CLR = 14,
	BC_PE_DIR_COUNT = 16,
};

struct bc_pe_directory {
	uint32_t rva;
	uint32_t size;
};

/** IMAGE_FILE_HEADER and IMAGE_OPTIONAL_HEADER fields. */
struct bc_pe_info {
	uint16_t machine;               ///< BC_PE_MACHINE_*, or any other value as stored
	bool is_64bit;                  ///< PE32+ (optional header magic 0x20b)
	uint32_t timestamp;             ///< TimeDateStamp (a hash on reproducible builds)
	uint16_t characteristics;       ///< IMAGE_FILE_* (0x2000 DLL)
	uint16_t section_count;         ///< NumberOfSections
	uint8_t linker_major, linker_minor;
	uint32_t entry_point_rva;       ///< AddressOfEntryPoint, 0 when none
	uint64_t image_base;            ///< preferred base (ImageBase field)
	uint64_t load_base;             ///< bc_pe_open_image's @base; 0 for files
	uint32_t section_alignment, file_alignment;
	uint16_t os_major, os_minor, image_major, image_minor, subsystem_major, subsystem_minor;
	uint32_t size_of_image;
	uint32_t size_of_headers;
	uint32_t checksum;
	uint16_t subsystem;             ///< 1 native (drivers), 2 GUI, 3 console, ...
	uint16_t dll_characteristics;
	uint32_t directory_count;       ///< min(NumberOfRvaAndSizes, 16), and what the header holds
	struct bc_pe_directory directories[BC_PE_DIR_COUNT];  ///< zero beyond directory_count
};

BC_PUBLIC const struct bc_pe_info *bc_pe_info(const struct bc_pe *pe);

enum {
	BC_PE_SCN_CNT_CODE = 0x20,
	BC_PE_SCN_MEM_DISCARDABLE = 0x02000000,
	BC_PE_SCN_MEM_NOT_PAGED = 0x08000000,
	BC_PE_SCN_MEM_EXECUTE = 0x20000000,
	BC_PE_SCN_MEM_READ = 0x40000000,
	BC_PE_SCN_MEM_WRITE = 0x80000000,
};

/** One IMAGE_SECTION_HEADER. */
struct bc_pe_section {
	char name[9];             ///< the 8 raw name bytes, NUL-terminated (any bytes: escape to print)
	uint32_t rva;             ///< VirtualAddress
	uint32_t virtual_size;    ///< VirtualSize as stored (0 in some old images: see bc_pe_section_at)
	uint32_t raw_offset;      ///< PointerToRawData as stored
	uint32_t raw_size;        ///< SizeOfRawData
	uint32_t characteristics; ///< BC_PE_SCN_*
};

/** Number of sections (same as bc_pe_info()->section_count). */
BC_PUBLIC size_t bc_pe_section_count(const struct bc_pe *pe);
/** Section @i in table order, NULL when out of range. */
BC_PUBLIC const struct bc_pe_section *bc_pe_section(const struct bc_pe *pe, size_t i);
/**
 * The first section (in table order) whose [rva, rva + size) holds @rva, where
 * size is VirtualSize, or SizeOfRawData when VirtualSize is 0. NULL when none.
 */
BC_PUBLIC const struct bc_pe_section *bc_pe_section_at(const struct bc_pe *pe, uint64_t rva);

/**
 * Reads @size bytes of the image as mapped, at @rva. Bytes the loader would
 * zero-fill read as zeros. BC_ERR_FORMAT when the range leaves SizeOfImage,
 * falls in no section, or (file layout) lies past the end of the file;
 * BC_ERR_FAULT from the read function (mapped layout).
 */
BC_PUBLIC struct bc_error *bc_pe_read(struct bc_pe *pe, uint64_t rva, void *buf, size_t size);

/* ---- Exports (IMAGE_EXPORT_DIRECTORY) ---------------------------------- */

struct bc_pe_export {
	const char *name;       ///< NULL for an export by ordinal only
	uint32_t ordinal;       ///< Base + index in the address table (what GetProcAddress takes)
	uint32_t rva;           ///< where the code or data is; for a forwarder, where its string is
	const char *forwarder;  ///< "NTOSKRNL.ExFreePool" or "DLL.#12" for a forwarder, else NULL
};

struct bc_pe_exports {
	const char *dll_name;      ///< the directory's Name string ("" when it has none)
	uint32_t timestamp;
	uint32_t ordinal_base;
	uint32_t function_count;   ///< NumberOfFunctions (address table entries, used or not)
	uint32_t name_count;       ///< NumberOfNames
	size_t count;
	/**
	 * One entry per name, plus one per used address-table slot that has no
	 * name; sorted by ordinal, then name (aliases share an ordinal).
	 */
	const struct bc_pe_export *entries;
};

/**
 * The export directory. BC_ERR_NOT_FOUND when the image has none. Accepts at
 * most 2^20 functions and 2^20 names, strings of up to 4096 bytes and 64 MiB
 * of names and forwarders in all. A name-table entry whose name RVA is 0
 * gives an entry without a name.
 */
BC_PUBLIC struct bc_error *bc_pe_exports(struct bc_pe *pe, const struct bc_pe_exports **ret);
/** The export named exactly @name, NULL when none. */
BC_PUBLIC const struct bc_pe_export *bc_pe_export_by_name(const struct bc_pe_exports *exports,
							  const char *name);
/** The (first) export with @ordinal, NULL when none. */
BC_PUBLIC const struct bc_pe_export *bc_pe_export_by_ordinal(const struct bc_pe_exports *exports,
							     uint32_t ordinal);

/* ---- Debug directory and CodeView record -------------------------------- */

enum {
	BC_PE_DEBUG_CODEVIEW = 2,
	BC_PE_DEBUG_MISC = 4,
	BC_PE_DEBUG_VC_FEATURE = 12,
	BC_PE_DEBUG_POGO = 13,
	BC_PE_DEBUG_REPRO = 16,
};

/** One IMAGE_DEBUG_DIRECTORY entry. */
struct bc_pe_debug_entry {
	uint32_t characteristics;
	uint32_t timestamp;
	uint16_t major_version, minor_version;
	uint32_t type;                 ///< BC_PE_DEBUG_*
	uint32_t size_of_data;
	uint32_t address_of_raw_data;  ///< RVA, 0 when the data is not mapped
	uint32_t pointer_to_raw_data;  ///< file offset
};

/**
 * The debug directory's entries (at most 4096). BC_ERR_NOT_FOUND when the
 * image has no debug directory.
 */
BC_PUBLIC struct bc_error *bc_pe_debug_entries(struct bc_pe *pe,
					       const struct bc_pe_debug_entry **entries_ret,
					       size_t *count_ret);

enum bc_pe_codeview_format {
	BC_PE_CODEVIEW_RSDS = 0x53445352,  ///< "RSDS": PDB 7.00, GUID + age
	BC_PE_CODEVIEW_NB10 = 0x3031424e,  ///< "NB10": PDB 2.00, signature + age
};

/** A CodeView record: which PDB the image was linked with. */
struct bc_pe_codeview {
	enum bc_pe_codeview_format format;
	uint8_t guid[16];      ///< RSDS: as stored (Data1..3 little-endian, Data4 bytes); NB10: zero
	uint32_t signature;    ///< NB10: the PDB's timestamp signature; RSDS: 0
	uint32_t age;
	const char *pdb_path;  ///< as stored ("C:\...\amdppm.pdb", often just "amdppm.pdb"), raw bytes
};

/**
 * The first RSDS or NB10 record among the CodeView debug entries, read at
 * AddressOfRawData (or, in file layout when that is 0, at PointerToRawData).
 * BC_ERR_NOT_FOUND when there is none (or, mapped, none is mapped).
 */
BC_PUBLIC struct bc_error *bc_pe_codeview(struct bc_pe *pe, const struct bc_pe_codeview **ret);
/**
 * Fills @ret from the CodeView record: GUID or signature, age, and as name the
 * PDB path's last component (after the last '\' or '/'), raw: it may be "..".
 * BC_ERR_FORMAT when that name does not fit in bc_pdb_identity.name.
 */
BC_PUBLIC struct bc_error *bc_pe_pdb_identity(struct bc_pe *pe, struct bc_pdb_identity *ret);

enum { BC_PE_IMAGE_KEY_SIZE = 18 };
/**
 * The symbol-store key of an image: TimeDateStamp as 8 upper-case hex digits,
 * then SizeOfImage in lower-case hex without leading zeros ("%08X%x", the
 * SSQP "PE-timestamp-filesize" key): "5C9E09599000". @buf holds
 * BC_PE_IMAGE_KEY_SIZE bytes.
 */
BC_PUBLIC void bc_pe_image_key(uint32_t timestamp, uint32_t size_of_image,
			       char buf[BC_PE_IMAGE_KEY_SIZE]);

/* ---- Exception directory (.pdata) --------------------------------------- */

enum bc_pe_pdata_format {
	BC_PE_PDATA_X64 = 1,  ///< RUNTIME_FUNCTION: begin, end, unwind info (12 bytes)
	BC_PE_PDATA_ARM64,    ///< IMAGE_ARM64_RUNTIME_FUNCTION_ENTRY: begin, unwind word (8 bytes)
};

enum bc_pe_arm64_pdata_flag {
	BC_PE_ARM64_XDATA = 0,           ///< the unwind word is the RVA of an .xdata record
	BC_PE_ARM64_PACKED = 1,          ///< packed unwind data
	BC_PE_ARM64_PACKED_FRAGMENT = 2, ///< packed, for a function fragment without prolog
	BC_PE_ARM64_RESERVED = 3,
};

struct bc_pe_runtime_function {
	uint32_t begin;        ///< first RVA of the function
	/**
	 * End RVA (exclusive). ARM64: begin + FunctionLength*4, from the packed
	 * word or the .xdata header; equal to begin when that header is unreadable.
	 */
	uint32_t end;
	/**
	 * x64: UnwindData, the RVA of UNWIND_INFO, or with bit 0 set of another
	 * RUNTIME_FUNCTION (an indirect entry). ARM64: the raw second word
	 * (flag in bits 0-1; .xdata RVA or packed fields).
	 */
	uint32_t unwind;
	uint8_t arm64_flag;    ///< ARM64: enum bc_pe_arm64_pdata_flag; x64: 0
};

struct bc_pe_pdata {
	enum bc_pe_pdata_format format;
	size_t count;
	const struct bc_pe_runtime_function *entries;  ///< sorted by begin, non-overlapping
};

/**
 * The exception directory of an x64 or ARM64 image (at most 2^22 entries).
 * BC_ERR_NOT_FOUND when the image has none; BC_ERR_UNSUPPORTED for other
 * machines; BC_ERR_FORMAT when entries are out of order, overlap or are empty.
 */
BC_PUBLIC struct bc_error *bc_pe_pdata(struct bc_pe *pe, const struct bc_pe_pdata **ret);
/**
 * The entry whose [begin, end) holds @rva (binary search), NULL when none
 * (a leaf function, or code outside any function).
 */
BC_PUBLIC const struct bc_pe_runtime_function *bc_pe_pdata_lookup(const struct bc_pe_pdata *pdata,
								  uint64_t rva);

/* ---- Version resource (RT_VERSION) ------------------------------------------ */

struct bc_pe_version_string {
	const char *table;  ///< the StringTable key: language and code page ("040904B0")
	const char *key;    ///< "CompanyName", "FileVersion", ... (UTF-8)
	const char *value;  ///< UTF-8 (converted from UTF-16; unpaired surrogates become U+FFFD)
};

struct bc_pe_version {
	bool has_fixed;               ///< a VS_FIXEDFILEINFO with the 0xFEEF04BD signature
	uint16_t file_version[4];     ///< major, minor, build, revision (dwFileVersionMS/LS)
	uint16_t product_version[4];
	uint32_t file_flags_mask, file_flags, file_os, file_type, file_subtype;
	size_t string_count;
	const struct bc_pe_version_string *strings;  ///< StringFileInfo, in file order
};

/**
 * The first RT_VERSION resource (first name, first language). The resource
 * walk is three levels deep, bounded and cycle-checked; the resource is at
 * most 64 KiB. BC_ERR_NOT_FOUND when the image has no version resource.
 */
BC_PUBLIC struct bc_error *bc_pe_version(struct bc_pe *pe, const struct bc_pe_version **ret);
/** The first string named @key (case-insensitive ASCII), NULL when none. */
BC_PUBLIC const char *bc_pe_version_string(const struct bc_pe_version *version, const char *key);

/* ---- Export symbols --------------------------------------------------------- */

/**
 * A symbol table over @pe's exports (kind BC_SYMTAB_EXPORTS, machine from
 * the headers, identity from the CodeView record when there is one; @source
 * is what bc_symtab_source() reports, NULL: the image's name). Named exports
 * keep their name; exports by ordinal only are named "Ordinal<n>" as WinDbg
 * shows them. Forwarders are found by name and listed by bc_symtab_each()
 * after the others, but never answer an RVA lookup. is_function is set for
 * exports inside an executable section. The symtab copies what it needs and
 * keeps no pointer to @pe. BC_ERR_NOT_FOUND when @pe has no export directory.
 */
BC_PUBLIC struct bc_error *bc_exports_symtab_create(struct bc_pe *pe, const char *source,
						    struct bc_symtab **ret);

#ifdef __cplusplus
}
#endif
#endif
