// KTRAP_FRAME decoding (bugcheck/stack.h): the registers an interrupt or
// exception handler saved, for `.trap` and the trap frames a stack crosses.
//
// Offsets are looked up by field name in the kernel's _KTRAP_FRAME when its
// symbols carry types (a PDB or an ISF table), so a layout change shows up
// as the right offsets rather than wrong registers; without types, the
// built-in offsets below are used. x64: KERNEL_DUMP_FORMAT.md 5.3. x86: the
// Windows 7 SP1 layout (Vergilius), unchanged in its register block since XP.
// ARM64: Microsoft's ARM64_KTRAP_FRAME as its ARM64 unwinder declares it
// (Spsr 0x90, Esr 0x94, Sp 0x98, X0-X18 from 0xa0, Lr 0x138, Fp 0x140, Pc
// 0x148; 0x150 bytes), the layout lib/unwind/unwind_arm64.c crosses too.
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/stack.h"
#include "bugcheck/symbols.h"
#include "bugcheck/symtab.h"

enum { X64_TRAP_FRAME_SIZE = 0x190, X86_TRAP_FRAME_SIZE = 0x8c, ARM64_TRAP_FRAME_SIZE = 0x150 };

struct trap_field {
	const char *name;   ///< _KTRAP_FRAME member
	uint32_t offset;    ///< built-in offset
	unsigned size;      ///< bytes read
	size_t slot;        ///< where the value goes (offsetof into a value array)
};

enum x64_slot {
	S64_RAX, S64_RCX, S64_RDX, S64_R8, S64_R9, S64_R10, S64_R11, S64_RBX, S64_RDI, S64_RSI,
	S64_RBP, S64_ERROR, S64_RIP, S64_CS, S64_EFLAGS, S64_RSP, S64_SS, S64_DS, S64_ES, S64_FS,
	S64_GS, S64_MXCSR, S64_DR0, S64_DR1, S64_DR2, S64_DR3, S64_DR6, S64_DR7, S64_COUNT
};

static const struct trap_field x64_fields[] = {
	{ "Rax", 0x30, 8, S64_RAX },       { "Rcx", 0x38, 8, S64_RCX },
	{ "Rdx", 0x40, 8, S64_RDX },       { "R8", 0x48, 8, S64_R8 },
	{ "R9", 0x50, 8, S64_R9 },         { "R10", 0x58, 8, S64_R10 },
	{ "R11", 0x60, 8, S64_R11 },       { "Rbx", 0x140, 8, S64_RBX },
	{ "Rdi", 0x148, 8, S64_RDI },      { "Rsi", 0x150, 8, S64_RSI },
	{ "Rbp", 0x158, 8, S64_RBP },      { "ErrorCode", 0x160, 8, S64_ERROR },
	{ "Rip", 0x168, 8, S64_RIP },      { "SegCs", 0x170, 2, S64_CS },
	{ "EFlags", 0x178, 4, S64_EFLAGS }, { "Rsp", 0x180, 8, S64_RSP },
	{ "SegSs", 0x188, 2, S64_SS },     { "SegDs", 0x130, 2, S64_DS },
	{ "SegEs", 0x132, 2, S64_ES },     { "SegFs", 0x134, 2, S64_FS },
	{ "SegGs", 0x136, 2, S64_GS },     { "MxCsr", 0x2c, 4, S64_MXCSR },
	{ "Dr0", 0xd8, 8, S64_DR0 },       { "Dr1", 0xe0, 8, S64_DR1 },
	{ "Dr2", 0xe8, 8, S64_DR2 },       { "Dr3", 0xf0, 8, S64_DR3 },
	{ "Dr6", 0xf8, 8, S64_DR6 },       { "Dr7", 0x100, 8, S64_DR7 },
};

enum x86_slot {
	S86_EDX, S86_ECX, S86_EAX, S86_EDI, S86_ESI, S86_EBX, S86_EBP, S86_ERROR, S86_EIP, S86_CS,
	S86_EFLAGS, S86_ESP, S86_SS, S86_GS, S86_ES, S86_DS, S86_FS, S86_DR0, S86_DR1, S86_DR2,
	S86_DR3, S86_DR6, S86_DR7, S86_COUNT
};

static const struct trap_field x86_fields[] = {
	{ "Edx", 0x3c, 4, S86_EDX },          { "Ecx", 0x40, 4, S86_ECX },
	{ "Eax", 0x44, 4, S86_EAX },          { "Edi", 0x54, 4, S86_EDI },
	{ "Esi", 0x58, 4, S86_ESI },          { "Ebx", 0x5c, 4, S86_EBX },
	{ "Ebp", 0x60, 4, S86_EBP },          { "ErrCode", 0x64, 4, S86_ERROR },
	{ "Eip", 0x68, 4, S86_EIP },          { "SegCs", 0x6c, 4, S86_CS },
	{ "EFlags", 0x70, 4, S86_EFLAGS },    { "HardwareEsp", 0x74, 4, S86_ESP },
	{ "HardwareSegSs", 0x78, 4, S86_SS }, { "SegGs", 0x30, 4, S86_GS },
	{ "SegEs", 0x34, 4, S86_ES },         { "SegDs", 0x38, 4, S86_DS },
	{ "SegFs", 0x50, 4, S86_FS },         { "Dr0", 0x18, 4, S86_DR0 },
	{ "Dr1", 0x1c, 4, S86_DR1 },          { "Dr2", 0x20, 4, S86_DR2 },
	{ "Dr3", 0x24, 4, S86_DR3 },          { "Dr6", 0x28, 4, S86_DR6 },
	{ "Dr7", 0x2c, 4, S86_DR7 },
};

// The kernel's _KTRAP_FRAME when loaded symbols have it and it is the
// size this machine's frame must be (anything else is a wrong type).
// ARM64 slots: X0..X18 are slots 0..18.
enum arm64_slot { SA_X18 = 18, SA_LR, SA_FP, SA_PC, SA_SP, SA_SPSR, SA_ESR, SA_COUNT };

static const struct trap_field arm64_fields[] = {
	{ "X0", 0xa0, 8, 0 },    { "X1", 0xa8, 8, 1 },    { "X2", 0xb0, 8, 2 },
	{ "X3", 0xb8, 8, 3 },    { "X4", 0xc0, 8, 4 },    { "X5", 0xc8, 8, 5 },
	{ "X6", 0xd0, 8, 6 },    { "X7", 0xd8, 8, 7 },    { "X8", 0xe0, 8, 8 },
	{ "X9", 0xe8, 8, 9 },    { "X10", 0xf0, 8, 10 },  { "X11", 0xf8, 8, 11 },
	{ "X12", 0x100, 8, 12 }, { "X13", 0x108, 8, 13 }, { "X14", 0x110, 8, 14 },
	{ "X15", 0x118, 8, 15 }, { "X16", 0x120, 8, 16 }, { "X17", 0x128, 8, 17 },
	{ "X18", 0x130, 8, SA_X18 }, { "Lr", 0x138, 8, SA_LR }, { "Fp", 0x140, 8, SA_FP },
	{ "Pc", 0x148, 8, SA_PC },   { "Sp", 0x98, 8, SA_SP },  { "Spsr", 0x90, 4, SA_SPSR },
	{ "Esr", 0x94, 4, SA_ESR },
};

static const struct bc_type *symbol_layout(struct bc_target *t, uint64_t expected_size)
{
	struct bc_symtab *tab;
	const struct bc_type *type;
	struct bc_error *err = bc_target_find_type(t, "nt!_KTRAP_FRAME", &tab, &type, NULL);
	if (err) {
		bc_error_destroy(err);
		return NULL;
	}
	return type->size == expected_size && type->field_count ? type : NULL;
}

static bool field_offset(const struct bc_type *type, const struct trap_field *f,
			 uint64_t *offset_ret)
{
	if (!type) {
		*offset_ret = f->offset;
		return true;
	}
	for (size_t i = 0; i < type->field_count; i++) {
		if (type->fields[i].name && !strcmp(type->fields[i].name, f->name)) {
			*offset_ret = type->fields[i].offset;
			return true;
		}
	}
	return false;
}

// Reads the frame and pulls each field into @values by slot.
static struct bc_error *read_fields(struct bc_target *t, uint64_t address, size_t frame_size,
				    const struct trap_field *fields, size_t count,
				    uint64_t *values, uint64_t *offsets, bool *from_symbols)
{
	uint8_t raw[X64_TRAP_FRAME_SIZE];
	struct bc_error *err = bc_target_read(t, address, raw, frame_size);
	if (err)
		return err;
	const struct bc_type *type = symbol_layout(t, frame_size);
	*from_symbols = type != NULL;
	for (size_t i = 0; i < count; i++) {
		uint64_t off;
		if (!field_offset(type, &fields[i], &off) || off > frame_size - fields[i].size)
			continue;  // a member this kernel's frame lacks: left zero
		offsets[fields[i].slot] = off;
		const uint8_t *p = raw + off;
		values[fields[i].slot] = fields[i].size == 8 ? bc_le64(p)
					 : fields[i].size == 4 ? bc_le32(p) : bc_le16(p);
	}
	return NULL;
}

static struct bc_error *decode_x64(struct bc_target *t, uint64_t address, struct bc_trap_frame *r)
{
	uint64_t v[S64_COUNT] = { 0 }, offsets[S64_COUNT] = { 0 };
	struct bc_error *err = read_fields(t, address, X64_TRAP_FRAME_SIZE, x64_fields,
					   sizeof(x64_fields) / sizeof(x64_fields[0]), v, offsets,
					   &r->from_symbols);
	if (err)
		return err;
	struct bc_context_x64 *c = &r->context.x64;
	r->context.machine = BC_MACHINE_X64;
	c->context_flags = 0x10001f;
	c->rax = v[S64_RAX], c->rcx = v[S64_RCX], c->rdx = v[S64_RDX], c->r8 = v[S64_R8];
	c->r9 = v[S64_R9], c->r10 = v[S64_R10], c->r11 = v[S64_R11], c->rbx = v[S64_RBX];
	c->rdi = v[S64_RDI], c->rsi = v[S64_RSI], c->rbp = v[S64_RBP], c->rip = v[S64_RIP];
	c->rsp = v[S64_RSP];
	c->cs = (uint16_t)v[S64_CS], c->ss = (uint16_t)v[S64_SS], c->ds = (uint16_t)v[S64_DS];
	c->es = (uint16_t)v[S64_ES], c->fs = (uint16_t)v[S64_FS], c->gs = (uint16_t)v[S64_GS];
	c->eflags = (uint32_t)v[S64_EFLAGS], c->mxcsr = (uint32_t)v[S64_MXCSR];
	c->dr0 = v[S64_DR0], c->dr1 = v[S64_DR1], c->dr2 = v[S64_DR2], c->dr3 = v[S64_DR3];
	c->dr6 = v[S64_DR6], c->dr7 = v[S64_DR7];
	r->error_code = v[S64_ERROR];
	r->kernel_mode = (c->cs & 3) == 0;
	return NULL;
}

static struct bc_error *decode_x86(struct bc_target *t, uint64_t address, struct bc_trap_frame *r)
{
	uint64_t v[S86_COUNT] = { 0 }, offsets[S86_COUNT] = { 0 };
	struct bc_error *err = read_fields(t, address, X86_TRAP_FRAME_SIZE, x86_fields,
					   sizeof(x86_fields) / sizeof(x86_fields[0]), v, offsets,
					   &r->from_symbols);
	if (err)
		return err;
	struct bc_context_x86 *c = &r->context.x86;
	r->context.machine = BC_MACHINE_X86;
	c->context_flags = 0x1003f;
	c->edx = (uint32_t)v[S86_EDX], c->ecx = (uint32_t)v[S86_ECX], c->eax = (uint32_t)v[S86_EAX];
	c->edi = (uint32_t)v[S86_EDI], c->esi = (uint32_t)v[S86_ESI], c->ebx = (uint32_t)v[S86_EBX];
	c->ebp = (uint32_t)v[S86_EBP], c->eip = (uint32_t)v[S86_EIP];
	c->cs = (uint32_t)v[S86_CS] & 0xffff, c->eflags = (uint32_t)v[S86_EFLAGS];
	c->gs = (uint32_t)v[S86_GS] & 0xffff, c->es = (uint32_t)v[S86_ES] & 0xffff;
	c->ds = (uint32_t)v[S86_DS] & 0xffff, c->fs = (uint32_t)v[S86_FS] & 0xffff;
	c->dr0 = (uint32_t)v[S86_DR0], c->dr1 = (uint32_t)v[S86_DR1], c->dr2 = (uint32_t)v[S86_DR2];
	c->dr3 = (uint32_t)v[S86_DR3], c->dr6 = (uint32_t)v[S86_DR6], c->dr7 = (uint32_t)v[S86_DR7];
	r->error_code = v[S86_ERROR];
	// A trap taken in kernel mode (and not from virtual-8086 mode) does not
	// switch stacks: the processor pushed no ESP/SS, and the interrupted
	// code's stack pointer is where HardwareEsp would have been.
	r->kernel_mode = (c->cs & 1) == 0 && !(c->eflags & 0x20000);
	if (r->kernel_mode) {
		c->esp = (uint32_t)(address + (offsets[S86_ESP] ? offsets[S86_ESP] : 0x74));
		c->ss = 0x10;
	} else {
		c->esp = (uint32_t)v[S86_ESP];
		c->ss = (uint32_t)v[S86_SS] & 0xffff;
	}
	return NULL;
}

static struct bc_error *decode_arm64(struct bc_target *t, uint64_t address,
				     struct bc_trap_frame *r)
{
	uint64_t v[SA_COUNT] = { 0 }, offsets[SA_COUNT] = { 0 };
	struct bc_error *err = read_fields(t, address, ARM64_TRAP_FRAME_SIZE, arm64_fields,
					   sizeof(arm64_fields) / sizeof(arm64_fields[0]), v,
					   offsets, &r->from_symbols);
	if (err)
		return err;
	struct bc_context_arm64 *c = &r->context.arm64;
	r->context.machine = BC_MACHINE_ARM64;
	// A trap frame holds the volatile registers, Fp, Lr, Sp and Pc: CONTROL | INTEGER.
	c->context_flags = 0x400003;
	for (int i = 0; i <= SA_X18; i++)
		c->x[i] = v[i];
	c->lr = v[SA_LR], c->fp = v[SA_FP], c->pc = v[SA_PC], c->sp = v[SA_SP];
	c->cpsr = (uint32_t)v[SA_SPSR];
	r->error_code = v[SA_ESR];
	// SPSR.M[3:2] is the exception level the trap came from: EL0 is user mode.
	r->kernel_mode = (c->cpsr & 0xc) != 0;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_read_trap_frame(struct bc_target *t, uint64_t address,
						     struct bc_trap_frame *ret)
{
	memset(ret, 0, sizeof(*ret));
	switch (bc_target_info(t)->machine) {
	case BC_MACHINE_X64: return decode_x64(t, address, ret);
	case BC_MACHINE_X86: return decode_x86(t, address, ret);
	case BC_MACHINE_ARM64: return decode_arm64(t, address, ret);
	default:
		return bc_error_create(BC_ERR_UNSUPPORTED, "trap frames of %s are not decoded yet",
				       bc_machine_name(bc_target_info(t)->machine));
	}
}
