// r: registers of the session's context (WINDBG_OUTPUT.md section 5).
//
//   r                  all registers, flags, segments and the current instruction
//   r rip | r rip,rsp  the named registers ("@rip" accepted), one line
//
// x64 and x86 follow WinDbg's layouts exactly; ARM64 follows the layout of
// WinDbg on ARM64 (four registers a line, then pc and psr with NZCV letters
// and the exception level). The current instruction comes last: a module
// label line, then address, bytes and disassembly, and for an instruction
// that accesses memory WinDbg's "ds:002b:address=value" annotation.
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

// "iopl=0         nv up ei pl zr na pe nc" (x86 EFLAGS bits 11, 10, 9, 7, 6, 4, 2, 0).
static void print_flags(FILE *o, uint32_t efl)
{
	static const struct { unsigned bit; const char *set, *clear; } flags[] = {
		{ 11, "ov", "nv" }, { 10, "dn", "up" }, { 9, "ei", "di" }, { 7, "ng", "pl" },
		{ 6, "zr", "nz" },  { 4, "ac", "na" },  { 2, "pe", "po" }, { 0, "cy", "nc" },
	};
	fprintf(o, "iopl=%u        ", (efl >> 12) & 3);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		fprintf(o, " %s", efl & (1u << flags[i].bit) ? flags[i].set : flags[i].clear);
	fputc('\n', o);
}

static void print_segments(FILE *o, unsigned cs, unsigned ss, unsigned ds, unsigned es,
			   unsigned fs, unsigned gs, uint32_t efl)
{
	fprintf(o, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08" PRIx32
		"\n", cs & 0xffff, ss & 0xffff, ds & 0xffff, es & 0xffff, fs & 0xffff, gs & 0xffff,
		efl);
}

static void print_x64(FILE *o, const struct bc_context_x64 *c, bool segments)
{
	const struct { const char *name; uint64_t v; } regs[] = {
		{ "rax", c->rax }, { "rbx", c->rbx }, { "rcx", c->rcx }, { "rdx", c->rdx },
		{ "rsi", c->rsi }, { "rdi", c->rdi }, { "rip", c->rip }, { "rsp", c->rsp },
		{ "rbp", c->rbp }, { " r8", c->r8 },  { " r9", c->r9 },  { "r10", c->r10 },
		{ "r11", c->r11 }, { "r12", c->r12 }, { "r13", c->r13 }, { "r14", c->r14 },
		{ "r15", c->r15 },
	};
	size_t n = sizeof(regs) / sizeof(regs[0]);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%s=%016" PRIx64 "%s", regs[i].name, regs[i].v,
			i % 3 == 2 || i == n - 1 ? "\n" : " ");
	print_flags(o, c->eflags);
	if (segments)
		print_segments(o, c->cs, c->ss, c->ds, c->es, c->fs, c->gs, c->eflags);
}

static void print_x86(FILE *o, const struct bc_context_x86 *c)
{
	fprintf(o, "eax=%08" PRIx32 " ebx=%08" PRIx32 " ecx=%08" PRIx32 " edx=%08" PRIx32
		" esi=%08" PRIx32 " edi=%08" PRIx32 "\n", c->eax, c->ebx, c->ecx, c->edx, c->esi,
		c->edi);
	fprintf(o, "eip=%08" PRIx32 " esp=%08" PRIx32 " ebp=%08" PRIx32 " ", c->eip, c->esp,
		c->ebp);
	print_flags(o, c->eflags);
	print_segments(o, c->cs, c->ss, c->ds, c->es, c->fs, c->gs, c->eflags);
}

static void print_arm64(FILE *o, const struct bc_context_arm64 *c)
{
	// x0..x28, fp, lr, sp: four a line, names right-aligned in 3 columns.
	enum { COUNT = 32 };
	uint64_t v[COUNT];
	memcpy(v, c->x, sizeof(c->x));
	v[29] = c->fp;
	v[30] = c->lr;
	v[31] = c->sp;
	for (int i = 0; i < COUNT; i++) {
		char name[8];
		if (i < 29)
			snprintf(name, sizeof(name), "x%d", i);
		else
			snprintf(name, sizeof(name), "%s", i == 29 ? "fp" : i == 30 ? "lr" : "sp");
		fprintf(o, "%3s=%016" PRIx64 "%s", name, v[i], i % 4 == 3 ? "\n" : "  ");
	}
	// PSTATE: N Z C V in bits 31..28, the exception level in M[3:2].
	uint32_t psr = c->cpsr;
	fprintf(o, " pc=%016" PRIx64 "  psr=%08" PRIx32 " %c%c%c%c EL%u\n", c->pc, psr,
		psr & (1u << 31) ? 'N' : '-', psr & (1u << 30) ? 'Z' : '-',
		psr & (1u << 29) ? 'C' : '-', psr & (1u << 28) ? 'V' : '-', (psr >> 2) & 3);
}

// How many hex digits WinDbg shows for a register ("efl" 8, "cs" 4, "al" 2).
static int register_digits(enum bc_machine m, const char *name)
{
	static const char *const segs[] = { "cs", "ds", "es", "fs", "gs", "ss" };
	size_t len = strlen(name);
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		if (!strcmp(name, segs[i]))
			return 4;
	}
	if (!strcmp(name, "efl") || !strcmp(name, "eflags") || !strcmp(name, "mxcsr") ||
	    !strcmp(name, "cpsr") || !strcmp(name, "fpcr") || !strcmp(name, "fpsr"))
		return 8;
	if (m == BC_MACHINE_ARM64)
		return 16;
	if (m == BC_MACHINE_X86)
		return 8;
	// x64 sub-registers: eax/r8d 32-bit, ax/r8w 16-bit, al/r8b 8-bit.
	if ((name[0] == 'e' && len == 3) || (name[0] == 'r' && name[len - 1] == 'd'))
		return 8;
	if (name[0] == 'r' && name[len - 1] == 'w')
		return 4;
	if (name[0] == 'r' && name[len - 1] == 'b')
		return 2;
	if (len == 2 && name[0] != 'r')
		return name[1] == 'l' ? 2 : 4;  // al, bl, cl, dl; ax, sp, di, ...
	return 16;
}

// "r rip,rsp" / "r @rax rbx": each named register as name=value on one line.
static int print_named(struct bc_session *s, const char *cmd, const char *args)
{
	char line[512];
	size_t used = 0;
	line[0] = 0;
	const char *p = args;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '@')
			p++;
		size_t n = strcspn(p, " \t,");
		char name[32];
		if (memchr(p, '=', n)) {
			fprintf(s->out, "%s: registers cannot be changed in a crash dump\n", cmd);
			return 1;
		}
		if (n >= sizeof(name)) {
			fprintf(s->out, "%s: register name too long\n", cmd);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)p[i]);
		name[n] = 0;
		p += n;
		uint64_t v;
		struct bc_error *err = bc_context_register(&s->context, name, &v);
		if (err) {
			bc_error_destroy(err);
			fputs("Bad register error at '", s->out);
			bc_put_escaped(s->out, name, 0);
			fprintf(s->out, "' (no such %s register)\n", bc_machine_name(s->context.machine));
			return 1;
		}
		int digits = register_digits(s->context.machine, name);
		int w = snprintf(line + used, sizeof(line) - used, "%s%s=%0*" PRIx64,
				 used ? " " : "", name, digits, v);
		if (w > 0 && (size_t)w < sizeof(line) - used)
			used += (size_t)w;
	}
	fprintf(s->out, "%s\n", line);
	return 0;
}

// The value an instruction's memory operand refers to, WinDbg style:
// " ds:002b:ffff9b00`0336004c=????????" (nothing when it cannot be computed).
static void print_effective_address(struct bc_session *s, const struct bc_insn *insn)
{
	const struct bc_insn_memory *m = &insn->memory;
	unsigned ps = bc_target_info(s->target)->pointer_size;
	if (!(insn->flags & BC_INSN_HAS_MEMORY) || !m->size || m->size > 8 || (m->size & (m->size - 1)))
		return;
	// fs/gs point at per-processor data whose base is not in the CONTEXT.
	if (!strcmp(m->segment, "fs") || !strcmp(m->segment, "gs"))
		return;
	uint64_t base = 0, index = 0, selector = 0;
	if ((m->base[0] && bc_context_register(&s->context, m->base, &base)) ||
	    (m->index[0] && bc_context_register(&s->context, m->index, &index)) ||
	    bc_context_register(&s->context, m->segment, &selector))
		return;  // bc_not_found: nothing to destroy
	uint64_t ea = base + index * m->scale + (uint64_t)m->disp;
	if (ps == 4)
		ea = (uint64_t)(int64_t)(int32_t)(uint32_t)ea;
	char addr[24];
	fprintf(s->out, " %s:%04" PRIx64 ":%s=", m->segment, selector & 0xffff,
		bc_fmt_ptr(addr, ea, ps));
	uint8_t b[8];
	struct bc_error *err = bc_target_read(s->target, ea, b, m->size);
	if (err) {
		bc_error_destroy(err);
		for (unsigned i = 0; i < 2 * m->size; i++)
			fputc('?', s->out);
		return;
	}
	for (unsigned i = m->size; i-- > 0;)
		fprintf(s->out, "%02x", b[i]);
}

// The current instruction: label line, then "address bytes   mnemonic operands".
static void print_instruction(struct bc_session *s)
{
	uint64_t pc = bc_context_pc(&s->context);
	char label[160];
	if (bc_cmd_module_label(s, pc, label, sizeof(label))) {
		bc_put_escaped(s->out, label, 0);
		fputs(":\n", s->out);
	}
	struct bc_insn insn;
	struct bc_error *err = bc_disasm_read(s->target, pc, &insn);
	if (err) {
		// WinDbg: "??" for bytes it cannot read, "???" for an instruction it cannot show.
		char addr[24];
		bc_error_destroy(err);
		fprintf(s->out, "%s %-15s ???\n",
			bc_fmt_ptr(addr, pc, bc_target_info(s->target)->pointer_size), "??");
		return;
	}
	bc_cmd_print_instruction(s, &insn);
	print_effective_address(s, &insn);
	fputc('\n', s->out);
}

void bc_cmd_print_context(struct bc_session *s, bool trap_frame)
{
	switch (s->context.machine) {
	// WinDbg leaves out an x64 trap frame's segment line.
	case BC_MACHINE_X64: print_x64(s->out, &s->context.x64, !trap_frame); break;
	case BC_MACHINE_X86: print_x86(s->out, &s->context.x86); break;
	case BC_MACHINE_ARM64: print_arm64(s->out, &s->context.arm64); break;
	case BC_MACHINE_UNKNOWN: return;
	}
	print_instruction(s);
}

int cmd_registers(struct bc_session *s, const char *cmd, const char *args)
{
	if (!s->has_context) {
		fprintf(s->out, "%s: this dump has no register context\n", cmd);
		return 1;
	}
	if (*args)
		return print_named(s, cmd, args);
	if (s->context.machine == BC_MACHINE_UNKNOWN) {
		fprintf(s->out, "%s: registers of an unknown machine type\n", cmd);
		return 1;
	}
	bc_cmd_print_context(s, false);
	return 0;
}
