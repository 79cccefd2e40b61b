// bugcheck analyze --json: the verdict as one JSON document (schema in
// docs/JSON.md, "bugcheck analyze --json"; versioned by schema_version).
// Conventions as --json's: 64-bit values are hex strings, strings from the
// dump are escaped by bc_put_json_string(), unknown values are null.
#include <inttypes.h>
#include <string.h>

#include "bugcheck/analysis.h"
#include "bugcheck/bugcheck_kb.h"
#include "cmd.h"
#include "format.h"

static void string_or_null(FILE *o, const char *key, const char *value, bool comma)
{
	fprintf(o, "\"%s\": ", key);
	if (value && *value)
		bc_put_json_string(o, value);
	else
		fputs("null", o);
	if (comma)
		fputs(", ", o);
}

static void hex_or_null(FILE *o, const char *key, bool known, uint64_t value, bool comma)
{
	if (known)
		fprintf(o, "\"%s\": \"0x%" PRIx64 "\"", key, value);
	else
		fprintf(o, "\"%s\": null", key);
	if (comma)
		fputs(", ", o);
}

static const char *verdict_name(enum bc_triage_verdict v)
{
	switch (v) {
	case BC_TRIAGE_IGNORE: return "ignore";
	case BC_TRIAGE_OWNER: return "owner";
	case BC_TRIAGE_MAYBE: return "maybe";
	case BC_TRIAGE_LAST: return "last";
	case BC_TRIAGE_UNMATCHED: break;
	}
	return "unmatched";
}

static void print_lines(FILE *o, const char *key, const char (*lines)[BC_ANALYSIS_LINE],
			size_t count, bool comma)
{
	fprintf(o, "  \"%s\": [", key);
	for (size_t i = 0; i < count; i++) {
		if (i)
			fputs(", ", o);
		bc_put_json_string(o, lines[i]);
	}
	fprintf(o, "]%s\n", comma ? "," : "");
}

static void print_frames(FILE *o, struct bc_session *s, const struct bc_analysis *a)
{
	fputs("  \"stack\": [", o);
	for (size_t i = 0; i < a->frame_count; i++) {
		const struct bc_analysis_frame *f = &a->frames[i];
		char label[320];
		bc_target_format_address(s->target, f->frame.ip, label, sizeof(label));
		fprintf(o, "%s\n    {\"number\": %zu, ", i ? "," : "", i);
		hex_or_null(o, "sp", true, f->frame.sp, true);
		hex_or_null(o, "ip", true, f->frame.ip, true);
		hex_or_null(o, "return_address", true, f->frame.return_address, true);
		string_or_null(o, "symbol", label, true);
		string_or_null(o, "module", f->module, true);
		string_or_null(o, "function", f->function, true);
		hex_or_null(o, "offset", f->has_module, f->displacement, true);
		fprintf(o, "\"found_by\": \"%s\", ", bc_frame_source_name(f->frame.source));
		hex_or_null(o, "trap_frame", f->frame.trap_frame != 0, f->frame.trap_frame, true);
		fprintf(o, "\"triage\": {\"verdict\": \"%s\", ", verdict_name(f->match.verdict));
		string_or_null(o, "owner", f->owner, true);
		string_or_null(o, "rule", f->rule, true);
		string_or_null(o, "source", f->rule_source, true);
		fprintf(o, "\"line\": %u}, \"blamed\": %s}", f->match.line,
			i == a->blamed ? "true" : "false");
	}
	fputs("],\n", o);
}

void bc_print_analysis_json(struct bc_session *s, const struct bc_analysis *a)
{
	FILE *o = s->out;
	const struct bc_dump_info *info = bc_target_info(s->target);
	fprintf(o, "{\n  \"schema_version\": %d,\n  \"file\": ", BC_ANALYSIS_SCHEMA_VERSION);
	bc_put_json_string(o, bc_target_path(s->target));
	fprintf(o, ",\n  \"bugcheck\": {\"code\": %" PRIu32 ", \"code_hex\": \"0x%" PRIX32 "\", ",
		a->code, a->code);
	string_or_null(o, "name", a->has_name ? a->name : NULL, true);
	fputs("\"parameters\": [", o);
	for (int i = 0; i < 4; i++)
		fprintf(o, "%s\"0x%016" PRIx64 "\"", i ? ", " : "", a->params[i]);
	fputs("]},\n", o);
	fprintf(o, "  \"system\": {\"machine\": \"%s\", \"build\": %" PRIu32 ", ",
		bc_machine_name(info->machine), info->build);
	string_or_null(o, "os_version", a->os_version, false);
	fputs("},\n  \"failing_context\": {", o);
	fprintf(o, "\"source\": \"%s\", ", bc_failure_source_name(a->source));
	hex_or_null(o, "address", a->source_address != 0, a->source_address, true);
	if (a->source_param)
		fprintf(o, "\"parameter\": %u, ", a->source_param);
	else
		fputs("\"parameter\": null, ", o);
	hex_or_null(o, "trap_frame", a->trap_frame != 0, a->trap_frame, true);
	hex_or_null(o, "exception_record", a->exception_record != 0, a->exception_record, true);
	hex_or_null(o, "faulting_ip", a->has_faulting_ip, a->faulting_ip, true);
	hex_or_null(o, "thread", a->thread != 0, a->thread, true);
	hex_or_null(o, "process", a->process != 0, a->process, true);
	string_or_null(o, "process_name", a->process_name, true);
	string_or_null(o, "stack_command", a->stack_command, false);
	fputs("},\n", o);
	print_frames(o, s, a);
	fputs("  \"verdict\": {", o);
	if (a->blamed < a->frame_count)
		fprintf(o, "\"blamed_frame\": %zu, ", a->blamed);
	else
		fputs("\"blamed_frame\": null, ", o);
	fprintf(o, "\"culprit_from\": %s, ", !a->has_culprit ? "null" : a->culprit_is_fault
		? "\"faulting_instruction\"" : "\"frame\"");
	string_or_null(o, "symbol_name", a->symbol_name, true);
	string_or_null(o, "module_name", a->module_name, true);
	string_or_null(o, "image_name", a->image_name, true);
	string_or_null(o, "image_version", a->image_version, true);
	hex_or_null(o, "image_timestamp", a->has_image_timestamp, a->image_timestamp, true);
	fprintf(o, "\"image_timestamp_is_hash\": %s, ", a->image_timestamp_is_hash ? "true" : "false");
	hex_or_null(o, "func_offset", a->has_func_offset, a->func_offset, true);
	string_or_null(o, "followup", a->followup, true);
	string_or_null(o, "failure_bucket_id", a->bucket, true);
	string_or_null(o, "failure_id_hash", a->failure_hash, true);
	fprintf(o, "\"verifier_enabled\": %s, \"module_verified\": %s, ",
		a->verifier_enabled ? "true" : "false", a->module_verified ? "true" : "false");
	fprintf(o, "\"confidence\": \"%s\", ", bc_confidence_name(a->confidence));
	string_or_null(o, "summary", a->summary, false);
	fputs("},\n  \"evidence\": [", o);
	for (size_t i = 0; i < a->evidence_count; i++) {
		fprintf(o, "%s{\"kind\": \"%s\", \"text\": ", i ? ", " : "",
			bc_evidence_kind_name(a->evidence[i].kind));
		bc_put_json_string(o, a->evidence[i].text);
		fputc('}', o);
	}
	fputs("],\n", o);
	print_lines(o, "advice", (const char (*)[BC_ANALYSIS_LINE])a->advice, a->advice_count, true);
	print_lines(o, "notes", (const char (*)[BC_ANALYSIS_LINE])a->notes, a->note_count, false);
	fputs("}\n", o);
}
