/*
 * sym/pdb_private.h: what the PDB modules share: sym/pdb.c (the MSF container,
 * identity, publics) gives sym/pdb_tpi.c (type records), sym/pdb_frames.c
 * (x86 FPO and FrameData records) and sym/pdb_params.c (procedures and their
 * parameters, from module symbol streams) a way to load streams and to place
 * section:offset addresses.
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

/** The TPI stream (or, with stream = 4, the IPI stream), loaded on first use. */
struct pdb_tpi {
	uint32_t stream;                 ///< 0: the TPI stream (2)
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
/**
 * The raw record of type @index (its leaf kind, its payload after the kind).
 * False when the stream is unreadable or has no such record.
 */
bool pdb_tpi_record(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what,
		    uint32_t index, uint16_t *kind, const uint8_t **data, size_t *len);

/** What the parameter reader (sym/pdb_params.c) needs from its PDB. */
struct pdb_params_source {
	const struct pdb_msf_view *msf;
	const char *what;          ///< the file, for messages
	uint32_t machine;          ///< PE machine: 0x8664 or 0x14c decide register names
	struct pdb_tpi *tpi;       ///< procedure types (may be NULL: parameter counts unknown)
	struct pdb_tpi *ipi;       ///< function ids of S_GPROC32_ID (may be NULL)
	/** section:offset to an RVA; false when it lies in no section. */
	bool (*place)(void *arg, uint16_t seg, uint32_t off, uint64_t *rva);
	void *place_arg;
};

struct pdb_params_module;
struct pdb_params_contribution;

/** Procedures by module, decoded on first use and kept. */
struct pdb_params {
	bool loaded;
	struct bc_error *load_error;
	struct pdb_params_module *modules;
	size_t module_count;
	struct pdb_params_contribution *contributions;  ///< code ranges by RVA -> module
	size_t contribution_count;
};

struct bc_error *pdb_params_procedure_at(struct pdb_params *pp, const struct pdb_params_source *src,
					 uint64_t rva, const struct bc_procedure **ret);
void pdb_params_free(struct pdb_params *pp);

/** One decoded module symbol stream: its procedures (for tests and the fuzzer). */
struct pdb_params_procs {
	struct bc_procedure *v;
	size_t count;
};
/**
 * Decodes every procedure of the module symbol stream @data (u32 signature,
 * then records up to @sym_size). Names point into @data, which must outlive
 * the result. @module names the module in errors.
 */
struct bc_error *pdb_params_decode_module(const struct pdb_params_source *src, unsigned module,
					  const uint8_t *data, uint32_t size, uint32_t sym_size,
					  struct pdb_params_procs *ret);
void pdb_params_procs_free(struct pdb_params_procs *procs);

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
