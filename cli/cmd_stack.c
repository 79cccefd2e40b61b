// k, kn, kb, kv, kp, kP, kL [COUNT]: the current context's call stack, WinDbg's
// layout (WINDBG_OUTPUT.md section 6):
//
//    # Child-SP          RetAddr               Call Site
//   00 ffffa704`eeb6bc88 fffff807`5c01faa9     nt!KeBugCheckEx
//
// kp adds the parameters of frames whose module has private symbols
// (bugcheck/frame_params.h): "HEVD!Trigger(void * UserBuffer = 0x000d0dec,
// unsigned long Size = 0x218)+0x13f"; kP puts each on its own line.
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pdb.h"
#include "bugcheck/frame_params.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

enum { DEFAULT_FRAMES = 0x14, MAX_FRAMES = 0x400 };

enum k_params { K_NO_PARAMS, K_PARAMS, K_PARAMS_LINES };

struct k_options {
	bool numbers, args, verbose;
	enum k_params params;      ///< kp: on the call site's line; kP: one line each
	uint64_t count;
	bool has_start;             ///< k = BASE STACK IP
	uint64_t base, stack, ip;
};

// WinDbg's spelling of a scalar: signed integers in decimal ("0n-7"),
// unsigned ones and pointers in hex, 64-bit values with the backquote; an
// unsigned value below 10 is the same in both bases and shows bare
// ("unsigned long ulStatusCode = 4" next to "grfBSCF = 0xd" in real kP output).
static void scalar(char *buf, size_t size, uint64_t v, bool is_signed, unsigned bytes)
{
	if (!is_signed && v < 10) {
		snprintf(buf, size, "%u", (unsigned)v);
	} else if (is_signed) {
		int64_t x = bytes >= 8 ? (int64_t)v
				       : (int64_t)(v << (64 - 8 * bytes)) >> (64 - 8 * bytes);
		snprintf(buf, size, "0n%" PRId64, x);
	} else if (v >> 32) {
		snprintf(buf, size, "0x%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
	} else {
		snprintf(buf, size, "0x%" PRIx64, v);
	}
}

// The string a char/wchar_t pointer points at, as kp appends it: ' "text"',
// ' ""' for NULL, or WinDbg's read-error text.
static void append_string(struct bc_session *s, struct bc_symtab *tab, const struct bc_type *t,
			  uint64_t address, char *buf, size_t size)
{
	const struct bc_type *target;
	struct bc_error *err = tab ? bc_symtab_type(tab, t->target_id, &target) : &bc_not_found;
	if (err) {
		bc_error_destroy(err);
		return;
	}
	if (!target->is_char || (target->size != 1 && target->size != 2))
		return;
	size_t n = strlen(buf);
	if (!address) {
		snprintf(buf + n, size - n, " \"\"");
		return;
	}
	char text[200], a[24];
	size_t chars;
	err = bc_target_read_string(s->target, address, target->size == 2, 160, text, sizeof(text),
				    &chars);
	if (err) {
		bc_error_destroy(err);
		snprintf(buf + n, size - n, " \"--- memory read error at address 0x%s ---\"",
			 bc_fmt_ptr(a, address, bc_target_info(s->target)->pointer_size));
		return;
	}
	snprintf(buf + n, size - n, " \"%s\"", text);
}

void bc_cmd_format_param_value(struct bc_session *s, struct bc_symtab *tab,
			       const struct bc_frame_param *p, char *buf, size_t size)
{
	const struct bc_type *t = p->type;
	if (!p->available || !t) {
		snprintf(buf, size, "<Value unavailable error>");
		return;
	}
	char a[24];
	switch (t->kind) {
	case BC_TYPE_POINTER:
		snprintf(buf, size, "0x%s", bc_fmt_ptr(a, p->value, t->size == 4 ? 4 :
					  bc_target_info(s->target)->pointer_size));
		append_string(s, tab, t, p->value, buf, size);
		return;
	case BC_TYPE_STRUCT:
	case BC_TYPE_CLASS:
	case BC_TYPE_UNION:
	case BC_TYPE_ARRAY:
		snprintf(buf, size, "%s", p->type_name);  // by value: WinDbg shows the type
		return;
	case BC_TYPE_ENUM: {
		char n[32];
		scalar(n, sizeof(n), p->value, true, p->size ? p->size : 4);
		for (size_t i = 0; i < t->enumerator_count; i++) {
			int64_t e = t->enumerators[i].value;
			uint64_t mask = p->size >= 8 || !p->size ? ~0ull : (1ull << (8 * p->size)) - 1;
			if (((uint64_t)e & mask) == p->value) {
				snprintf(buf, size, "%s (%s)", t->enumerators[i].name, n);
				return;
			}
		}
		snprintf(buf, size, "%s", n);
		return;
	}
	case BC_TYPE_BASE:
		if (t->name && !strcmp(t->name, "HRESULT")) {
			// A status code, shown as one ("HRESULT hrINet = 0x00000000").
			snprintf(buf, size, "0x%08" PRIx32, (uint32_t)p->value);
			return;
		}
		if (t->name && !strcmp(t->name, "bool")) {
			snprintf(buf, size, "%s", p->value ? "true" : "false");
			return;
		}
		if (t->is_float) {
			double d;
			if (p->size == 4) {
				float f;
				uint32_t u = (uint32_t)p->value;
				memcpy(&f, &u, 4);
				d = f;
			} else {
				memcpy(&d, &p->value, 8);
			}
			snprintf(buf, size, "%g", d);
			return;
		}
		scalar(buf, size, p->value, t->is_signed, p->size);
		return;
	default:
		scalar(buf, size, p->value, false, p->size);
		return;
	}
}

// The parameters of frame @index between the function name and its offset;
// false when the frame's module has no private symbols for it.
static bool call_site_params(struct bc_session *s, const struct bc_stack *st, size_t index,
			     bool lines)
{
	struct bc_frame_params fp;
	struct bc_error *err = bc_target_frame_params(s->target, st, index, &fp);
	if (err) {
		bc_error_destroy(err);  // a public PDB, exports, a corrupt one: shown as k shows it
		return false;
	}
	const struct bc_stack_frame *f = &st->frames[index];
	const struct bc_module *m = bc_target_module_at(s->target, f->ip);
	char name[80];
	bc_module_short_name(s->target, (size_t)(m - bc_target_module(s->target, 0)), name,
			     sizeof(name));
	FILE *out = s->out;
	bc_put_escaped(out, name, 0);
	fputc('!', out);
	bc_put_escaped(out, fp.procedure->name, 0);
	fputc('(', out);
	if (!fp.count)
		fputs("void", out);
	for (size_t i = 0; i < fp.count; i++) {
		char value[400];
		bc_cmd_format_param_value(s, fp.symtab, &fp.params[i], value, sizeof(value));
		if (lines)
			fputs("\n            ", out);  // 12 spaces, as in real kP output
		bc_put_escaped(out, fp.params[i].type_name, 0);
		fputc(' ', out);
		bc_put_escaped(out, fp.params[i].param->name, 0);
		fputs(" = ", out);
		bc_put_escaped(out, value, 0);
		if (i + 1 < fp.count)
			fputs(", ", out);
	}
	fputc(')', out);
	uint64_t offset = f->ip - (m->base + fp.procedure->rva);
	if (offset)
		fprintf(out, "+0x%" PRIx64, offset);
	bc_frame_params_free(&fp);
	return true;
}

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

// kv's x86 note on the frame's PDB record: "(FPO: [Non-Fpo])" for a standard
// EBP frame, else [parameters, locals, saved registers] in dwords, with
// "[Uses EBP]" when an FPO function allocated EBP and "TrapFrame @" (at the
// frame's ChildEBP) for a trap handler's record (WINDBG_OUTPUT.md 6; the
// numbers are printed in decimal, as the examples read).
static void print_fpo(FILE *out, const struct bc_stack_frame *f)
{
	const struct bc_frame_fpo *n = &f->fpo;
	if (n->non_fpo)
		fputs(" (FPO: [Non-Fpo])", out);
	else if (n->frame_type == BC_X86_FRAME_TYPE_TRAP)
		fprintf(out, " (FPO: [%u,%u] TrapFrame @ %08" PRIx32 ")", n->params, n->locals,
			(uint32_t)f->sp);
	else
		fprintf(out, " (FPO: %s[%u,%u,%u])", n->uses_bp ? "[Uses EBP] " : "", n->params,
			n->locals, n->saved_regs);
}

// One frame line: Child-SP (ChildEBP), RetAddr, [arguments,] call site.
static void print_frame(struct bc_session *s, const struct bc_stack *st, size_t index, bool x86,
			const struct k_options *o)
{
	const struct bc_stack_frame *f = &st->frames[index];
	FILE *out = s->out;
	char a[24], b[24];
	if (x86) {
		fprintf(out, "%08" PRIx32 " %08" PRIx32 " ", (uint32_t)f->sp,
			(uint32_t)f->return_address);
		if (o->args)
			print_args_x86(s, f->sp);
	} else {
		fprintf(out, "%s %s     ", bc_fmt_ptr(a, f->sp, 8), bc_fmt_ptr(b, f->return_address, 8));
		if (o->args)
			print_args(s, f->sp);
	}
	if (!o->params || !call_site_params(s, st, index, o->params == K_PARAMS_LINES))
		call_site(s, f->ip);
	if (o->verbose && x86 && f->fpo.present)
		print_fpo(out, f);
	if (o->verbose && f->trap_frame)
		fprintf(out, " (TrapFrame @ %s)", bc_fmt_ptr(a, f->trap_frame, 8));
	fputc('\n', out);
}

static int parse_k(struct bc_session *s, const char *cmd, const char *args, struct k_options *o)
{
	*o = (struct k_options){ .count = DEFAULT_FRAMES };
	for (const char *p = cmd + 1; *p; p++) {
		switch (*p) {
		case 'n': o->numbers = true; break;
		case 'b': o->args = true; break;
		case 'v': o->args = o->verbose = true; break;
		case 'p': o->params = K_PARAMS; break;
		case 'P': o->params = K_PARAMS_LINES; break;
		case 'L': case 'f': break;  // no source lines or frame sizes yet
		default:
			fprintf(s->out, "%s: unknown option '%c'; usage: k[n][b|v|p|P][L] [COUNT]\n",
				cmd, *p);
			return 1;
		}
	}
	while (isspace((unsigned char)*args))
		args++;
	if (*args == '=') {
		// k = BasePtr StackPtr InstructionPtr: walk from these instead.
		uint64_t *dst[3] = { &o->base, &o->stack, &o->ip };
		args++;
		for (int i = 0; i < 3; i++) {
			while (isspace((unsigned char)*args))
				args++;
			size_t used;
			struct bc_error *err = *args ? bc_cmd_eval_prefix(s, args, &used, dst[i])
						     : bc_error_create(BC_ERR_INVALID_ARG,
								       "k = needs three values: the "
								       "frame, stack and instruction "
								       "pointers");
			if (err) {
				bc_cmd_print_error(s, cmd, err);
				return 1;
			}
			args += used;
		}
		o->has_start = true;
		while (isspace((unsigned char)*args))
			args++;
	}
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
	struct bc_context start = s->context;
	if (o.has_start) {
		if (start.machine == BC_MACHINE_X64) {
			start.x64.rbp = o.base, start.x64.rsp = o.stack, start.x64.rip = o.ip;
		} else if (start.machine == BC_MACHINE_X86) {
			start.x86.ebp = (uint32_t)o.base, start.x86.esp = (uint32_t)o.stack;
			start.x86.eip = (uint32_t)o.ip;
		} else if (start.machine == BC_MACHINE_ARM64) {
			start.arm64.fp = o.base, start.arm64.sp = o.stack, start.arm64.pc = o.ip;
		} else {
			fprintf(s->out, "%s: k = needs a register context of a known machine\n", cmd);
			return 1;
		}
	}
	struct bc_stack st;
	struct bc_error *err = bc_target_stack(s->target, &start, (size_t)o.count, &st);
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
		if (o.numbers)
			fprintf(out, "%02zx ", i);
		print_frame(s, &st, i, x86, &o);
	}
	if (st.note[0]) {
		fputs("NOTE: the stack ends here: ", out);
		bc_put_escaped(out, st.note, 0);
		fputc('\n', out);
	}
	bc_stack_free(&st);
	return 0;
}

// .frame [/r] [N]: frame N of the current context's stack (the current frame
// when N is left out); /r also shows the registers as unwound to that frame
// (nonvolatile ones recovered; volatile ones may be stale, as in WinDbg).
int cmd_frame(struct bc_session *s, const char *cmd, const char *args)
{
	bool registers = false;
	while (isspace((unsigned char)*args))
		args++;
	if (!strncmp(args, "/r", 2) && (!args[2] || isspace((unsigned char)args[2]))) {
		registers = true;
		args += 2;
		while (isspace((unsigned char)*args))
			args++;
	}
	uint64_t n = s->frame;
	if (*args) {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &n);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	if (!s->has_context) {
		fprintf(s->out, "%s: this dump has no register context\n", cmd);
		return 1;
	}
	if (n >= MAX_FRAMES) {
		fprintf(s->out, "%s: frame numbers go up to %#x\n", cmd, MAX_FRAMES - 1);
		return 1;
	}
	struct bc_stack st;
	// One frame more than shown: frame N's return address is the next frame's ip.
	struct bc_error *err = bc_target_stack(s->target, &s->context, (size_t)n + 2, &st);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	if (n >= st.count) {
		fprintf(s->out, "%s: the stack has only %zu frames", cmd, st.count);
		if (st.note[0]) {
			fputs(" (", s->out);
			bc_put_escaped(s->out, st.note, 0);
			fputc(')', s->out);
		}
		fputc('\n', s->out);
		bc_stack_free(&st);
		return 1;
	}
	s->frame = (size_t)n;
	const struct bc_stack_frame *f = &st.frames[n];
	struct k_options o = { 0 };
	fprintf(s->out, "%02" PRIx64 " ", n);
	print_frame(s, &st, (size_t)n, s->context.machine == BC_MACHINE_X86, &o);
	if (registers) {
		struct bc_context saved = s->context;
		s->context = f->context;
		bc_cmd_print_context(s, false);
		s->context = saved;
	}
	bc_stack_free(&st);
	return 0;
}

void bc_cmd_print_stack_text_line(struct bc_session *s, const struct bc_stack_frame *frame)
{
	struct bc_stack one = { .frames = (struct bc_stack_frame *)frame, .count = 1 };
	struct k_options o = { .args = true };
	print_frame(s, &one, 0, s->context.machine == BC_MACHINE_X86 ||
			       bc_target_info(s->target)->machine == BC_MACHINE_X86, &o);
}

int bc_cmd_stack_from(struct bc_session *s, const struct bc_context *start, const char *cmd)
{
	struct bc_context saved = s->context;
	bool saved_has = s->has_context;
	s->context = *start;
	s->has_context = true;
	int status = cmd_stack(s, cmd, "");
	s->context = saved;
	s->has_context = saved_has;
	return status;
}
