// A symbol table over a PE image's export directory: the last resort when no
// PDB or ISF table is found (bugcheck/pe.h, sym/symtab_private.h). Names are
// copied, so the table outlives the bc_pe it was made from.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pe.h"
#include "sym/symtab_private.h"

struct exports_symtab {
	struct bc_symtab base;          // first: the ops cast back
	struct bc_symbol_index symbols;  // exports with an address in the image
	struct bc_symbol_index forwarders;  // names only: never answer an RVA lookup
	char *strings;                  // every name and forwarder, NUL-separated
};

static struct exports_symtab *of(struct bc_symtab *tab)
{
	return (struct exports_symtab *)tab;
}

static struct bc_error *exports_lookup_name(struct bc_symtab *tab, const char *name,
					    struct bc_symbol *ret)
{
	struct bc_error *err = bc_symbol_index_lookup_name(&of(tab)->symbols, name, ret);
	if (err == &bc_not_found)
		err = bc_symbol_index_lookup_name(&of(tab)->forwarders, name, ret);
	return err;
}

static struct bc_error *exports_lookup_rva(struct bc_symtab *tab, uint64_t rva,
					   struct bc_symbol *ret)
{
	return bc_symbol_index_lookup_rva(&of(tab)->symbols, rva, ret);
}

struct each_state {
	bool (*fn)(void *arg, const struct bc_symbol *sym);
	void *arg;
	bool stopped;
};

static bool each_relay(void *arg, const struct bc_symbol *sym)
{
	struct each_state *st = arg;
	if (!st->fn(st->arg, sym)) {
		st->stopped = true;
		return false;
	}
	return true;
}

static struct bc_error *exports_each(struct bc_symtab *tab, const char *pattern,
				     bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg)
{
	struct each_state st = { fn, arg, false };
	struct bc_error *err = bc_symbol_index_each(&of(tab)->symbols, pattern, each_relay, &st);
	if (err || st.stopped)
		return err;
	return bc_symbol_index_each(&of(tab)->forwarders, pattern, each_relay, &st);
}

static size_t exports_symbol_count(struct bc_symtab *tab)
{
	return of(tab)->symbols.count + of(tab)->forwarders.count;
}

static void exports_destroy(struct bc_symtab *tab)
{
	struct exports_symtab *et = of(tab);
	bc_symbol_index_deinit(&et->symbols);
	bc_symbol_index_deinit(&et->forwarders);
	free(et->strings);
	bc_symtab_deinit(&et->base);
	free(et);
}

static const struct bc_symtab_ops exports_ops = {
	.lookup_name = exports_lookup_name,
	.lookup_rva = exports_lookup_rva,
	.each = exports_each,
	.symbol_count = exports_symbol_count,
	.destroy = exports_destroy,
};

// Bytes needed to copy every name ("Ordinal4294967295" at most for unnamed
// ones) and forwarder.
static size_t strings_size(const struct bc_pe_exports *ex)
{
	size_t n = 1;
	for (size_t i = 0; i < ex->count; i++) {
		const struct bc_pe_export *e = &ex->entries[i];
		n += (e->name ? strlen(e->name) + 1 : sizeof("Ordinal4294967295"));
		if (e->forwarder)
			n += strlen(e->forwarder) + 1;
	}
	return n;
}

static char *copy_string(char **at, const char *s)
{
	char *dst = *at;
	size_t len = strlen(s) + 1;
	memcpy(dst, s, len);
	*at += len;
	return dst;
}

static struct bc_error *add_exports(struct exports_symtab *et, struct bc_pe *pe,
				    const struct bc_pe_exports *ex)
{
	size_t size = strings_size(ex);
	if (!(et->strings = malloc(size)))
		return &bc_enomem;
	char *at = et->strings;
	for (size_t i = 0; i < ex->count; i++) {
		const struct bc_pe_export *e = &ex->entries[i];
		struct bc_symbol sym = { .rva = e->rva, .kind = BC_SYMBOL_PUBLIC };
		if (e->name) {
			sym.name = copy_string(&at, e->name);
		} else {
			// WinDbg's name for an export by ordinal only.
			int n = snprintf(at, sizeof("Ordinal4294967295"), "Ordinal%u", e->ordinal);
			sym.name = at;
			at += n + 1;
		}
		struct bc_error *err;
		if (e->forwarder) {
			sym.forwarder = copy_string(&at, e->forwarder);
			err = bc_symbol_index_add(&et->forwarders, &sym);
		} else {
			const struct bc_pe_section *s = bc_pe_section_at(pe, e->rva);
			sym.is_function = s && (s->characteristics & BC_PE_SCN_MEM_EXECUTE);
			err = bc_symbol_index_add(&et->symbols, &sym);
		}
		if (err)
			return err;
	}
	struct bc_error *err = bc_symbol_index_finish(&et->symbols);
	return err ? err : bc_symbol_index_finish(&et->forwarders);
}

BC_PUBLIC struct bc_error *bc_exports_symtab_create(struct bc_pe *pe, const char *source,
						    struct bc_symtab **ret)
{
	const struct bc_pe_exports *ex;
	struct bc_error *err = bc_pe_exports(pe, &ex);
	if (err)
		return err;
	struct exports_symtab *et = calloc(1, sizeof(*et));
	if (!et)
		return &bc_enomem;
	if ((err = bc_symtab_init(&et->base, &exports_ops, BC_SYMTAB_EXPORTS,
				  source ? source : bc_pe_name(pe)))) {
		free(et);
		return err;
	}
	et->base.machine = bc_pe_info(pe)->machine;
	// The identity is what a PDB for this image would have; an image without
	// a readable CodeView record simply has none (all zero).
	struct bc_pdb_identity id;
	struct bc_error *id_err = bc_pe_pdb_identity(pe, &id);
	if (!id_err)
		et->base.identity = id;
	else if (id_err->code == BC_ERR_NOMEM)
		err = id_err;
	else
		bc_error_destroy(id_err);
	if (!err)
		err = add_exports(et, pe, ex);
	if (err) {
		exports_destroy(&et->base);
		return err;
	}
	*ret = &et->base;
	return NULL;
}
