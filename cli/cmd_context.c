// .cxr and .exr: register contexts and exception records stored in memory,
// such as the ones bug check 0x7E/0x1E/0x3B parameters point at.
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/analysis.h"
#include "bugcheck/stack.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const char *skip_blanks(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

// .cxr ADDRESS: use the CONTEXT stored at ADDRESS; .cxr alone: back to the dump's own.
int cmd_cxr(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	if (!*args) {
		const struct bc_context *ctx = bc_target_context(s->target);
		if (ctx) {
			s->context = *ctx;
			s->has_context = true;
			s->frame = 0;
		}
		fputs("Resetting default scope\n", s->out);
		return 0;
	}
	uint64_t address;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &address);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	struct bc_context ctx;
	err = bc_target_read_context_record(s->target, address, &ctx);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	s->context = ctx;
	s->has_context = true;
	s->frame = 0;
	s->has_next_unassemble = false;
	return cmd_registers(s, "r", "");
}

// .trap ADDRESS: the registers saved in a KTRAP_FRAME (TRAP_FRAME in !analyze,
// kv's "TrapFrame @"); .trap alone: back to the dump's own context.
int cmd_trap(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	if (!*args)
		return cmd_cxr(s, cmd, args);
	uint64_t address;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &address);
	struct bc_trap_frame tf;
	if (!err)
		err = bc_target_read_trap_frame(s->target, address, &tf);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	if (tf.context.machine == BC_MACHINE_X64)
		fputs("NOTE: The trap frame does not contain all registers.\n"
		      "Some register values may be zeroed or incorrect.\n", s->out);
	else if (tf.context.machine == BC_MACHINE_X86)
		fprintf(s->out, "ErrCode = %08" PRIx32 "\n", (uint32_t)tf.error_code);
	s->context = tf.context;
	s->has_context = true;
	s->frame = 0;
	s->has_next_unassemble = false;
	bc_cmd_print_context(s, true);
	return 0;
}

// .thread ADDRESS: the registers a kernel thread resumes with; .thread alone
// (or 0): back to the thread that bug-checked.
int cmd_thread(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	uint64_t thread = 0;
	if (*args) {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &thread);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	if (!thread)
		thread = bc_target_current_thread(s->target);
	struct bc_context ctx;
	if (!thread) {
		// A dump that does not say which thread bug-checked: its own context is that thread's.
		const struct bc_context *own = bc_target_context(s->target);
		if (!own) {
			fprintf(s->out, "%s: the dump has no register context\n", cmd);
			return 1;
		}
		ctx = *own;
	} else {
		struct bc_error *err = bc_target_thread_context(s->target, thread, &ctx);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	s->context = ctx;
	s->has_context = true;
	s->frame = 0;
	s->has_next_unassemble = false;
	if (thread) {
		char a[24];
		fprintf(s->out, "Implicit thread is now %s\n",
			bc_fmt_ptr(a, thread, bc_target_info(s->target)->pointer_size));
	}
	return 0;
}

// .process [/p] [/r] [ADDRESS]: the process whose address space user-mode
// addresses are read in. Alone: shows it; 0: back to the dump's own. In a
// dump /p (translate through the process) is what always happens, and /r
// (reload user symbols) has nothing to reload: both are accepted.
int cmd_process_context(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	while (args[0] == '/' && (args[1] == 'p' || args[1] == 'r' || args[1] == 'P')) {
		args += 2;
		args = skip_blanks(args);
	}
	char a[24];
	unsigned ps = bc_target_info(s->target)->pointer_size;
	if (!*args) {
		uint64_t p = bc_target_implicit_process(s->target);
		if (p)
			fprintf(s->out, "Implicit process is %s\n", bc_fmt_ptr(a, p, ps));
		else
			fprintf(s->out, "%s: the dump does not say which process was running\n", cmd);
		return p ? 0 : 1;
	}
	uint64_t process;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &process);
	if (!err)
		err = bc_target_set_process(s->target, process);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	uint64_t now = bc_target_implicit_process(s->target);
	if (now)
		fprintf(s->out, "Implicit process is now %s\n", bc_fmt_ptr(a, now, ps));
	return 0;
}

static const char *exception_name(uint32_t code)
{
	switch (code) {
	case 0x80000002: return "Data misaligned";
	case 0x80000003: return "Break instruction exception";
	case 0x80000004: return "Single step exception";
	case 0xc0000005: return "Access violation";
	case 0xc0000006: return "In-page I/O error";
	case 0xc0000008: return "Invalid handle";
	case 0xc000001d: return "Illegal instruction";
	case 0xc0000094: return "Integer divide-by-zero";
	case 0xc0000095: return "Integer overflow";
	case 0xc0000096: return "Privileged instruction";
	case 0xc00000fd: return "Stack overflow";
	case 0xc0000409: return "Security check failure or stack buffer overrun";
	case 0xc0000420: return "Assertion failure";
	}
	return NULL;
}

static void print_exception_record(struct bc_session *s, const struct bc_exception_record *r)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	char label[256];
	FILE *o = s->out;
	// WinDbg prints this address without the backtick: "fffff8076624f3d4".
	fprintf(o, "ExceptionAddress: %0*" PRIx64, (int)ps * 2,
		ps == 4 ? (uint64_t)(uint32_t)r->address : r->address);
	struct bc_address_symbol sym;
	bc_target_describe_address(s->target, r->address, &sym);
	if (sym.module) {
		bc_target_format_address(s->target, sym.symbol_address, label, sizeof(label));
		fputs(" (", o);
		bc_put_escaped(o, label, 0);
		fprintf(o, "+0x%016" PRIx64 ")", sym.displacement);
	}
	fprintf(o, "\n   ExceptionCode: %08" PRIx32, r->code);
	const char *name = exception_name(r->code);
	if (name)
		fprintf(o, " (%s)", name);
	fprintf(o, "\n  ExceptionFlags: %08" PRIx32 "\nNumberParameters: %" PRIu32 "\n", r->flags,
		r->number_parameters);
	uint32_t n = r->number_parameters < 15 ? r->number_parameters : 15;
	for (uint32_t i = 0; i < n; i++)
		fprintf(o, "   Parameter[%" PRIu32 "]: %0*" PRIx64 "\n", i, (int)ps * 2,
			ps == 4 ? (uint64_t)(uint32_t)r->information[i] : r->information[i]);
	if (r->code == 0xc0000005 && n >= 2) {
		const char *what = r->information[0] == 0   ? "read from"
				   : r->information[0] == 1 ? "write to"
				   : r->information[0] == 8 ? "execute non-executable"
							    : NULL;
		if (what)
			fprintf(o, "Attempt to %s address %0*" PRIx64 "\n", what, (int)ps * 2,
				ps == 4 ? (uint64_t)(uint32_t)r->information[1] : r->information[1]);
	}
}

// .exr ADDRESS | .exr -1 (the dump's own record).
int cmd_exr(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	struct bc_exception_record r;
	if (!*args || !strcmp(args, "-1")) {
		r = *bc_target_exception(s->target);
	} else {
		uint64_t address;
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &address);
		if (!err)
			err = bc_target_read_exception_record(s->target, address, &r);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	print_exception_record(s, &r);
	return 0;
}
