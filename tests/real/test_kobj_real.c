// Kernel structures read by name and field (bugcheck/kobj.h) over real small
// memory dumps, checked against sources independent of each other and of us:
//
// - WinDbg's `!thread` beside eolaruhagen's dump (no ISF table matches that
//   kernel, so every field there comes from KDDEBUGGER_DATA64's offsets);
// - for the dumps whose kernel has an ISF table, the table's layout (from
//   Microsoft's PDB, through Volatility) against the offsets and sizes the
//   kernel itself wrote into its KDDEBUGGER_DATA64 block, byte by byte;
// - facts rizin's stack states: rizintb's failing thread is a system worker
//   thread (ExpWorkerThread <- PspSystemThreadStartup), so its process is
//   System, PID 4, and KTHREAD.SystemThread is set; a bug-checking thread is
//   Running (KTHREAD.State 2).
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "dumps/kernel");
}

#define NEED_SHARED()                                                     \
	do {                                                              \
		if (!have_shared())                                       \
			SKIP("skipped: ../shared/dumps not found");       \
	} while (0)

static char *cache_dir(void)
{
	// Shared with test_isf_real: the identification index is built once per machine.
	static char dir[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/bugcheck-test-isf-index", tmp && *tmp ? tmp : "/tmp");
	return dir;
}

static struct bc_target *open_dump(const char *name, bool with_isf)
{
	char path[4300], isf[4200];
	snprintf(path, sizeof(path), "%s/dumps/kernel/%s", shared, name);
	snprintf(isf, sizeof(isf), "%s/symbols/isf", shared);
	struct bc_target *t = NULL;
	struct bc_error *err = bc_target_open(path, &t);
	if (err) {
		fprintf(stderr, "# %s: %s\n", name, err->message);
		bc_error_destroy(err);
		return NULL;
	}
	struct bc_symbol_options opt = { .symbol_path = with_isf ? isf : "",
					 .cache_dir = cache_dir() };
	err = bc_target_set_symbol_options(t, &opt);
	if (err) {
		fprintf(stderr, "# %s: %s\n", name, err->message);
		bc_error_destroy(err);
	}
	return t;
}

static uint64_t read_field(struct bc_target *t, uint64_t object, const char *type,
			   const char *path)
{
	uint64_t v = 0xbadbadbadull;
	struct bc_error *err = bc_kernel_read_field(t, object, type, path, &v);
	if (err) {
		fprintf(stderr, "# %s.%s: %s\n", type, path, err->message);
		bc_error_destroy(err);
	}
	return v;
}

// `!thread` in eolaruhagen__083125-14875-01.dmp.windbg-thread.txt:
//   THREAD ffffd20bfc13c080 ... Owning Process ffffd20bfc53e080
//   Stack Init ffffa704eeb6bfd0 Current ffffa704eec5a2d0
//   Base ffffa704eeb6c000 Limit ffffa704eeb66000
TEST(without_types_kdbg_offsets_give_what_windbg_showed)
{
	NEED_SHARED();
	struct bc_target *t = open_dump("eolaruhagen__083125-14875-01.dmp", false);
	REQUIRE(t != NULL);
	uint64_t thread = bc_target_current_thread(t);
	CHECK_EQ(thread, 0xffffd20bfc13c080ull);
	CHECK_EQ(bc_target_current_process(t), 0xffffd20bfc53e080ull);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "InitialStack"), 0xffffa704eeb6bfd0ull);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "KernelStack"), 0xffffa704eec5a2d0ull);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "StackBase"), 0xffffa704eeb6c000ull);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "StackLimit"), 0xffffa704eeb66000ull);
	CHECK_EQ(read_field(t, thread, "_ETHREAD", "Tcb.ApcState.Process"), 0xffffd20bfc53e080ull);
	// "RUNNING on processor 0".
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "State"), 2);
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_KTHREAD", "KernelStack", &f));
	CHECK_EQ(f.source, BC_LAYOUT_KDBG);
	CHECK(f.is_pointer);
	CHECK_EQ(f.size, 8);

	// Cid is not among KDDEBUGGER_DATA64's offsets: no guess, a plain request for symbols.
	struct bc_error *err = bc_kernel_field(t, "_ETHREAD", "Cid", &f);
	REQUIRE(err != NULL);
	CHECK_EQ(err->code, BC_ERR_NEEDS_SYMBOLS);
	CHECK_CONTAINS(err->message, "needs symbols for _ETHREAD.Cid");
	bc_error_destroy(err);
	uint64_t size;
	err = bc_kernel_type_size(t, "_KIPI_COUNTS", &size, NULL);
	REQUIRE(err != NULL);
	CHECK_EQ(err->code, BC_ERR_NEEDS_SYMBOLS);
	bc_error_destroy(err);
	bc_target_close(t);
}

// KDDEBUGGER_DATA64 positions of offsets and sizes (KERNEL_DUMP_FORMAT.md),
// read here from the block's bytes, and the table's name for each.
static const struct {
	const char *type, *path;
	uint16_t at;
	uint8_t width;
} kdbg_offsets[] = {
	{ "_KTHREAD", "NextProcessor", 0x298, 2 },   { "_KTHREAD", "Teb", 0x29a, 2 },
	{ "_KTHREAD", "KernelStack", 0x29c, 2 },     { "_KTHREAD", "InitialStack", 0x29e, 2 },
	{ "_KTHREAD", "ApcState.Process", 0x2a0, 2 }, { "_KTHREAD", "State", 0x2a2, 2 },
	{ "_EPROCESS", "Peb", 0x2aa, 2 },
	{ "_EPROCESS", "InheritedFromUniqueProcessId", 0x2ac, 2 },
	{ "_EPROCESS", "Pcb.DirectoryTableBase", 0x2ae, 2 },
	{ "_KPRCB", "CurrentThread", 0x2b4, 2 },     { "_KPRCB", "MHz", 0x2b6, 2 },
	{ "_KPRCB", "CpuType", 0x2b8, 2 },           { "_KPRCB", "VendorString", 0x2ba, 2 },
	{ "_KPRCB", "ProcessorState.ContextFrame", 0x2bc, 2 },
	{ "_KPRCB", "Number", 0x2be, 2 },            { "_KPCR", "Self", 0x2e2, 2 },
	{ "_KPCR", "CurrentPrcb", 0x2e4, 2 },        { "_KPRCB", "Context", 0x338, 2 },
	{ "_KTHREAD", "StackLimit", 0x340, 4 },      { "_KTHREAD", "StackBase", 0x344, 4 },
	{ "_KTHREAD", "QueueListEntry", 0x348, 4 },  { "_ETHREAD", "IrpList", 0x34c, 4 },
	{ "_KPRCB", "IdleThread", 0x350, 2 },        { "_KPRCB", "DpcStack", 0x354, 2 },
	{ "_KPRCB", "IsrStack", 0x356, 2 },          { "_KTHREAD", "WaitReason", 0x35c, 2 },
};

static const struct {
	const char *type;
	uint16_t at;
} kdbg_sizes[] = {
	{ "_EPROCESS", 0x2a8 }, { "_KPRCB", 0x2b0 }, { "_ETHREAD", 0x2c0 }, { "_KPCR", 0x2e0 },
};

static void check_types_match_kdbg(const char *dump)
{
	struct bc_target *t = open_dump(dump, true);
	REQUIRE(t != NULL);
	const struct bc_kdbg *kd = bc_target_kdbg(t);
	REQUIRE(kd->present);
	REQUIRE(kd->raw_size >= 0x360);
	size_t checked = 0;
	for (size_t i = 0; i < sizeof(kdbg_offsets) / sizeof(kdbg_offsets[0]); i++) {
		uint32_t want = kdbg_offsets[i].width == 4 ? bc_le32(kd->raw + kdbg_offsets[i].at)
							   : bc_le16(kd->raw + kdbg_offsets[i].at);
		struct bc_kfield f;
		struct bc_error *err = bc_kernel_field(t, kdbg_offsets[i].type, kdbg_offsets[i].path,
						       &f);
		if (err) {
			fprintf(stderr, "# %s %s.%s: %s\n", dump, kdbg_offsets[i].type,
				kdbg_offsets[i].path, err->message);
			bc_error_destroy(err);
			CHECK(false);
			continue;
		}
		CHECK_EQ(f.source, BC_LAYOUT_TYPES);
		if (f.offset != want)
			fprintf(stderr, "# %s %s.%s: table %#" PRIx64 ", KDDEBUGGER_DATA64 %#x\n", dump,
				kdbg_offsets[i].type, kdbg_offsets[i].path, f.offset, want);
		CHECK_EQ(f.offset, want);
		checked++;
	}
	for (size_t i = 0; i < sizeof(kdbg_sizes) / sizeof(kdbg_sizes[0]); i++) {
		uint64_t size;
		enum bc_layout_source source;
		REQUIRE_OK(bc_kernel_type_size(t, kdbg_sizes[i].type, &size, &source));
		CHECK_EQ(source, BC_LAYOUT_TYPES);
		CHECK_EQ(size, bc_le16(kd->raw + kdbg_sizes[i].at));
	}
	fprintf(stderr, "# %s: %zu offsets and %zu sizes agree\n", dump, checked,
		sizeof(kdbg_sizes) / sizeof(kdbg_sizes[0]));
	CHECK_EQ(checked, sizeof(kdbg_offsets) / sizeof(kdbg_offsets[0]));

	// The bug-checking thread is running, and its process is the one the dump names.
	uint64_t thread = bc_target_current_thread(t);
	REQUIRE(thread != 0);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "State"), 2);
	CHECK_EQ(read_field(t, thread, "_ETHREAD", "Tcb.ApcState.Process"),
		 bc_target_current_process(t));
	bc_target_close(t);
}

TEST(isf_layouts_agree_with_the_kernels_own_offsets)
{
	NEED_SHARED();
	check_types_match_kdbg("ojusha__100623-6156-01.dmp");
	check_types_match_kdbg("rizintb__triage_x64.dmp");
}

// Small memory dumps of Windows 10 carry nt!KiProcessorBlock and every
// KPRCB among their data blocks. The kernel's own data must agree with
// itself: KPRCB number i sits at KiProcessorBlock[i] and says Number == i,
// and the bug-checking processor's KPRCB names as CurrentThread the thread
// whose ETHREAD copy the dump header points at (found through the separate
// KPRCB copy at PrcbOffset). An idle processor runs its idle thread.
static void check_processors(const char *dump)
{
	struct bc_target *t = open_dump(dump, true);
	REQUIRE(t != NULL);
	uint32_t count = bc_target_info(t)->processors, idle = 0;
	REQUIRE(count > 1);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t prcb;
		REQUIRE_OK(bc_target_prcb(t, i, &prcb));
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "Number"), i);
		uint64_t current = read_field(t, prcb, "_KPRCB", "CurrentThread");
		if (i == bc_target_current_processor(t))
			CHECK_EQ(current, bc_target_current_thread(t));
		idle += current == read_field(t, prcb, "_KPRCB", "IdleThread");
	}
	fprintf(stderr, "# %s: %u processors, %u idle\n", dump, count, idle);
	CHECK(idle < count);  // at least the bug-checking processor was busy
	bc_target_close(t);
}

TEST(triage_kprcbs_agree_with_the_dump_header)
{
	NEED_SHARED();
	check_processors("rizintb__triage_x64.dmp");
	check_processors("ojusha__100623-6156-01.dmp");
}

TEST(rizintb_failing_thread_is_a_system_worker_of_the_system_process)
{
	NEED_SHARED();
	struct bc_target *t = open_dump("rizintb__triage_x64.dmp", true);
	REQUIRE(t != NULL);
	uint64_t thread = bc_target_current_thread(t), process = bc_target_current_process(t);
	REQUIRE(thread && process);
	CHECK_EQ(read_field(t, thread, "_KTHREAD", "SystemThread"), 1);  // a bitfield of MiscFlags
	CHECK_EQ(read_field(t, thread, "_ETHREAD", "Cid.UniqueProcess"), 4);
	CHECK_EQ(read_field(t, process, "_EPROCESS", "UniqueProcessId"), 4);
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_EPROCESS", "ImageFileName", &f));
	CHECK_EQ(f.size, 15);
	char name[16] = { 0 };
	REQUIRE_OK(bc_target_read(t, process + f.offset, name, 15));
	CHECK_STR(name, "System");
	// Types that exist but lack the field say so, rather than falling back to a guess.
	struct bc_error *err = bc_kernel_field(t, "_KTHREAD", "NoSuchField", &f);
	REQUIRE(err != NULL);
	CHECK_EQ(err->code, BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	// A path never follows a pointer.
	err = bc_kernel_field(t, "_KTHREAD", "Teb.NtTib", &f);
	REQUIRE(err != NULL);
	CHECK_CONTAINS(err->message, "not a structure");
	bc_error_destroy(err);
	bc_target_close(t);
}

TEST_MAIN()
