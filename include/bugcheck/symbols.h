/*
 * bugcheck/symbols.h: symbols for an opened target's modules.
 *
 * The target keeps one symbol slot per loaded module. Slots load lazily, like
 * WinDbg's deferred symbols: the first lookup that needs a module's symbols
 * finds them through the symbol path (WinDbg syntax, bugcheck/sympath.h):
 *
 *   1. the module's identity: the CodeView record of its PE image, read from
 *      dump memory at the module's base, else from the image file found in
 *      the symbol path by TimeDateStamp+SizeOfImage; for the kernel of a small
 *      memory dump without its headers, the ISF table whose symbol offsets
 *      agree with KDDEBUGGER_DATA64 (bugcheck/isf.h);
 *   2. a PDB with that GUID and age, or an ISF table for it;
 *   3. else the image's export directory;
 *   4. else nothing, with the reason recorded for `lmv` and `!lmi`.
 *
 * Addresses are symbolized as WinDbg does: "nt!KeBugCheckEx+0x10",
 * "amdppm+0x1f2c" when the module has no symbols, or the bare address.
 *
 * Ownership: symtabs and strings returned are borrowed from the target.
 */
#ifndef BUGCHECK_SYMBOLS_H
#define BUGCHECK_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/symtab.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Progress of a download, for a caller-drawn progress line. */
typedef void bc_symbol_progress_fn(void *arg, const char *file_name, uint64_t done,
				   uint64_t total);

struct bc_symbol_options {
	const char *symbol_path;     ///< WinDbg syntax; NULL or "" for none
	const char *cache_dir;       ///< downloads, decompressed files and indexes; NULL: none
	bool allow_network;          ///< false: servers in the path are skipped, never contacted
	const char *vergilius_dir;   ///< Vergilius kernel layouts (bugcheck/vergilius.h); NULL: none
	bc_symbol_progress_fn *progress;
	void *progress_arg;
};

enum bc_symbol_state {
	BC_SYMBOLS_DEFERRED = 0,  ///< not looked for yet
	BC_SYMBOLS_PDB,           ///< "(pdb symbols)"
	BC_SYMBOLS_ISF,           ///< "(isf symbols)": a Volatility table stands in for the PDB
	BC_SYMBOLS_EXPORT,        ///< "(export symbols)"
	BC_SYMBOLS_NONE,          ///< "(no symbols)"
};

/** What is known about one module's symbols (after loading them). */
struct bc_module_symbols {
	enum bc_symbol_state state;
	struct bc_symtab *symtab;      ///< NULL for DEFERRED and NONE
	bool has_identity;
	struct bc_pdb_identity identity;  ///< the PDB the image asks for
	const char *image_path;        ///< image file used, if one was found
	const char *symbol_file;       ///< PDB/ISF/image the symbols came from
	const char *note;              ///< why: "PDB not found in the symbol path (tried ...)", ...
};

/** Sets the symbol options (strings copied) and unloads every module's symbols. */
BC_PUBLIC struct bc_error *bc_target_set_symbol_options(struct bc_target *t,
							const struct bc_symbol_options *opt);
/** The current symbol path ("" when none). */
BC_PUBLIC const char *bc_target_symbol_path(const struct bc_target *t);
/**
 * Forgets loaded symbols (of the module named @module, or all when NULL), so
 * they are searched again on next use (`.reload`). With @now, loads them
 * at once (`.reload /f`). BC_ERR_NOT_FOUND when no module has that name.
 */
BC_PUBLIC struct bc_error *bc_target_reload_symbols(struct bc_target *t, const char *module,
						    bool now);
/** Loads (if deferred) and returns the symbol slot of module @index. Never NULL. */
BC_PUBLIC const struct bc_module_symbols *bc_target_module_symbols(struct bc_target *t,
								   size_t index);
/** The slot without loading it (for `lm`, which shows "(deferred)"). */
BC_PUBLIC const struct bc_module_symbols *bc_target_module_symbols_peek(const struct bc_target *t,
									size_t index);

/** A symbolized address. */
struct bc_address_symbol {
	const struct bc_module *module;  ///< NULL when no module covers the address
	const char *module_name;         ///< WinDbg's short name ("nt", "amdppm"), NULL without module
	const char *symbol;              ///< NULL when the module has no symbol before it
	uint64_t symbol_address;
	uint64_t displacement;           ///< address - symbol_address (or - module base)
};

/** Describes @address; loads the covering module's symbols when needed. */
BC_PUBLIC void bc_target_describe_address(struct bc_target *t, uint64_t address,
					  struct bc_address_symbol *ret);
/** "nt!KeBugCheckEx+0x10", "amdppm+0x1f2c", or "" when no module covers it. */
BC_PUBLIC void bc_target_format_address(struct bc_target *t, uint64_t address, char *buf,
					size_t size);
/**
 * Resolves "module!name" or a bare "name" (searched in every module, the
 * kernel first) to an address. BC_ERR_NOT_FOUND with a message saying what
 * was searched when nothing matches.
 */
BC_PUBLIC struct bc_error *bc_target_resolve_symbol(struct bc_target *t, const char *name,
						    uint64_t *address_ret);
/**
 * The type named "module!TYPE" or "TYPE" (searched in the kernel first, then
 * every module with types). @module_index_ret may be NULL.
 */
BC_PUBLIC struct bc_error *bc_target_find_type(struct bc_target *t, const char *name,
					       struct bc_symtab **symtab_ret,
					       const struct bc_type **type_ret,
					       size_t *module_index_ret);

/**
 * Reads like bc_target_read(), but bytes of a loaded image that the dump
 * does not hold (small memory dumps keep little code) come from the image
 * file found through the symbol path, as WinDbg does: headers and sections
 * the image never writes only, so no stale data is passed off as memory.
 * The fault of the dump read when neither has the bytes.
 */
BC_PUBLIC struct bc_error *bc_target_read_code(struct bc_target *t, uint64_t address, void *buf,
					       size_t size);

struct bc_pe;
/**
 * The module's PE image (bugcheck/pe.h): its headers in dump memory, else the
 * image file found through the symbol path (matching TimeDateStamp and
 * SizeOfImage). @path_ret (may be NULL) gets the file's path, or NULL when
 * the image was read from memory. NULL when neither is available.
 */
BC_PUBLIC struct bc_pe *bc_target_module_image(struct bc_target *t, size_t index,
					       const char **path_ret);

/** WinDbg's short module name: "nt" for the kernel, else the base name without extension. */
BC_PUBLIC void bc_module_short_name(const struct bc_target *t, size_t index, char *buf,
				    size_t size);

#ifdef __cplusplus
}
#endif
#endif
