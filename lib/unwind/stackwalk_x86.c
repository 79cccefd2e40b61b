// x86 stack walks (unwind/stackwalk.h). Functions built with frame pointers
// are walked by the EBP chain: each frame's EBP points at the caller's saved
// EBP, with the return address above it. Functions without one (FPO) need
// the PDB's records (UNWIND_AND_SYMBOLS.md 3.2, 3.3): a FrameData program
// says where the return address and the saved registers are; an FPO_DATA
// record gives only sizes, from which the return address's place follows.
// Without either, an FPO frame makes the EBP chain skip its caller, as in
// WinDbg without symbols.
//
// Where the return address is (.raSearchStart) follows Breakpad's rule: the
// frame's ESP (its value at the call, before the callee popped arguments),
// plus the callee's parameter bytes, the locals and the saved registers; a
// realigned frame (a program using '@') keeps an EBP frame, so EBP + 4. As
// the sizes can be off by an alignment pad or a callee without a record,
// up to three more words are tried for one that looks like a return address.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "unwind/stackwalk.h"
#include "unwind/x86_frame_program.h"

enum {
	RA_SEARCH_EXTRA_WORDS = 3,  ///< words above .raSearchStart tried for the return address
	USER_LIMIT = 0x80000000u,   ///< below: user mode, where a kernel stack ends
};

// Kernel addresses are shown sign-extended, like module bases.
static uint64_t sx(uint32_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

// What kv shows for a record.
static struct bc_frame_fpo fpo_note(const struct bc_x86_frame_info *r)
{
	struct bc_frame_fpo n = {
		.present = true,
		.frame_data = r->kind == BC_X86_FRAME_DATA,
		.uses_bp = r->uses_bp,
		.frame_type = r->frame_type,
		.params = r->params / 4,
		.locals = r->locals / 4,
		.saved_regs = r->saved_regs / 4,
	};
	if (r->kind == BC_X86_FRAME_FPO) {
		n.non_fpo = r->frame_type == BC_X86_FRAME_TYPE_NONFPO;
	} else if (r->program) {
		// "$T0 $ebp = ..." (MSVC), "$T0 $ebp 4 + = ..." (clang): the frame
		// is found from EBP, a standard frame.
		char a[8], b[8];
		n.non_fpo = sscanf(r->program, "%7s %7s", a, b) == 2 && !strcmp(b, "$ebp");
	}
	return n;
}

struct walker {
	const struct bc_stackwalk_env *env;
	struct bc_stack *s;
	struct bc_context_x86 c;    ///< the current (innermost unfinished) frame's registers
	struct bc_x86_frame_info info;
	bool has_info;
	uint32_t callee_params;     ///< parameter bytes of the frame below (0 for the first)
	struct bc_error *record_error;  ///< the first unusable-record error, for the note
};

// Adds a frame for w->c and looks up its record (at ip - 1 for callers).
static void add_frame(struct walker *w, enum bc_frame_source source)
{
	struct bc_stack_frame *f = &w->s->frames[w->s->count++];
	*f = (struct bc_stack_frame){ .ip = sx(w->c.eip), .sp = sx(w->c.ebp), .source = source };
	f->context.machine = BC_MACHINE_X86;
	f->context.x86 = w->c;
	w->has_info = false;
	if (!w->env->x86_frame || w->c.eip < 0x1000)
		return;
	uint32_t at = source == BC_FRAME_CONTEXT ? w->c.eip : w->c.eip - 1;
	struct bc_error *err = w->env->x86_frame(w->env->arg, sx(at), &w->info);
	if (!err) {
		w->has_info = true;
		f->fpo = fpo_note(&w->info);
	} else if (err->code != BC_ERR_NOT_FOUND && !w->record_error) {
		w->record_error = err;
		return;
	}
	bc_error_destroy(err);
}

static struct bc_error *read32(void *arg, uint32_t address, uint32_t *ret)
{
	const struct bc_stackwalk_env *env = arg;
	uint8_t b[4];
	struct bc_error *err = env->io.read_memory(env->io.arg, sx(address), b, 4);
	if (!err)
		*ret = bc_le32(b);
	return err;
}

// The return address's place: @start, or up to three words above it when
// @start does not hold something that looks like one.
static uint32_t ra_search(const struct walker *w, uint32_t start)
{
	if (!w->env->plausible_return)
		return start;
	for (uint32_t k = 0; k <= RA_SEARCH_EXTRA_WORDS; k++) {
		uint32_t v;
		struct bc_error *err = read32((void *)w->env, start + 4 * k, &v);
		if (err) {
			bc_error_destroy(err);
			break;
		}
		if (v >= 0x1000 && w->env->plausible_return(w->env->arg, sx(v)))
			return start + 4 * k;
	}
	return start;
}

static bool has_align(const char *program)
{
	for (const char *p = program; (p = strchr(p, '@')); p++)
		if ((p == program || p[-1] == ' ') && (p[1] == ' ' || !p[1]))
			return true;
	return false;
}

// The caller by the record's program or sizes. Returns an error for a
// program that fails or reads memory that is missing.
static struct bc_error *unwind_by_record(struct walker *w, struct bc_context_x86 *caller)
{
	const struct bc_x86_frame_info *r = &w->info;
	const struct bc_context_x86 *c = &w->c;
	uint32_t start = c->esp + w->callee_params + r->locals + r->saved_regs;
	bool program = r->kind == BC_X86_FRAME_DATA && r->program && *r->program;
	if (program && has_align(r->program))
		start = c->ebp + 4;
	uint32_t ra = ra_search(w, start);
	*caller = *c;
	if (!program) {
		// FPO_DATA sizes: the return address at .raSearch; a function that
		// allocated EBP saved it second of its registers (Breakpad's rule).
		struct bc_error *err = read32((void *)w->env, ra, &caller->eip);
		if (!err && r->uses_bp && r->saved_regs >= 8)
			err = read32((void *)w->env, c->esp + w->callee_params + r->saved_regs - 8,
				     &caller->ebp);
		caller->esp = ra + 4;
		return err;
	}
	struct bc_x86_program_vars v = { 0 };
	static const struct {
		enum bc_x86_var var;
		size_t offset;
	} regs[] = {
		{ BC_X86_EIP, offsetof(struct bc_context_x86, eip) },
		{ BC_X86_ESP, offsetof(struct bc_context_x86, esp) },
		{ BC_X86_EBP, offsetof(struct bc_context_x86, ebp) },
		{ BC_X86_EBX, offsetof(struct bc_context_x86, ebx) },
		{ BC_X86_ESI, offsetof(struct bc_context_x86, esi) },
		{ BC_X86_EDI, offsetof(struct bc_context_x86, edi) },
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint32_t value;
		memcpy(&value, (const char *)c + regs[i].offset, 4);
		bc_x86_program_set(&v, regs[i].var, value);
	}
	bc_x86_program_set(&v, BC_X86_RA_SEARCH, ra);
	bc_x86_program_set(&v, BC_X86_RA_SEARCH_START, ra);
	bc_x86_program_set(&v, BC_X86_CB_LOCALS, r->locals);
	bc_x86_program_set(&v, BC_X86_CB_PARAMS, r->params);
	bc_x86_program_set(&v, BC_X86_CB_SAVED_REGS, r->saved_regs);
	bc_x86_program_set(&v, BC_X86_CB_CALLEE_PARAMS, w->callee_params);
	struct bc_error *err = bc_x86_program_run(r->program, &v, read32, (void *)w->env);
	if (err)
		return err;
	uint32_t need = 1u << BC_X86_EIP | 1u << BC_X86_ESP;
	if ((v.assigned & need) != need)
		return bc_error_format(UINT64_MAX, "frame program \"%.120s\" sets no $eip or $esp",
				       r->program);
	// Registers the program does not assign keep their values (callee-saved
	// ones the function never touched).
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (v.assigned & (1u << regs[i].var))
			memcpy((char *)caller + regs[i].offset, &v.value[regs[i].var], 4);
	return NULL;
}

// Whether the frame (eip, esp) repeats an earlier one.
static bool repeats(const struct bc_stack *s, uint32_t eip, uint32_t esp)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->frames[i].ip == sx(eip) && s->frames[i].context.x86.esp == esp)
			return true;
	return false;
}

// Whether the record describes a frame found by the EBP chain (a standard
// frame, or a trap/TSS frame: an x86 KTRAP_FRAME starts with DbgEbp, DbgEip,
// so the chain runs through it).
static bool record_is_ebp_frame(const struct bc_x86_frame_info *r)
{
	return r->kind == BC_X86_FRAME_FPO && r->frame_type != BC_X86_FRAME_TYPE_FPO;
}

// One step by the EBP chain. False when the walk ends here.
static bool step_ebp(struct walker *w)
{
	struct bc_stack *s = w->s;
	uint8_t b[8];
	struct bc_error *err = w->env->io.read_memory(w->env->io.arg, sx(w->c.ebp), b, 8);
	if (err) {
		bc_stackwalk_end(s, BC_STACK_END_READ_FAILED, err, "the frame at ebp %08llx cannot be read",
				 (unsigned long long)w->c.ebp);
		return false;
	}
	uint32_t caller_ebp = bc_le32(b), ret_addr = bc_le32(b + 4);
	s->frames[s->count - 1].return_address = sx(ret_addr);
	if (ret_addr < 0x1000) {
		s->end = BC_STACK_END_ZERO_IP;
		return false;
	}
	uint32_t ebp = w->c.ebp;
	w->c.eip = ret_addr;
	w->c.esp = ebp + 8;
	w->c.ebp = caller_ebp;
	w->callee_params = 0;  // unknown: .raSearch's extra words cover a few
	if (caller_ebp != 0 && caller_ebp <= ebp) {
		// The chain must climb; otherwise it is broken (or FPO code clobbered EBP).
		add_frame(w, BC_FRAME_UNWIND);
		s->end = BC_STACK_END_SP_BACKWARDS;
		snprintf(s->note, sizeof(s->note),
			 "the EBP chain goes backwards at %08x (a frame without a frame pointer?)", ebp);
		return false;
	}
	add_frame(w, BC_FRAME_UNWIND);
	if (ret_addr < USER_LIMIT) {
		s->end = BC_STACK_END_USER_MODE;
		return false;
	}
	if (caller_ebp == 0 && !(w->has_info && !record_is_ebp_frame(&w->info))) {
		s->end = BC_STACK_END_ZERO_IP;  // the thread's first frame, unless a record goes on
		return false;
	}
	return true;
}

// One step by the frame's record. False when the walk ends here.
static bool step_record(struct walker *w)
{
	struct bc_stack *s = w->s;
	struct bc_context_x86 caller;
	struct bc_error *err = unwind_by_record(w, &caller);
	if (err) {
		bc_stackwalk_end(s, err->code == BC_ERR_FAULT ? BC_STACK_END_READ_FAILED
							       : BC_STACK_END_BAD_UNWIND,
				 err, "the frame record at %08llx cannot be followed",
				 (unsigned long long)w->c.eip);
		return false;
	}
	struct bc_stack_frame *f = &s->frames[s->count - 1];
	f->return_address = sx(caller.eip);
	// ChildEBP: where a saved EBP would be, below the return address.
	f->sp = sx(caller.esp - 8);
	if (caller.eip < 0x1000) {
		s->end = BC_STACK_END_ZERO_IP;
		return false;
	}
	if (caller.esp <= w->c.esp) {
		s->end = BC_STACK_END_SP_BACKWARDS;
		snprintf(s->note, sizeof(s->note), "the frame record at %08x gives esp %08x, not above "
			 "%08x", w->c.eip, caller.esp, w->c.esp);
		return false;
	}
	if (repeats(s, caller.eip, caller.esp)) {
		s->end = BC_STACK_END_LOOP;
		snprintf(s->note, sizeof(s->note), "frame %08x esp %08x repeats", caller.eip,
			 caller.esp);
		return false;
	}
	w->callee_params = w->info.params;
	w->c = caller;
	add_frame(w, BC_FRAME_FPO);
	if (caller.eip < USER_LIMIT) {
		s->end = BC_STACK_END_USER_MODE;
		return false;
	}
	return true;
}

struct bc_error *bc_stackwalk_x86(const struct bc_stackwalk_env *env,
				  const struct bc_context_x86 *start, size_t max,
				  struct bc_stack *ret)
{
	struct bc_error *start_err = bc_stackwalk_start(ret, &max);
	if (start_err || !max)
		return start_err;
	struct walker w = { .env = env, .s = ret, .c = *start };
	add_frame(&w, BC_FRAME_CONTEXT);
	while (ret->count < max) {
		bool go_on = w.has_info && !record_is_ebp_frame(&w.info) ? step_record(&w)
									 : step_ebp(&w);
		if (!go_on)
			break;
	}
	if (w.record_error) {
		if (!ret->note[0])
			snprintf(ret->note, sizeof(ret->note), "x86 frame records not used: %s",
				 w.record_error->message);
		bc_error_destroy(w.record_error);
	}
	return NULL;
}
