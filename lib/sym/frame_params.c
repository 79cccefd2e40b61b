// A frame's parameters and their values (bugcheck/frame_params.h): the
// procedure from the module's private symbols, each location evaluated with
// the registers recovered for that frame, the value read from the dump.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/frame_params.h"
#include "bugcheck/symbols.h"
#include "bugcheck/target.h"

// The full register a (sub)register name belongs to: "r8d" -> "r8", "cl" -> "rcx"/"ecx".
static void full_register(const char *reg, bool x64, char *out, size_t size)
{
	static const char *const groups[][5] = {
		{ "rax", "eax", "ax", "al", "ah" }, { "rbx", "ebx", "bx", "bl", "bh" },
		{ "rcx", "ecx", "cx", "cl", "ch" }, { "rdx", "edx", "dx", "dl", "dh" },
		{ "rsi", "esi", "si", "sil", NULL }, { "rdi", "edi", "di", "dil", NULL },
		{ "rbp", "ebp", "bp", "bpl", NULL }, { "rsp", "esp", "sp", "spl", NULL },
	};
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (size_t k = 0; k < 5; k++)
			if (groups[g][k] && !strcmp(reg, groups[g][k])) {
				snprintf(out, size, "%s", groups[g][x64 ? 0 : 1]);
				return;
			}
	snprintf(out, size, "%s", reg);
	size_t n = strlen(out);
	if (out[0] == 'r' && n > 2 && (out[n - 1] == 'd' || out[n - 1] == 'w' || out[n - 1] == 'b'))
		out[n - 1] = 0;  // r8d, r8w, r8b
}

// Whether the walk recovered @reg for frame @index. Frame 0 has the whole
// starting context; above it only what unwinding restores: the nonvolatile
// registers on x64 (by unwind data or an untouched leaf), the stack and frame
// pointers across a trap frame or on x86's EBP chain, the stack pointer of a
// frame found by scanning.
static bool recovered(const struct bc_stack_frame *f, size_t index, const char *full)
{
	if (index == 0 || f->source == BC_FRAME_CONTEXT)
		return true;
	bool x64 = f->context.machine == BC_MACHINE_X64;
	if (!strcmp(full, x64 ? "rsp" : "esp"))
		return true;
	if (f->source == BC_FRAME_SCAN)
		return false;
	if (!strcmp(full, x64 ? "rbp" : "ebp"))
		return true;
	if (!x64 || f->source == BC_FRAME_TRAP)
		return false;
	static const char *const nonvolatile[] = { "rbx", "rsi", "rdi", "r12", "r13", "r14", "r15" };
	for (size_t i = 0; i < sizeof(nonvolatile) / sizeof(nonvolatile[0]); i++)
		if (!strcmp(full, nonvolatile[i]))
			return true;
	return false;
}

static bool is_aggregate(const struct bc_type *t)
{
	return t && (t->kind == BC_TYPE_STRUCT || t->kind == BC_TYPE_CLASS ||
		     t->kind == BC_TYPE_UNION || t->kind == BC_TYPE_ARRAY);
}

static void evaluate(struct bc_target *target, const struct bc_stack_frame *f, size_t index,
		     uint64_t rva, struct bc_frame_param *fp)
{
	const struct bc_parameter *p = fp->param;
	bool x64 = f->context.machine == BC_MACHINE_X64;
	for (size_t i = 0; i < p->location_count && !fp->location; i++)
		if (bc_param_location_covers(&p->locations[i], rva))
			fp->location = &p->locations[i];
	const struct bc_param_location *l = fp->location;
	if (!l) {
		fp->why = "no location covers the instruction";
		return;
	}
	if (l->kind == BC_PARAM_IN_MEMORY)
		snprintf(fp->location_text, sizeof(fp->location_text), "[%s%s0x%" PRIx64 "]",
			 *l->reg ? l->reg : "?", l->offset < 0 ? "-" : "+",
			 l->offset < 0 ? 0 - (uint64_t)l->offset : (uint64_t)l->offset);
	else
		snprintf(fp->location_text, sizeof(fp->location_text), "%s", *l->reg ? l->reg : "?");
	if (l->partial) {
		fp->why = "only a part of the value has a location";
		return;
	}
	char full[8];
	full_register(l->reg, x64, full, sizeof(full));
	uint64_t reg = 0;
	struct bc_error *err = !*l->reg || !strcmp(l->reg, "vframe")
				       ? &bc_not_found
				       : bc_context_register(&f->context, l->reg, &reg);
	if (err) {
		bc_error_destroy(err);
		fp->why = "the location's register is not known";
		return;
	}
	if (!recovered(f, index, full)) {
		fp->why = "the register is not recovered in this frame";
		return;
	}
	bool aggregate = is_aggregate(fp->type);
	if (l->kind == BC_PARAM_IN_REGISTER) {
		fp->available = !aggregate || fp->size <= 8;
		fp->value = fp->size && fp->size < 8 ? reg & ((1ull << (8 * fp->size)) - 1) : reg;
		if (!fp->available)
			fp->why = "a structure does not fit in a register";
		return;
	}
	fp->in_memory = true;
	uint64_t address = reg + (uint64_t)l->offset;
	if (!x64)  // 32-bit addresses, shown sign-extended like the frames' own
		address = (uint64_t)(int64_t)(int32_t)(uint32_t)address;
	fp->address = address;
	if (aggregate) {
		fp->available = true;  // shown by its type, as WinDbg does; the address is known
		return;
	}
	if (!fp->size || fp->size > 8) {
		fp->why = "the type's size is not that of a scalar";
		return;
	}
	uint8_t b[8] = { 0 };
	err = bc_target_read(target, address, b, fp->size);
	if (err) {
		bc_error_destroy(err);
		fp->why = "the memory is not in the dump";
		return;
	}
	for (unsigned i = 0; i < fp->size; i++)
		fp->value |= (uint64_t)b[i] << (8 * i);
	fp->available = true;
}

BC_PUBLIC struct bc_error *bc_target_frame_params(struct bc_target *target,
						  const struct bc_stack *stack, size_t index,
						  struct bc_frame_params *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (index >= stack->count)
		return bc_error_create(BC_ERR_INVALID_ARG, "frame %zu is past the stack's %zu frames",
				       index, stack->count);
	const struct bc_stack_frame *f = &stack->frames[index];
	const struct bc_module *m = bc_target_module_at(target, f->ip);
	if (!m)
		return &bc_not_found;
	size_t module = (size_t)(m - bc_target_module(target, 0));
	const struct bc_module_symbols *syms = bc_target_module_symbols(target, module);
	if (!syms->symtab)
		return &bc_not_found;
	// A caller's ip is a return address: the call is the instruction before
	// it (which may end the procedure). Frame 0 and frames a trap interrupted
	// are at the instruction itself.
	uint64_t rva = f->ip - m->base;
	if (index > 0 && f->source != BC_FRAME_TRAP && rva > 0)
		rva--;
	const struct bc_procedure *proc;
	struct bc_error *err = bc_symtab_procedure_at(syms->symtab, rva, &proc);
	if (err)
		return err;
	ret->symtab = syms->symtab;
	ret->procedure = proc;
	ret->params = calloc(proc->param_count ? proc->param_count : 1, sizeof(*ret->params));
	if (!ret->params)
		return &bc_enomem;
	ret->count = proc->param_count;
	for (size_t i = 0; i < proc->param_count; i++) {
		struct bc_frame_param *fp = &ret->params[i];
		fp->param = &proc->params[i];
		bc_symtab_type_c_name(syms->symtab, fp->param->type_id, fp->type_name,
				      sizeof(fp->type_name));
		struct bc_error *terr = bc_symtab_type(syms->symtab, fp->param->type_id, &fp->type);
		if (terr) {
			bc_error_destroy(terr);
			fp->type = NULL;
		}
		fp->size = fp->type && fp->type->size <= 0xffff ? (unsigned)fp->type->size : 0;
		evaluate(target, f, index, rva, fp);
	}
	return NULL;
}

BC_PUBLIC void bc_frame_params_free(struct bc_frame_params *params)
{
	free(params->params);
	memset(params, 0, sizeof(*params));
}
