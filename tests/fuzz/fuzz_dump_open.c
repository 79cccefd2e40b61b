// Fuzz target: every dump parser. Opens the input as a crash dump and, if it
// opens, exercises what a first look at a dump does: header facts, module
// lists, KDBG, the context, and virtual/physical reads around the addresses
// the dump itself names; then the whole !analyze (bc_target_analyze), which
// walks stacks, follows parameters and reads kernel structures.
#include <stdint.h>
#include <stdlib.h>

#include "bugcheck/bugcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_reads(struct bc_target *t, uint64_t address)
{
	uint8_t buf[0x1100];
	uint64_t pa;
	bc_error_destroy(bc_target_read(t, address, buf, sizeof(buf)));
	bc_error_destroy(bc_target_read(t, address - 8, buf, 16));
	bc_error_destroy(bc_target_translate(t, address, &pa));
	char text[64];
	size_t n;
	bc_error_destroy(bc_target_read_string(t, address, true, 32, text, sizeof(text), &n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bc_target *t;
	struct bc_error *err = bc_target_open_memory(data, size, "fuzz", &t);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	const struct bc_dump_info *info = bc_target_info(t);
	touch_reads(t, info->kernel_base);
	touch_reads(t, info->ps_loaded_module_list);
	touch_reads(t, info->bugcheck_parameters[1]);
	const struct bc_context *c = bc_target_context(t);
	if (c) {
		touch_reads(t, bc_context_sp(c));
		touch_reads(t, bc_context_pc(c));
	}
	for (size_t i = 0; i < bc_target_module_count(t) && i < 4; i++)
		touch_reads(t, bc_target_module(t, i)->base);
	uint8_t page[0x1000];
	bc_error_destroy(bc_target_read_physical(t, 0, page, sizeof(page)));
	bc_error_destroy(bc_target_read_physical(t, info->directory_table_base & ~0xfffull, page,
						 sizeof(page)));
	// Secondary data: the blob list, and the blobs decoded as the tags say.
	const struct bc_dump_blob *blobs;
	size_t blob_count;
	bc_error_destroy(bc_target_blobs(t, &blobs, &blob_count));
	const struct bc_dump_blob *smbios_blob = bc_target_find_blob(t, &bc_tag_smbios);
	struct bc_smbios *smbios;
	struct bc_error *smbios_err = smbios_blob ? bc_smbios_parse(smbios_blob->data,
								     smbios_blob->size, &smbios)
						  : &bc_not_found;
	bc_error_destroy(smbios_err);
	if (!smbios_err) {
		struct bc_machine_id id;
		bc_smbios_machine_id(smbios, &id);
		bc_smbios_free(smbios);
	}
	// The knowledge base and rules are the library's own data: parsed once.
	static struct bc_bugcheck_kb *kb;
	static struct bc_triage_rules *rules;
	if (!kb)
		bc_error_destroy(bc_bugcheck_kb_open(&kb));
	if (!rules)
		bc_error_destroy(bc_triage_rules_default(&rules));
	struct bc_analysis *analysis;
	if (rules && !bc_target_analyze(t, rules, kb, &analysis))
		bc_analysis_free(analysis);
	(void)bc_target_module_named(t, "nt");
	(void)bc_bugcheck_name(info->bugcheck_code);
	bc_target_close(t);
	return 0;
}
