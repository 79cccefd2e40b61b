// Targets that are not dumps (bugcheck/target.h): a PE image file mapped at
// its base, and a symbol file alone. Both have one module and no registers;
// an image's headers and sections are readable through the VA-region reader
// small memory dumps use.
#include <stdlib.h>
#include <string.h>

#include "bugcheck/isf.h"
#include "bugcheck/pdb.h"
#include "bugcheck/pe.h"
#include "sym/modsyms_private.h"
#include "target_private.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static enum bc_machine machine_of(uint32_t pe_machine)
{
	switch (pe_machine) {
	case 0x8664: return BC_MACHINE_X64;
	case 0x14c: return BC_MACHINE_X86;
	case 0xaa64: return BC_MACHINE_ARM64;
	}
	return BC_MACHINE_UNKNOWN;
}

static struct bc_target *new_target(struct bc_file *file, enum bc_dump_format format)
{
	struct bc_target *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->file = file;
	t->info.format = format;
	t->info.file_size = file->bytes.size;
	t->paging = BC_PAGING_NONE;
	return t;
}

static struct bc_error *add_image_regions(struct bc_target *t, struct bc_pe *pe, uint64_t base)
{
	const struct bc_pe_info *i = bc_pe_info(pe);
	uint64_t file_size = t->file->bytes.size;
	uint64_t headers = i->size_of_headers < file_size ? i->size_of_headers : file_size;
	struct bc_error *err = bc_target_add_region(t, base, headers, 0, "image headers");
	for (size_t k = 0; !err && k < bc_pe_section_count(pe); k++) {
		const struct bc_pe_section *s = bc_pe_section(pe, k);
		// The loader reads sections from PointerToRawData rounded down to 512.
		uint64_t offset = i->file_alignment >= 512 ? s->raw_offset & ~511u : s->raw_offset;
		uint64_t size = s->virtual_size && s->virtual_size < s->raw_size ? s->virtual_size
										   : s->raw_size;
		if (offset >= file_size || !size)
			continue;
		if (size > file_size - offset)
			size = file_size - offset;
		err = bc_target_add_region(t, base + s->rva, size, offset, "image section");
	}
	return err;
}

BC_PUBLIC struct bc_error *bc_target_open_image(const char *path, uint64_t base,
						struct bc_target **ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_open(path, &file);
	if (err)
		return err;
	struct bc_pe *pe;
	err = bc_pe_open_memory(file->bytes.data, (size_t)file->bytes.size, path, &pe);
	if (err) {
		bc_file_close(file);
		return err;
	}
	struct bc_target *t = new_target(file, BC_TARGET_IMAGE);
	if (!t) {
		bc_pe_close(pe);
		bc_file_close(file);
		return &bc_enomem;
	}
	const struct bc_pe_info *i = bc_pe_info(pe);
	if (!base)
		base = i->image_base;
	t->info.machine = machine_of(i->machine);
	t->info.machine_image_type = i->machine;
	t->info.pointer_size = i->is_64bit ? 8 : 4;
	t->module_source = "image file";
	struct bc_module m = {
		.name = bc_target_keep_string(t, base_name(path)),
		.path = bc_target_keep_string(t, path),
		.base = base,
		.size = i->size_of_image,
		.timestamp = i->timestamp,
		.checksum = i->checksum,
		.has_timestamp = true,
	};
	if (!m.name || !m.path)
		err = &bc_enomem;
	if (!err)
		err = add_image_regions(t, pe, base);
	if (!err)
		err = bc_target_add_module(t, &m);
	bc_pe_close(pe);
	if (err) {
		bc_target_close(t);
		return err;
	}
	*ret = t;
	return NULL;
}

struct max_rva {
	uint64_t rva;
};

static bool note_max(void *arg, const struct bc_symbol *sym)
{
	struct max_rva *m = arg;
	if (sym->rva + (sym->size ? sym->size : 1) > m->rva)
		m->rva = sym->rva + (sym->size ? sym->size : 1);
	return true;
}

BC_PUBLIC struct bc_error *bc_target_open_symbols(const char *path, uint64_t base,
						  struct bc_target **ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_open(path, &file);
	if (err)
		return err;
	// A PDB by its MSF signature, else an ISF table.
	static const char msf[] = "Microsoft C/C++ ";
	bool is_pdb = file->bytes.size >= sizeof(msf) - 1 &&
		      !memcmp(file->bytes.data, msf, sizeof(msf) - 1);
	struct bc_symtab *tab;
	err = is_pdb ? bc_pdb_open(path, &tab) : bc_isf_open(path, &tab);
	if (err) {
		bc_file_close(file);
		return err;
	}
	struct bc_target *t = new_target(file, BC_TARGET_SYMBOLS);
	if (!t) {
		bc_symtab_destroy(tab);
		bc_file_close(file);
		return &bc_enomem;
	}
	t->info.machine = machine_of(bc_symtab_machine(tab));
	t->info.machine_image_type = bc_symtab_machine(tab);
	t->info.pointer_size = t->info.machine == BC_MACHINE_X86 ? 4 : 8;
	t->module_source = "symbol file";
	// The module spans every symbol: a table has no SizeOfImage.
	struct max_rva extent = { 0x1000 };
	bc_error_destroy(bc_symtab_each(tab, NULL, note_max, &extent));
	const char *pdb = bc_symtab_identity(tab)->name;
	struct bc_module m = {
		.name = bc_target_keep_string(t, *pdb && strcmp(pdb, "unknown.pdb") ? pdb
										: base_name(path)),
		.path = bc_target_keep_string(t, path),
		.base = base,
		.size = (extent.rva + 0xfff) & ~0xfffull,
	};
	if (!m.name || !m.path)
		err = &bc_enomem;
	if (!err)
		err = bc_target_add_module(t, &m);
	if (!err)
		err = bc_modsyms_preload(t, 0, tab, is_pdb ? BC_SYMBOLS_PDB : BC_SYMBOLS_ISF, path);
	if (err) {
		bc_symtab_destroy(tab);
		bc_target_close(t);
		return err;
	}
	*ret = t;
	return NULL;
}
