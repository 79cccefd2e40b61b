// Symbols of a target's modules: options, lazy slots, address and name
// resolution (bugcheck/symbols.h). Finding a module's symbols is in
// sym/modsyms_load.c.
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/pe.h"
#include "sym/modsyms_private.h"
#include "target_private.h"

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

void bc_modsyms_clear_slot(struct bc_module_slot *slot)
{
	bc_symtab_destroy(slot->pub.symtab);
	free(slot->image_path);
	free(slot->symbol_file);
	free(slot->note);
	struct bc_module_slot keep = *slot;
	*slot = (struct bc_module_slot){ 0 };
	memcpy(slot->short_name, keep.short_name, sizeof(slot->short_name));
	slot->memory_image = keep.memory_image;
	slot->memory_image_tried = keep.memory_image_tried;
	slot->file_image = keep.file_image;
	slot->file_image_tried = keep.file_image_tried;
	slot->target = keep.target;
	slot->base = keep.base;
}

void bc_modsyms_clear_images(struct bc_module_slot *slot)
{
	bc_pe_close(slot->memory_image);
	bc_pe_close(slot->file_image);
	slot->memory_image = slot->file_image = NULL;
	slot->memory_image_tried = slot->file_image_tried = false;
}

void bc_modsyms_clear_vergilius(struct bc_modsyms *ms)
{
	bc_symtab_destroy(ms->vergilius_tab);
	free(ms->vergilius_note);
	ms->vergilius_tab = NULL;
	ms->vergilius_note = NULL;
	ms->vergilius_tried = false;
}

void bc_modsyms_destroy(struct bc_modsyms *ms)
{
	if (!ms)
		return;
	bc_modsyms_clear_vergilius(ms);
	free(ms->vergilius_dir);
	for (size_t i = 0; i < ms->slot_count; i++) {
		bc_modsyms_clear_slot(&ms->slots[i]);
		bc_modsyms_clear_images(&ms->slots[i]);
	}
	free(ms->slots);
	free(ms->symbol_path);
	free(ms->cache_dir);
	free(ms);
}

void bc_modsyms_note(struct bc_module_slot *slot, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text;
	if (vasprintf(&text, fmt, ap) >= 0) {
		free(slot->note);
		slot->note = text;
		slot->pub.note = text;
	}
	va_end(ap);
}

static void short_name_of(const struct bc_target *t, const struct bc_module *m, char *buf,
			  size_t size)
{
	if (m == bc_target_module_named(t, "nt")) {
		snprintf(buf, size, "nt");
		return;
	}
	const char *dot = strrchr(m->name, '.');
	size_t n = dot && dot != m->name ? (size_t)(dot - m->name) : strlen(m->name);
	snprintf(buf, size, "%.*s", (int)n, m->name);
}

BC_PUBLIC void bc_module_short_name(const struct bc_target *t, size_t index, char *buf,
				    size_t size)
{
	if (!size)
		return;
	if (index >= t->module_count) {
		buf[0] = 0;
		return;
	}
	short_name_of(t, &t->modules[index], buf, size);
}

// The slots exist from the first symbol use on; allocation failure leaves
// the target without symbols (every lookup then reports "not found").
struct bc_modsyms *bc_modsyms_get(struct bc_target *t)
{
	if (t->symbols)
		return t->symbols;
	struct bc_modsyms *ms = calloc(1, sizeof(*ms));
	if (!ms)
		return NULL;
	ms->slots = calloc(t->module_count ? t->module_count : 1, sizeof(*ms->slots));
	if (!ms->slots) {
		free(ms);
		return NULL;
	}
	ms->slot_count = t->module_count;
	for (size_t i = 0; i < t->module_count; i++) {
		short_name_of(t, &t->modules[i], ms->slots[i].short_name,
			      sizeof(ms->slots[i].short_name));
		ms->slots[i].target = t;
		ms->slots[i].base = t->modules[i].base;
	}
	t->symbols = ms;
	return ms;
}

static struct bc_error *read_module_memory(void *arg, uint64_t rva, void *buf, size_t size)
{
	struct bc_module_slot *slot = arg;
	return bc_target_read(slot->target, slot->base + rva, buf, size);
}

struct bc_pe *bc_modsyms_memory_image(struct bc_target *t, size_t index)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms || index >= ms->slot_count)
		return NULL;
	struct bc_module_slot *slot = &ms->slots[index];
	if (!slot->memory_image_tried) {
		slot->memory_image_tried = true;
		char what[300];
		snprintf(what, sizeof(what), "%s at %#llx", t->modules[index].name,
			 (unsigned long long)t->modules[index].base);
		struct bc_error *err = bc_pe_open_image(read_module_memory, slot,
							t->modules[index].base, what,
							&slot->memory_image);
		if (err) {
			slot->memory_image = NULL;
			bc_error_destroy(err);
		}
	}
	return slot->memory_image;
}

BC_PUBLIC struct bc_pe *bc_target_module_image(struct bc_target *t, size_t index,
					       const char **path_ret)
{
	if (path_ret)
		*path_ret = NULL;
	struct bc_pe *pe = bc_modsyms_memory_image(t, index);
	if (pe)
		return pe;
	pe = bc_modsyms_file_image(t, index);
	if (pe && path_ret)
		*path_ret = bc_pe_name(pe);
	return pe;
}

// Reads one piece that lies within a single page.
static struct bc_error *read_code_piece(struct bc_target *t, uint64_t address, uint8_t *buf,
					size_t size)
{
	struct bc_error *err = bc_target_read(t, address, buf, size);
	if (!err || err->code != BC_ERR_FAULT)
		return err;
	const struct bc_module *m = bc_target_module_at(t, address);
	struct bc_pe *file = m ? bc_modsyms_file_image(t, (size_t)(m - t->modules)) : NULL;
	if (!file)
		return err;
	// Only what the image file holds as it ran: headers and sections the
	// image never writes (code, read-only data, unwind tables).
	uint64_t rva = address - m->base;
	const struct bc_pe_section *sec = bc_pe_section_at(file, rva);
	if (sec ? (sec->characteristics & BC_PE_SCN_MEM_WRITE) != 0
		: rva >= bc_pe_info(file)->size_of_headers)
		return err;
	struct bc_error *file_err = bc_pe_read(file, rva, buf, size);
	if (file_err) {
		bc_error_destroy(file_err);
		return err;
	}
	bc_error_destroy(err);
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_read_code(struct bc_target *t, uint64_t address, void *buf,
					       size_t size)
{
	uint8_t *p = buf;
	while (size) {
		size_t in_page = 0x1000 - (size_t)(address & 0xfff);
		size_t n = size < in_page ? size : in_page;
		struct bc_error *err = read_code_piece(t, address, p, n);
		if (err)
			return err;
		address += n, p += n, size -= n;
	}
	return NULL;
}

struct bc_error *bc_modsyms_preload(struct bc_target *t, size_t index, struct bc_symtab *tab,
				    enum bc_symbol_state state, const char *file)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms || index >= ms->slot_count)
		return &bc_enomem;
	struct bc_module_slot *slot = &ms->slots[index];
	char *copy = strdup(file);
	if (!copy)
		return &bc_enomem;
	bc_modsyms_clear_slot(slot);
	slot->pub.symtab = tab;
	slot->pub.state = state;
	slot->symbol_file = copy;
	slot->pub.symbol_file = copy;
	slot->pub.identity = *bc_symtab_identity(tab);
	slot->pub.has_identity = true;
	slot->preloaded = true;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_set_symbol_options(struct bc_target *t,
							const struct bc_symbol_options *opt)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return &bc_enomem;
	char *path = dup_or_null(opt->symbol_path), *cache = dup_or_null(opt->cache_dir);
	char *vergilius = dup_or_null(opt->vergilius_dir);
	if ((opt->symbol_path && *opt->symbol_path && !path) ||
	    (opt->cache_dir && *opt->cache_dir && !cache) ||
	    (opt->vergilius_dir && *opt->vergilius_dir && !vergilius)) {
		free(path);
		free(cache);
		free(vergilius);
		return &bc_enomem;
	}
	free(ms->symbol_path);
	free(ms->cache_dir);
	free(ms->vergilius_dir);
	ms->symbol_path = path;
	ms->cache_dir = cache;
	ms->vergilius_dir = vergilius;
	bc_modsyms_clear_vergilius(ms);
	ms->allow_network = opt->allow_network;
	ms->progress = opt->progress;
	ms->progress_arg = opt->progress_arg;
	for (size_t i = 0; i < ms->slot_count; i++) {
		if (ms->slots[i].preloaded)
			continue;  // a symbol-file target's own symbols
		bc_modsyms_clear_slot(&ms->slots[i]);
		bc_modsyms_clear_images(&ms->slots[i]);
	}
	return NULL;
}

BC_PUBLIC const char *bc_target_symbol_path(const struct bc_target *t)
{
	return t->symbols && t->symbols->symbol_path ? t->symbols->symbol_path : "";
}

static const struct bc_module_symbols deferred_none = { .state = BC_SYMBOLS_NONE,
							.note = "out of memory" };

BC_PUBLIC const struct bc_module_symbols *bc_target_module_symbols(struct bc_target *t,
								   size_t index)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms || index >= ms->slot_count)
		return &deferred_none;
	struct bc_module_slot *slot = &ms->slots[index];
	if (slot->pub.state == BC_SYMBOLS_DEFERRED) {
		bc_modsyms_load(t, ms, index, slot);
		if (slot->pub.state == BC_SYMBOLS_DEFERRED)
			slot->pub.state = BC_SYMBOLS_NONE;
	}
	return &slot->pub;
}

BC_PUBLIC const struct bc_module_symbols *bc_target_module_symbols_peek(const struct bc_target *t,
									size_t index)
{
	static const struct bc_module_symbols deferred = { .state = BC_SYMBOLS_DEFERRED };
	if (!t->symbols || index >= t->symbols->slot_count)
		return &deferred;
	return &t->symbols->slots[index].pub;
}

BC_PUBLIC struct bc_error *bc_target_reload_symbols(struct bc_target *t, const char *module,
						    bool now)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return &bc_enomem;
	if (now && !module && ms->allow_network)
		bc_modsyms_prefetch(t, ms);  // overlapping downloads, then the loads below
	bool any = false;
	for (size_t i = 0; i < ms->slot_count; i++) {
		const struct bc_module *m = &t->modules[i];
		if (module && strcasecmp(module, ms->slots[i].short_name) &&
		    strcasecmp(module, m->name))
			continue;
		any = true;
		if (ms->slots[i].preloaded)
			continue;
		bc_modsyms_clear_slot(&ms->slots[i]);
		if (now)
			bc_target_module_symbols(t, i);
	}
	if (!any && module)
		return bc_error_create(BC_ERR_NOT_FOUND, "no loaded module is named %s", module);
	return NULL;
}

static size_t module_index(const struct bc_target *t, const struct bc_module *m)
{
	return (size_t)(m - t->modules);
}

BC_PUBLIC void bc_target_describe_address(struct bc_target *t, uint64_t address,
					  struct bc_address_symbol *ret)
{
	*ret = (struct bc_address_symbol){ 0 };
	// 32-bit kernels' module bases are sign-extended; so must the address be.
	if (t->info.pointer_size == 4)
		address = (uint64_t)(int64_t)(int32_t)(uint32_t)address;
	const struct bc_module *m = bc_target_module_at(t, address);
	if (!m)
		return;
	ret->module = m;
	ret->displacement = address - m->base;
	ret->symbol_address = m->base;
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return;
	size_t index = module_index(t, m);
	ret->module_name = ms->slots[index].short_name;
	const struct bc_module_symbols *syms = bc_target_module_symbols(t, index);
	struct bc_symbol sym;
	if (!syms->symtab || bc_symtab_lookup_rva(syms->symtab, address - m->base, &sym))
		return;
	ret->symbol = sym.name;
	ret->symbol_address = m->base + sym.rva;
	ret->displacement = address - ret->symbol_address;
}

BC_PUBLIC void bc_target_format_address(struct bc_target *t, uint64_t address, char *buf,
					size_t size)
{
	struct bc_address_symbol a;
	bc_target_describe_address(t, address, &a);
	if (!size)
		return;
	buf[0] = 0;
	if (!a.module)
		return;
	char name[64];
	if (a.module_name)
		snprintf(name, sizeof(name), "%s", a.module_name);
	else
		short_name_of(t, a.module, name, sizeof(name));
	int n;
	if (a.symbol)
		n = snprintf(buf, size, "%s!%s", name, a.symbol);
	else
		n = snprintf(buf, size, "%s", name);
	if (n >= 0 && (size_t)n < size && a.displacement)
		snprintf(buf + n, size - (size_t)n, "+0x%" PRIx64, a.displacement);
}

// Splits "mod!name" into its parts; a name without '!' has no module.
static bool split_qualified(const char *text, char *module, size_t module_size,
			    const char **name_ret)
{
	const char *bang = strchr(text, '!');
	if (!bang) {
		module[0] = 0;
		*name_ret = text;
		return true;
	}
	size_t n = (size_t)(bang - text);
	if (n >= module_size)
		return false;
	memcpy(module, text, n);
	module[n] = 0;
	*name_ret = bang + 1;
	return true;
}

// The module named @name (short name or file name), or SIZE_MAX.
static size_t find_module(struct bc_target *t, struct bc_modsyms *ms, const char *name)
{
	for (size_t i = 0; i < ms->slot_count; i++) {
		if (!strcasecmp(ms->slots[i].short_name, name) ||
		    !strcasecmp(t->modules[i].name, name))
			return i;
	}
	return SIZE_MAX;
}

// Search order for unqualified names: the kernel first (most lookups are
// nt's), then every module in load order.
static size_t nth_search_module(struct bc_target *t, size_t n)
{
	const struct bc_module *nt = bc_target_module_named(t, "nt");
	size_t kernel = nt ? module_index(t, nt) : SIZE_MAX;
	if (kernel == SIZE_MAX)
		return n;
	if (n == 0)
		return kernel;
	return n - 1 < kernel ? n - 1 : n;
}

BC_PUBLIC struct bc_error *bc_target_resolve_symbol(struct bc_target *t, const char *text,
						    uint64_t *address_ret)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return &bc_enomem;
	char module[256];
	const char *name;
	if (!split_qualified(text, module, sizeof(module), &name) || !*name)
		return bc_error_create(BC_ERR_INVALID_ARG, "%s is not a symbol name", text);
	struct bc_symbol sym;
	if (*module) {
		size_t i = find_module(t, ms, module);
		if (i == SIZE_MAX)
			return bc_error_create(BC_ERR_NOT_FOUND, "no loaded module is named %s",
					       module);
		const struct bc_module_symbols *syms = bc_target_module_symbols(t, i);
		if (!syms->symtab)
			return bc_error_create(BC_ERR_NOT_FOUND, "%s has no symbols (%s)", module,
					       syms->note ? syms->note : "none found");
		if (bc_symtab_lookup_name(syms->symtab, name, &sym))
			return bc_error_create(BC_ERR_NOT_FOUND, "%s!%s is not a known symbol",
					       module, name);
		*address_ret = t->modules[i].base + sym.rva;
		return NULL;
	}
	for (size_t n = 0; n < ms->slot_count; n++) {
		size_t i = nth_search_module(t, n);
		const struct bc_module_symbols *syms = bc_target_module_symbols(t, i);
		if (syms->symtab && !bc_symtab_lookup_name(syms->symtab, name, &sym)) {
			*address_ret = t->modules[i].base + sym.rva;
			return NULL;
		}
	}
	return bc_error_create(BC_ERR_NOT_FOUND, "%s is not a symbol of any loaded module", name);
}

BC_PUBLIC struct bc_error *bc_target_find_type(struct bc_target *t, const char *text,
					       struct bc_symtab **symtab_ret,
					       const struct bc_type **type_ret,
					       size_t *module_index_ret)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return &bc_enomem;
	char module[256];
	const char *name;
	if (!split_qualified(text, module, sizeof(module), &name) || !*name)
		return bc_error_create(BC_ERR_INVALID_ARG, "%s is not a type name", text);
	size_t first = 0, last = ms->slot_count;
	if (*module) {
		first = find_module(t, ms, module);
		if (first == SIZE_MAX)
			return bc_error_create(BC_ERR_NOT_FOUND, "no loaded module is named %s",
					       module);
		last = first + 1;
	}
	bool any_types = false;
	for (size_t n = first; n < last; n++) {
		size_t i = *module ? n : nth_search_module(t, n);
		const struct bc_module_symbols *syms = bc_target_module_symbols(t, i);
		if (!syms->symtab || !bc_symtab_has_types(syms->symtab))
			continue;
		any_types = true;
		if (!bc_symtab_type_by_name(syms->symtab, name, type_ret)) {
			*symtab_ret = syms->symtab;
			if (module_index_ret)
				*module_index_ret = i;
			return NULL;
		}
	}
	if (!any_types)
		return bc_error_create(BC_ERR_NOT_FOUND,
				       "type %s: no %s has type information (public symbols or "
				       "exports only); an ISF table or a private PDB is needed",
				       text, *module ? "such module" : "loaded module");
	return bc_error_create(BC_ERR_NOT_FOUND, "type %s is not defined in %s", name,
			       *module ? module : "any loaded module's symbols");
}
