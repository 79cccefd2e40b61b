// !analyze [-v] [-show CODE ...]: the verdict on the crash (bugcheck/analysis.h).
//
// !analyze -v prints WinDbg's layout (WINDBG_OUTPUT.md 1.7): the banner, the
// bug check explained, "Debugging Details:", then one "FIELD:  value" block
// each followed by a blank line, in WinDbg's modern order, down to
// "Followup:     MachineOwner" and a line of dashes. What WinDbg does not
// print follows the dashes: the verdict in a sentence, its confidence and
// evidence, what each frame of the failing stack contributed under the
// triage rules, advice, and what the analysis lacked. !analyze alone prints
// WinDbg's short form ("BugCheck 7F, {...}", "Probably caused by : ...").
#include <inttypes.h>
#include <string.h>

#include "bugcheck/analysis.h"
#include "bugcheck/bugcheck_kb.h"
#include "bugcheck/disasm.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static void banner(FILE *out)
{
	static const char stars[] =
		"*******************************************************************************\n";
	fputs(stars, out);
	fprintf(out, "*%77s*\n", "");
	fprintf(out, "*%24sBugcheck Analysis%36s*\n", "", "");
	fprintf(out, "*%77s*\n", "");
	fputs(stars, out);
	fputc('\n', out);
}

// "FIELD:  value" (two spaces, or one for the fields WinDbg prints so) and a blank line.
static void field(FILE *out, const char *name, bool one_space, const char *value)
{
	fprintf(out, "%s:%s", name, one_space ? " " : "  ");
	bc_put_escaped(out, value, 0);
	fputs("\n\n", out);
}

// The instruction at @address as "sym+off:" and a disassembly line.
static void instruction_lines(struct bc_session *s, uint64_t address)
{
	char label[320];
	bc_target_format_address(s->target, address, label, sizeof(label));
	if (*label) {
		bc_put_escaped(s->out, label, 0);
		fputs(":\n", s->out);
	}
	struct bc_insn insn;
	struct bc_error *err = bc_disasm_read(s->target, address, &insn);
	char a[24];
	if (err) {
		fprintf(s->out, "%s ??              ???\n",
			bc_fmt_ptr(a, address, bc_target_info(s->target)->pointer_size));
		bc_error_destroy(err);
		return;
	}
	bc_cmd_print_instruction(s, &insn);
	fputc('\n', s->out);
}

// CONTEXT / TRAP_FRAME: "addr -- (.cxr 0xaddr)", the registers, "Resetting default scope".
static void register_block(struct bc_session *s, const char *name, const char *command,
			   uint64_t address)
{
	char arg[32];
	// The first token: 16 hex digits without a backtick (8 on x86), as WinDbg prints it.
	int digits = bc_target_info(s->target)->pointer_size == 4 ? 8 : 16;
	fprintf(s->out, "%s:  %0*" PRIx64 " -- (%s 0x%" PRIx64 ")\n", name, digits,
		digits == 8 ? (uint32_t)address : address, command, address);
	snprintf(arg, sizeof(arg), "0x%" PRIx64, address);
	struct bc_context saved = s->context;
	bool saved_has = s->has_context;
	size_t saved_frame = s->frame;
	if (!strcmp(command, ".trap"))
		cmd_trap(s, command, arg);
	else
		cmd_cxr(s, command, arg);
	s->context = saved;
	s->has_context = saved_has;
	s->frame = saved_frame;
	fputs("Resetting default scope\n\n", s->out);
}

static void dump_attributes(struct bc_session *s)
{
	const struct bc_dump_info *info = bc_target_info(s->target);
	if (!info->has_attributes)
		return;
	fprintf(s->out, "DUMP_FILE_ATTRIBUTES: 0x%" PRIx32 "\n", info->attributes);
	if (info->attributes & BC_ATTR_KERNEL_GENERATED_TRIAGE_DUMP)
		fputs("  Kernel Generated Triage Dump\n", s->out);
	if (info->attributes & BC_ATTR_INSUFFICIENT_DUMPFILE_SIZE)
		fputs("  Insufficient Dumpfile Size\n", s->out);
	if (info->attributes & BC_ATTR_LIVE_DUMP_GENERATED)
		fputs("  Live Generated Dump\n", s->out);
	fputc('\n', s->out);
}

static void stack_text(struct bc_session *s, const struct bc_analysis *a)
{
	fputs("STACK_TEXT:  \n", s->out);
	bool warned = false;
	struct bc_context saved = s->context;
	s->context = a->context;  // the machine of the frames, for the line layout
	for (size_t i = 0; i < a->frame_count; i++) {
		if (a->frames[i].frame.source == BC_FRAME_SCAN && !warned) {
			fputs("WARNING: Stack unwind information not available. Following frames may be "
			      "wrong.\n", s->out);
			warned = true;
		}
		bc_cmd_print_stack_text_line(s, &a->frames[i].frame);
	}
	s->context = saved;
	if (a->stack_note[0]) {
		fputs("NOTE: the stack ends here: ", s->out);
		bc_put_escaped(s->out, a->stack_note, 0);
		fputc('\n', s->out);
	}
	fputs("\n\n", s->out);
}

// Our sections, after WinDbg's: the verdict and why.
static void verdict_sections(struct bc_session *s, const struct bc_analysis *a)
{
	FILE *out = s->out;
	fputs("\nVERDICT:  ", out);
	bc_put_escaped(out, a->summary, 0);
	fprintf(out, "\n\nCONFIDENCE:  %s\n\nEVIDENCE:\n", bc_confidence_name(a->confidence));
	for (size_t i = 0; i < a->evidence_count; i++) {
		fputs("  - ", out);
		bc_put_escaped(out, a->evidence[i].text, 0);
		fputc('\n', out);
	}
	fputs("\nTRIAGE (each frame of the failing stack, top first):\n", out);
	for (size_t i = 0; i <= a->frame_count; i++) {
		const struct bc_analysis_frame *f = i < a->frame_count ? &a->frames[i] : &a->culprit;
		if (i == a->frame_count && !a->culprit_is_fault)
			break;
		char label[320];
		bc_target_format_address(s->target, f->frame.ip, label, sizeof(label));
		if (i == a->frame_count)
			fputs("  the faulting instruction, which the stack did not reach:\n", out);
		const char *what;
		switch (f->match.verdict) {
		case BC_TRIAGE_IGNORE: what = "passed over"; break;
		case BC_TRIAGE_OWNER: what = "owner"; break;
		case BC_TRIAGE_MAYBE: what = "owner if nothing lower is definite"; break;
		case BC_TRIAGE_LAST: what = "owner as a last resort"; break;
		default: what = "no rule"; break;
		}
		if (i < a->frame_count)
			fprintf(out, "  %02zx %s %-6s ", i, i == a->blamed ? "=>" : "  ",
				bc_frame_source_name(f->frame.source));
		else
			fputs("     => fault  ", out);
		bc_put_escaped(out, *label ? label : "(no module)", 0);
		fprintf(out, ": %s", what);
		if (f->rule[0]) {
			fputs(" (", out);
			bc_put_escaped(out, f->rule, 0);
			fputc('=', out);
			bc_put_escaped(out, f->owner, 0);
			fprintf(out, ", %s line %u)", f->rule_source, f->match.line);
		}
		fputc('\n', out);
	}
	if (a->advice_count) {
		fputs("\nADVICE:\n", out);
		for (size_t i = 0; i < a->advice_count; i++) {
			fputs("  - ", out);
			bc_put_escaped(out, a->advice[i], 0);
			fputc('\n', out);
		}
	}
	if (a->note_count) {
		fputs("\nNOTES (what this analysis lacked):\n", out);
		for (size_t i = 0; i < a->note_count; i++) {
			fputs("  - ", out);
			bc_put_escaped(out, a->notes[i], 0);
			fputc('\n', out);
		}
	}
}

static void verbose_report(struct bc_session *s, const struct bc_bugcheck_kb *kb,
			   const struct bc_analysis *a)
{
	FILE *out = s->out;
	const struct bc_dump_info *info = bc_target_info(s->target);
	char buf[64];
	banner(out);
	struct bc_error *err = bc_cmd_print_bugcheck_explained(s, kb, a->code, a->params);
	if (err) {
		fprintf(out, "Unknown bugcheck code (%" PRIx32 ")\nArguments:\n", a->code);
		for (unsigned i = 0; i < 4; i++) {
			if (info->pointer_size == 4)
				fprintf(out, "Arg%u: %08" PRIx32 "\n", i + 1, (uint32_t)a->params[i]);
			else
				fprintf(out, "Arg%u: %016" PRIx64 "\n", i + 1, a->params[i]);
		}
		bc_error_destroy(err);
	}
	fputs("\nDebugging Details:\n------------------\n\n\n", out);
	snprintf(buf, sizeof(buf), "%" PRIx32, a->code);
	field(out, "BUGCHECK_CODE", false, buf);
	for (unsigned i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "BUGCHECK_P%u", i + 1);
		snprintf(buf, sizeof(buf), "%" PRIx64, a->params[i]);
		field(out, name, true, buf);
	}
	dump_attributes(s);
	if (a->thread && info->format == BC_DUMP_TRIAGE) {
		snprintf(buf, sizeof(buf), "%016" PRIx64, a->thread);
		field(out, "FAULTING_THREAD", false, info->pointer_size == 4 ? buf + 8 : buf);
	}
	if (a->exception_record) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, a->exception_record);
		fprintf(out, "EXCEPTION_RECORD:  %016" PRIx64 " -- (.exr %s)\n", a->exception_record,
			buf);
		cmd_exr(s, ".exr", buf);
		fputc('\n', out);
	}
	if (a->source == BC_FAILURE_CONTEXT_RECORD)
		register_block(s, "CONTEXT", ".cxr", a->source_address);
	if (a->process_name[0])
		field(out, "PROCESS_NAME", false, a->process_name);
	if (a->trap_frame)
		register_block(s, "TRAP_FRAME", ".trap", a->trap_frame);
	if (a->has_faulting_ip) {
		fputs("FAULTING_IP: \n", out);
		instruction_lines(s, a->faulting_ip);
		fputc('\n', out);
	}
	stack_text(s, a);
	if (a->symbol_name[0])
		field(out, "SYMBOL_NAME", false, a->symbol_name);
	if (a->module_name[0])
		field(out, "MODULE_NAME", true, a->module_name);
	if (a->image_name[0])
		field(out, "IMAGE_NAME", false, a->image_name);
	if (a->image_version[0])
		field(out, "IMAGE_VERSION", false, a->image_version);
	if (a->has_image_timestamp) {
		char t[BC_FMT_TIME_SIZE];
		char value[BC_FMT_TIME_SIZE + 48];
		if (a->image_timestamp_is_hash)
			snprintf(value, sizeof(value), "%" PRIx32 " (a build hash, not a date)",
				 a->image_timestamp);
		else
			snprintf(value, sizeof(value), "%" PRIx32 " (%s)", a->image_timestamp,
				 bc_fmt_unix_time(t, a->image_timestamp));
		field(out, "IMAGE_DATE", false, value);
	}
	if (a->stack_command[0])
		field(out, "STACK_COMMAND", false, a->stack_command);
	if (a->has_func_offset) {
		snprintf(buf, sizeof(buf), "%" PRIx64, a->func_offset);
		field(out, "BUCKET_ID_FUNC_OFFSET", false, buf);
	}
	field(out, "FAILURE_BUCKET_ID", false, a->bucket);
	field(out, "OS_VERSION", false, a->os_version);
	field(out, "OSPLATFORM_TYPE", false,
	      info->machine == BC_MACHINE_X86 ? "x86" : info->machine == BC_MACHINE_ARM64 ? "arm64"
										 : "x64");
	field(out, "OSNAME", false, bc_cmd_windows_name(info->build));
	field(out, "FAILURE_ID_HASH", false, a->failure_hash);
	fputs("Followup:     ", out);
	bc_put_escaped(out, a->followup, 0);
	fputs("\n---------\n", out);
	verdict_sections(s, a);
}

static void short_report(struct bc_session *s, const struct bc_analysis *a)
{
	FILE *out = s->out;
	banner(out);
	fputs("Use !analyze -v to get detailed debugging information.\n\n", out);
	fprintf(out, "BugCheck %" PRIX32 ", {%" PRIx64 ", %" PRIx64 ", %" PRIx64 ", %" PRIx64 "}\n\n",
		a->code, a->params[0], a->params[1], a->params[2], a->params[3]);
	if (a->image_name[0]) {
		fputs("Probably caused by : ", out);
		bc_put_escaped(out, a->image_name, 0);
		fputs(" ( ", out);
		bc_put_escaped(out, a->symbol_name, 0);
		fputs(" )\n\n", out);
	}
	fputs("Followup:     ", out);
	bc_put_escaped(out, a->followup, 0);
	fputs("\n---------\n", out);
}

enum report { REPORT_SHORT, REPORT_VERBOSE, REPORT_JSON };

static int run(struct bc_session *s, const char *cmd, enum report report)
{
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_analysis *a = NULL;
	struct bc_error *err = bc_bugcheck_kb_open(&kb);
	if (!err)
		err = bc_target_analyze(s->target, s->triage, kb, &a);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		bc_bugcheck_kb_close(kb);
		return 1;
	}
	switch (report) {
	case REPORT_VERBOSE: verbose_report(s, kb, a); break;
	case REPORT_JSON: bc_print_analysis_json(s, a); break;
	case REPORT_SHORT: short_report(s, a); break;
	}
	bc_analysis_free(a);
	bc_bugcheck_kb_close(kb);
	return 0;
}

int cmd_analyze(struct bc_session *s, const char *cmd, const char *args)
{
	args += strspn(args, " \t");
	bool verbose = false;
	if (!strncmp(args, "-show", 5) && (!args[5] || args[5] == ' ' || args[5] == '\t'))
		return bc_cmd_analyze_show(s, cmd, args + 5);
	if (!strncmp(args, "-v", 2) && (!args[2] || args[2] == ' ' || args[2] == '\t')) {
		verbose = true;
		args += 2 + strspn(args + 2, " \t");
	}
	if (*args) {
		fprintf(s->out, "%s: usage: !analyze [-v] | !analyze -show CODE [P1 [P2 [P3 [P4]]]]\n",
			cmd);
		return 1;
	}
	return run(s, cmd, verbose ? REPORT_VERBOSE : REPORT_SHORT);
}

int bc_cmd_analyze_dump(struct bc_session *s, bool json)
{
	return run(s, "analyze", json ? REPORT_JSON : REPORT_VERBOSE);
}
