// !vm's counters (bugcheck/kobj.h). Windows 10 keeps them in the system
// partition, nt!MiSystemPartition (_MI_PARTITION: Vp is the visible part,
// Commit the commitment), and writes zeros in KDDEBUGGER_DATA64's Mm*
// fields; older kernels keep them in the variables those fields point at.
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/kobj.h"
#include "bugcheck/symbols.h"
#include "target_private.h"

static const char *const labels[BC_VM_COUNTERS] = {
	"Physical Memory", "Available Pages", "ResAvail Pages", "Modified Pages",
	"Committed pages", "Commit limit", "Peak Commitment",
};

// _MI_PARTITION paths, in enum bc_vm_counter's order.
static const char *const partition_paths[BC_VM_COUNTERS] = {
	"Vp.NumberOfPhysicalPages", "Vp.AvailablePages", "Vp.ResidentAvailablePages",
	"Vp.ModifiedPageListHead.Total", "Vp.TotalCommittedPages", "Vp.TotalCommitLimit",
	"Commit.PeakCommitment",
};

// KDDEBUGGER_DATA64 offsets of the variables' addresses (KERNEL_DUMP_FORMAT.md
// 4.2); the modified list head is an _MMPFNLIST whose first field is Total.
// No field names the peak commitment.
static const uint32_t kdbg_offsets[BC_VM_COUNTERS] = {
	0xf8, 0x1a8, 0x1b0, 0x198, 0x150, 0x148, 0,
};

BC_PUBLIC const char *bc_vm_counter_label(enum bc_vm_counter c)
{
	return (unsigned)c < BC_VM_COUNTERS ? labels[c] : "?";
}

static void unknown(struct bc_vm_info *r, int i, struct bc_error *err, const char *what)
{
	r->known[i] = false;
	snprintf(r->why[i], sizeof(r->why[i]), "%s", err ? err->message : what);
	bc_error_destroy(err);
}

static bool from_partition(struct bc_target *t, struct bc_vm_info *r)
{
	uint64_t partition;
	struct bc_kfield f;
	struct bc_error *err = bc_target_resolve_symbol(t, "nt!MiSystemPartition", &partition);
	if (!err)
		err = bc_kernel_field(t, "_MI_PARTITION", "Vp.NumberOfPhysicalPages", &f);
	if (err) {
		bc_error_destroy(err);
		return false;
	}
	r->source = "nt!MiSystemPartition";
	for (int i = 0; i < BC_VM_COUNTERS; i++) {
		err = bc_kernel_read_field(t, partition, "_MI_PARTITION", partition_paths[i],
					   &r->pages[i]);
		r->known[i] = !err;
		if (err)
			unknown(r, i, err, "");
	}
	return true;
}

static bool from_kdbg(struct bc_target *t, struct bc_vm_info *r)
{
	const struct bc_kdbg *k = &t->kdbg;
	unsigned ps = t->info.pointer_size;
	if (!k->present || k->raw_size < 0x1b8)
		return false;
	bool any = false;
	for (int i = 0; i < BC_VM_COUNTERS; i++)
		any |= kdbg_offsets[i] && bc_le64(k->raw + kdbg_offsets[i]) != 0;
	if (!any)
		return false;
	r->source = "KDDEBUGGER_DATA64";
	for (int i = 0; i < BC_VM_COUNTERS; i++) {
		uint64_t at = kdbg_offsets[i] ? bc_le64(k->raw + kdbg_offsets[i]) : 0;
		if (!at) {
			unknown(r, i, NULL, "KDDEBUGGER_DATA64 does not say where it is");
			continue;
		}
		uint8_t b[8] = { 0 };
		struct bc_error *err = bc_target_read(t, at, b, ps);
		if (err) {
			unknown(r, i, err, "");
			continue;
		}
		r->pages[i] = ps == 8 ? bc_le64(b) : bc_le32(b);
		r->known[i] = true;
	}
	return true;
}

BC_PUBLIC struct bc_error *bc_target_vm(struct bc_target *t, struct bc_vm_info *r)
{
	memset(r, 0, sizeof(*r));
	if (from_partition(t, r) || from_kdbg(t, r))
		return NULL;
	return bc_error_create(BC_ERR_NEEDS_SYMBOLS, "needs symbols for _MI_PARTITION "
			       "(nt!MiSystemPartition): KDDEBUGGER_DATA64 names no memory counters");
}
