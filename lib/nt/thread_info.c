// A kernel thread's facts for `!thread` (bugcheck/kobj.h): each read by
// field name through the kernel's layout sources, and flagged as known only
// when one of them gave it, so a dump without types still shows what
// KDDEBUGGER_DATA64's offsets reach (stacks, state, owning process).
#include <string.h>

#include "bugcheck/kobj.h"

enum { KTHREAD_STATE_WAITING = 5 };

// How a waiting thread waits, and on what: its wait blocks (an array of
// WaitBlockCount _KWAIT_BLOCKs at WaitBlockList), each block's Object and
// that object's dispatcher type. Bounded by BC_THREAD_MAX_WAIT_OBJECTS.
static void read_wait(struct bc_target *t, uint64_t thread, struct bc_thread_info *r)
{
	uint64_t v, list, count, block_size;
	r->has_wait_mode = bc_kernel_read_optional(t, thread, "_KTHREAD", "WaitMode", &v);
	r->wait_mode = (uint8_t)v;
	r->has_alertable = bc_kernel_read_optional(t, thread, "_KTHREAD", "Alertable", &v);
	r->alertable = v != 0;
	struct bc_error *err = bc_kernel_type_size(t, "_KWAIT_BLOCK", &block_size, NULL);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	if (!bc_kernel_read_optional(t, thread, "_KTHREAD", "WaitBlockList", &list) || !list ||
	    !bc_kernel_read_optional(t, thread, "_KTHREAD", "WaitBlockCount", &count))
		return;
	for (uint64_t i = 0; i < count && i < BC_THREAD_MAX_WAIT_OBJECTS; i++) {
		uint64_t object;
		if (!bc_kernel_read_optional(t, list + i * block_size, "_KWAIT_BLOCK", "Object",
					     &object))
			break;
		size_t n = r->wait_object_count++;
		r->wait_objects[n].address = object;
		r->wait_objects[n].has_type =
			bc_kernel_read_optional(t, object, "_DISPATCHER_HEADER", "Type", &v);
		r->wait_objects[n].type = (uint8_t)v;
	}
}

BC_PUBLIC const char *bc_dispatcher_object_name(uint8_t type)
{
	// KOBJECTS (ntosdef.h), in the words !thread uses for a wait object.
	static const char *const names[] = {
		"NotificationEvent", "SynchronizationEvent", "Mutant", "ProcessObject",
		"QueueObject", "Semaphore", "ThreadObject", "GateObject", "NotificationTimer",
		"SynchronizationTimer",
	};
	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return type == 21 ? "PriQueueObject" : NULL;
}

BC_PUBLIC struct bc_error *bc_target_thread_info(struct bc_target *t, uint64_t thread,
						 struct bc_thread_info *r)
{
	memset(r, 0, sizeof(*r));
	r->address = thread;
	uint64_t v;
	// The state decides everything else shown; without it the address may not be a thread.
	struct bc_error *err = bc_kernel_read_field(t, thread, "_KTHREAD", "State", &v);
	if (err)
		return err;
	r->state = (uint8_t)v;
	r->has_state = true;
	r->has_process = bc_kernel_read_optional(t, thread, "_KTHREAD", "ApcState.Process", &r->process);
	r->has_processor = bc_kernel_read_optional(t, thread, "_KTHREAD", "NextProcessor", &v);
	r->processor = (uint32_t)(v & 0x7fffffff);  // bit 31 is SharedReadyQueue on Windows 10
	r->has_wait_reason = bc_kernel_read_optional(t, thread, "_KTHREAD", "WaitReason", &v);
	r->wait_reason = (uint8_t)v;
	r->has_cid = bc_kernel_read_optional(t, thread, "_ETHREAD", "Cid.UniqueProcess", &r->pid) &&
		     bc_kernel_read_optional(t, thread, "_ETHREAD", "Cid.UniqueThread", &r->tid);
	r->has_teb = bc_kernel_read_optional(t, thread, "_KTHREAD", "Teb", &r->teb);
	r->has_win32_thread = bc_kernel_read_optional(t, thread, "_KTHREAD", "Win32Thread", &r->win32_thread);
	r->has_initial_stack = bc_kernel_read_optional(t, thread, "_KTHREAD", "InitialStack", &r->initial_stack);
	r->has_kernel_stack = bc_kernel_read_optional(t, thread, "_KTHREAD", "KernelStack", &r->kernel_stack);
	r->has_stack_base = bc_kernel_read_optional(t, thread, "_KTHREAD", "StackBase", &r->stack_base);
	r->has_stack_limit = bc_kernel_read_optional(t, thread, "_KTHREAD", "StackLimit", &r->stack_limit);
	r->has_wait_time = bc_kernel_read_optional(t, thread, "_KTHREAD", "WaitTime", &v);
	r->wait_time = (uint32_t)v;
	r->has_context_switches = bc_kernel_read_optional(t, thread, "_KTHREAD", "ContextSwitches", &v);
	r->context_switches = (uint32_t)v;
	r->has_priority = bc_kernel_read_optional(t, thread, "_KTHREAD", "Priority", &v);
	r->priority = (int8_t)v;
	r->has_base_priority = bc_kernel_read_optional(t, thread, "_KTHREAD", "BasePriority", &v);
	r->base_priority = (int8_t)v;
	r->has_win32_start = bc_kernel_read_optional(t, thread, "_ETHREAD", "Win32StartAddress", &r->win32_start);
	if (r->state == KTHREAD_STATE_WAITING)
		read_wait(t, thread, r);
	struct bc_process_info p;
	if (r->has_process && !(err = bc_target_process_info(t, r->process, &p)) && p.has_image) {
		memcpy(r->image, p.image, sizeof(r->image));
		r->has_image = true;
	} else if (r->has_process) {
		bc_error_destroy(err);
	}
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
