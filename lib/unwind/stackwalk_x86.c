// x86 stack walks by the EBP chain (unwind/stackwalk.h): each frame's EBP
// points at the caller's saved EBP, with the return address above it.
// Functions built without frame pointers (FPO) need the PDB's FPO/FrameData
// records to be walked exactly; until those are read, such a frame makes the
// chain skip its caller, as in WinDbg without symbols.
#include <stdio.h>

#include "base/bytes.h"
#include "unwind/stackwalk.h"

static void add_frame(struct bc_stack *s, const struct bc_context_x86 *c,
		      enum bc_frame_source source)
{
	struct bc_stack_frame *f = &s->frames[s->count++];
	// Kernel addresses are shown sign-extended, like module bases.
	*f = (struct bc_stack_frame){
		.ip = (uint64_t)(int64_t)(int32_t)c->eip,
		.sp = (uint64_t)(int64_t)(int32_t)c->ebp,
		.source = source,
	};
	f->context.machine = BC_MACHINE_X86;
	f->context.x86 = *c;
}

struct bc_error *bc_stackwalk_x86(const struct bc_unwind_io *io,
				  const struct bc_context_x86 *start, size_t max,
				  struct bc_stack *ret)
{
	struct bc_error *start_err = bc_stackwalk_start(ret, &max);
	if (start_err || !max)
		return start_err;
	struct bc_context_x86 c = *start;
	add_frame(ret, &c, BC_FRAME_CONTEXT);
	while (ret->count < max) {
		uint8_t b[8];
		uint64_t ebp = (uint64_t)(int64_t)(int32_t)c.ebp;
		struct bc_error *err = io->read_memory(io->arg, ebp, b, 8);
		if (err) {
			ret->end = BC_STACK_END_READ_FAILED;
			snprintf(ret->note, sizeof(ret->note), "the frame at ebp %08x cannot be read: %s",
				 c.ebp, err->message);
			bc_error_destroy(err);
			break;
		}
		uint32_t caller_ebp = bc_le32(b), ret_addr = bc_le32(b + 4);
		ret->frames[ret->count - 1].return_address = (uint64_t)(int64_t)(int32_t)ret_addr;
		if (ret_addr < 0x1000) {
			ret->end = BC_STACK_END_ZERO_IP;
			break;
		}
		if (caller_ebp != 0 && caller_ebp <= c.ebp) {
			// The chain must climb; otherwise it is broken (or FPO code clobbered EBP).
			struct bc_context_x86 last = c;
			last.eip = ret_addr;
			last.esp = c.ebp + 8;
			last.ebp = caller_ebp;
			add_frame(ret, &last, BC_FRAME_UNWIND);
			ret->end = BC_STACK_END_SP_BACKWARDS;
			snprintf(ret->note, sizeof(ret->note),
				 "the EBP chain goes backwards at %08x (a frame without a frame pointer?)",
				 c.ebp);
			break;
		}
		c.eip = ret_addr;
		c.esp = c.ebp + 8;
		c.ebp = caller_ebp;
		add_frame(ret, &c, BC_FRAME_UNWIND);
		if (ret_addr < 0x80000000u) {
			ret->end = BC_STACK_END_USER_MODE;
			break;
		}
		if (caller_ebp == 0) {
			ret->end = BC_STACK_END_ZERO_IP;
			break;
		}
	}
	return NULL;
}
