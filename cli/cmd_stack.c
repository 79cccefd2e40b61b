// k, kn, kb, kv, kL [COUNT]: the current context's call stack, WinDbg's layout
// (WINDBG_OUTPUT.md section 6):
//
//    # Child-SP          RetAddr               Call Site
//   00 ffffa704`eeb6bc88 fffff807`5c01faa9     nt!KeBugCheckEx
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

enum { DEFAULT_FRAMES = 0x14, MAX_FRAMES = 0x400 };

struct k_options {
	bool numbers, args, verbose;
	uint64_t count;
};

static void call_site(struct bc_session *s, uint64_t ip)
{
	char label[300];
	bc_target_format_address(s->target, ip, label, sizeof(label));
	if (*label) {
		bc_put_escaped(s->out, label, 0);
	} else {
		char a[24];
		fprintf(s->out, "0x%s", bc_fmt_ptr(a, ip, bc_target_info(s->target)->pointer_size));
	}
}

// x86: three dwords above the saved EBP and return address.
static void print_args_x86(struct bc_session *s, uint64_t ebp)
{
	for (int i = 0; i < 3; i++) {
		uint8_t b[4];
		struct bc_error *err = bc_target_read(s->target, ebp + 8 + 4 * (uint64_t)i, b, 4);
		if (err) {
			bc_error_destroy(err);
			fputs("???????? ", s->out);
			continue;
		}
		fprintf(s->out, "%02x%02x%02x%02x ", b[3], b[2], b[1], b[0]);
	}
}

static void print_args(struct bc_session *s, uint64_t sp)
{
	// x64: the callee's home area for its four register parameters, above the return address.
	fputs(": ", s->out);
	for (int i = 0; i < 4; i++) {
		uint8_t b[8];
		char a[24];
		struct bc_error *err = bc_target_read(s->target, sp + 8 + 8 * (uint64_t)i, b, 8);
		if (err) {
			bc_error_destroy(err);
			fputs("????????`???????? ", s->out);
			continue;
		}
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | b[k];
		fprintf(s->out, "%s ", bc_fmt_ptr(a, v, 8));
	}
	fputs(": ", s->out);
}

static int parse_k(struct bc_session *s, const char *cmd, const char *args, struct k_options *o)
{
	*o = (struct k_options){ .count = DEFAULT_FRAMES };
	for (const char *p = cmd + 1; *p; p++) {
		switch (*p) {
		case 'n': o->numbers = true; break;
		case 'b': o->args = true; break;
		case 'v': o->args = o->verbose = true; break;
		case 'L': case 'p': case 'P': case 'f': break;  // no source lines or types yet
		default:
			fprintf(s->out, "%s: unknown option '%c'; usage: k[n][b|v][L] [COUNT]\n", cmd, *p);
			return 1;
		}
	}
	while (isspace((unsigned char)*args))
		args++;
	if (*args) {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &o->count);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		if (o->count == 0 || o->count > MAX_FRAMES) {
			fprintf(s->out, "%s: frame count must be between 1 and %#x\n", cmd, MAX_FRAMES);
			return 1;
		}
	}
	return 0;
}

int cmd_stack(struct bc_session *s, const char *cmd, const char *args)
{
	struct k_options o;
	if (parse_k(s, cmd, args, &o))
		return 1;
	if (!s->has_context) {
		fprintf(s->out, "%s: this dump has no register context\n", cmd);
		return 1;
	}
	struct bc_stack st;
	struct bc_error *err = bc_target_stack(s->target, &s->context, (size_t)o.count, &st);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	FILE *out = s->out;
	bool x86 = s->context.machine == BC_MACHINE_X86;
	if (o.numbers)
		fputs(" # ", out);
	if (x86)
		fputs(o.args ? "ChildEBP RetAddr  Args to Child              \n" : "ChildEBP RetAddr  \n",
		      out);
	else
		fputs(o.args ? "Child-SP          RetAddr               : Args to Child"
			       "                                                           : Call Site\n"
			     : "Child-SP          RetAddr               Call Site\n", out);
	bool warned = false;
	for (size_t i = 0; i < st.count; i++) {
		const struct bc_stack_frame *f = &st.frames[i];
		if (f->source == BC_FRAME_SCAN && !warned) {
			fputs("WARNING: Stack unwind information not available. Following frames may be "
			      "wrong.\n", out);
			warned = true;
		}
		char a[24], b[24];
		if (o.numbers)
			fprintf(out, "%02zx ", i);
		if (x86) {
			fprintf(out, "%08" PRIx32 " %08" PRIx32 " ", (uint32_t)f->sp,
				(uint32_t)f->return_address);
			if (o.args)
				print_args_x86(s, f->sp);
		} else {
			fprintf(out, "%s %s     ", bc_fmt_ptr(a, f->sp, 8),
				bc_fmt_ptr(b, f->return_address, 8));
			if (o.args)
				print_args(s, f->sp);
		}
		call_site(s, f->ip);
		if (o.verbose && f->trap_frame)
			fprintf(out, " (TrapFrame @ %s)", bc_fmt_ptr(a, f->trap_frame, 8));
		fputc('\n', out);
	}
	if (st.note[0]) {
		fputs("NOTE: the stack ends here: ", out);
		bc_put_escaped(out, st.note, 0);
		fputc('\n', out);
	}
	bc_stack_free(&st);
	return 0;
}
