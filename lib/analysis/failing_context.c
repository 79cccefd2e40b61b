// The failing context: where !analyze starts the stack it judges.
//
// Bug checks raised for an exception or a trap pass the registers of the
// failure in a parameter: a CONTEXT (0x7E Arg4, 0x3B Arg3, 0x1000007E, ...)
// or a KTRAP_FRAME (0x8E Arg3, 0x139 Arg2, ...). Which parameter holds which
// is data: the knowledge base marks them ptr:CONTEXT and ptr:KTRAP_FRAME
// (data/bugcheck_kb.txt). Otherwise the bug-checking thread's own registers
// are used, and the unwinder crosses the trap frames on its stack (0xD1's
// KiPageFault, 0x7F's KiDoubleFaultAbort).
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_private.h"

// Bug checks with a parameter that is the faulting instruction's address
// (Microsoft's bug check reference), 1-based.
static const struct {
	uint32_t code;
	unsigned param;
} fault_address_params[] = {
	{ 0x0A, 4 }, { 0xD1, 4 }, { 0x50, 3 }, { 0x1E, 2 }, { 0x3B, 2 },
	{ 0x7E, 2 }, { 0x8E, 2 }, { 0xBE, 4 }, { 0xFC, 4 },
};

BC_PUBLIC struct bc_error *bc_target_read_context_record(struct bc_target *target,
							 uint64_t address,
							 struct bc_context *ret)
{
	enum bc_machine machine = bc_target_info(target)->machine;
	size_t size = bc_context_raw_size(machine);
	if (!size)
		return bc_error_create(BC_ERR_UNSUPPORTED, "no CONTEXT layout for %s",
				       bc_machine_name(machine));
	uint8_t *raw = malloc(size);
	if (!raw)
		return &bc_enomem;
	struct bc_error *err = bc_target_read(target, address, raw, size);
	if (!err)
		err = bc_context_decode(machine, raw, size, ret);
	free(raw);
	return err;
}

BC_PUBLIC const char *bc_failure_source_name(enum bc_failure_source source)
{
	switch (source) {
	case BC_FAILURE_THREAD: return "thread";
	case BC_FAILURE_CONTEXT_RECORD: return "context record";
	case BC_FAILURE_TRAP_FRAME: return "trap frame";
	case BC_FAILURE_NONE: break;
	}
	return "none";
}

// The parameter (0-3) the knowledge base marks as a pointer to @pointee, or -1.
static int pointer_param(const struct bc_bugcheck_info *info, const uint64_t *params,
			 const char *pointee)
{
	for (int i = 0; i < 4; i++)
		if (info->args[i].kind == BC_BUGCHECK_ARG_POINTER && info->args[i].pointee &&
		    !strcmp(info->args[i].pointee, pointee) && params[i])
			return i;
	return -1;
}

// Uses the CONTEXT or KTRAP_FRAME in parameter @param; false (with a note) when unreadable.
static bool use_param(struct bc_target *target, struct bc_analysis *a, int param, bool trap)
{
	uint64_t address = a->params[param];
	struct bc_error *err;
	if (trap) {
		struct bc_trap_frame tf;
		err = bc_target_read_trap_frame(target, address, &tf);
		if (!err) {
			a->context = tf.context;
			a->trap_frame = address;
		}
	} else {
		err = bc_target_read_context_record(target, address, &a->context);
	}
	if (err) {
		bc_analysis_note(a, "the %s in Arg%d (%#" PRIx64 ") could not be read (%s); using the "
				 "bug-checking thread's stack", trap ? "trap frame" : "context record",
				 param + 1, address, err->message);
		bc_error_destroy(err);
		return false;
	}
	a->source = trap ? BC_FAILURE_TRAP_FRAME : BC_FAILURE_CONTEXT_RECORD;
	a->source_address = address;
	a->source_param = (unsigned)param + 1;
	a->has_faulting_ip = true;
	a->faulting_ip = bc_context_pc(&a->context);
	return true;
}

void bc_analysis_failing_context(struct bc_target *target,
				 const struct bc_bugcheck_info *meaning,
				 struct bc_analysis *a)
{
	if (meaning) {
		int record = pointer_param(meaning, a->params, "EXCEPTION_RECORD");
		if (record >= 0)
			a->exception_record = a->params[record];
		int context = pointer_param(meaning, a->params, "CONTEXT");
		int trap = pointer_param(meaning, a->params, "KTRAP_FRAME");
		if ((context >= 0 && use_param(target, a, context, false)) ||
		    (trap >= 0 && use_param(target, a, trap, true)))
			return;
	}
	const struct bc_context *ctx = bc_target_context(target);
	if (!ctx) {
		a->source = BC_FAILURE_NONE;
		bc_analysis_note(a, "the dump holds no register context: there is no stack to judge");
	} else {
		a->source = BC_FAILURE_THREAD;
		a->context = *ctx;
	}
	// The faulting instruction a parameter names (the trap frame the walk crosses,
	// when there is one, is read later and takes precedence).
	uint32_t code = bc_analysis_base_code(a->code);
	for (size_t i = 0; i < sizeof(fault_address_params) / sizeof(fault_address_params[0]); i++)
		if (fault_address_params[i].code == code && a->params[fault_address_params[i].param - 1]) {
			a->has_faulting_ip = true;
			a->faulting_ip = a->params[fault_address_params[i].param - 1];
		}
}
