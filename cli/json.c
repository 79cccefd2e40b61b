// --json: the dump's facts as one JSON document (schema in docs/JSON.md).
// 64-bit values are hex strings ("0xfffff8048b58334c"); counts and small
// codes are numbers. Every string from the dump goes through
// bc_put_json_string(), which escapes control characters.
#include <inttypes.h>
#include <string.h>

#include "bugcheck/frame_params.h"
#include "cmd.h"
#include "format.h"

static void hex_field(FILE *o, const char *key, uint64_t v, bool comma)
{
	fprintf(o, "\"%s\": \"0x%" PRIx64 "\"%s", key, v, comma ? ", " : "");
}

static const char *format_name(enum bc_dump_format f)
{
	switch (f) {
	case BC_DUMP_FULL_RUNS: return "full";
	case BC_DUMP_SUMMARY: return "summary";
	case BC_DUMP_TRIAGE: return "triage";
	case BC_DUMP_BITMAP_KERNEL: return "bitmap-kernel";
	case BC_DUMP_BITMAP_FULL: return "bitmap-full";
	case BC_DUMP_RDMP_KERNEL: return "rdmp-kernel";
	case BC_DUMP_RDMP_KERNEL_USER: return "rdmp-kernel-user";
	case BC_DUMP_RDMP_COMPLETE: return "rdmp-complete";
	case BC_TARGET_IMAGE: return "image";
	case BC_TARGET_SYMBOLS: return "symbols";
	}
	return "unknown";
}

static void print_dump(FILE *o, const struct bc_dump_info *i)
{
	fprintf(o, "  \"dump\": {\"type\": %" PRIu32 ", \"format\": \"%s\", \"header_bits\": %u, "
		"\"file_size\": %" PRIu64 ", \"present_pages\": %" PRIu64 ", ",
		i->dump_type, format_name(i->format), i->pointer_size * 8, i->file_size,
		i->present_pages);
	if (i->has_attributes)
		fprintf(o, "\"attributes\": \"0x%" PRIx32 "\", ", i->attributes);
	else
		fputs("\"attributes\": null, ", o);
	fprintf(o, "\"mini_dump_fields\": \"0x%" PRIx32 "\", \"comment\": ", i->mini_dump_fields);
	bc_put_json_string(o, i->comment);
	fputs("},\n", o);
}

static void print_system(FILE *o, struct bc_session *s, const struct bc_dump_info *i)
{
	char line[BC_FMT_TIME_SIZE + 32];
	bc_version_line(s->target, line, sizeof(line));
	fprintf(o, "  \"system\": {\"machine\": \"%s\", \"build\": %" PRIu32 ", \"processors\": %"
		PRIu32 ", \"version\": ", bc_machine_name(i->machine), i->build, i->processors);
	bc_put_json_string(o, line);
	fprintf(o, ", \"free_build\": %s, ", i->major_version == 0xc ? "false" : "true");
	if (i->has_product_type)
		fprintf(o, "\"product_type\": %" PRIu32 ", \"suite_mask\": \"0x%" PRIx32 "\", ",
			i->product_type, i->suite_mask);
	if (i->has_system_time)
		fprintf(o, "\"crash_time\": \"%s\", ", bc_fmt_filetime_iso(line, i->system_time));
	if (i->has_system_uptime)
		fprintf(o, "\"uptime_seconds\": %.3f, ", (double)i->system_uptime / 1e7);
	hex_field(o, "kernel_base", i->kernel_base, true);
	hex_field(o, "ps_loaded_module_list", i->ps_loaded_module_list, true);
	hex_field(o, "ps_active_process_head", i->ps_active_process_head, true);
	hex_field(o, "directory_table_base", i->directory_table_base, true);
	hex_field(o, "kd_debugger_data_block", i->kd_debugger_data_block, false);
	fprintf(o, ", \"current_processor\": %" PRIu32 "},\n", bc_target_current_processor(s->target));
}

static void print_bugcheck(FILE *o, const struct bc_dump_info *i)
{
	const char *name = bc_bugcheck_name(i->bugcheck_code);
	fprintf(o, "  \"bugcheck\": {\"code\": %" PRIu32 ", \"code_hex\": \"0x%" PRIx32 "\", \"name\": ",
		i->bugcheck_code, i->bugcheck_code);
	if (name)
		bc_put_json_string(o, name);
	else
		fputs("null", o);
	fputs(", \"parameters\": [", o);
	for (int k = 0; k < 4; k++)
		fprintf(o, "%s\"0x%016" PRIx64 "\"", k ? ", " : "", i->bugcheck_parameters[k]);
	fputs("]},\n", o);
}

static void print_context(FILE *o, const struct bc_context *c)
{
	fputs("  \"context\": ", o);
	if (!c) {
		fputs("null,\n", o);
		return;
	}
	static const char *const x64[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
					   "rip", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
					   "r15", "efl", "cs", "ss", "ds", "es", "fs", "gs" };
	static const char *const x86[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp",
					   "eip", "efl", "cs", "ss", "ds", "es", "fs", "gs" };
	static const char *const arm64[] = {
		"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
		"x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22",
		"x23", "x24", "x25", "x26", "x27", "x28", "fp", "lr", "sp", "pc", "cpsr",
		"fpcr", "fpsr" };
	const char *const *names = c->machine == BC_MACHINE_X64 ? x64
				   : c->machine == BC_MACHINE_X86 ? x86 : arm64;
	size_t n = c->machine == BC_MACHINE_X64 ? sizeof(x64) / sizeof(*x64)
		   : c->machine == BC_MACHINE_X86 ? sizeof(x86) / sizeof(*x86)
						  : sizeof(arm64) / sizeof(*arm64);
	fputc('{', o);
	for (size_t k = 0; k < n; k++) {
		uint64_t v = 0;
		bc_context_register(c, names[k], &v);
		fprintf(o, "%s\"%s\": \"0x%" PRIx64 "\"", k ? ", " : "", names[k], v);
	}
	fputs("},\n", o);
}

static void print_exception(FILE *o, const struct bc_exception_record *e)
{
	fprintf(o, "  \"exception\": {\"code\": \"0x%" PRIx32 "\", \"flags\": \"0x%" PRIx32 "\", ",
		e->code, e->flags);
	hex_field(o, "address", e->address, false);
	uint32_t n = e->number_parameters < 15 ? e->number_parameters : 15;
	fputs(", \"parameters\": [", o);
	for (uint32_t k = 0; k < n; k++)
		fprintf(o, "%s\"0x%" PRIx64 "\"", k ? ", " : "", e->information[k]);
	fputs("]},\n", o);
}

static void print_kdbg(FILE *o, const struct bc_kdbg *k)
{
	fprintf(o, "  \"kdbg\": {\"present\": %s", k->present ? "true" : "false");
	if (k->present) {
		fprintf(o, ", \"encoded\": %s, \"size\": \"0x%" PRIx32 "\", ",
			k->was_encoded ? "true" : "false", k->size);
		hex_field(o, "address", k->address, true);
		hex_field(o, "kern_base", k->kern_base, true);
		hex_field(o, "ps_loaded_module_list", k->ps_loaded_module_list, true);
		hex_field(o, "ki_processor_block", k->ki_processor_block, false);
	}
	fputs("},\n", o);
}

static void print_modules(FILE *o, struct bc_target *t)
{
	fputs("  \"modules\": [", o);
	for (size_t k = 0; k < bc_target_module_count(t); k++) {
		const struct bc_module *m = bc_target_module(t, k);
		fputs(k ? ",\n    {\"name\": " : "\n    {\"name\": ", o);
		bc_put_json_string(o, m->name);
		fputs(", ", o);
		hex_field(o, "base", m->base, true);
		hex_field(o, "end", m->base + m->size, true);
		hex_field(o, "size", m->size, true);
		fprintf(o, "\"timestamp\": \"0x%08" PRIx32 "\", \"checksum\": \"0x%08" PRIx32 "\"",
			m->timestamp, m->checksum);
		if (m->path) {
			fputs(", \"path\": ", o);
			bc_put_json_string(o, m->path);
		}
		fputc('}', o);
	}
	fputs("],\n  \"unloaded_modules\": [", o);
	for (size_t k = 0; k < bc_target_unloaded_count(t); k++) {
		const struct bc_unloaded_module *u = bc_target_unloaded(t, k);
		fputs(k ? ",\n    {\"name\": " : "\n    {\"name\": ", o);
		bc_put_json_string(o, u->name);
		fputs(", ", o);
		hex_field(o, "base", u->base, true);
		hex_field(o, "end", u->end, false);
		fputc('}', o);
	}
	fputs("],\n", o);
}

// A frame's parameters from private symbols: name, type, value (kp's
// spelling, null when unavailable) and where it was read; nothing without them.
static void print_params(FILE *o, struct bc_session *s, const struct bc_stack *st, size_t k)
{
	struct bc_frame_params fp;
	struct bc_error *err = bc_target_frame_params(s->target, st, k, &fp);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	fputs(", \"parameters\": [", o);
	for (size_t i = 0; i < fp.count; i++) {
		const struct bc_frame_param *p = &fp.params[i];
		fputs(i ? ", {\"name\": " : "{\"name\": ", o);
		bc_put_json_string(o, p->param->name);
		fputs(", \"type\": ", o);
		bc_put_json_string(o, p->type_name);
		fputs(", \"value\": ", o);
		if (p->available) {
			char v[400];
			bc_cmd_format_param_value(s, fp.symtab, p, v, sizeof(v));
			bc_put_json_string(o, v);
		} else {
			fputs("null", o);
		}
		fputs(", \"location\": ", o);
		if (*p->location_text)
			bc_put_json_string(o, p->location_text);
		else
			fputs("null", o);
		if (p->in_memory)
			fprintf(o, ", \"address\": \"0x%" PRIx64 "\"", p->address);
		fputc('}', o);
	}
	fputc(']', o);
	bc_frame_params_free(&fp);
}

// The current context's stack (bugcheck/stack.h), each frame with how it was found.
static void print_stack(FILE *o, struct bc_session *s)
{
	fputs("  \"stack\": ", o);
	struct bc_stack st;
	struct bc_error *err = s->has_context ? bc_target_stack(s->target, &s->context, 64, &st)
					      : bc_error_create(BC_ERR_NOT_FOUND, "no register context");
	if (err) {
		fputs("{\"frames\": [], \"end\": ", o);
		bc_put_json_string(o, err->message);
		fputs("},\n", o);
		bc_error_destroy(err);
		return;
	}
	fputs("{\"frames\": [", o);
	for (size_t k = 0; k < st.count; k++) {
		const struct bc_stack_frame *f = &st.frames[k];
		char label[300];
		bc_target_format_address(s->target, f->ip, label, sizeof(label));
		fprintf(o, "%s\n    {\"number\": %zu, ", k ? "," : "", k);
		hex_field(o, "sp", f->sp, true);
		hex_field(o, "ip", f->ip, true);
		hex_field(o, "return_address", f->return_address, true);
		fputs("\"symbol\": ", o);
		if (*label)
			bc_put_json_string(o, label);
		else
			fputs("null", o);
		// The same split for pipelines: module, function (null without a
		// symbol), offset from the function or, without one, the module base.
		struct bc_address_symbol a;
		bc_target_describe_address(s->target, f->ip, &a);
		fputs(", \"module\": ", o);
		if (a.module_name)
			bc_put_json_string(o, a.module_name);
		else
			fputs("null", o);
		fputs(", \"function\": ", o);
		if (a.module_name && a.symbol)
			bc_put_json_string(o, a.symbol);
		else
			fputs("null", o);
		if (a.module_name)
			fprintf(o, ", \"offset\": \"0x%" PRIx64 "\"", a.displacement);
		fprintf(o, ", \"found_by\": \"%s\"", bc_frame_source_name(f->source));
		if (f->trap_frame) {
			fputs(", ", o);
			hex_field(o, "trap_frame", f->trap_frame, false);
		}
		print_params(o, s, &st, k);
		fputc('}', o);
	}
	fputs("],\n    \"end\": ", o);
	bc_put_json_string(o, st.note);
	fputs("},\n", o);
	bc_stack_free(&st);
}

void bc_print_json(struct bc_session *s)
{
	FILE *o = s->out;
	const struct bc_dump_info *i = bc_target_info(s->target);
	fputs("{\n  \"file\": ", o);
	bc_put_json_string(o, bc_target_path(s->target));
	fputs(",\n", o);
	print_dump(o, i);
	print_system(o, s, i);
	print_bugcheck(o, i);
	print_context(o, bc_target_context(s->target));
	print_exception(o, bc_target_exception(s->target));
	print_kdbg(o, bc_target_kdbg(s->target));
	print_modules(o, s->target);
	print_stack(o, s);
	fprintf(o, "  \"module_source\": \"%s\",\n  \"warnings\": [", bc_target_module_source(s->target));
	for (size_t w = 0; w < bc_target_warning_count(s->target); w++) {
		fputs(w ? ", " : "", o);
		bc_put_json_string(o, bc_target_warning(s->target, w));
	}
	fputs("]\n}\n", o);
}
