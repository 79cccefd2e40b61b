/*
 * sym/symtab_private.h: how a symbol provider plugs into struct bc_symtab.
 *
 * A provider (PDB, ISF, PE exports) embeds `struct bc_symtab` as the first
 * member of its own state and fills `ops`. The dispatch in sym/symtab.c checks
 * for missing operations (a provider without types leaves type ops NULL).
 *
 * Providers whose symbols are a flat list (ISF, exports, PDB publics) hand
 * them to a `struct bc_symbol_index`, which owns the array, sorts it by RVA
 * and by name once, and answers the three lookups. Names handed to the index
 * must stay valid as long as the index (providers keep them in their own
 * string storage).
 */
#ifndef BC_SYM_SYMTAB_PRIVATE_H
#define BC_SYM_SYMTAB_PRIVATE_H

#include "bugcheck/symtab.h"

struct bc_symtab_ops {
	struct bc_error *(*lookup_name)(struct bc_symtab *tab, const char *name,
					struct bc_symbol *ret);
	struct bc_error *(*lookup_rva)(struct bc_symtab *tab, uint64_t rva, struct bc_symbol *ret);
	struct bc_error *(*each)(struct bc_symtab *tab, const char *pattern,
				 bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg);
	size_t (*symbol_count)(struct bc_symtab *tab);
	bool (*has_types)(struct bc_symtab *tab);
	struct bc_error *(*type_by_name)(struct bc_symtab *tab, const char *name,
					 const struct bc_type **ret);
	struct bc_error *(*type)(struct bc_symtab *tab, uint32_t id, const struct bc_type **ret);
	struct bc_error *(*procedure_at)(struct bc_symtab *tab, uint64_t rva,
					 const struct bc_procedure **ret);
	void (*destroy)(struct bc_symtab *tab);
};

struct bc_symtab {
	const struct bc_symtab_ops *ops;
	enum bc_symtab_kind kind;
	uint32_t machine;                   ///< PE machine value, 0 if unknown
	char *source;                       ///< malloc'd path or description
	struct bc_pdb_identity identity;
};

/** Sets the common part; @source is copied. Returns &bc_enomem on failure. */
struct bc_error *bc_symtab_init(struct bc_symtab *tab, const struct bc_symtab_ops *ops,
				enum bc_symtab_kind kind, const char *source);
/** Frees what bc_symtab_init allocated (providers call it from destroy). */
void bc_symtab_deinit(struct bc_symtab *tab);

struct bc_symbol_index {
	struct bc_symbol *by_rva;  ///< owned, sorted by (rva, name)
	size_t count, capacity;
	uint32_t *by_name;         ///< indexes into by_rva, sorted by name (strcmp)
	bool sorted;
};

/** Appends a symbol (the name is borrowed). Returns &bc_enomem on failure. */
struct bc_error *bc_symbol_index_add(struct bc_symbol_index *idx, const struct bc_symbol *sym);
/** Sorts both orders; idempotent. Call after the last add. */
struct bc_error *bc_symbol_index_finish(struct bc_symbol_index *idx);
struct bc_error *bc_symbol_index_lookup_name(const struct bc_symbol_index *idx, const char *name,
					     struct bc_symbol *ret);
struct bc_error *bc_symbol_index_lookup_rva(const struct bc_symbol_index *idx, uint64_t rva,
					    struct bc_symbol *ret);
struct bc_error *bc_symbol_index_each(const struct bc_symbol_index *idx, const char *pattern,
				      bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg);
void bc_symbol_index_deinit(struct bc_symbol_index *idx);

#endif
