/*
 * bugcheck/vergilius.h: kernel type layouts from Vergilius Project files,
 * and choosing the one that fits a dump's kernel.
 *
 * Owns reading the Vergilius Project's kernels-data YAML (one file per
 * kernel build: "6.1.7601.17514-x86.yml", plain or .xz) into a struct
 * bc_symtab with types and no symbols, and the header facts that say which
 * kernel it describes (build string, architecture). The YAML is read by a
 * bounds-checked parser for the subset those files use; anything else is
 * refused with one line naming the file and the line.
 *
 * The files describe a build (major.minor.build.revision), not a PDB: there
 * is no GUID to match. bc_target_vergilius_kernel() therefore accepts a file
 * for a dump only when its architecture and build number equal the dump's
 * and every KDDEBUGGER_DATA64 offset and size both know agree; otherwise it
 * records, per file, why not. Used by bugcheck/kobj.h between the kernel's
 * own types and KDDEBUGGER_DATA64's offsets.
 *
 * Ownership: symtabs from bc_vergilius_open*() belong to the caller
 * (bc_symtab_destroy); the one from bc_target_vergilius_kernel() and its note
 * are borrowed from the target.
 */
#ifndef BUGCHECK_VERGILIUS_H
#define BUGCHECK_VERGILIUS_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/symtab.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a Vergilius file's header says about the kernel it describes. */
struct bc_vergilius_info {
	char build[48];            ///< "6.1.7601.17514", as written
	uint32_t major, minor;     ///< 6, 1
	uint32_t build_number;     ///< 7601: what a dump header's build is compared with
	uint32_t revision;         ///< 17514
	enum bc_machine machine;   ///< from "arch": x86 or x64
	char family[64];           ///< "Windows 7 | Server 2008R2" (informational)
	uint64_t timestamp;        ///< the kernel image's TimeDateStamp
	size_t type_count;         ///< entries under "types:"
};

/** Opens a Vergilius file (.yml or .yml.xz). @info may be NULL. */
BC_PUBLIC struct bc_error *bc_vergilius_open(const char *path, struct bc_symtab **ret,
					     struct bc_vergilius_info *info);
/** The same from YAML text in memory; @what names it in errors. */
BC_PUBLIC struct bc_error *bc_vergilius_open_memory(const void *text, size_t size,
						    const char *what, struct bc_symtab **ret,
						    struct bc_vergilius_info *info);

/**
 * The Vergilius layout chosen for @target's kernel from the directory in its
 * symbol options (bc_symbol_options.vergilius_dir), selected once and kept
 * until the options change. BC_ERR_NOT_FOUND when no directory is set or no
 * file passes; @note_ret (may be NULL) then says why for each file
 * considered ("vergilius 6.1.7601.17514-x86: _KTHREAD.ApcState.Process at
 * 0x50, KDDEBUGGER_DATA64 says 0x34"), and on success which file was taken
 * and how many KDDEBUGGER_DATA64 fields agreed.
 */
BC_PUBLIC struct bc_error *bc_target_vergilius_kernel(struct bc_target *target,
						      struct bc_symtab **tab_ret,
						      const char **note_ret);

#ifdef __cplusplus
}
#endif
#endif
