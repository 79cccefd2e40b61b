// Stack walks (unwind/stackwalk.h, bugcheck/stack.h).
#include <stdio.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "unwind/stackwalk.h"

enum {
	// KTRAP_FRAME.Rip on x64: the hardware machine frame is the trap frame's
	// tail (UNWIND_AND_SYMBOLS.md 2.6). Stable across Windows versions; a PDB
	// or ISF layout can confirm it later.
	KTRAP_FRAME_RIP_X64 = 0x168,
};

BC_PUBLIC void bc_stack_free(struct bc_stack *stack)
{
	if (!stack)
		return;
	free(stack->frames);
	stack->frames = NULL;
	stack->count = 0;
}

BC_PUBLIC const char *bc_frame_source_name(enum bc_frame_source source)
{
	switch (source) {
	case BC_FRAME_CONTEXT: return "context";
	case BC_FRAME_UNWIND: return "unwind";
	case BC_FRAME_LEAF: return "leaf";
	case BC_FRAME_TRAP: return "trap";
	case BC_FRAME_SCAN: return "scan";
	case BC_FRAME_FPO: return "fpo";
	}
	return "unknown";
}

static bool canonical(uint64_t a)
{
	return a < 0x0000800000000000ull || a >= 0xffff800000000000ull;
}

void bc_stackwalk_end(struct bc_stack *s, enum bc_stack_end end, struct bc_error *err,
		      const char *fmt, unsigned long long value)
{
	s->end = end;
	int n = snprintf(s->note, sizeof(s->note), fmt, value);
	if (err && n >= 0 && (size_t)n < sizeof(s->note))
		snprintf(s->note + n, sizeof(s->note) - (size_t)n, ": %s", err->message);
	bc_error_destroy(err);
}

static void add_frame(struct bc_stack *s, const struct bc_context_x64 *c,
		      enum bc_frame_source source)
{
	struct bc_stack_frame *f = &s->frames[s->count++];
	*f = (struct bc_stack_frame){ .ip = c->rip, .sp = c->rsp, .source = source };
	f->context.machine = BC_MACHINE_X64;
	f->context.x64 = *c;
}

struct bc_error *bc_stackwalk_start(struct bc_stack *ret, size_t *max)
{
	*ret = (struct bc_stack){ 0 };
	if (*max > BC_STACKWALK_MAX_FRAMES)
		*max = BC_STACKWALK_MAX_FRAMES;
	if (!*max)
		return NULL;
	ret->frames = calloc(*max, sizeof(*ret->frames));
	return ret->frames ? NULL : &bc_enomem;
}

bool bc_stackwalk_scan(const struct bc_stackwalk_env *env, uint64_t from,
		       bool (*accept)(const struct bc_stackwalk_env *env, uint64_t *value),
		       uint64_t *value_ret, uint64_t *slot_ret)
{
	from &= ~7ull;
	uint64_t limit = BC_STACKWALK_SCAN_BYTES;
	if (env->stack_high && from >= env->stack_low && from < env->stack_high &&
	    env->stack_high - from < limit)
		limit = env->stack_high - from;  // nothing above the stack's base is a frame
	for (uint64_t at = from; at - from < limit; at += 8) {
		uint8_t b[8];
		struct bc_error *err = env->io.read_memory(env->io.arg, at, b, 8);
		if (err) {
			bc_error_destroy(err);
			return false;  // the end of the stack's readable part
		}
		uint64_t v = bc_le64(b);
		if (accept(env, &v)) {
			*value_ret = v;
			*slot_ret = at;
			return true;
		}
	}
	return false;
}

// A kernel address the environment takes for a return address.
static bool x64_return(const struct bc_stackwalk_env *env, uint64_t *v)
{
	return *v >= 0xffff800000000000ull && env->plausible_return(env->arg, *v);
}

// Looks up the stack from @from for a plausible return address (the
// environment decides: inside a module, after a call where code is
// readable). On success @c continues from there: rip = the value, rsp = just
// above its slot; other registers are unknown (left as they were).
static bool scan_for_return(const struct bc_stackwalk_env *env, struct bc_context_x64 *c,
			    uint64_t from)
{
	uint64_t v, slot;
	if (!env->plausible_return || !bc_stackwalk_scan(env, from, x64_return, &v, &slot))
		return false;
	c->rip = v;
	c->rsp = slot + 8;
	return true;
}

struct bc_error *bc_stackwalk_x64(const struct bc_stackwalk_env *env,
				  const struct bc_context_x64 *start, size_t max,
				  struct bc_stack *ret)
{
	struct bc_error *start_err = bc_stackwalk_start(ret, &max);
	if (start_err || !max)
		return start_err;
	struct bc_context_x64 c = *start;
	add_frame(ret, &c, BC_FRAME_CONTEXT);
	unsigned scanned = 0;
	while (ret->count < max) {
		struct bc_stack_frame *callee = &ret->frames[ret->count - 1];
		// A return address may be just past a call to a function that never
		// returns, i.e. already in the next function: look up ip - 1.
		uint64_t lookup = ret->count == 1 || callee->source == BC_FRAME_TRAP ? c.rip
										   : c.rip - 1;
		uint64_t base;
		uint32_t pdata_rva, pdata_size;
		struct bc_error *err = env->find_image(env->arg, lookup, &base, &pdata_rva,
						       &pdata_size);
		if (err == &bc_not_found || (err && err->code == BC_ERR_NOT_FOUND)) {
			bc_stackwalk_end(ret, BC_STACK_END_NO_MODULE, NULL,
				 "%llx is not in any loaded module", (unsigned long long)c.rip);
			bc_error_destroy(err);
			break;
		}
		bool scan = false;
		if (err) {
			scan = true;  // no unwind data: fall back to scanning the stack
			bc_error_destroy(err);
		}
		struct bc_x64_runtime_function rf;
		bool leaf = !scan && pdata_size == 0;
		if (!scan && !leaf) {
			err = bc_unwind_x64_lookup(&env->io, base, pdata_rva, pdata_size,
						   lookup - base, &rf);
			if (err == &bc_not_found) {
				leaf = true;
			} else if (err && err->code == BC_ERR_FAULT) {
				scan = true;
				bc_error_destroy(err);
			} else if (err) {
				bc_stackwalk_end(ret, BC_STACK_END_BAD_UNWIND, err,
					 "the function table of the image at %llx is corrupt",
					 (unsigned long long)base);
				break;
			}
		}
		struct bc_unwind_x64_result r = { 0 };
		uint64_t old_sp = c.rsp;
		if (scan) {
			if (scanned++ >= BC_STACKWALK_MAX_SCANNED || !scan_for_return(env, &c, c.rsp)) {
				bc_stackwalk_end(ret, BC_STACK_END_READ_FAILED, NULL,
					 "no unwind information for %llx and no return address found "
					 "by scanning the stack above it", (unsigned long long)callee->ip);
				break;
			}
			callee->return_address = c.rip;
			add_frame(ret, &c, BC_FRAME_SCAN);
			continue;
		}
		err = bc_unwind_x64_step(&env->io, base, leaf ? NULL : &rf, &c, &r);
		if (err) {
			bc_stackwalk_end(ret, err->code == BC_ERR_FORMAT ? BC_STACK_END_BAD_UNWIND
								 : BC_STACK_END_READ_FAILED,
				 err, "unwinding %llx failed", (unsigned long long)callee->ip);
			break;
		}
		if (r.flags & BC_UNWIND_X64_MACHINE_FRAME)
			callee->trap_frame = r.machine_frame - KTRAP_FRAME_RIP_X64;
		callee->return_address = c.rip;
		if (c.rip < 0x1000) {
			ret->end = BC_STACK_END_ZERO_IP;  // the normal end of a thread's stack
			break;
		}
		if (!canonical(c.rip) || !canonical(c.rsp)) {
			bc_stackwalk_end(ret, BC_STACK_END_NOT_CANONICAL, NULL,
				 "unwinding gave the impossible address %llx", (unsigned long long)c.rip);
			break;
		}
		// Machine frames may switch stacks (IST, DPC, ISR); elsewhere the stack grows.
		if (!(r.flags & BC_UNWIND_X64_MACHINE_FRAME) && c.rsp <= old_sp) {
			bc_stackwalk_end(ret, BC_STACK_END_SP_BACKWARDS, NULL,
				 "the stack pointer went backwards to %llx", (unsigned long long)c.rsp);
			break;
		}
		bool seen = false;
		for (size_t i = 0; i < ret->count && !seen; i++)
			seen = ret->frames[i].ip == c.rip && ret->frames[i].sp == c.rsp;
		if (seen) {
			bc_stackwalk_end(ret, BC_STACK_END_LOOP, NULL, "frame at %llx repeats",
				 (unsigned long long)c.rsp);
			break;
		}
		add_frame(ret, &c, r.flags & BC_UNWIND_X64_MACHINE_FRAME ? BC_FRAME_TRAP
				   : leaf ? BC_FRAME_LEAF : BC_FRAME_UNWIND);
		if (c.rip < 0x8000000000000000ull) {
			ret->end = BC_STACK_END_USER_MODE;  // the kernel stack ends here
			break;
		}
	}
	return NULL;
}
