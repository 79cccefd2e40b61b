// !lmi MODULE: what is known about one module's image and symbols, in the
// layout of WinDbg's !lmi: headers, the CodeView record (which PDB the image
// wants), where the image was read from and where the symbols came from.
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/pe.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const char *machine_text(uint16_t machine)
{
	switch (machine) {
	case BC_PE_MACHINE_I386: return "I386";
	case BC_PE_MACHINE_AMD64: return "X64";
	case BC_PE_MACHINE_ARM64: return "ARM64";
	}
	return "unknown";
}

static void print_guid(FILE *o, const uint8_t g[16])
{
	fprintf(o, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}", g[3],
		g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
		g[14], g[15]);
}

static void print_image(struct bc_session *s, struct bc_pe *pe)
{
	FILE *o = s->out;
	const struct bc_pe_info *i = bc_pe_info(pe);
	fprintf(o, "   Machine Type: %u (%s)\n", i->machine, machine_text(i->machine));
	fprintf(o, "     Time Stamp: %08" PRIx32 "\n", i->timestamp);
	fprintf(o, "           Size: %" PRIx32 "\n", i->size_of_image);
	fprintf(o, "       CheckSum: %" PRIx32 "\n", i->checksum);
	fprintf(o, "Characteristics: %x\n", i->characteristics);
	const struct bc_pe_codeview *cv;
	struct bc_error *err = bc_pe_codeview(pe, &cv);
	if (err) {
		fputs("Debug Data Dirs: ", o);
		bc_put_escaped(o, err->code == BC_ERR_NOT_FOUND ? "none" : err->message, 0);
		fputc('\n', o);
		bc_error_destroy(err);
		return;
	}
	if (cv->format == BC_PE_CODEVIEW_RSDS) {
		fputs("       CodeView: RSDS - GUID: ", o);
		print_guid(o, cv->guid);
	} else {
		fprintf(o, "       CodeView: NB10 - Signature: %08" PRIx32, cv->signature);
	}
	fprintf(o, "\n               Age: %" PRIu32 ", Pdb: ", cv->age);
	bc_put_escaped(o, cv->pdb_path, 0);
	fputc('\n', o);
}

int cmd_lmi(struct bc_session *s, const char *cmd, const char *args)
{
	while (*args == ' ')
		args++;
	if (!*args) {
		fputs("usage: !lmi MODULE\n", s->out);
		return 1;
	}
	size_t index = SIZE_MAX;
	for (size_t i = 0; i < bc_target_module_count(s->target) && index == SIZE_MAX; i++) {
		char name[64];
		bc_module_short_name(s->target, i, name, sizeof(name));
		if (!strcasecmp(name, args) || !strcasecmp(bc_target_module(s->target, i)->name, args))
			index = i;
	}
	if (index == SIZE_MAX) {
		fprintf(s->out, "%s: no loaded module is named ", cmd);
		bc_put_escaped(s->out, args, 0);
		fputc('\n', s->out);
		return 1;
	}
	const struct bc_module *m = bc_target_module(s->target, index);
	const struct bc_module_symbols *ms = bc_target_module_symbols(s->target, index);
	FILE *o = s->out;
	char name[64], a[24];
	bc_module_short_name(s->target, index, name, sizeof(name));
	fputs("Loaded Module Info: [", o);
	bc_put_escaped(o, name, 0);
	fputs("]\n         Module: ", o);
	bc_put_escaped(o, name, 0);
	fprintf(o, "\n   Base Address: %s\n     Image Name: ",
		bc_fmt_ptr(a, m->base, bc_target_info(s->target)->pointer_size));
	bc_put_escaped(o, m->name, 0);
	fputc('\n', o);
	struct bc_pe *pe = bc_target_module_image(s->target, index, NULL);
	if (pe)
		print_image(s, pe);
	else
		fprintf(o, "           Size: %" PRIx64 "\n", m->size);
	fputs("     Image Type: ", o);
	const char *image_path = NULL;
	bc_target_module_image(s->target, index, &image_path);
	if (!pe)
		fputs("not available (headers not in the dump, no image file in the symbol path)\n", o);
	else if (image_path) {
		fputs("FILE     - Image read from ", o);
		bc_put_escaped(o, image_path, 0);
		fputc('\n', o);
	} else {
		fputs("MEMORY   - Image read successfully from loaded memory.\n", o);
	}
	fprintf(o, "    Symbol Type: %s\n", bc_cmd_symbol_state(ms->state));
	if (ms->symbol_file) {
		fputs("                 ", o);
		bc_put_escaped(o, ms->symbol_file, 0);
		fputc('\n', o);
	}
	if (ms->note) {
		fputs("    Load Report: ", o);
		bc_put_escaped(o, ms->note, 0);
		fputc('\n', o);
	}
	return 0;
}
