/*
 * bugcheck/isf.h: Volatility 3 ISF symbol tables, and finding the kernel a
 * dump ran without its image.
 *
 * An ISF table (JSON, usually .json.xz) is a PDB converted by Volatility's
 * pdbconv: public symbols as RVAs, and the type layouts. bc_isf_open() makes
 * it a struct bc_symtab (bugcheck/symtab.h), equal to a PDB for lookups.
 *
 * Kernel identification: a small memory dump holds no ntoskrnl headers, so
 * no GUID to look a PDB up by. Its KDDEBUGGER_DATA64 holds dozens of absolute
 * kernel addresses, though; bc_kernel_identify() finds the table in a
 * directory of tables whose symbol RVAs equal those addresses minus KernBase.
 * The RVAs it needs from each table are kept in an index file in a cache
 * directory (rebuilt for tables whose size or time changed), so matching
 * against hundreds of tables reads one small file.
 *
 * Directory layout (Volatility's): DIR/<pdb name>/<GUID>-<age>.json[.xz],
 * age in decimal; DIR may also hold the tables directly.
 */
#ifndef BUGCHECK_ISF_H
#define BUGCHECK_ISF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/symtab.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opens an ISF table (.json or .json.xz). */
BC_PUBLIC struct bc_error *bc_isf_open(const char *path, struct bc_symtab **ret);
/** Opens ISF JSON text held in memory (copied). @what names it in errors. */
BC_PUBLIC struct bc_error *bc_isf_open_memory(const void *json, size_t size, const char *what,
					      struct bc_symtab **ret);

/**
 * The table for PDB @id in directory @dir (Volatility layout or flat):
 * a malloc'd path in *@path_ret, or BC_ERR_NOT_FOUND. The PDB name from @id
 * is checked to be a plain file name first (never a path).
 */
BC_PUBLIC struct bc_error *bc_isf_dir_find(const char *dir, const struct bc_pdb_identity *id,
					   char **path_ret);

struct bc_kernel_match {
	char *path;                       ///< the matching table (malloc'd), NULL when none
	struct bc_pdb_identity identity;  ///< its PDB identity
	unsigned fields_checked;          ///< KDDEBUGGER_DATA64 addresses compared
	unsigned fields_agreed;           ///< ... equal to the table's RVAs
	unsigned candidates;              ///< tables of the dump's machine considered
	char explanation[512];            ///< one line: what matched, or why nothing did
};

/**
 * Finds the kernel symbol table of @t in @isf_dir. @cache_dir holds the index
 * (created if missing; NULL: index in memory only, slower). Succeeds with
 * ret->path == NULL when nothing matches; ret->explanation says why (no
 * KDDEBUGGER_DATA64, no table of this machine, closest candidate and how many
 * addresses disagreed). Free with bc_kernel_match_free().
 */
BC_PUBLIC struct bc_error *bc_kernel_identify(struct bc_target *t, const char *isf_dir,
					      const char *cache_dir, struct bc_kernel_match *ret);
BC_PUBLIC void bc_kernel_match_free(struct bc_kernel_match *m);

#ifdef __cplusplus
}
#endif
#endif
