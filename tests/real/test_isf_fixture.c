// Synthetic multiprocessor dumps built from the real structure layouts of an
// ISF table (issue 5): the writer (tests/fixtures/gen, spec.isf_table) puts
// the kernel globals KDDEBUGGER_DATA64 names at the table's RVAs and lays out
// KPRCB, KTHREAD and EPROCESS at the table's offsets, recording every value.
// The reader must identify exactly that table among the 213 x64 kernels of
// ../shared/symbols/isf and read each value back by field name.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/isf.h"
#include "mkdump.h"
#include "test.h"

static char shared[4096];
static const char *TABLE_ID = "5278AFF86C341677D7D7835C85B7B844-1";

static bool have_shared(void)
{
	char probe[200];
	snprintf(probe, sizeof(probe), "symbols/isf/ntkrnlmp.pdb/%s.json.xz", TABLE_ID);
	return bc_test_find_shared(shared, sizeof(shared), probe);
}

#define NEED_SHARED()                                                                   \
	do {                                                                            \
		if (!have_shared())                                                     \
			SKIP("skipped: ../shared/symbols/isf/ntkrnlmp.pdb not found"); \
	} while (0)

static char *cache_dir(void)
{
	static char dir[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/bugcheck-test-isf-index", tmp && *tmp ? tmp : "/tmp");
	return dir;
}

static uint64_t read_field(struct bc_target *t, uint64_t object, const char *type,
			   const char *path)
{
	uint64_t v = 0xdeadbeefdeadbeefull;
	struct bc_error *err = bc_kernel_read_field(t, object, type, path, &v);
	if (err) {
		TEST_FAIL_AT("%s.%s at %#llx: %s", type, path, (unsigned long long)object,
			     err->message);
		bc_error_destroy(err);
	}
	return v;
}

TEST(eight_processor_dump_from_an_isf_table)
{
	NEED_SHARED();
	char table[4300], isf[4200];
	snprintf(isf, sizeof(isf), "%s/symbols/isf", shared);
	snprintf(table, sizeof(table), "%s/ntkrnlmp.pdb/%s.json.xz", isf, TABLE_ID);
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL,
					.machine = BC_FIXTURE_X64,
					.processors = 8,
					.isf_table = table };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex != NULL);
	uint8_t *bytes = NULL;
	size_t size = 0;
	struct bc_target *t = NULL;
	REQUIRE_OK(bc_fixture_build(&spec, ex, &bytes, &size));
	REQUIRE(ex->isf);
	REQUIRE_EQ(ex->processors, 8);
	CHECK(ex->isf_kdbg_symbols >= 20);  // 31 for this table: the rest are not public
	REQUIRE_OK(bc_target_open_memory(bytes, size, "isf-fixture.dmp", &t));

	// Identified as exactly this table, by the KDBG addresses alone.
	struct bc_kernel_match match;
	REQUIRE_OK(bc_kernel_identify(t, isf, cache_dir(), &match));
	fprintf(stderr, "# %s\n", match.explanation);
	REQUIRE(match.path != NULL);
	CHECK(strstr(match.path, TABLE_ID) != NULL);
	CHECK_EQ(match.fields_agreed, match.fields_checked);
	CHECK_EQ(match.fields_agreed, ex->isf_kdbg_symbols);
	bc_kernel_match_free(&match);

	struct bc_symbol_options opt = { .symbol_path = isf, .cache_dir = cache_dir() };
	REQUIRE_OK(bc_target_set_symbol_options(t, &opt));
	const struct bc_module_symbols *ms = bc_target_module_symbols(t, 0);
	CHECK_EQ(ms->state, BC_SYMBOLS_ISF);
	CHECK(ms->symbol_file && strstr(ms->symbol_file, TABLE_ID));

	// Layouts come from the table's types, at the table's offsets.
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_KPRCB", "CurrentThread", &f));
	CHECK_EQ(f.source, BC_LAYOUT_TYPES);
	CHECK_EQ(f.offset, ex->offset_prcb_current_thread);
	CHECK_EQ(f.size, 8);
	CHECK(f.is_pointer);
	REQUIRE_OK(bc_kernel_field(t, "_KTHREAD", "ApcState.Process", &f));
	CHECK_EQ(f.source, BC_LAYOUT_TYPES);
	CHECK_EQ(f.offset, ex->offset_kthread_apc_process);

	// Every field the writer wrote, at the offset it used.
	REQUIRE(ex->field_count > 8 * 10);
	for (size_t i = 0; i < ex->field_count; i++) {
		const struct bc_fixture_field *w = &ex->fields[i];
		REQUIRE_OK(bc_kernel_field(t, w->type, w->path, &f));
		CHECK_EQ(f.source, BC_LAYOUT_TYPES);
		CHECK_EQ(f.offset, w->offset);
		CHECK_EQ(f.size, w->size);
		CHECK_EQ(read_field(t, w->object, w->type, w->path), w->value);
	}

	// Per processor, by name, against the writer's own records.
	CHECK_EQ(bc_target_current_processor(t), ex->current_processor);
	for (uint32_t i = 0; i < ex->processors; i++) {
		uint64_t prcb;
		REQUIRE_OK(bc_target_prcb(t, i, &prcb));
		CHECK_EQ(prcb, ex->prcb[i]);
		struct bc_context c;
		REQUIRE_OK(bc_target_processor_context(t, i, &c));
		CHECK_EQ(c.x64.rip, ex->cpu_pc[i]);
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "CurrentThread"), ex->thread[i]);
		REQUIRE(ex->kpcr[i] != 0);  // this table's _KPCR embeds the KPRCB
		CHECK_EQ(read_field(t, ex->kpcr[i], "_KPCR", "Self"), ex->kpcr[i]);
		CHECK_EQ(read_field(t, ex->kpcr[i], "_KPCR", "CurrentPrcb"), prcb);
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "NextThread"), 0);
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "IdleThread"), ex->idle_thread[i]);
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "Number"), i);
		CHECK_EQ(read_field(t, prcb, "_KPRCB", "DebuggerSavedIRQL"), ex->saved_irql[i]);
		if (ex->has_ipi_frozen)
			CHECK_EQ(read_field(t, prcb, "_KPRCB", "IpiFrozen"), ex->ipi_frozen[i]);
		uint64_t thread = ex->thread[i];
		CHECK_EQ(read_field(t, thread, "_KTHREAD", "State"), ex->thread_state[i]);
		CHECK_EQ(read_field(t, thread, "_KTHREAD", "ApcState.Process"), ex->process);
		CHECK_EQ(read_field(t, thread, "_KTHREAD", "KernelStack"), ex->kernel_stack[i]);
		CHECK_EQ(read_field(t, thread, "_KTHREAD", "StackBase"), ex->stack_base[i]);
		CHECK_EQ(read_field(t, thread, "_KTHREAD", "StackLimit"), ex->stack_limit[i]);
		CHECK_EQ(read_field(t, ex->idle_thread[i], "_KTHREAD", "State"), ex->idle_state);
	}
	CHECK(ex->has_ipi_frozen);  // this table has _KPRCB.IpiFrozen
	CHECK_EQ(read_field(t, ex->process, "_EPROCESS", "UniqueProcessId"), ex->process_id);
	CHECK_EQ(ex->process_id, 4);
	bc_target_close(t);
	free(bytes);
	free(ex);
}

// Without symbols the reader falls back on KDDEBUGGER_DATA64's offset
// fields, which the writer filled from the same table: same offsets.
TEST(kdbg_offsets_of_an_isf_dump_are_the_tables)
{
	NEED_SHARED();
	char table[4300];
	snprintf(table, sizeof(table), "%s/symbols/isf/ntkrnlmp.pdb/%s.json.xz", shared, TABLE_ID);
	struct bc_fixture_spec spec = { .processors = 4, .isf_table = table };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex != NULL);
	uint8_t *bytes = NULL;
	size_t size = 0;
	struct bc_target *t = NULL;
	REQUIRE_OK(bc_fixture_build(&spec, ex, &bytes, &size));
	REQUIRE_OK(bc_target_open_memory(bytes, size, "isf-fixture-kdbg.dmp", &t));
	static const struct {
		const char *type, *path;
	} via_kdbg[] = {
		{ "_KPRCB", "CurrentThread" }, { "_KPRCB", "Number" },
		{ "_KPRCB", "Context" },       { "_KTHREAD", "ApcState.Process" },
		{ "_KTHREAD", "State" },       { "_KTHREAD", "KernelStack" },
		{ "_KTHREAD", "InitialStack" }, { "_KPCR", "Self" },
		{ "_KPCR", "CurrentPrcb" },
	};
	size_t matched = 0;
	for (size_t i = 0; i < sizeof(via_kdbg) / sizeof(via_kdbg[0]); i++) {
		struct bc_kfield f;
		REQUIRE_OK(bc_kernel_field(t, via_kdbg[i].type, via_kdbg[i].path, &f));
		CHECK_EQ(f.source, BC_LAYOUT_KDBG);
		for (size_t k = 0; k < ex->field_count; k++) {
			if (strcmp(ex->fields[k].type, via_kdbg[i].type) ||
			    strcmp(ex->fields[k].path, via_kdbg[i].path))
				continue;
			CHECK_EQ(f.offset, ex->fields[k].offset);
			matched++;
			break;
		}
	}
	CHECK_EQ(matched, sizeof(via_kdbg) / sizeof(via_kdbg[0]));
	uint64_t prcb, thread;
	REQUIRE_OK(bc_target_prcb(t, 2, &prcb));
	CHECK_EQ(prcb, ex->prcb[2]);
	REQUIRE_OK(bc_kernel_read_field(t, prcb, "_KPRCB", "CurrentThread", &thread));
	CHECK_EQ(thread, ex->thread[2]);
	bc_target_close(t);
	free(bytes);
	free(ex);
}

// Some kernels' tables give every KDDEBUGGER_DATA64 variable the same RVA
// (03A098BC... and D23E3DA5... here): the addresses alone cannot tell them
// apart. With nt's CodeView record (spec.isf_codeview) the reader takes the
// table by GUID and age, exactly this one.
TEST(codeview_record_names_the_exact_table)
{
	NEED_SHARED();
	static const char *twin = "03A098BC85D047028437D88E4C8BBC6B-1";
	char table[4300], isf[4200];
	snprintf(isf, sizeof(isf), "%s/symbols/isf", shared);
	snprintf(table, sizeof(table), "%s/ntkrnlmp.pdb/%s.json.xz", isf, twin);
	struct stat st;
	if (stat(table, &st))
		SKIP("skipped: ../shared/symbols/isf/ntkrnlmp.pdb/03A098BC... not found");
	struct bc_fixture_spec spec = { .processors = 2, .isf_table = table,
					.isf_codeview = true };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex != NULL);
	uint8_t *bytes = NULL;
	size_t size = 0;
	struct bc_target *t = NULL;
	REQUIRE_OK(bc_fixture_build(&spec, ex, &bytes, &size));
	CHECK(ex->isf_codeview);
	REQUIRE_OK(bc_target_open_memory(bytes, size, "isf-fixture-cv.dmp", &t));
	struct bc_kernel_match match;
	REQUIRE_OK(bc_kernel_identify(t, isf, cache_dir(), &match));
	REQUIRE(match.path != NULL);
	CHECK_EQ(match.fields_agreed, match.fields_checked);  // this table or its twin
	bc_kernel_match_free(&match);
	struct bc_symbol_options opt = { .symbol_path = isf, .cache_dir = cache_dir() };
	REQUIRE_OK(bc_target_set_symbol_options(t, &opt));
	const struct bc_module_symbols *ms = bc_target_module_symbols(t, 0);
	CHECK_EQ(ms->state, BC_SYMBOLS_ISF);
	CHECK(ms->symbol_file && strstr(ms->symbol_file, twin));
	CHECK(ms->has_identity);
	uint64_t prcb, thread;
	REQUIRE_OK(bc_target_prcb(t, 1, &prcb));
	CHECK_EQ(prcb, ex->prcb[1]);
	REQUIRE_OK(bc_kernel_read_field(t, prcb, "_KPRCB", "IdleThread", &thread));
	CHECK_EQ(thread, ex->idle_thread[1]);
	bc_target_close(t);
	free(bytes);
	free(ex);
}

// A malformed or unsuitable table is a clear error, not a crash.
TEST(unusable_isf_tables_are_refused)
{
	static const char *const bad[] = {
		"not json at all",
		"{\"symbols\": {}, \"user_types\": {}, \"base_types\": {}}",
		"{\"symbols\": {\"KiProcessorBlock\": {\"address\": -1}}, \"user_types\": [], "
		"\"base_types\": {}}",
		"{\"metadata\": {\"windows\": {\"pdb\": {\"machine_type\": 332}}}, \"symbols\": {}, "
		"\"user_types\": {}, \"base_types\": {}}",
	};
	char path[4200];
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/bc-bad-isf-%d.json", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		REQUIRE(f);
		fputs(bad[i], f);
		fclose(f);
		struct bc_fixture_spec spec = { .isf_table = path };
		uint8_t *bytes = NULL;
		size_t size;
		struct bc_error *err = bc_fixture_build(&spec, NULL, &bytes, &size);
		CHECK(err != NULL);
		if (err) {
			fprintf(stderr, "# %s\n", err->message);
			bc_error_destroy(err);
		}
		free(bytes);
	}
	struct bc_fixture_spec missing = { .isf_table = "/nonexistent/table.json.xz" };
	uint8_t *bytes = NULL;
	size_t size;
	struct bc_error *err = bc_fixture_build(&missing, NULL, &bytes, &size);
	CHECK(err != NULL);
	bc_error_destroy(err);
	remove(path);
}

TEST_MAIN()
