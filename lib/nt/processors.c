// Processors of the crashed machine (bugcheck/kobj.h): each one's KPRCB,
// through nt!KiProcessorBlock (KDDEBUGGER_DATA64 gives its address), and the
// registers it stopped with. The bug-checking processor's are the dump's own
// context; the others were frozen by the bug check's IPI, which leaves each
// one's CONTEXT behind KPRCB.Context (Windows 7 and later), else in
// KPRCB.ProcessorState.ContextFrame.
#include <inttypes.h>
#include <stdlib.h>

#include "bugcheck/kobj.h"
#include "bugcheck/stack.h"
#include "target_private.h"

static struct bc_error *not_in_small_dump(struct bc_target *t, struct bc_error *err,
					  const char *what, uint32_t processor)
{
	// A small memory dump keeps only the current processor's KPRCB (a copy
	// at no known address): the others are absent, not unreadable.
	if (t->info.format == BC_DUMP_TRIAGE && err->code == BC_ERR_FAULT) {
		struct bc_error *e = bc_error_fault(err->address, BC_FAULT_NOT_IN_DUMP,
						    "%s of processor %" PRIu32 ": not in this dump "
						    "(small memory dump)", what, processor);
		bc_error_destroy(err);
		return e;
	}
	return err;
}

BC_PUBLIC struct bc_error *bc_target_prcb(struct bc_target *t, uint32_t processor,
					  uint64_t *ret)
{
	if (processor >= t->info.processors)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "processor %" PRIu32 ": the machine had %" PRIu32, processor,
				       t->info.processors);
	uint64_t block = t->kdbg.present ? t->kdbg.ki_processor_block : 0;
	if (!block)
		return bc_error_create(BC_ERR_NOT_FOUND,
				       "the dump does not say where nt!KiProcessorBlock is");
	unsigned ps = t->info.pointer_size;
	struct bc_error *err = bc_target_read_pointer(t, block + (uint64_t)processor * ps, ret);
	if (err)
		return not_in_small_dump(t, err, "the KPRCB", processor);
	if (!*ret)
		return bc_error_create(BC_ERR_NOT_FOUND,
				       "nt!KiProcessorBlock has no KPRCB for processor %" PRIu32,
				       processor);
	return NULL;
}

static struct bc_error *read_context(struct bc_target *t, uint64_t address,
				     struct bc_context *ret)
{
	enum bc_machine machine = t->info.machine;
	size_t size = bc_context_raw_size(machine);
	uint8_t *raw = size ? malloc(size) : NULL;
	if (!raw)
		return size ? &bc_enomem
			    : bc_error_create(BC_ERR_UNSUPPORTED, "no CONTEXT layout for %s",
					      bc_machine_name(machine));
	struct bc_error *err = bc_target_read(t, address, raw, size);
	if (!err)
		err = bc_context_decode(machine, raw, size, ret);
	free(raw);
	return err;
}

BC_PUBLIC struct bc_error *bc_target_processor_context(struct bc_target *t, uint32_t processor,
						       struct bc_context *ret)
{
	const struct bc_context *own = bc_target_context(t);
	if (processor == t->current_processor && own) {
		*ret = *own;
		return NULL;
	}
	uint64_t prcb;
	struct bc_error *err = bc_target_prcb(t, processor, &prcb);
	if (err)
		return err;
	uint64_t pointer;
	err = bc_kernel_read_field(t, prcb, "_KPRCB", "Context", &pointer);
	if (!err && pointer)
		return read_context(t, pointer, ret);
	bc_error_destroy(err);
	struct bc_kfield frame;
	err = bc_kernel_field(t, "_KPRCB", "ProcessorState.ContextFrame", &frame);
	if (err)
		return err;
	err = read_context(t, prcb + frame.offset, ret);
	return err ? not_in_small_dump(t, err, "the saved registers", processor) : NULL;
}

enum { MAX_PROCESSORS_SEARCHED = 1024 };

static bool same_place(const struct bc_context *a, const struct bc_context *b)
{
	return a->machine == b->machine && bc_context_pc(a) == bc_context_pc(b) &&
	       bc_context_sp(a) == bc_context_sp(b);
}

void bc_nt_find_current_processor(struct bc_target *t)
{
	const struct bc_kdbg *kd = &t->kdbg;
	if (!t->has_context || !kd->present || !kd->ki_processor_block || !kd->offset_prcb_context)
		return;
	uint32_t count = t->info.processors < MAX_PROCESSORS_SEARCHED ? t->info.processors
								      : MAX_PROCESSORS_SEARCHED;
	unsigned ps = t->info.pointer_size;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t prcb, pointer;
		struct bc_context c;
		struct bc_error *err =
			bc_target_read_pointer(t, kd->ki_processor_block + (uint64_t)i * ps, &prcb);
		if (!err)
			err = bc_target_read_pointer(t, prcb + kd->offset_prcb_context, &pointer);
		if (!err)
			err = read_context(t, pointer, &c);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		if (!same_place(&c, &t->context))
			continue;
		t->current_processor = i;
		uint64_t thread;
		if (kd->offset_prcb_current_thread &&
		    !(err = bc_target_read_pointer(t, prcb + kd->offset_prcb_current_thread, &thread))) {
			t->current_thread = thread;
			uint64_t process;
			if (kd->offset_kthread_apc_process &&
			    !(err = bc_target_read_pointer(t, thread + kd->offset_kthread_apc_process,
							   &process)))
				t->current_process = process;
		}
		bc_error_destroy(err);
		return;
	}
}

BC_PUBLIC const char *bc_ipi_frozen_name(uint32_t value)
{
	// KPRCB.IpiFrozen's freeze state (the low bits; 0x20 is FreezeActive):
	// RUNNING, TARGET_FREEZE, TARGET_FROZEN, TARGET_THAW, FREEZE_OWNER.
	static const char *const names[] = { "Running", "Freeze Pending", "Frozen", "Thaw",
					     "Owner" };
	uint32_t state = value & 0x1f;
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}
