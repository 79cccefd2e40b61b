// Driver Verifier's state (bugcheck/kobj.h, `!verifier`): the flags in
// nt!MmVerifierData.Level (the address KDDEBUGGER_DATA64 carries at 0x248,
// else the symbol), its counters, and the drivers the user chose, on
// nt!VfSuspectDriversList. Everything is optional but the Level.
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/kobj.h"
#include "bugcheck/symbols.h"
#include "target_private.h"

enum { KDBG_MM_VERIFIER_DATA = 0x248 };

static uint64_t verifier_data_address(struct bc_target *t)
{
	const struct bc_kdbg *kd = &t->kdbg;
	if (kd->present && kd->size >= KDBG_MM_VERIFIER_DATA + 8 &&
	    kd->raw_size >= KDBG_MM_VERIFIER_DATA + 8) {
		uint64_t v = bc_le64(kd->raw + KDBG_MM_VERIFIER_DATA);
		if (t->info.pointer_size == 4)
			v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
		if (v)
			return v;
	}
	uint64_t address;
	struct bc_error *err = bc_target_resolve_symbol(t, "nt!MmVerifierData", &address);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	return address;
}

struct driver_walk {
	struct bc_target *t;
	struct bc_verifier_info *info;
	uint64_t name_offset;
};

static bool add_driver(void *arg, uint64_t entry)
{
	struct driver_walk *w = arg;
	struct bc_verifier_info *r = w->info;
	if (r->driver_count >= BC_VERIFIER_MAX_DRIVERS)
		return false;
	// UNICODE_STRING {u16 Length; u16 MaximumLength; pointer Buffer}.
	uint64_t at = entry + w->name_offset, buffer;
	uint8_t len[2];
	char *name = r->drivers[r->driver_count];
	name[0] = 0;
	struct bc_error *err = bc_target_read(w->t, at, len, 2);
	if (!err)
		err = bc_target_read_pointer(w->t, at + (w->t->info.pointer_size == 8 ? 8 : 4),
					     &buffer);
	size_t chars = 0;
	if (!err)
		err = bc_target_read_string(w->t, buffer, true, bc_le16(len) / 2,
					    name, BC_VERIFIER_NAME, &chars);
	if (err) {
		snprintf(name, BC_VERIFIER_NAME, "?");
		bc_error_destroy(err);
	}
	r->driver_count++;
	return true;
}

BC_PUBLIC struct bc_error *bc_target_verifier(struct bc_target *t, struct bc_verifier_info *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t data = verifier_data_address(t);
	if (!data)
		return bc_error_create(BC_ERR_NOT_FOUND,
				       "the dump does not say where nt!MmVerifierData is");
	uint64_t v;
	struct bc_error *err = bc_kernel_read_field(t, data, "_MM_DRIVER_VERIFIER_DATA", "Level",
						    &v);
	if (err)
		return err;
	r->level = (uint32_t)v;
	static const char *const counters[BC_VERIFIER_COUNTERS] = {
		"RaiseIrqls", "AcquireSpinLocks", "SynchronizeExecutions", "Trims",
		"AllocationsAttempted", "AllocationsSucceeded", "AllocationsSucceededSpecialPool",
		"AllocationsWithNoTag", "AllocationsFailed", "AllocationsFailedDeliberately",
	};
	for (int i = 0; i < BC_VERIFIER_COUNTERS; i++) {
		r->counter_names[i] = counters[i];
		err = bc_kernel_read_field(t, data, "_MM_DRIVER_VERIFIER_DATA", counters[i], &v);
		r->has_counter[i] = !err;
		r->counters[i] = err ? 0 : v;
		bc_error_destroy(err);
	}
	uint64_t head;
	struct bc_kfield name, links;
	err = bc_target_resolve_symbol(t, "nt!VfSuspectDriversList", &head);
	if (!err)
		err = bc_kernel_field(t, "_VF_SUSPECT_DRIVER_ENTRY", "BaseName", &name);
	if (!err)
		err = bc_kernel_field(t, "_VF_SUSPECT_DRIVER_ENTRY", "Links", &links);
	if (err) {
		snprintf(r->drivers_note, sizeof(r->drivers_note), "%s", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	r->has_drivers = true;
	struct driver_walk w = { t, r, name.offset };
	err = bc_kernel_list_walk(t, head, links.offset, add_driver, &w, r->drivers_note,
				  sizeof(r->drivers_note));
	if (err) {
		r->has_drivers = false;
		snprintf(r->drivers_note, sizeof(r->drivers_note), "%s", err->message);
		bc_error_destroy(err);
	}
	return NULL;
}
