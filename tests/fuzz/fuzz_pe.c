// Fuzz target: the PE image reader. The input is opened twice: as an image
// file (file layout), and as a mapped image (RVA = input offset) whose pages
// are missing when their first byte is 0xEE, as pages are missing from
// dumps. Every reader and lookup runs on whatever opens, including the
// export symbol table.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mapped {
	const uint8_t *data;
	size_t size;
};

static struct bc_error *read_mapped(void *arg, uint64_t rva, void *buf, size_t size)
{
	const struct mapped *m = arg;
	if (rva > m->size || size > m->size - rva)
		return bc_error_fault(rva, BC_FAULT_NOT_PRESENT, "beyond the input");
	for (uint64_t p = rva & ~0xfffull; p < rva + size; p += 0x1000) {
		if (m->data[p] == 0xee && p != 0)
			return bc_error_fault(p, BC_FAULT_NOT_IN_DUMP, "page not in dump");
	}
	memcpy(buf, m->data + rva, size);
	return NULL;
}

static void exercise_exports(struct bc_pe *pe)
{
	const struct bc_pe_exports *ex;
	struct bc_error *err = bc_pe_exports(pe, &ex);
	if (!err) {
		for (size_t i = 0; i < ex->count && i < 64; i++) {
			if (ex->entries[i].name)
				(void)bc_pe_export_by_name(ex, ex->entries[i].name);
			(void)bc_pe_export_by_ordinal(ex, ex->entries[i].ordinal);
		}
	}
	bc_error_destroy(err);
	struct bc_symtab *tab;
	if (!(err = bc_exports_symtab_create(pe, NULL, &tab))) {
		struct bc_symbol sym;
		bc_error_destroy(bc_symtab_lookup_rva(tab, 0x1010, &sym));
		bc_error_destroy(bc_symtab_lookup_name(tab, "Ordinal1", &sym));
		bc_symtab_destroy(tab);
	}
	bc_error_destroy(err);
}

static void exercise(struct bc_pe *pe)
{
	const struct bc_pe_info *info = bc_pe_info(pe);
	uint8_t buf[256];
	bc_error_destroy(bc_pe_read(pe, info->entry_point_rva, buf, sizeof(buf)));
	for (size_t i = 0; i < bc_pe_section_count(pe) && i < 16; i++) {
		const struct bc_pe_section *s = bc_pe_section(pe, i);
		bc_error_destroy(bc_pe_read(pe, s->rva, buf, sizeof(buf)));
		(void)bc_pe_section_at(pe, s->rva + s->virtual_size / 2);
	}
	exercise_exports(pe);
	const struct bc_pe_debug_entry *entries;
	size_t n;
	bc_error_destroy(bc_pe_debug_entries(pe, &entries, &n));
	struct bc_pdb_identity id;
	bc_error_destroy(bc_pe_pdb_identity(pe, &id));
	const struct bc_pe_pdata *pd;
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	if (!err) {
		(void)bc_pe_pdata_lookup(pd, info->entry_point_rva);
		(void)bc_pe_pdata_lookup(pd, 0x1000);
	}
	bc_error_destroy(err);
	const struct bc_pe_version *v;
	if (!(err = bc_pe_version(pe, &v)))
		(void)bc_pe_version_string(v, "FileVersion");
	bc_error_destroy(err);
	char key[BC_PE_IMAGE_KEY_SIZE];
	bc_pe_image_key(info->timestamp, info->size_of_image, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_memory(data, size, "fuzz.dll", &pe);
	if (!err) {
		exercise(pe);
		bc_pe_close(pe);
	}
	bc_error_destroy(err);
	struct mapped m = { data, size };
	err = bc_pe_open_image(read_mapped, &m, 0xfffff80000000000ull, "fuzz.sys", &pe);
	if (!err) {
		exercise(pe);
		bc_pe_close(pe);
	}
	bc_error_destroy(err);
	return 0;
}
