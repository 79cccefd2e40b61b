// CONTEXT decoding for x64, x86 and ARM64: see include/bugcheck/context.h.
// Offsets: x64 and x86 CONTEXT per winnt.h (KERNEL_DUMP_FORMAT.md 5.1/5.2),
// ARM64 CONTEXT per winnt.h's ARM64_NT_CONTEXT (checked against rizin's
// register dump of rizintb__triage_arm64.dmp).
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bytes.h"
#include "bugcheck/context.h"

BC_PUBLIC const char *bc_machine_name(enum bc_machine machine)
{
	switch (machine) {
	case BC_MACHINE_X86: return "x86";
	case BC_MACHINE_X64: return "x64";
	case BC_MACHINE_ARM64: return "arm64";
	case BC_MACHINE_UNKNOWN: break;
	}
	return "unknown";
}

enum {
	X64_CONTEXT_SIZE = 0x4d0,
	X86_CONTEXT_SIZE = 0x2cc,
	ARM64_CONTEXT_SIZE = 0x390,
};

BC_PUBLIC size_t bc_context_raw_size(enum bc_machine machine)
{
	switch (machine) {
	case BC_MACHINE_X64: return X64_CONTEXT_SIZE;
	case BC_MACHINE_X86: return X86_CONTEXT_SIZE;
	case BC_MACHINE_ARM64: return ARM64_CONTEXT_SIZE;
	case BC_MACHINE_UNKNOWN: break;
	}
	return 0;
}

static void decode_x64(const uint8_t *p, struct bc_context_x64 *c)
{
	c->context_flags = bc_le32(p + 0x30);
	c->mxcsr = bc_le32(p + 0x34);
	c->cs = bc_le16(p + 0x38);
	c->ds = bc_le16(p + 0x3a);
	c->es = bc_le16(p + 0x3c);
	c->fs = bc_le16(p + 0x3e);
	c->gs = bc_le16(p + 0x40);
	c->ss = bc_le16(p + 0x42);
	c->eflags = bc_le32(p + 0x44);
	c->dr0 = bc_le64(p + 0x48);
	c->dr1 = bc_le64(p + 0x50);
	c->dr2 = bc_le64(p + 0x58);
	c->dr3 = bc_le64(p + 0x60);
	c->dr6 = bc_le64(p + 0x68);
	c->dr7 = bc_le64(p + 0x70);
	uint64_t *gpr[] = { &c->rax, &c->rcx, &c->rdx, &c->rbx, &c->rsp, &c->rbp,
			    &c->rsi, &c->rdi, &c->r8,  &c->r9,  &c->r10, &c->r11,
			    &c->r12, &c->r13, &c->r14, &c->r15, &c->rip };
	for (size_t i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
		*gpr[i] = bc_le64(p + 0x78 + 8 * i);
}

static void decode_x86(const uint8_t *p, struct bc_context_x86 *c)
{
	uint32_t *head[] = { &c->context_flags, &c->dr0, &c->dr1, &c->dr2,
			     &c->dr3, &c->dr6, &c->dr7 };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		*head[i] = bc_le32(p + 4 * i);
	// FloatSave (0x70 bytes) sits at 0x1c; the integer part starts at 0x8c.
	uint32_t *tail[] = { &c->gs,  &c->fs,  &c->es,  &c->ds,  &c->edi, &c->esi,
			     &c->ebx, &c->edx, &c->ecx, &c->eax, &c->ebp, &c->eip,
			     &c->cs,  &c->eflags, &c->esp, &c->ss };
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		*tail[i] = bc_le32(p + 0x8c + 4 * i);
}

static void decode_arm64(const uint8_t *p, struct bc_context_arm64 *c)
{
	c->context_flags = bc_le32(p + 0x0);
	c->cpsr = bc_le32(p + 0x4);
	for (int i = 0; i < 29; i++)
		c->x[i] = bc_le64(p + 0x8 + 8 * i);
	c->fp = bc_le64(p + 0xf0);
	c->lr = bc_le64(p + 0xf8);
	c->sp = bc_le64(p + 0x100);
	c->pc = bc_le64(p + 0x108);
	// V0..V31 (16 bytes each) occupy 0x110..0x30f.
	c->fpcr = bc_le32(p + 0x310);
	c->fpsr = bc_le32(p + 0x314);
}

BC_PUBLIC struct bc_error *bc_context_decode(enum bc_machine machine, const void *raw,
					     size_t size, struct bc_context *ret)
{
	size_t need = bc_context_raw_size(machine);
	if (!need)
		return bc_error_create(BC_ERR_UNSUPPORTED, "no CONTEXT layout for this machine");
	if (size < need)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "a %s CONTEXT needs %#zx bytes, only %#zx given",
				       bc_machine_name(machine), need, size);
	memset(ret, 0, sizeof(*ret));
	ret->machine = machine;
	switch (machine) {
	case BC_MACHINE_X64: decode_x64(raw, &ret->x64); break;
	case BC_MACHINE_X86: decode_x86(raw, &ret->x86); break;
	case BC_MACHINE_ARM64: decode_arm64(raw, &ret->arm64); break;
	case BC_MACHINE_UNKNOWN: break;
	}
	return NULL;
}

BC_PUBLIC uint64_t bc_context_pc(const struct bc_context *ctx)
{
	switch (ctx->machine) {
	case BC_MACHINE_X64: return ctx->x64.rip;
	case BC_MACHINE_X86: return ctx->x86.eip;
	case BC_MACHINE_ARM64: return ctx->arm64.pc;
	case BC_MACHINE_UNKNOWN: break;
	}
	return 0;
}

BC_PUBLIC uint64_t bc_context_sp(const struct bc_context *ctx)
{
	switch (ctx->machine) {
	case BC_MACHINE_X64: return ctx->x64.rsp;
	case BC_MACHINE_X86: return ctx->x86.esp;
	case BC_MACHINE_ARM64: return ctx->arm64.sp;
	case BC_MACHINE_UNKNOWN: break;
	}
	return 0;
}

BC_PUBLIC uint64_t bc_context_fp(const struct bc_context *ctx)
{
	switch (ctx->machine) {
	case BC_MACHINE_X64: return ctx->x64.rbp;
	case BC_MACHINE_X86: return ctx->x86.ebp;
	case BC_MACHINE_ARM64: return ctx->arm64.fp;
	case BC_MACHINE_UNKNOWN: break;
	}
	return 0;
}

struct reg_row {
	const char *name;
	size_t offset;  ///< in the per-machine struct
	unsigned width; ///< bytes
};

#define X64(n, f) { n, offsetof(struct bc_context_x64, f), sizeof(((struct bc_context_x64 *)0)->f) }
static const struct reg_row x64_regs[] = {
	X64("rax", rax), X64("rbx", rbx), X64("rcx", rcx), X64("rdx", rdx),
	X64("rsi", rsi), X64("rdi", rdi), X64("rsp", rsp), X64("rbp", rbp),
	X64("rip", rip), X64("r8", r8),   X64("r9", r9),   X64("r10", r10),
	X64("r11", r11), X64("r12", r12), X64("r13", r13), X64("r14", r14),
	X64("r15", r15), X64("efl", eflags), X64("eflags", eflags), X64("cs", cs),
	X64("ds", ds),   X64("es", es),   X64("fs", fs),   X64("gs", gs),
	X64("ss", ss),   X64("dr0", dr0), X64("dr1", dr1), X64("dr2", dr2),
	X64("dr3", dr3), X64("dr6", dr6), X64("dr7", dr7), X64("mxcsr", mxcsr),
};
#undef X64
#define X86(n, f) { n, offsetof(struct bc_context_x86, f), 4 }
static const struct reg_row x86_regs[] = {
	X86("eax", eax), X86("ebx", ebx), X86("ecx", ecx), X86("edx", edx),
	X86("esi", esi), X86("edi", edi), X86("esp", esp), X86("ebp", ebp),
	X86("eip", eip), X86("efl", eflags), X86("eflags", eflags), X86("cs", cs),
	X86("ds", ds),   X86("es", es),   X86("fs", fs),   X86("gs", gs),
	X86("ss", ss),   X86("dr0", dr0), X86("dr1", dr1), X86("dr2", dr2),
	X86("dr3", dr3), X86("dr6", dr6), X86("dr7", dr7),
};
#undef X86

static bool lookup_row(const struct reg_row *rows, size_t n, const void *base,
		       const char *name, uint64_t *ret)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(rows[i].name, name))
			continue;
		const uint8_t *p = (const uint8_t *)base + rows[i].offset;
		uint64_t v = 0;
		memcpy(&v, p, rows[i].width);  // host is little-endian like the target
		*ret = v;
		return true;
	}
	return false;
}

// x64 sub-registers: eax/ax/al of rax..., r8d/r8w/r8b.
static bool x64_subregister(const struct bc_context_x64 *c, const char *name, uint64_t *ret)
{
	static const char *const legacy[] = { "ax", "bx", "cx", "dx", "si", "di", "sp", "bp" };
	const uint64_t full[] = { c->rax, c->rbx, c->rcx, c->rdx, c->rsi, c->rdi, c->rsp, c->rbp };
	char lower[8];
	size_t len = strlen(name);
	if (len >= sizeof(lower))
		return false;
	for (size_t i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	for (int i = 0; i < 8; i++) {
		if (lower[0] == 'e' && !strcmp(lower + 1, legacy[i])) {
			*ret = full[i] & 0xffffffff;
			return true;
		}
		if (!strcmp(lower, legacy[i])) {
			*ret = full[i] & 0xffff;
			return true;
		}
	}
	if (lower[0] == 'r' && isdigit((unsigned char)lower[1])) {
		char *end;
		long n = strtol(lower + 1, &end, 10);
		const uint64_t hi[] = { c->r8, c->r9, c->r10, c->r11, c->r12, c->r13, c->r14, c->r15 };
		if (n < 8 || n > 15)
			return false;
		uint64_t v = hi[n - 8];
		if (!strcmp(end, "d")) { *ret = v & 0xffffffff; return true; }
		if (!strcmp(end, "w")) { *ret = v & 0xffff; return true; }
		if (!strcmp(end, "b")) { *ret = v & 0xff; return true; }
	}
	static const char *const low8[] = { "al", "bl", "cl", "dl" };
	for (int i = 0; i < 4; i++) {
		if (!strcmp(lower, low8[i])) {
			*ret = full[i] & 0xff;
			return true;
		}
	}
	return false;
}

static bool arm64_register(const struct bc_context_arm64 *c, const char *name, uint64_t *ret)
{
	if ((name[0] == 'x' || name[0] == 'X') && isdigit((unsigned char)name[1])) {
		char *end;
		long n = strtol(name + 1, &end, 10);
		if (*end || n < 0 || n > 30)
			return false;
		*ret = n < 29 ? c->x[n] : (n == 29 ? c->fp : c->lr);
		return true;
	}
	const struct { const char *n; uint64_t v; } named[] = {
		{ "fp", c->fp }, { "lr", c->lr }, { "sp", c->sp }, { "pc", c->pc },
		{ "cpsr", c->cpsr }, { "fpcr", c->fpcr }, { "fpsr", c->fpsr },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!strcasecmp(named[i].n, name)) {
			*ret = named[i].v;
			return true;
		}
	}
	return false;
}

BC_PUBLIC struct bc_error *bc_context_register(const struct bc_context *ctx, const char *name,
					       uint64_t *ret)
{
	bool found = false;
	switch (ctx->machine) {
	case BC_MACHINE_X64:
		found = lookup_row(x64_regs, sizeof(x64_regs) / sizeof(x64_regs[0]), &ctx->x64,
				   name, ret) ||
			x64_subregister(&ctx->x64, name, ret);
		break;
	case BC_MACHINE_X86:
		found = lookup_row(x86_regs, sizeof(x86_regs) / sizeof(x86_regs[0]), &ctx->x86,
				   name, ret);
		break;
	case BC_MACHINE_ARM64:
		found = arm64_register(&ctx->arm64, name, ret);
		break;
	case BC_MACHINE_UNKNOWN:
		break;
	}
	return found ? NULL : &bc_not_found;
}
