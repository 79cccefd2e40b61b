// Hostile input: every synthetic dump cut short at many lengths, fields that
// point past the end or claim absurd counts, and files that are not kernel
// dumps. Each must open (with warnings where data is lost) or fail with one
// BC_ERR_FORMAT message naming the problem; nothing may crash or allocate
// without bound. Copies are exactly as long as the input, so ASan (make
// test-asan) sees any read past the end.
#include <stdlib.h>
#include <sys/resource.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "test.h"

// "No huge allocation": outside ASan (which reserves terabytes of shadow
// memory), cap the address space so that an allocation sized from a hostile
// count fails as BC_ERR_NOMEM, which the checks below reject.
#ifndef __SANITIZE_ADDRESS__
__attribute__((constructor)) static void limit_address_space(void)
{
	struct rlimit r = { 1ull << 30, 1ull << 30 };
	setrlimit(RLIMIT_AS, &r);
}
#endif

struct dump {
	struct bc_fixture_expect ex;
	uint8_t *bytes;
	size_t size;
};

static struct dump *build(const struct bc_fixture_spec *spec)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	struct bc_error *err = bc_fixture_build(spec, &d->ex, &d->bytes, &d->size);
	if (err) {
		TEST_FAIL_AT("fixture %s/%s: %s", bc_fixture_format_name(spec->format),
			     bc_fixture_machine_name(spec->machine), err->message);
		bc_error_destroy(err);
		free(d);
		return NULL;
	}
	return d;
}

static void dump_free(struct dump *d)
{
	if (d)
		free(d->bytes);
	free(d);
}

// What a first look at a dump does; must not crash whatever opened.
static void exercise(struct bc_target *t)
{
	const struct bc_dump_info *info = bc_target_info(t);
	uint64_t addrs[] = { info->kernel_base, info->ps_loaded_module_list,
			     info->kd_debugger_data_block, info->bugcheck_parameters[3], 0 };
	const struct bc_context *c = bc_target_context(t);
	if (c)
		addrs[4] = bc_context_sp(c);
	static uint8_t buf[0x2100];
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		uint64_t pa;
		bc_error_destroy(bc_target_read(t, addrs[i], buf, sizeof(buf)));
		bc_error_destroy(bc_target_translate(t, addrs[i], &pa));
	}
	for (size_t i = 0; i < bc_target_module_count(t); i++) {
		const struct bc_module *m = bc_target_module(t, i);
		CHECK(m->name != NULL);
		bc_error_destroy(bc_target_read(t, m->base, buf, 0x40));
	}
	for (size_t i = 0; i < bc_target_warning_count(t); i++)
		CHECK(bc_target_warning(t, i) != NULL);
	bc_error_destroy(bc_target_read_physical(t, 0, buf, 0x1000));
}

// Opens an exact-size copy of @n bytes of @data; returns the open's error.
static struct bc_error *open_copy(const uint8_t *data, size_t n, bool run_reads)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return &bc_enomem;
	memcpy(copy, data, n);
	struct bc_target *t = NULL;
	struct bc_error *err = bc_target_open_memory(copy, n, "hostile", &t);
	if (!err) {
		if (run_reads)
			exercise(t);
		bc_target_close(t);
	}
	free(copy);
	return err;
}

// The open must fail with one FORMAT message containing @words.
static void expect_format_error(const uint8_t *data, size_t n, const char *words)
{
	struct bc_error *err = open_copy(data, n, true);
	if (!err) {
		TEST_FAIL_AT("%zu bytes opened, expected an error with \"%s\"", n, words);
		return;
	}
	if (err->code != BC_ERR_FORMAT || !err->message || !*err->message ||
	    strchr(err->message, '\n') || !strstr(err->message, words))
		TEST_FAIL_AT("%zu bytes: error %d \"%s\", expected a format error with \"%s\"", n,
			     err->code, err->message, words);
	bc_error_destroy(err);
}

static bool has_warning(struct bc_target *t, const char *words)
{
	for (size_t i = 0; i < bc_target_warning_count(t); i++) {
		if (strstr(bc_target_warning(t, i), words))
			return true;
	}
	return false;
}

static void expect_warning(struct bc_target *t, const char *words)
{
	if (has_warning(t, words))
		return;
	TEST_FAIL_AT("no warning with \"%s\"; the %zu warnings:", words, bc_target_warning_count(t));
	for (size_t i = 0; i < bc_target_warning_count(t); i++)
		printf("#     %s\n", bc_target_warning(t, i));
}

static void truncate_one(const struct dump *d, size_t n)
{
	if (n >= d->size)
		return;
	bool triage = d->ex.format == BC_DUMP_TRIAGE;
	// A small memory dump may lose its secondary data; any other cut is fatal.
	if (triage && n >= d->ex.size_of_dump) {
		struct bc_error *err = open_copy(d->bytes, n, true);
		if (err) {
			TEST_FAIL_AT("triage cut at %#zx (SizeOfDump %#x): %s", n, d->ex.size_of_dump,
				     err->message);
			bc_error_destroy(err);
		}
		return;
	}
	expect_format_error(d->bytes, n, n ? "truncated" : "empty");
}

static void truncations(const struct bc_fixture_spec *spec)
{
	int before = bc_test_state.failures;
	struct dump *d = build(spec);
	if (!d)
		return;
	size_t limit = d->ex.format == BC_DUMP_TRIAGE ? d->size : d->ex.first_page_offset + 0x3000;
	for (size_t n = 0x1000; n <= limit; n += 0x1000) {
		truncate_one(d, n - 1);
		truncate_one(d, n);
		truncate_one(d, n + 1);
	}
	const size_t special[] = { 4, 7, 8, 9, d->ex.header_size + 0x38, d->size / 2,
				   d->size - 0x1000, d->size - 1, d->ex.size_of_dump - 1,
				   d->ex.size_of_dump };
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		truncate_one(d, special[i]);
	if (bc_test_state.failures != before)
		printf("#   ^ in %s/%s\n", bc_fixture_format_name(spec->format),
		       bc_fixture_machine_name(spec->machine));
	dump_free(d);
}

TEST(truncated_everywhere)
{
	for (int f = 1; f < BC_FIXTURE_FORMAT_COUNT; f++) {
		for (int m = 1; m < BC_FIXTURE_MACHINE_COUNT; m++)
			truncations(&(struct bc_fixture_spec){ .format = (enum bc_fixture_format)f,
							       .machine = (enum bc_fixture_machine)m });
	}
	truncations(&(struct bc_fixture_spec){ .encoded_kdbg = true });
	truncations(&(struct bc_fixture_spec){ .la57 = true, .format = BC_FIXTURE_RDMP_COMPLETE });
}

static struct bc_target *open_ok(struct dump *d)
{
	struct bc_target *t = NULL;
	struct bc_error *err = bc_target_open_memory(d->bytes, d->size, "hostile", &t);
	if (err) {
		TEST_FAIL_AT("open: %s", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	exercise(t);
	return t;
}

// --- Full dumps (run list in the header) ---

TEST(full_run_count)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x88, 0x45474150);
	expect_format_error(d->bytes, d->size, "never filled in");
	bc_put_le32(d->bytes + 0x88, 1000);
	expect_format_error(d->bytes, d->size, "1000 physical memory runs");
	bc_put_le32(d->bytes + 0x88, 0);
	expect_format_error(d->bytes, d->size, "0 physical memory runs");
	dump_free(d);
	d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL, .machine = BC_FIXTURE_X86 });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x64, 87);
	expect_format_error(d->bytes, d->size, "87 physical memory runs");
	dump_free(d);
}

TEST(full_run_sizes)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL });
	REQUIRE(d);
	uint8_t *run0 = d->bytes + 0x98, *run1 = d->bytes + 0xa8;
	uint64_t count0 = bc_le64(run0 + 8), base1 = bc_le64(run1);
	bc_put_le64(run0 + 8, UINT64_MAX);
	expect_format_error(d->bytes, d->size, "claims");
	bc_put_le64(run0 + 8, 1ull << 40);
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le64(run0 + 8, count0);
	bc_put_le64(run1, bc_le64(run0));
	expect_format_error(d->bytes, d->size, "overlap");
	bc_put_le64(run1, (1ull << 52) - 1);
	expect_format_error(d->bytes, d->size, "impossibly large");
	bc_put_le64(run1, base1);
	// NumberOfPages disagreeing with the runs is only worth a warning.
	bc_put_le64(d->bytes + 0x90, d->ex.present_pages + 1);
	struct bc_target *t = open_ok(d);
	if (t) {
		expect_warning(t, "adds up");
		bc_target_close(t);
	}
	dump_free(d);
}

// A dump written to a too-small file says so (InsufficientDumpfileSize) and
// keeps what it holds.
TEST(full_insufficient_dump_file)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x1050, 1u << 2);
	size_t cut = d->size / 2 + 0x800;
	uint8_t *copy = malloc(cut);
	REQUIRE(copy);
	memcpy(copy, d->bytes, cut);
	struct bc_target *t;
	struct bc_error *err = bc_target_open_memory(copy, cut, "short", &t);
	if (err) {
		TEST_FAIL_AT("open: %s", err->message);
		bc_error_destroy(err);
	} else {
		expect_warning(t, "too small");
		CHECK_EQ(bc_target_module_count(t), d->ex.module_count);
		CHECK(bc_target_info(t)->present_pages < d->ex.present_pages);
		// The last pages of the 1 GiB mapping were cut off.
		uint64_t last = 0;
		for (size_t i = 0; i < d->ex.mapping_count; i++)
			if (d->ex.mappings[i].pa > d->ex.mappings[last].pa)
				last = i;
		uint8_t b[8];
		err = bc_target_read(t, d->ex.mappings[last].va, b, sizeof(b));
		CHECK(err && err->code == BC_ERR_FAULT && err->fault == BC_FAULT_NOT_IN_DUMP);
		bc_error_destroy(err);
		exercise(t);
		bc_target_close(t);
	}
	free(copy);
	dump_free(d);
}

// --- Bitmap and summary dumps ---

TEST(bitmap_claims)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_BITMAP_FULL });
	REQUIRE(d);
	uint8_t *h = d->bytes + d->ex.header_size;
	uint64_t bits = bc_le64(h + 0x30), first = bc_le64(h + 0x20), present = bc_le64(h + 0x28);
	bc_put_le64(h + 0x30, 1ull << 40);
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le64(h + 0x30, (1ull << 40) + 1);
	expect_format_error(d->bytes, d->size, "claims");
	bc_put_le64(h + 0x30, UINT64_MAX);
	expect_format_error(d->bytes, d->size, "claims");
	bc_put_le64(h + 0x30, 0);
	expect_format_error(d->bytes, d->size, "claims");
	bc_put_le64(h + 0x30, bits);
	bc_put_le64(h + 0x20, d->ex.header_size + 0x38);  // pages inside the bitmap
	expect_format_error(d->bytes, d->size, "inconsistent");
	bc_put_le64(h + 0x20, UINT64_MAX - 0xfff);
	expect_format_error(d->bytes, d->size, "inconsistent");
	bc_put_le64(h + 0x20, first);
	bc_put_le64(h + 0x28, 1ull << 62);
	expect_format_error(d->bytes, d->size, "inconsistent");
	bc_put_le64(h + 0x28, present + 1);
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le64(h + 0x28, present - 1);
	expect_format_error(d->bytes, d->size, "page bitmap");
	bc_put_le64(h + 0x28, present);
	memcpy(h, "XDMP", 4);
	expect_format_error(d->bytes, d->size, "SDMP");
	dump_free(d);
}

TEST(summary_claims)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_SUMMARY,
							  .machine = BC_FIXTURE_X86_PAE });
	REQUIRE(d);
	uint8_t *h = d->bytes + d->ex.header_size;
	uint32_t bits = bc_le32(h + 0x10), first = bc_le32(h + 0x0c), present = bc_le32(h + 0x14);
	bc_put_le32(h + 0x10, 0xffffffff);
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le32(h + 0x10, bits);
	bc_put_le32(h + 0x14, bits + 1);
	expect_format_error(d->bytes, d->size, "damaged");
	bc_put_le32(h + 0x14, present);
	bc_put_le32(h + 0x0c, d->ex.header_size + 0x20);
	expect_format_error(d->bytes, d->size, "damaged");
	bc_put_le32(h + 0x0c, first);
	bc_put_le32(h + 0x14, present - 1);
	expect_format_error(d->bytes, d->size, "page bitmap");
	dump_free(d);
}

// --- RDMP ---

TEST(rdmp_metadata)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_RDMP_COMPLETE });
	REQUIRE(d);
	uint8_t *h = d->bytes + 0x2000;
	uint64_t meta = bc_le64(h + 0x10), first = bc_le64(h + 0x18);
	bc_put_le64(h + 0x10, meta + 0x10);
	expect_format_error(d->bytes, d->size, "disagree");
	bc_put_le64(h + 0x10, 0);
	expect_format_error(d->bytes, d->size, "disagree");
	// Consistent with each other but past the end of the file.
	bc_put_le64(h + 0x10, meta + d->size);
	bc_put_le64(h + 0x18, first + d->size);
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le64(h + 0x10, meta);
	bc_put_le64(h + 0x18, first);
	bc_put_le64(h + 0x38, 1ull << 62);  // first range's PageCount
	expect_format_error(d->bytes, d->size, "RDMP");
	bc_put_le64(h + 0x38, UINT64_MAX);
	expect_format_error(d->bytes, d->size, "RDMP");
	dump_free(d);

	d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_RDMP_KERNEL });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x2000, 0x41);
	expect_format_error(d->bytes, d->size, "RDMP");
	dump_free(d);
}

TEST(rdmp_range_count_huge)
{
	// NumberOfRanges cannot make the reader look past the table area.
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_RDMP_COMPLETE,
							  .machine = BC_FIXTURE_ARM64 });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x2020, 0xffffffff);
	struct bc_target *t = open_ok(d);
	if (t) {
		CHECK_EQ(bc_target_info(t)->present_pages, d->ex.present_pages);
		bc_target_close(t);
	}
	dump_free(d);
}

// --- Small memory dumps ---

static uint8_t *directory(struct dump *d)
{
	return d->bytes + d->ex.triage_offset;
}

TEST(triage_driver_count)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_TRIAGE });
	REQUIRE(d);
	bc_put_le32(directory(d) + 0x34, 0xffffffff);
	struct bc_target *t = open_ok(d);
	if (t) {
		expect_warning(t, "drivers");
		CHECK(bc_target_module_count(t) <= d->ex.driver_count);
		bc_target_close(t);
	}
	dump_free(d);
}

TEST(triage_driver_names)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_TRIAGE,
							  .machine = BC_FIXTURE_X86 });
	REQUIRE(d);
	uint32_t stride = 0x4c;
	uint8_t *entry2 = d->bytes + d->ex.driver_list_offset + 2 * stride;
	uint32_t name2 = bc_le32(entry2);
	// A name offset outside the string pool: no entry layout fits any more.
	bc_put_le32(entry2, d->ex.string_pool_offset + d->ex.string_pool_size + 0x10);
	struct bc_target *t = open_ok(d);
	if (t) {
		expect_warning(t, "layout");
		CHECK_EQ(bc_target_module_count(t), 0);
		bc_target_close(t);
	}
	// Inside the pool, but its DUMP_STRING claims more characters than the pool holds.
	bc_put_le32(entry2, name2);
	bc_put_le32(d->bytes + name2, 0x7fffffff);
	if ((t = open_ok(d))) {
		REQUIRE_EQ(bc_target_module_count(t), d->ex.driver_count);
		const struct bc_module *m = bc_target_module(t, 2);
		CHECK(m->path == NULL);
		CHECK_STR(m->name, "<unreadable name>");
		CHECK_EQ(m->base, d->ex.modules[2].base);
		CHECK_STR(bc_target_module(t, 3)->name, d->ex.modules[3].name);
		bc_target_close(t);
	}
	dump_free(d);
}

TEST(triage_data_blocks_count)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_TRIAGE,
							  .machine = BC_FIXTURE_ARM64 });
	REQUIRE(d);
	bc_put_le32(directory(d) + 0x7c, 0xffffffff);
	struct bc_target *t = open_ok(d);
	if (t) {
		expect_warning(t, "data block");
		// The real blocks still read.
		const struct bc_fixture_region *r = &d->ex.regions[d->ex.region_count - 1];
		uint64_t w = 0;
		struct bc_error *err = bc_target_read(t, r->va, &w, 8);
		CHECK(!err);
		bc_error_destroy(err);
		CHECK_EQ(w, bc_fixture_pattern(d->ex.seed, r->va));
		bc_target_close(t);
	}
	// Blocks placed past the end of the file are dropped with a warning.
	bc_put_le32(directory(d) + 0x7c, d->ex.data_blocks_count);
	bc_put_le32(d->bytes + d->ex.data_blocks_offset + 8, 0xfffffff0);
	if ((t = open_ok(d))) {
		expect_warning(t, "past the end");
		bc_target_close(t);
	}
	dump_free(d);
}

TEST(triage_directory_damage)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_TRIAGE });
	REQUIRE(d);
	uint8_t *dir = directory(d);
	bc_put_le32(dir + 0x04, (uint32_t)d->size + 1);  // SizeOfDump
	expect_format_error(d->bytes, d->size, "truncated");
	bc_put_le32(dir + 0x04, d->ex.size_of_dump);
	uint32_t valid = bc_le32(dir + 0x08);
	memcpy(d->bytes + valid, "XXXX", 4);
	expect_format_error(d->bytes, d->size, "TRGD");
	memcpy(d->bytes + valid, "TRGD", 4);
	bc_put_le32(dir + 0x08, 0xfffffff0);  // ValidOffset wrong, but SizeOfDump-4 is "TRGD"
	struct bc_target *t = open_ok(d);
	bc_target_close(t);
	bc_put_le32(dir + 0x08, valid);
	bc_put_le32(dir + 0x0c, 0);  // ContextOffset
	expect_format_error(d->bytes, d->size, "context");
	bc_put_le32(dir + 0x0c, (uint32_t)d->size - 8);
	if ((t = open_ok(d))) {
		expect_warning(t, "CONTEXT");
		bc_target_close(t);
	}
	bc_put_le32(dir + 0x0c, 0x348);
	// No ETHREAD copy: neither it nor the EPROCESS (found through it) is
	// mapped, rather than the EPROCESS at whatever the header holds there.
	uint32_t thread = bc_le32(dir + 0x24);
	bc_put_le32(dir + 0x24, 0);
	if ((t = open_ok(d))) {
		uint8_t b[8];
		uint64_t fill = bc_le64(d->bytes + d->ex.offset_kthread_apc_process);
		struct bc_error *err = bc_target_read(t, fill, b, 8);
		CHECK(err && err->code == BC_ERR_FAULT);
		bc_error_destroy(err);
		err = bc_target_read(t, d->ex.process, b, 8);
		CHECK(err && err->code == BC_ERR_FAULT);
		bc_error_destroy(err);
		bc_target_close(t);
	}
	bc_put_le32(dir + 0x24, thread);
	// The unloaded-driver count is a u64 on x64.
	bc_put_le64(d->bytes + d->ex.unloaded_drivers_offset, UINT64_MAX);
	if ((t = open_ok(d))) {
		expect_warning(t, "unloaded");
		CHECK_EQ(bc_target_unloaded_count(t), 0);
		bc_target_close(t);
	}
	bc_put_le64(d->bytes + d->ex.unloaded_drivers_offset, d->ex.unloaded_count);
	// The KDBG copy past the end: no KDBG, the driver list still works.
	bc_put_le32(dir + 0x70, 0xfffffff0);
	if ((t = open_ok(d))) {
		expect_warning(t, "KDDEBUGGER_DATA64");
		CHECK(!bc_target_kdbg(t)->present);
		CHECK_EQ(bc_target_module_count(t), d->ex.driver_count);
		bc_target_close(t);
	}
	dump_free(d);
}

// --- Kernel lists ---

TEST(cyclic_module_list_is_bounded)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_BITMAP_KERNEL,
							  .machine = BC_FIXTURE_X86_PAE,
							  .cyclic_module_list = true });
	REQUIRE(d);
	struct bc_target *t = open_ok(d);
	if (t) {
		expect_warning(t, "loops back");
		CHECK_EQ(bc_target_module_count(t), d->ex.module_count);
		bc_target_close(t);
	}
	dump_free(d);
}

TEST(module_list_head_points_at_itself_or_nowhere)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL });
	REQUIRE(d);
	// The header's DirectoryTableBase at a frame the dump does not hold:
	// nothing translates, the open still succeeds and says why.
	bc_put_le64(d->bytes + 0x10, 0x0000000c0000);
	struct bc_target *t = open_ok(d);
	if (t) {
		CHECK(!bc_target_kdbg(t)->present);
		expect_warning(t, "KdDebuggerDataBlock");
		CHECK_EQ(bc_target_module_count(t), 0);
		uint8_t b[8];
		struct bc_error *err = bc_target_read(t, d->ex.kern_base, b, 8);
		CHECK(err && err->fault == BC_FAULT_PAGE_TABLE);
		bc_error_destroy(err);
		bc_target_close(t);
	}
	dump_free(d);
}

// --- Not kernel dumps at all ---

TEST(foreign_files)
{
	expect_format_error((const uint8_t *)"", 0, "empty");
	uint8_t buf[0x3000];
	uint64_t s = 0x6a09e667f3bcc908ull;
	for (size_t i = 0; i < sizeof(buf); i += 8) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		bc_put_le64(buf + i, s);
	}
	buf[0] = 0x9c;  // no known magic
	expect_format_error(buf, sizeof(buf), "not a Windows kernel crash dump");
	memcpy(buf, "MDMP\x93\xa7", 6);
	expect_format_error(buf, sizeof(buf), "user-mode minidump");
	memcpy(buf, "\x7f" "ELF\x02\x01\x01", 7);
	expect_format_error(buf, sizeof(buf), "ELF");
	memcpy(buf, "PAGEXXXX", 8);
	expect_format_error(buf, sizeof(buf), "signature");
	expect_format_error((const uint8_t *)"PAG", 3, "not a Windows kernel crash dump");
	memcpy(buf, "PAGEDU64", 8);
	expect_format_error(buf, 0x1fff, "truncated");
	memcpy(buf, "PAGEDUMP", 8);
	expect_format_error(buf, 0xfff, "truncated");
}

TEST(header_values)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_BITMAP_KERNEL });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x30, 0x1234);  // MachineImageType
	expect_format_error(d->bytes, d->size, "machine type");
	bc_put_le32(d->bytes + 0x30, 0x14c);
	expect_format_error(d->bytes, d->size, "x86");
	bc_put_le32(d->bytes + 0x30, 0x8664);
	static const uint32_t types[] = { 0, 3, 7, 0x45474150, 0xffffffff, 0x1000 };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		bc_put_le32(d->bytes + 0xf98, types[i]);
		expect_format_error(d->bytes, d->size, "DumpType");
	}
	bc_put_le32(d->bytes + 0xf98, 5);
	bc_put_le32(d->bytes + 0x1050, 1u << 8);  // EncryptedDumpData
	struct bc_error *err = open_copy(d->bytes, d->size, false);
	CHECK(err && err->code == BC_ERR_UNSUPPORTED);
	if (err)
		CHECK_CONTAINS(err->message, "encrypted");
	bc_error_destroy(err);
	dump_free(d);

	d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL, .machine = BC_FIXTURE_X86 });
	REQUIRE(d);
	bc_put_le32(d->bytes + 0x20, 0x8664);
	expect_format_error(d->bytes, d->size, "machine type");
	dump_free(d);
}

TEST_MAIN()
