// Finding one module's symbols through the symbol path (sym/modsyms_private.h).
//
// Order: the image's identity (the CodeView record of its image in the dump,
// else of its image file found along the path by TimeDateStamp and
// SizeOfImage); the PDB with that GUID and age along the path (directories,
// stores, servers through their cache); an ISF table for that identity in the
// path's directories; for the kernel without an identity, the ISF table whose
// symbols agree with KDDEBUGGER_DATA64; else the image's exports; else
// nothing, with a note saying what was tried.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/isf.h"
#include "bugcheck/pdb.h"
#include "bugcheck/pe.h"
#include "bugcheck/sympath.h"
#include "sym/isf_file.h"
#include "sym/modsyms_private.h"
#include "target_private.h"

static struct bc_sympath *parse_path(struct bc_modsyms *ms)
{
	struct bc_sympath *sp;
	if (!ms->symbol_path)
		return NULL;
	struct bc_error *err = bc_sympath_parse(ms->symbol_path, ms->cache_dir, &sp);
	if (err) {
		bc_error_destroy(err);
		return NULL;
	}
	return sp;
}

static void set_symbols(struct bc_module_slot *slot, struct bc_symtab *tab,
			enum bc_symbol_state state, const char *file)
{
	slot->pub.symtab = tab;
	slot->pub.state = state;
	free(slot->symbol_file);
	slot->symbol_file = file ? strdup(file) : NULL;
	slot->pub.symbol_file = slot->symbol_file;
}

static struct bc_error *verify_pdb(void *arg, const char *path, const struct bc_symfile_key *key)
{
	(void)arg;
	struct bc_pdb_identity id;
	struct bc_error *err = bc_pdb_read_identity(path, &id);
	if (err)
		return err;
	if (memcmp(id.guid, key->guid, 16) || id.age != key->age)
		return bc_error_create(BC_ERR_NOT_FOUND, "GUID or age differ from the image's");
	return NULL;
}

static struct bc_error *verify_image(void *arg, const char *path, const struct bc_symfile_key *key)
{
	(void)arg;
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_file(path, &pe);
	if (err)
		return err;
	const struct bc_pe_info *i = bc_pe_info(pe);
	bool same = i->timestamp == key->timestamp && i->size_of_image == key->size_of_image;
	bc_pe_close(pe);
	return same ? NULL : bc_error_create(BC_ERR_NOT_FOUND, "TimeDateStamp or SizeOfImage differ "
					     "from the module's");
}

static struct bc_error *verify_any(void *arg, const char *path, const struct bc_symfile_key *key)
{
	return key->kind == BC_SYMFILE_PDB ? verify_pdb(arg, path, key)
					   : verify_image(arg, path, key);
}

static struct bc_symsrv_options search_options(struct bc_modsyms *ms,
					       struct bc_error *(*verify)(void *, const char *,
									  const struct bc_symfile_key *))
{
	return (struct bc_symsrv_options){
		.allow_network = ms->allow_network,
		.verify = verify,
		.progress = ms->progress,
		.progress_arg = ms->progress_arg,
	};
}

static bool try_pdb(struct bc_modsyms *ms, struct bc_module_slot *slot,
		    const struct bc_sympath *sp, const struct bc_pdb_identity *id)
{
	struct bc_symfile_key key = { .kind = BC_SYMFILE_PDB, .name = id->name, .age = id->age };
	memcpy(key.guid, id->guid, 16);
	struct bc_symsrv_options opt = search_options(ms, verify_pdb);
	char *path = NULL, *tried = NULL;
	struct bc_error *err = bc_sympath_find(sp, &key, &opt, &path, &tried);
	if (err) {
		bc_modsyms_note(slot, "%s: %s", id->name, tried ? tried : err->message);
		bc_error_destroy(err);
		free(tried);
		return false;
	}
	struct bc_symtab *tab;
	err = bc_pdb_open(path, &tab);
	if (!err) {
		set_symbols(slot, tab, BC_SYMBOLS_PDB, path);
		bc_modsyms_note(slot, "PDB found by its GUID and age (public symbols)");
	} else {
		bc_modsyms_note(slot, "%s", err->message);
		bc_error_destroy(err);
	}
	free(path);
	return !err;
}

static bool try_isf_by_identity(struct bc_module_slot *slot, const struct bc_sympath *sp,
				const struct bc_pdb_identity *id, const char *cache_dir)
{
	for (size_t i = 0; i < bc_sympath_entry_count(sp); i++) {
		const struct bc_sympath_entry *e = bc_sympath_entry(sp, i);
		char *path = NULL;
		if (e->kind != BC_SYMPATH_DIR)
			continue;
		struct bc_error *err = bc_isf_dir_find(e->directory, id, &path);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		struct bc_symtab *tab;
		err = bc_isf_open_cached(path, cache_dir, &tab);
		if (!err) {
			set_symbols(slot, tab, BC_SYMBOLS_ISF, path);
			bc_modsyms_note(slot, "ISF table for %s found by its GUID and age", id->name);
			free(path);
			return true;
		}
		bc_modsyms_note(slot, "%s", err->message);
		bc_error_destroy(err);
		free(path);
	}
	return false;
}

static bool try_kernel_identification(struct bc_target *t, struct bc_modsyms *ms,
				      struct bc_module_slot *slot, const struct bc_sympath *sp)
{
	for (size_t i = 0; i < bc_sympath_entry_count(sp); i++) {
		const struct bc_sympath_entry *e = bc_sympath_entry(sp, i);
		if (e->kind != BC_SYMPATH_DIR)
			continue;
		struct bc_kernel_match m;
		struct bc_error *err = bc_kernel_identify(t, e->directory, ms->cache_dir, &m);
		if (err) {
			bc_error_destroy(err);  // not a table directory
			continue;
		}
		if (!m.path) {
			if (m.candidates)
				bc_modsyms_note(slot, "%s", m.explanation);
			continue;
		}
		struct bc_symtab *tab;
		err = bc_isf_open_cached(m.path, ms->cache_dir, &tab);
		if (!err) {
			set_symbols(slot, tab, BC_SYMBOLS_ISF, m.path);
			bc_modsyms_note(slot, "kernel identified without its image: %s", m.explanation);
			slot->pub.has_identity = true;
			slot->pub.identity = m.identity;
		} else {
			bc_modsyms_note(slot, "%s", err->message);
			bc_error_destroy(err);
		}
		bc_kernel_match_free(&m);
		if (slot->pub.symtab)
			return true;
	}
	return false;
}

void bc_modsyms_load(struct bc_target *t, struct bc_modsyms *ms, size_t index,
		     struct bc_module_slot *slot)
{
	slot->pub.state = BC_SYMBOLS_NONE;
	const struct bc_module *m = &t->modules[index];
	struct bc_pe *pe = bc_modsyms_memory_image(t, index);
	if (!pe)
		pe = bc_modsyms_file_image(t, index);
	if (pe) {
		struct bc_error *err = bc_pe_pdb_identity(pe, &slot->pub.identity);
		slot->pub.has_identity = !err;
		bc_error_destroy(err);
	}
	struct bc_sympath *sp = parse_path(ms);
	if (sp) {
		if (slot->pub.has_identity && !try_pdb(ms, slot, sp, &slot->pub.identity))
			try_isf_by_identity(slot, sp, &slot->pub.identity, ms->cache_dir);
		if (!slot->pub.symtab && m == bc_target_module_named(t, "nt"))
			try_kernel_identification(t, ms, slot, sp);
		bc_sympath_free(sp);
	}
	if (slot->pub.symtab)
		return;
	if (pe) {
		struct bc_symtab *tab;
		struct bc_error *err = bc_exports_symtab_create(pe, bc_pe_name(pe), &tab);
		if (!err) {
			set_symbols(slot, tab, BC_SYMBOLS_EXPORT, bc_pe_name(pe));
			if (!slot->note)
				bc_modsyms_note(slot, "symbol file not found; defaulted to export "
						      "symbols");
			return;
		}
		bc_error_destroy(err);
	}
	if (!ms->symbol_path)
		bc_modsyms_note(slot, "no symbol path (use -y PATH, _NT_SYMBOL_PATH or .sympath)");
	else if (!slot->note)
		bc_modsyms_note(slot, "%s", slot->pub.has_identity
						    ? "no symbol file for its PDB in the symbol path"
						    : pe ? "its image names no PDB (no CodeView record) "
							   "and exports nothing"
						    : "the image's headers are not in the dump and no "
						      "symbol table matched");
}

void bc_modsyms_prefetch(struct bc_target *t, struct bc_modsyms *ms)
{
	struct bc_sympath *sp = parse_path(ms);
	if (!sp)
		return;
	// One key per module: its PDB when the dump holds its CodeView record,
	// else its image (whose record then names the PDB on the real load).
	struct bc_symfile_key *keys = calloc(ms->slot_count ? ms->slot_count : 1, sizeof(*keys));
	char **paths = calloc(ms->slot_count ? ms->slot_count : 1, sizeof(*paths));
	struct bc_pdb_identity *ids = calloc(ms->slot_count ? ms->slot_count : 1, sizeof(*ids));
	size_t n = 0;
	for (size_t i = 0; keys && paths && ids && i < ms->slot_count; i++) {
		const struct bc_module *m = &t->modules[i];
		struct bc_pe *pe = bc_modsyms_memory_image(t, i);
		struct bc_error *err = pe ? bc_pe_pdb_identity(pe, &ids[n]) : &bc_not_found;
		if (!err) {
			keys[n] = (struct bc_symfile_key){ .kind = BC_SYMFILE_PDB, .name = ids[n].name,
							   .age = ids[n].age };
			memcpy(keys[n].guid, ids[n].guid, 16);
			n++;
		} else if (m->has_timestamp) {
			keys[n++] = (struct bc_symfile_key){ .kind = BC_SYMFILE_IMAGE, .name = m->name,
							     .timestamp = m->timestamp,
							     .size_of_image = (uint32_t)m->size };
		}
		bc_error_destroy(err);
	}
	if (n) {
		struct bc_symsrv_options opt = search_options(ms, verify_any);
		bc_error_destroy(bc_sympath_find_many(sp, keys, n, &opt, 8, paths));
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
	}
	free(keys);
	free(paths);
	free(ids);
	bc_sympath_free(sp);
}

struct bc_pe *bc_modsyms_file_image(struct bc_target *t, size_t index)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms || index >= ms->slot_count)
		return NULL;
	struct bc_module_slot *slot = &ms->slots[index];
	if (slot->file_image_tried)
		return slot->file_image;
	slot->file_image_tried = true;
	const struct bc_module *m = &t->modules[index];
	struct bc_sympath *sp = parse_path(ms);
	if (!sp || !m->has_timestamp) {
		bc_sympath_free(sp);
		return NULL;
	}
	struct bc_symfile_key key = { .kind = BC_SYMFILE_IMAGE, .name = m->name,
				      .timestamp = m->timestamp,
				      .size_of_image = (uint32_t)m->size };
	struct bc_symsrv_options opt = search_options(ms, verify_image);
	char *path = NULL;
	struct bc_error *err = bc_sympath_find(sp, &key, &opt, &path, NULL);
	bc_sympath_free(sp);
	if (err) {
		bc_error_destroy(err);
		return NULL;
	}
	err = bc_pe_open_file(path, &slot->file_image);
	free(path);
	if (err) {
		slot->file_image = NULL;
		bc_error_destroy(err);
	}
	return slot->file_image;
}
