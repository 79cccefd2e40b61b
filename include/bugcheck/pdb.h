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
 * x86 PDBs also say how to find each function's caller: FPO_DATA records
 * (the DBI's "old FPO" debug stream) and FrameData records with program
 * strings (the "new FPO" stream, programs in the /names string table). They
 * are read on the first bc_pdb_x86_frame() call.
 *
 * The old PDB 2.00 format ("Microsoft C/C++ program database 2.00") is
 * recognised and refused by name.
 */
#ifndef BUGCHECK_PDB_H
#define BUGCHECK_PDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

enum bc_x86_frame_kind {
	BC_X86_FRAME_FPO = 1,  ///< an FPO_DATA record (sizes only)
	BC_X86_FRAME_DATA,     ///< a FrameData record (sizes and a program string)
};

/** FPO_DATA cbFrame values. */
enum bc_x86_frame_type {
	BC_X86_FRAME_TYPE_FPO = 0,
	BC_X86_FRAME_TYPE_TRAP = 1,
	BC_X86_FRAME_TYPE_TSS = 2,
	BC_X86_FRAME_TYPE_NONFPO = 3,
};

/** One x86 frame record: how code in [rva, rva + size) finds its caller. */
struct bc_x86_frame_info {
	enum bc_x86_frame_kind kind;
	uint32_t rva, size;
	uint32_t locals;        ///< bytes (FPO_DATA stores dwords: cdwLocals * 4)
	uint32_t params;        ///< bytes (FPO_DATA: cdwParams * 4)
	uint32_t saved_regs;    ///< bytes (FPO_DATA: cbRegs registers * 4)
	uint32_t max_stack;     ///< FrameData cbStkMax; 0 for FPO
	uint16_t prolog;        ///< prolog bytes
	uint8_t frame_type;     ///< enum bc_x86_frame_type (FPO); BC_X86_FRAME_TYPE_FPO for FrameData
	bool has_seh, has_eh;   ///< has_eh: FrameData only
	bool function_start;    ///< FrameData: the record starts a function
	bool uses_bp;           ///< FPO: EBP was allocated as a general register
	const char *program;    ///< FrameData: the program string (borrowed from the symtab); NULL for FPO
};

/**
 * The x86 frame record covering @rva: a FrameData record when one covers it,
 * else an FPO_DATA record. &bc_not_found when none covers @rva (or the PDB
 * has neither stream); BC_ERR_UNSUPPORTED when @tab is not a PDB; a
 * BC_ERR_FORMAT error naming the file when a stream is corrupt (every later
 * call repeats it).
 */
BC_PUBLIC struct bc_error *bc_pdb_x86_frame(struct bc_symtab *tab, uint64_t rva,
					    struct bc_x86_frame_info *ret);
/**
 * Calls @fn for every record: FrameData ones, then FPO_DATA ones, each in
 * stream order. @fn returns false to stop early. Errors as bc_pdb_x86_frame().
 */
BC_PUBLIC struct bc_error *bc_pdb_x86_frame_each(struct bc_symtab *tab,
						 bool (*fn)(void *arg,
							    const struct bc_x86_frame_info *info),
						 void *arg);

#ifdef __cplusplus
}
#endif
#endif
