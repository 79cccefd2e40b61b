// Processors (bugcheck/kobj.h: bc_target_prcb, bc_target_processor_context)
// over synthetic multiprocessor dumps of every machine, whose writer
// (tests/fixtures/gen) records where it put each KPRCB (through
// nt!KiProcessorBlock), and the program counter each frozen processor's
// CONTEXT holds. A small memory dump has no other processor's KPRCB and
// must say so, as "not in this dump", not as a read error.
#include <stdlib.h>
#include <string.h>

#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "test.h"

static uint64_t pc_of(const struct bc_context *c)
{
	switch (c->machine) {
	case BC_MACHINE_X64: return c->x64.rip;
	case BC_MACHINE_X86: return (uint64_t)(int64_t)(int32_t)c->x86.eip;
	case BC_MACHINE_ARM64: return c->arm64.pc;
	default: return 0;
	}
}

static void check_machine(enum bc_fixture_machine machine, enum bc_fixture_format format)
{
	struct bc_fixture_spec spec = { .format = format, .machine = machine };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	uint8_t *bytes = NULL;
	size_t size;
	struct bc_target *t = NULL;
	REQUIRE(ex != NULL);
	REQUIRE_OK(bc_fixture_build(&spec, ex, &bytes, &size));
	REQUIRE_OK(bc_target_open_memory(bytes, size, "processors.dmp", &t));
	REQUIRE(ex->processors > 1);
	// Which processor bug-checked: the one whose saved registers are the dump's.
	CHECK_EQ(bc_target_current_processor(t), ex->current_processor);
	uint64_t current = ex->thread[ex->current_processor];
	CHECK_EQ(bc_target_current_thread(t),
		 ex->pointer_size == 4 ? (uint64_t)(int64_t)(int32_t)current : current);
	for (uint32_t i = 0; i < ex->processors; i++) {
		uint64_t prcb;
		REQUIRE_OK(bc_target_prcb(t, i, &prcb));
		uint64_t want = ex->prcb[i];
		if (ex->pointer_size == 4)
			want = (uint64_t)(int64_t)(int32_t)want;
		CHECK_EQ(prcb, want);
		struct bc_context c;
		REQUIRE_OK(bc_target_processor_context(t, i, &c));
		uint64_t pc = ex->cpu_pc[i];
		if (ex->pointer_size == 4)
			pc = (uint64_t)(int64_t)(int32_t)pc;
		CHECK_EQ(pc_of(&c), pc);
		uint64_t thread;
		REQUIRE_OK(bc_kernel_read_field(t, prcb, "_KPRCB", "CurrentThread", &thread));
		want = ex->thread[i];
		if (ex->pointer_size == 4)
			want = (uint64_t)(int64_t)(int32_t)want;
		CHECK_EQ(thread, want);
	}
	uint64_t prcb;
	struct bc_error *err = bc_target_prcb(t, ex->processors, &prcb);
	REQUIRE(err != NULL);
	CHECK_EQ(err->code, BC_ERR_INVALID_ARG);
	bc_error_destroy(err);
	bc_target_close(t);
	free(bytes);
	free(ex);
}

TEST(x64_processors_and_their_frozen_contexts)
{
	check_machine(BC_FIXTURE_X64, BC_FIXTURE_BITMAP_KERNEL);
	check_machine(BC_FIXTURE_X64, BC_FIXTURE_FULL);
}

TEST(x86_processors_and_their_frozen_contexts)
{
	check_machine(BC_FIXTURE_X86_PAE, BC_FIXTURE_BITMAP_KERNEL);
	check_machine(BC_FIXTURE_X86, BC_FIXTURE_FULL);
}

TEST(arm64_processors_and_their_frozen_contexts)
{
	check_machine(BC_FIXTURE_ARM64, BC_FIXTURE_RDMP_KERNEL);
}

TEST(small_memory_dumps_have_only_the_current_processor)
{
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_TRIAGE, .machine = BC_FIXTURE_X64 };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	uint8_t *bytes = NULL;
	size_t size;
	struct bc_target *t = NULL;
	REQUIRE(ex != NULL);
	REQUIRE_OK(bc_fixture_build(&spec, ex, &bytes, &size));
	REQUIRE_OK(bc_target_open_memory(bytes, size, "triage.dmp", &t));
	uint32_t other = ex->current_processor == 0 ? 1 : 0;
	struct bc_context c;
	struct bc_error *err = bc_target_processor_context(t, other, &c);
	REQUIRE(err != NULL);
	CHECK_EQ(err->code, BC_ERR_FAULT);
	CHECK_EQ(err->fault, BC_FAULT_NOT_IN_DUMP);
	CHECK_CONTAINS(err->message, "not in this dump (small memory dump)");
	bc_error_destroy(err);
	// The current processor's registers are the dump's own.
	REQUIRE_OK(bc_target_processor_context(t, ex->current_processor, &c));
	CHECK_EQ(pc_of(&c), pc_of(bc_target_context(t)));
	bc_target_close(t);
	free(bytes);
	free(ex);
}

TEST_MAIN()
