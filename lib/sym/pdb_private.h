/*
 * sym/pdb_private.h: what the PDB modules share: sym/pdb.c (the MSF container,
 * identity, publics) gives sym/pdb_tpi.c (type records) a way to load streams.
 */
#ifndef BC_SYM_PDB_PRIVATE_H
#define BC_SYM_PDB_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
