// The registers a kernel thread resumes with (bugcheck/stack.h,
// bc_target_thread_context; WinDbg's .thread).
//
// A thread that is not running was switched out by the kernel's context
// switch, which leaves KTHREAD.KernelStack pointing at a small switch frame
// whose last word is the return address into the switching routine
// (KiSwapContext on x64). That frame's layout (_KSWITCH_FRAME) is in the
// kernel's private types only: neither KDDEBUGGER_DATA64 nor the public
// type tables (ISF, Vergilius) have it. So instead of a fixed offset, the
// words from KernelStack up are searched for the first one that is a return
// address (after a call, inside a loaded module); the stack pointer is the
// slot above it, and the unwinder takes it from there with real unwind data.
#include <inttypes.h>
#include <stdio.h>

#include "bugcheck/kobj.h"
#include "bugcheck/stack.h"
#include "target_private.h"

enum {
	// The x64 switch frame is 8 words (5 home slots, a byte and padding, RBP,
	// the return); x86's is 3. Twice that is room for layout drift while
	// still inside the switch routine's own frame.
	SWITCH_FRAME_SEARCH_WORDS = 16,
	KTHREAD_STATE_RUNNING = 2,
};

// True when @err is NULL; destroys it otherwise.
static bool succeeded(struct bc_error *err)
{
	bc_error_destroy(err);
	return err == NULL;
}

BC_PUBLIC struct bc_error *bc_target_thread_context(struct bc_target *t, uint64_t thread,
						    struct bc_context *ret)
{
	const struct bc_context *own = bc_target_context(t);
	if (thread == bc_target_current_thread(t) && own) {
		*ret = *own;
		return NULL;
	}
	enum bc_machine machine = t->info.machine;
	if (machine != BC_MACHINE_X64 && machine != BC_MACHINE_X86)
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       ".thread: switched-out threads of %s are not supported yet",
				       bc_machine_name(machine));
	uint64_t state;
	struct bc_error *err = bc_kernel_read_field(t, thread, "_KTHREAD", "State", &state);
	if (err) {
		if (err->code != BC_ERR_NEEDS_SYMBOLS)
			return err;
		bc_error_destroy(err);  // without State, go on: the stack search decides
	} else if (state == KTHREAD_STATE_RUNNING) {
		// Its registers are those the bug check froze on its processor:
		// (a failed read leaves the generic refusal below)
		// KTHREAD.NextProcessor, when that KPRCB says it runs this thread.
		uint64_t n, prcb, current;
		if (bc_kernel_read_optional(t, thread, "_KTHREAD", "NextProcessor", &n) &&
		    n < t->info.processors &&
		    succeeded(bc_target_prcb(t, (uint32_t)n, &prcb)) &&
		    bc_kernel_read_optional(t, prcb, "_KPRCB", "CurrentThread", &current) &&
		    current == thread &&
		    succeeded(bc_target_processor_context(t, (uint32_t)n, ret)))
			return NULL;
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       "thread %" PRIx64 " is running on another processor whose "
				       "registers this dump does not give", thread);
	}
	uint64_t kernel_stack;
	err = bc_kernel_read_field(t, thread, "_KTHREAD", "KernelStack", &kernel_stack);
	if (err)
		return err;
	unsigned ps = t->info.pointer_size;
	uint64_t kernel_space = ps == 8 ? 0xffff800000000000ull : 0xffffffff80000000ull;
	if (kernel_stack < kernel_space)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "%" PRIx64 " is not a switched-out kernel thread: its "
				       "KernelStack %#" PRIx64 " is not a kernel address", thread,
				       kernel_stack);
	for (unsigned i = 0; i < SWITCH_FRAME_SEARCH_WORDS; i++) {
		uint64_t slot = kernel_stack + (uint64_t)i * ps, value;
		if (slot < kernel_stack)
			break;
		err = bc_target_read_pointer(t, slot, &value);
		if (err) {
			struct bc_error *e = bc_error_fault(
				err->address, err->fault,
				"thread %" PRIx64 ": its kernel stack at %" PRIx64 " cannot be read (%s)",
				thread, slot, err->message);
			bc_error_destroy(err);
			return e;
		}
		if (!bc_target_is_return_address(t, value))
			continue;
		*ret = (struct bc_context){ .machine = machine };
		if (machine == BC_MACHINE_X64) {
			ret->x64.rip = value;
			ret->x64.rsp = slot + 8;
		} else {
			ret->x86.eip = (uint32_t)value;
			ret->x86.esp = (uint32_t)(slot + 4);
		}
		return NULL;
	}
	return bc_error_create(BC_ERR_NOT_FOUND,
			       "thread %" PRIx64 ": no return address in the %u words at its "
			       "KernelStack %" PRIx64 " (not a switched-out thread?)",
			       thread, SWITCH_FRAME_SEARCH_WORDS, kernel_stack);
}
