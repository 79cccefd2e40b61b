// A kernel thread's facts for `!thread` (bugcheck/kobj.h): each read by
// field name through the kernel's layout sources, and flagged as known only
// when one of them gave it, so a dump without types still shows what
// KDDEBUGGER_DATA64's offsets reach (stacks, state, owning process).
#include <string.h>

#include "bugcheck/kobj.h"

static bool read(struct bc_target *t, uint64_t object, const char *type, const char *path,
		 uint64_t *ret)
{
	struct bc_error *err = bc_kernel_read_field(t, object, type, path, ret);
	if (err) {
		bc_error_destroy(err);
		*ret = 0;
		return false;
	}
	return true;
}

static void read_image_name(struct bc_target *t, uint64_t process, struct bc_thread_info *r)
{
	struct bc_kfield f;
	struct bc_error *err = bc_kernel_field(t, "_EPROCESS", "ImageFileName", &f);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	char name[sizeof(r->image)] = { 0 };
	size_t n = f.size && f.size < sizeof(name) ? (size_t)f.size : sizeof(name) - 1;
	err = bc_target_read(t, process + f.offset, name, n);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	memcpy(r->image, name, sizeof(name));
	r->image[sizeof(r->image) - 1] = 0;
	r->has_image = true;
}

BC_PUBLIC struct bc_error *bc_target_thread_info(struct bc_target *t, uint64_t thread,
						 struct bc_thread_info *r)
{
	memset(r, 0, sizeof(*r));
	r->address = thread;
	uint64_t v;
	// The state decides everything else shown; without it the address may not be a thread.
	if (!read(t, thread, "_KTHREAD", "State", &v)) {
		struct bc_error *err = bc_kernel_read_field(t, thread, "_KTHREAD", "State", &v);
		return err ? err : bc_error_create(BC_ERR_NOT_FOUND, "no KTHREAD.State");
	}
	r->state = (uint8_t)v;
	r->has_state = true;
	r->has_process = read(t, thread, "_KTHREAD", "ApcState.Process", &r->process);
	r->has_processor = read(t, thread, "_KTHREAD", "NextProcessor", &v);
	r->processor = (uint32_t)(v & 0x7fffffff);  // bit 31 is SharedReadyQueue on Windows 10
	r->has_wait_reason = read(t, thread, "_KTHREAD", "WaitReason", &v);
	r->wait_reason = (uint8_t)v;
	r->has_cid = read(t, thread, "_ETHREAD", "Cid.UniqueProcess", &r->pid) &&
		     read(t, thread, "_ETHREAD", "Cid.UniqueThread", &r->tid);
	r->has_teb = read(t, thread, "_KTHREAD", "Teb", &r->teb);
	r->has_win32_thread = read(t, thread, "_KTHREAD", "Win32Thread", &r->win32_thread);
	r->has_initial_stack = read(t, thread, "_KTHREAD", "InitialStack", &r->initial_stack);
	r->has_kernel_stack = read(t, thread, "_KTHREAD", "KernelStack", &r->kernel_stack);
	r->has_stack_base = read(t, thread, "_KTHREAD", "StackBase", &r->stack_base);
	r->has_stack_limit = read(t, thread, "_KTHREAD", "StackLimit", &r->stack_limit);
	r->has_wait_time = read(t, thread, "_KTHREAD", "WaitTime", &v);
	r->wait_time = (uint32_t)v;
	r->has_context_switches = read(t, thread, "_KTHREAD", "ContextSwitches", &v);
	r->context_switches = (uint32_t)v;
	r->has_priority = read(t, thread, "_KTHREAD", "Priority", &v);
	r->priority = (int8_t)v;
	r->has_base_priority = read(t, thread, "_KTHREAD", "BasePriority", &v);
	r->base_priority = (int8_t)v;
	r->has_win32_start = read(t, thread, "_ETHREAD", "Win32StartAddress", &r->win32_start);
	if (r->has_process)
		read_image_name(t, r->process, r);
	return NULL;
}

BC_PUBLIC const char *bc_thread_state_name(uint8_t state)
{
	// KTHREAD_STATE (wdm.h); WinDbg shows them in capitals.
	static const char *const names[] = { "INITIALIZED", "READY",      "RUNNING",
					     "STANDBY",     "TERMINATED", "WAIT",
					     "TRANSITION",  "DEFERREDREADY", "GATEWAIT" };
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}

BC_PUBLIC const char *bc_wait_reason_name(uint8_t reason)
{
	// KWAIT_REASON (wdm.h).
	static const char *const names[] = {
		"Executive",       "FreePage",        "PageIn",          "PoolAllocation",
		"DelayExecution",  "Suspended",       "UserRequest",     "WrExecutive",
		"WrFreePage",      "WrPageIn",        "WrPoolAllocation", "WrDelayExecution",
		"WrSuspended",     "WrUserRequest",   "WrSpare0",        "WrQueue",
		"WrLpcReceive",    "WrLpcReply",      "WrVirtualMemory", "WrPageOut",
		"WrRendezvous",    "WrKeyedEvent",    "WrTerminated",    "WrProcessInSwap",
		"WrCpuRateControl", "WrCalloutStack", "WrKernel",        "WrResource",
		"WrPushLock",      "WrMutex",         "WrQuantumEnd",    "WrDispatchInt",
		"WrPreempted",     "WrYieldExecution", "WrFastMutex",    "WrGuardedMutex",
		"WrRundown",       "WrAlertByThreadId", "WrDeferredPreempt", "WrPhysicalFault",
		"WrIoRing",        "WrMdlCache",
	};
	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : NULL;
}
