// Finding one module's symbols through the symbol path (sym/modsyms_private.h).
//
// Order: the image's identity (CodeView record from the image in the dump);
// a symbol table for that identity in each directory of the path (ISF
// tables in Volatility's layout); for the kernel without an identity, the
// ISF table whose symbols agree with KDDEBUGGER_DATA64; else the exports of
// the image; else nothing, with a note saying what was tried.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/isf.h"
#include "bugcheck/pdb.h"
#include "bugcheck/pe.h"
#include "sym/modsyms_private.h"
#include "target_private.h"

enum { MAX_PATH_ENTRIES = 64 };

struct path_entries {
	char *copy;
	const char *dirs[MAX_PATH_ENTRIES];
	size_t count;
};

// Plain directories of the symbol path (entries without '*'); server
// entries ("srv*...") are handled by the symbol-server code.
static bool split_dirs(const char *path, struct path_entries *e)
{
	*e = (struct path_entries){ .copy = strdup(path) };
	if (!e->copy)
		return false;
	for (char *save, *tok = strtok_r(e->copy, ";", &save); tok && e->count < MAX_PATH_ENTRIES;
	     tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = 0;
		if (*tok && !strchr(tok, '*'))
			e->dirs[e->count++] = tok;
	}
	return true;
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

static bool try_isf_by_identity(struct bc_module_slot *slot, const struct path_entries *e,
				const struct bc_pdb_identity *id)
{
	for (size_t i = 0; i < e->count; i++) {
		char *path = NULL;
		struct bc_error *err = bc_isf_dir_find(e->dirs[i], id, &path);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		struct bc_symtab *tab;
		err = bc_isf_open(path, &tab);
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

static bool plain_file_name(const char *name)
{
	if (!*name || strpbrk(name, "/\\:") || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;  // a hostile name never becomes a path
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20)
			return false;
	return true;
}

// A PDB for @id in a plain directory of the path: the store layout
// DIR/NAME/GUIDAGE/NAME, or DIR/NAME. Kept only when its GUID and age match.
static bool try_pdb_by_identity(struct bc_module_slot *slot, const struct path_entries *e,
				const struct bc_pdb_identity *id)
{
	if (!plain_file_name(id->name))
		return false;
	const uint8_t *g = id->guid;
	char key[48];
	snprintf(key, sizeof(key), "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%X",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15], id->age);
	for (size_t d = 0; d < e->count; d++) {
		char paths[2][4096];
		snprintf(paths[0], sizeof(paths[0]), "%s/%s/%s/%s", e->dirs[d], id->name, key, id->name);
		snprintf(paths[1], sizeof(paths[1]), "%s/%s", e->dirs[d], id->name);
		for (int k = 0; k < 2; k++) {
			struct bc_symtab *tab;
			struct bc_error *err = bc_pdb_open(paths[k], &tab);
			if (err) {
				bc_error_destroy(err);
				continue;
			}
			const struct bc_pdb_identity *found = bc_symtab_identity(tab);
			if (!memcmp(found->guid, id->guid, 16) && found->age == id->age) {
				set_symbols(slot, tab, BC_SYMBOLS_PDB, paths[k]);
				bc_modsyms_note(slot, "PDB found by its GUID and age (public symbols)");
				return true;
			}
			bc_modsyms_note(slot, "%s does not match the image (GUID or age differ)", paths[k]);
			bc_symtab_destroy(tab);
		}
	}
	return false;
}

static bool try_kernel_identification(struct bc_target *t, struct bc_modsyms *ms,
				      struct bc_module_slot *slot, const struct path_entries *e)
{
	for (size_t i = 0; i < e->count; i++) {
		struct bc_kernel_match m;
		struct bc_error *err = bc_kernel_identify(t, e->dirs[i], ms->cache_dir, &m);
		if (err) {
			bc_error_destroy(err);  // not a table directory
			continue;
		}
		if (!m.path) {
			bc_modsyms_note(slot, "%s", m.explanation);
			continue;
		}
		struct bc_symtab *tab;
		err = bc_isf_open(m.path, &tab);
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
	struct path_entries e = { 0 };
	if (ms->symbol_path && split_dirs(ms->symbol_path, &e)) {
		if (slot->pub.has_identity && !try_pdb_by_identity(slot, &e, &slot->pub.identity))
			try_isf_by_identity(slot, &e, &slot->pub.identity);
		if (!slot->pub.symtab && m == bc_target_module_named(t, "nt"))
			try_kernel_identification(t, ms, slot, &e);
	}
	free(e.copy);
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
						    : "the image's headers are not in the dump and no "
						      "symbol table matched");
}

// An image file in a plain directory of the symbol path: DIR/NAME, or the
// store layout DIR/NAME/KEY/NAME (KEY = TimeDateStamp and SizeOfImage, upper
// or lower case as stores write it). Accepted only when its header has the
// module's TimeDateStamp and SizeOfImage.
static struct bc_pe *find_image_file(const struct bc_module *m, const struct path_entries *e)
{
	const char *name = m->name;
	if (!plain_file_name(name))
		return NULL;
	char upper[BC_PE_IMAGE_KEY_SIZE], lower[BC_PE_IMAGE_KEY_SIZE];
	bc_pe_image_key(m->timestamp, (uint32_t)m->size, upper);
	for (size_t i = 0; i < sizeof(lower); i++)
		lower[i] = (char)(upper[i] >= 'A' && upper[i] <= 'F' ? upper[i] + 32 : upper[i]);
	for (size_t d = 0; d < e->count; d++) {
		char paths[3][4096];
		snprintf(paths[0], sizeof(paths[0]), "%s/%s/%s/%s", e->dirs[d], name, lower, name);
		snprintf(paths[1], sizeof(paths[1]), "%s/%s/%s/%s", e->dirs[d], name, upper, name);
		snprintf(paths[2], sizeof(paths[2]), "%s/%s", e->dirs[d], name);
		for (int k = 0; k < 3; k++) {
			struct bc_pe *pe;
			struct bc_error *err = bc_pe_open_file(paths[k], &pe);
			if (err) {
				bc_error_destroy(err);
				continue;
			}
			const struct bc_pe_info *info = bc_pe_info(pe);
			if ((!m->has_timestamp || info->timestamp == m->timestamp) &&
			    info->size_of_image == m->size)
				return pe;
			bc_pe_close(pe);
		}
	}
	return NULL;
}

struct bc_pe *bc_modsyms_file_image(struct bc_target *t, size_t index)
{
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms || index >= ms->slot_count)
		return NULL;
	struct bc_module_slot *slot = &ms->slots[index];
	if (!slot->file_image_tried && ms->symbol_path) {
		slot->file_image_tried = true;
		struct path_entries e;
		if (split_dirs(ms->symbol_path, &e)) {
			slot->file_image = find_image_file(&t->modules[index], &e);
			free(e.copy);
		}
	}
	return slot->file_image;
}
