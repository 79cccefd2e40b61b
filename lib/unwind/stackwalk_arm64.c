// ARM64 stack walks (unwind/stackwalk.h): repeated unwind steps
// (unwind/unwind_arm64.h) with the x64 walk's stopping rules and frame sources.

#include "base/bytes.h"
#include "unwind/stackwalk.h"

// With 48-bit virtual addresses, bits 48-63 repeat bit 47 (after PAC bits
// are stripped): 0000... for user space, ffff... for the kernel.
static bool canonical(uint64_t a)
{
	return a >> 48 == 0 || a >> 48 == 0xffff;
}

static void add_frame(struct bc_stack *s, const struct bc_context_arm64 *c,
		      enum bc_frame_source source)
{
	struct bc_stack_frame *f = &s->frames[s->count++];
	*f = (struct bc_stack_frame){ .ip = c->pc, .sp = c->sp, .source = source };
	f->context.machine = BC_MACHINE_ARM64;
	f->context.arm64 = *c;
}

static bool read_u64(const struct bc_stackwalk_env *env, uint64_t address, uint64_t *ret)
{
	uint8_t b[8];
	struct bc_error *err = env->io.read_memory(env->io.arg, address, b, 8);
	if (err) {
		bc_error_destroy(err);
		return false;
	}
	*ret = bc_le64(b);
	return true;
}

static bool kernel_return(const struct bc_stackwalk_env *env, uint64_t *v)
{
	*v = bc_arm64_strip_pac(*v);
	return *v >= 0xffff000000000000ull && env->plausible_return(env->arg, *v);
}

// Without unwind data: first the frame record fp points at (the caller's fp
// and the return address, as chained prologs leave them), then the stack
// above sp for a plausible return address. On success @c continues from
// there (other registers are unknown and left as they were).
static bool scan_for_return(const struct bc_stackwalk_env *env, struct bc_context_arm64 *c)
{
	if (!env->plausible_return)
		return false;
	uint64_t caller_fp, ret;
	if (c->fp >= c->sp && !(c->fp & 7) && c->fp - c->sp < BC_STACKWALK_SCAN_BYTES &&
	    read_u64(env, c->fp, &caller_fp) && read_u64(env, c->fp + 8, &ret) &&
	    kernel_return(env, &ret)) {
		c->sp = c->fp + 16;
		c->fp = caller_fp;
		c->pc = c->lr = ret;
		return true;
	}
	uint64_t v, slot;
	if (!bc_stackwalk_scan(env, c->sp, kernel_return, &v, &slot))
		return false;
	c->pc = c->lr = v;
	c->sp = slot + 8;
	return true;
}

struct bc_error *bc_stackwalk_arm64(const struct bc_stackwalk_env *env,
				    const struct bc_context_arm64 *start, size_t max,
				    struct bc_stack *ret)
{
	struct bc_error *start_err = bc_stackwalk_start(ret, &max);
	if (start_err || !max)
		return start_err;
	struct bc_context_arm64 c = *start;
	add_frame(ret, &c, BC_FRAME_CONTEXT);
	unsigned scanned = 0;
	bool exact_pc = true;  // frame 0 and frames from trap frames: pc was interrupted
	while (ret->count < max) {
		struct bc_stack_frame *callee = &ret->frames[ret->count - 1];
		// A return address may be just past a call to a function that never
		// returns, i.e. already in the next function: look up pc - 4.
		uint64_t lookup = exact_pc ? c.pc : c.pc - 4;
		uint64_t base;
		uint32_t pdata_rva, pdata_size;
		struct bc_error *err = env->find_image(env->arg, lookup, &base, &pdata_rva,
						       &pdata_size);
		if (err == &bc_not_found || (err && err->code == BC_ERR_NOT_FOUND)) {
			bc_stackwalk_end(ret, BC_STACK_END_NO_MODULE, NULL,
					 "%llx is not in any loaded module", (unsigned long long)c.pc);
			bc_error_destroy(err);
			break;
		}
		bool scan = false;
		if (err) {
			scan = true;  // no unwind data: fall back to the frame chain or scanning
			bc_error_destroy(err);
		}
		struct bc_arm64_runtime_function rf;
		bool leaf = !scan && pdata_size == 0;
		if (!scan && !leaf) {
			err = bc_unwind_arm64_lookup(&env->io, base, pdata_rva, pdata_size,
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
		if (scan) {
			if (scanned++ >= BC_STACKWALK_MAX_SCANNED || !scan_for_return(env, &c)) {
				bc_stackwalk_end(ret, BC_STACK_END_READ_FAILED, NULL,
						 "no unwind information for %llx and no return address "
						 "found by the frame chain or the stack above it",
						 (unsigned long long)callee->ip);
				break;
			}
			callee->return_address = c.pc;
			add_frame(ret, &c, BC_FRAME_SCAN);
			exact_pc = false;
			continue;
		}
		struct bc_unwind_arm64_result r = { 0 };
		uint64_t old_sp = c.sp, old_pc = c.pc;
		err = bc_unwind_arm64_step(&env->io, base, leaf ? NULL : &rf, &c, &r);
		if (err) {
			bc_stackwalk_end(ret, err->code == BC_ERR_FORMAT ? BC_STACK_END_BAD_UNWIND
									  : BC_STACK_END_READ_FAILED,
					 err, "unwinding %llx failed", (unsigned long long)callee->ip);
			break;
		}
		bool custom = r.flags & (BC_UNWIND_ARM64_TRAP_FRAME | BC_UNWIND_ARM64_MACHINE_FRAME |
					 BC_UNWIND_ARM64_CONTEXT);
		if (r.flags & BC_UNWIND_ARM64_TRAP_FRAME)
			callee->trap_frame = r.machine_frame;
		callee->return_address = c.pc;
		if (leaf && c.pc == old_pc) {
			bc_stackwalk_end(ret, BC_STACK_END_LOOP, NULL,
					 "%llx has no unwind data and lr returns to it again",
					 (unsigned long long)old_pc);
			break;
		}
		if (c.pc < 0x1000) {
			ret->end = BC_STACK_END_ZERO_IP;  // the normal end of a thread's stack
			break;
		}
		if (!canonical(c.pc) || !canonical(c.sp)) {
			bc_stackwalk_end(ret, BC_STACK_END_NOT_CANONICAL, NULL,
					 "unwinding gave the impossible address %llx",
					 (unsigned long long)(canonical(c.pc) ? c.sp : c.pc));
			break;
		}
		// Trap and machine frames may switch stacks; elsewhere the stack
		// does not shrink (it may stay: leaves do not move sp).
		if (!custom && c.sp < old_sp) {
			bc_stackwalk_end(ret, BC_STACK_END_SP_BACKWARDS, NULL,
					 "the stack pointer went backwards to %llx",
					 (unsigned long long)c.sp);
			break;
		}
		bool seen = false;
		for (size_t i = 0; i < ret->count && !seen; i++)
			seen = ret->frames[i].ip == c.pc && ret->frames[i].sp == c.sp;
		if (seen) {
			bc_stackwalk_end(ret, BC_STACK_END_LOOP, NULL, "frame at %llx repeats",
					 (unsigned long long)c.sp);
			break;
		}
		add_frame(ret, &c, custom ? BC_FRAME_TRAP : leaf ? BC_FRAME_LEAF : BC_FRAME_UNWIND);
		exact_pc = r.flags & BC_UNWIND_ARM64_NOT_CALL;
		if (c.pc < 0x8000000000000000ull) {
			ret->end = BC_STACK_END_USER_MODE;  // the kernel stack ends here
			break;
		}
	}
	return NULL;
}
