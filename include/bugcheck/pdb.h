/*
 * bugcheck/pdb.h: Program Database files (MSF 7.00) as symbol tables.
 *
 * bc_pdb_open() reads the MSF container's superblock and stream directory,
 * the PDB info stream (GUID, signature) and the DBI header (age, machine);
 * symbols (S_PUB32 publics, S_GDATA32/S_LDATA32 globals, and procedures with
 * code sizes from the module streams S_PROCREF points into; placed by
 * section:offset through the section headers, and through OMAP when the image
 * was rearranged after linking) load on the first lookup; type records (TPI: structures, unions, enums,
 * pointers, arrays, bitfields, modifiers, procedures; forward references
 * resolved by unique name) on the first type request, one type at a time.
 *
 * The old PDB 2.00 format ("Microsoft C/C++ program database 2.00") is
 * recognised and refused by name.
 */
#ifndef BUGCHECK_PDB_H
#define BUGCHECK_PDB_H

#include <stddef.h>

#include "bugcheck/error.h"
#include "bugcheck/symtab.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opens the PDB at @path (mapped; read on demand). */
BC_PUBLIC struct bc_error *bc_pdb_open(const char *path, struct bc_symtab **ret);
/** Opens PDB bytes held in memory (copied). @what names them in errors. */
BC_PUBLIC struct bc_error *bc_pdb_open_memory(const void *data, size_t size, const char *what,
					      struct bc_symtab **ret);
/**
 * Reads only what identifies the PDB: GUID and signature (info stream), age
 * (DBI header, what CodeView records are matched against), and the file's
 * base name. Cheap: for checking a download before keeping it.
 */
BC_PUBLIC struct bc_error *bc_pdb_read_identity(const char *path, struct bc_pdb_identity *ret);

#ifdef __cplusplus
}
#endif
#endif
