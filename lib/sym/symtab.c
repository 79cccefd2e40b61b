// One module's symbols, whatever the provider: dispatch, the shared sorted
// symbol index, and WinDbg wildcards (bugcheck/symtab.h, sym/symtab_private.h).
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sym/symtab_private.h"

struct bc_error *bc_symtab_init(struct bc_symtab *tab, const struct bc_symtab_ops *ops,
				enum bc_symtab_kind kind, const char *source)
{
	tab->ops = ops;
	tab->kind = kind;
	tab->source = strdup(source ? source : "");
	return tab->source ? NULL : &bc_enomem;
}

void bc_symtab_deinit(struct bc_symtab *tab)
{
	free(tab->source);
	tab->source = NULL;
}

BC_PUBLIC enum bc_symtab_kind bc_symtab_kind(const struct bc_symtab *tab)
{
	return tab->kind;
}

BC_PUBLIC const char *bc_symtab_source(const struct bc_symtab *tab)
{
	return tab->source;
}

BC_PUBLIC const struct bc_pdb_identity *bc_symtab_identity(const struct bc_symtab *tab)
{
	return &tab->identity;
}

BC_PUBLIC uint32_t bc_symtab_machine(const struct bc_symtab *tab)
{
	return tab->machine;
}

BC_PUBLIC struct bc_error *bc_symtab_lookup_name(struct bc_symtab *tab, const char *name,
						 struct bc_symbol *ret)
{
	return tab->ops->lookup_name ? tab->ops->lookup_name(tab, name, ret) : &bc_not_found;
}

BC_PUBLIC struct bc_error *bc_symtab_lookup_rva(struct bc_symtab *tab, uint64_t rva,
						struct bc_symbol *ret)
{
	return tab->ops->lookup_rva ? tab->ops->lookup_rva(tab, rva, ret) : &bc_not_found;
}

BC_PUBLIC struct bc_error *bc_symtab_each(struct bc_symtab *tab, const char *pattern,
					  bool (*fn)(void *arg, const struct bc_symbol *sym),
					  void *arg)
{
	return tab->ops->each ? tab->ops->each(tab, pattern, fn, arg) : NULL;
}

struct next_search {
	uint64_t rva;
	struct bc_symbol found;
	bool have;
};

static bool take_first_after(void *arg, const struct bc_symbol *sym)
{
	struct next_search *n = arg;
	if (sym->rva <= n->rva)
		return true;
	n->found = *sym;
	n->have = true;
	return false;
}

BC_PUBLIC struct bc_error *bc_symtab_lookup_next(struct bc_symtab *tab, uint64_t rva,
						 struct bc_symbol *ret)
{
	struct next_search n = { .rva = rva };
	struct bc_error *err = bc_symtab_each(tab, NULL, take_first_after, &n);
	if (err)
		return err;
	if (!n.have)
		return &bc_not_found;
	*ret = n.found;
	return NULL;
}

BC_PUBLIC size_t bc_symtab_symbol_count(struct bc_symtab *tab)
{
	return tab->ops->symbol_count ? tab->ops->symbol_count(tab) : 0;
}

BC_PUBLIC bool bc_symtab_has_types(struct bc_symtab *tab)
{
	return tab->ops->has_types && tab->ops->has_types(tab);
}

BC_PUBLIC struct bc_error *bc_symtab_type_by_name(struct bc_symtab *tab, const char *name,
						  const struct bc_type **ret)
{
	return tab->ops->type_by_name ? tab->ops->type_by_name(tab, name, ret) : &bc_not_found;
}

BC_PUBLIC struct bc_error *bc_symtab_type(struct bc_symtab *tab, uint32_t id,
					  const struct bc_type **ret)
{
	return tab->ops->type ? tab->ops->type(tab, id, ret) : &bc_not_found;
}

BC_PUBLIC struct bc_error *bc_symtab_procedure_at(struct bc_symtab *tab, uint64_t rva,
						  const struct bc_procedure **ret)
{
	return tab->ops->procedure_at ? tab->ops->procedure_at(tab, rva, ret) : &bc_not_found;
}

BC_PUBLIC bool bc_param_location_covers(const struct bc_param_location *location, uint64_t rva)
{
	if (location->whole_scope)
		return true;
	if (rva < location->start || rva >= location->end)
		return false;
	for (size_t i = 0; i < location->gap_count; i++) {
		const struct bc_param_gap *g = &location->gaps[i];
		if (rva >= g->rva && rva - g->rva < g->length)
			return false;
	}
	return true;
}

BC_PUBLIC void bc_symtab_destroy(struct bc_symtab *tab)
{
	if (tab)
		tab->ops->destroy(tab);
}

BC_PUBLIC bool bc_wildcard_match(const char *pattern, const char *text)
{
	// Iterative glob with one backtrack point: linear in practice, never
	// exponential on hostile patterns like "*a*a*a*a*b".
	const char *star = NULL, *resume = NULL;
	while (*text) {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern == '?' ||
			   (*pattern && strncasecmp(pattern, text, 1) == 0)) {
			pattern++;
			text++;
		} else if (star) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return !*pattern;
}

struct bc_error *bc_symbol_index_add(struct bc_symbol_index *idx, const struct bc_symbol *sym)
{
	if (idx->count == idx->capacity) {
		size_t cap = idx->capacity ? idx->capacity * 2 : 256;
		if (cap > UINT32_MAX)
			return bc_error_create(BC_ERR_UNSUPPORTED, "more than 2^32 symbols in one module");
		struct bc_symbol *p = realloc(idx->by_rva, cap * sizeof(*p));
		if (!p)
			return &bc_enomem;
		idx->by_rva = p;
		idx->capacity = cap;
	}
	idx->by_rva[idx->count++] = *sym;
	idx->sorted = false;
	return NULL;
}

static int cmp_rva(const void *a, const void *b)
{
	const struct bc_symbol *x = a, *y = b;
	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	// At one RVA prefer functions, then one with a known size (a procedure
	// over its public), then the shorter (less decorated) name.
	if (x->is_function != y->is_function)
		return x->is_function ? -1 : 1;
	if (!x->size != !y->size)
		return x->size ? -1 : 1;
	size_t lx = strlen(x->name), ly = strlen(y->name);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

// qsort has no context argument in C11: sort indexes through a small wrapper.
struct name_key {
	const char *name;
	uint32_t index;
};

static int cmp_name_key(const void *a, const void *b)
{
	const struct name_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

struct bc_error *bc_symbol_index_finish(struct bc_symbol_index *idx)
{
	if (idx->sorted)
		return NULL;
	if (idx->count)  // an empty index has no array: qsort(NULL, 0) is undefined
		qsort(idx->by_rva, idx->count, sizeof(*idx->by_rva), cmp_rva);
	struct name_key *keys = malloc((idx->count ? idx->count : 1) * sizeof(*keys));
	uint32_t *by_name = realloc(idx->by_name, (idx->count ? idx->count : 1) * sizeof(*by_name));
	if (!keys || !by_name) {
		free(keys);
		if (by_name)
			idx->by_name = by_name;
		return &bc_enomem;
	}
	for (size_t i = 0; i < idx->count; i++)
		keys[i] = (struct name_key){ idx->by_rva[i].name, (uint32_t)i };
	qsort(keys, idx->count, sizeof(*keys), cmp_name_key);
	for (size_t i = 0; i < idx->count; i++)
		by_name[i] = keys[i].index;
	free(keys);
	idx->by_name = by_name;
	idx->sorted = true;
	return NULL;
}

struct bc_error *bc_symbol_index_lookup_name(const struct bc_symbol_index *idx, const char *name,
					     struct bc_symbol *ret)
{
	if (!idx->sorted)
		return &bc_not_found;
	size_t lo = 0, hi = idx->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(idx->by_rva[idx->by_name[mid]].name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < idx->count && strcmp(idx->by_rva[idx->by_name[lo]].name, name) == 0) {
		*ret = idx->by_rva[idx->by_name[lo]];
		return NULL;
	}
	// WinDbg resolves names case-insensitively when nothing matches exactly.
	for (size_t i = 0; i < idx->count; i++) {
		if (strcasecmp(idx->by_rva[i].name, name) == 0) {
			*ret = idx->by_rva[i];
			return NULL;
		}
	}
	return &bc_not_found;
}

struct bc_error *bc_symbol_index_lookup_rva(const struct bc_symbol_index *idx, uint64_t rva,
					    struct bc_symbol *ret)
{
	if (!idx->sorted)
		return &bc_not_found;
	size_t lo = 0, hi = idx->count;  // first symbol with start > rva
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->by_rva[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return &bc_not_found;
	size_t at = lo - 1;
	while (at > 0 && idx->by_rva[at - 1].rva == idx->by_rva[at].rva)
		at--;
	*ret = idx->by_rva[at];
	return NULL;
}

struct bc_error *bc_symbol_index_each(const struct bc_symbol_index *idx, const char *pattern,
				      bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg)
{
	for (size_t i = 0; i < idx->count; i++) {
		if (pattern && !bc_wildcard_match(pattern, idx->by_rva[i].name))
			continue;
		if (!fn(arg, &idx->by_rva[i]))
			break;
	}
	return NULL;
}

void bc_symbol_index_deinit(struct bc_symbol_index *idx)
{
	free(idx->by_rva);
	free(idx->by_name);
	*idx = (struct bc_symbol_index){ 0 };
}
