// !errrec ADDRESS: a WHEA error record (bugcheck/whea.h), as WinDbg's
// !errrec lays it out: the record's header, then each section with its
// descriptor and, for Processor Generic and Platform Memory sections, what
// failed. 0x124 WHEA_UNCORRECTABLE_ERROR's Arg2 is such a record.
#include <inttypes.h>
#include <stdlib.h>

#include "bugcheck/whea.h"
#include "cmd.h"
#include "cmd_expr.h"

static const char rule[] =
	"===============================================================================\n";
static const char thin[] =
	"-------------------------------------------------------------------------------\n";

static void print_section(FILE *out, uint64_t record, size_t i, const struct bc_whea_section *s)
{
	fprintf(out, "%sSection %-6zu: %s\n%s", rule, i, bc_whea_section_name(s->kind), thin);
	fprintf(out, "Descriptor    @ %016" PRIx64 "\n", record + 128 + 72 * (uint64_t)i);
	fprintf(out, "Section       @ %016" PRIx64 "\n", record + s->offset);
	fprintf(out, "Offset        : %" PRIu32 "\nLength        : %" PRIu32 "\n", s->offset,
		s->length);
	fprintf(out, "Flags         : 0x%08" PRIx32 "%s\n", s->flags, s->flags & 1 ? " Primary" : "");
	fprintf(out, "Severity      : %s\n", bc_whea_severity_name(s->severity));
	if (s->kind == BC_WHEA_SECTION_OTHER) {
		const uint8_t *g = s->type;
		fprintf(out, "Section type  : {%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x}\n", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6],
			g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	}
	if (!s->fits) {
		fputs("\n*** The section lies outside the record ***\n\n", out);
		return;
	}
	fputc('\n', out);
	if (s->kind == BC_WHEA_SECTION_PROCESSOR_GENERIC) {
		if (s->has_error_type)
			fprintf(out, "Error Type    : %s\n", bc_whea_error_type_name(s->error_type));
		if (s->has_operation)
			fprintf(out, "Operation     : %s\n", bc_whea_operation_name(s->operation));
		if (s->has_level)
			fprintf(out, "Level         : %u\n", s->level);
		if (s->has_processor_id)
			fprintf(out, "Processor ID  : 0x%016" PRIx64 "\n", s->processor_id);
		if (s->has_target)
			fprintf(out, "Target Address: 0x%016" PRIx64 "\n", s->target_address);
		if (s->has_ip)
			fprintf(out, "Instr. Pointer: 0x%016" PRIx64 "\n", s->instruction_pointer);
		fputc('\n', out);
	} else if (s->kind == BC_WHEA_SECTION_MEMORY) {
		if (s->has_physical_address)
			fprintf(out, "Physical Addr : 0x%016" PRIx64 "\n", s->physical_address);
		if (s->has_dimm)
			fprintf(out, "Node          : %u\nCard          : %u\nModule        : %u\n"
				"Bank          : %u\nDevice        : %u\nRow           : %u\n"
				"Column        : %u\n", s->node, s->card, s->module, s->bank, s->device,
				s->row, s->column);
		if (s->has_memory_error_type)
			fprintf(out, "Error Type    : %s\n", bc_whea_memory_error_name(s->memory_error_type));
		fputc('\n', out);
	}
}

int cmd_errrec(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t address;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &address);
	struct bc_whea_record *r = err ? NULL : calloc(1, sizeof(*r));
	if (!err && !r)
		err = &bc_enomem;
	if (!err)
		err = bc_target_read_whea(s->target, address, r);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		free(r);
		return 1;
	}
	FILE *out = s->out;
	fprintf(out, "%sCommon Platform Error Record @ %016" PRIx64 "\n%s", rule, address, thin);
	fprintf(out, "Record Id     : %016" PRIx64 "\n", r->record_id);
	fprintf(out, "Severity      : %s (%u)\n", bc_whea_severity_name(r->severity),
		(unsigned)r->severity);
	fprintf(out, "Length        : %" PRIu32 "\n", r->length);
	if (r->has_timestamp)
		fprintf(out, "Timestamp     : %u/%u/%u %u:%02u:%02u (UTC)\n", r->month, r->day, r->year,
			r->hour, r->minute, r->second);
	fprintf(out, "Sections      : %u\n\n", r->section_count);
	for (size_t i = 0; i < r->decoded_sections; i++)
		print_section(out, address, i, &r->sections[i]);
	if (r->section_count > r->decoded_sections)
		fprintf(out, "(%zu of %u sections shown: the others lie outside the record or past "
			"the first %d)\n", r->decoded_sections, r->section_count,
			BC_WHEA_MAX_SECTIONS);
	free(r);
	return 0;
}
