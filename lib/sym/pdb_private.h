/*
 * sym/pdb_private.h: what the PDB modules share: sym/pdb.c (the MSF container,
 * identity, publics) gives sym/pdb_tpi.c (type records) and sym/pdb_frames.c
 * (x86 FPO and FrameData records) a way to load streams.
 */
#ifndef BC_SYM_PDB_PRIVATE_H
#define BC_SYM_PDB_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "bugcheck/pdb.h"
#include "bugcheck/symtab.h"

/** Loads a whole stream (malloc'd). */
struct pdb_msf_view {
	struct bc_error *(*load)(void *arg, uint32_t stream, uint8_t **data, uint32_t *size);
	void *arg;
};

struct pdb_tpi_type {
	struct bc_type t;
	bool borrowed;  ///< member lists belong to another entry (modifiers, forward references)
};

struct tpi_name;

/** The TPI stream, loaded on first use. */
struct pdb_tpi {
	bool loaded;
	struct bc_error *load_error;
	uint8_t *data;
	uint32_t size, begin, end;
	uint32_t *offsets;               ///< record offset per type index - begin (0: none)
	struct pdb_tpi_type **types;     ///< decoded types per index - begin
	struct bc_type *simple[0x1000];  ///< built-in types, by index
	struct tpi_name *names;          ///< defined types by name, sorted
	size_t name_count;
};

struct bc_error *pdb_tpi_type(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what,
			      uint32_t index, const struct bc_type **ret);
struct bc_error *pdb_tpi_type_by_name(struct pdb_tpi *t, const struct pdb_msf_view *msf,
				      const char *what, const char *name,
				      const struct bc_type **ret);
bool pdb_tpi_has_types(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what);
void pdb_tpi_free(struct pdb_tpi *t);

/** The x86 frame records (FPO_DATA and FrameData), loaded on first use. */
struct pdb_frames {
	bool loaded;
	struct bc_error *load_error;
	struct bc_x86_frame_info *records;  ///< FrameData records, then FPO_DATA ones, stream order
	size_t data_count, fpo_count;
	uint32_t *data_sorted, *fpo_sorted; ///< indexes into records, by (rva, stream order)
	uint8_t *names;                     ///< the /names stream: the programs point into it
};

/**
 * Loads the records once from the DBI debug streams @fpo_stream and
 * @data_stream (UINT16_MAX: absent). Returns a copy of the load error on
 * every call after a failed load.
 */
struct bc_error *pdb_frames_ensure(struct pdb_frames *f, const struct pdb_msf_view *msf,
				   const char *what, uint16_t fpo_stream, uint16_t data_stream);
/** The record covering @rva (FrameData first); &bc_not_found when none. */
struct bc_error *pdb_frames_find(const struct pdb_frames *f, uint64_t rva,
				 struct bc_x86_frame_info *ret);
void pdb_frames_free(struct pdb_frames *f);

#endif
