// Real crash dumps from ../shared/dumps/kernel, checked against independent
// readings: the header bytes read here by hand, MANIFEST.tsv, rizin's and
// WinDbg's output beside the dumps, and BlueScreenView's report. Skipped,
// saying so plainly, when ../shared/dumps is absent.
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "test.h"

static char kernel_dir[4096];

static bool have_dumps(void)
{
	const char *shared = getenv("BC_SHARED_DIR");
	snprintf(kernel_dir, sizeof(kernel_dir), "%s/dumps/kernel", shared ? shared : "../shared");
	DIR *d = opendir(kernel_dir);
	if (!d) {
		printf("# skipped: ../shared/dumps not found (looked in %s)\n", kernel_dir);
		return false;
	}
	closedir(d);
	return true;
}

#define NEED_DUMPS()                                                  \
	do {                                                          \
		if (!have_dumps())                                    \
			SKIP("skipped: ../shared/dumps not found");   \
	} while (0)

static char *path_of(const char *name)
{
	static char buf[8192];
	int n = snprintf(buf, sizeof(buf), "%s/%s", kernel_dir, name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		buf[0] = '\0';  // an over-long path names no file: the test then fails to open it
	return buf;
}

static uint8_t *slurp(const char *path, size_t *size_ret)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*size_ret = (size_t)n;
	return b;
}

// The kernel dumps: every non-.txt file in dumps/kernel.
static int list_dumps(char names[][256], int max)
{
	DIR *d = opendir(kernel_dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || (len > 4 && !strcmp(e->d_name + len - 4, ".txt")))
			continue;
		snprintf(names[n++], 256, "%s", e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

// MANIFEST.tsv columns (header line names them): local_name kind ... MinorVersion
// DumpType BugCheckCode P1 P2 P3 P4 note.
struct manifest_row {
	char name[256];
	uint32_t build, dump_type, code;
	uint64_t p[4];
	bool truncated;
};

static int read_manifest(struct manifest_row *rows, int max)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/../MANIFEST.tsv", kernel_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[8192];
	int n = 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		char *cols[20] = { 0 };
		int c = 0;
		for (char *p = line; c < 20; c++) {
			cols[c] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = 0;
			p = tab + 1;
		}
		if (c < 17 || strcmp(cols[1], "kernel") || strcmp(cols[8], "PAGEDU64"))
			continue;
		struct manifest_row *r = &rows[n++];
		snprintf(r->name, sizeof(r->name), "%s", cols[0]);
		r->build = (uint32_t)strtoul(cols[10], NULL, 0);
		r->dump_type = (uint32_t)strtoul(cols[11], NULL, 0);
		r->code = (uint32_t)strtoul(cols[12], NULL, 16);
		for (int k = 0; k < 4; k++)
			r->p[k] = strtoull(cols[13 + k], NULL, 16);
		r->truncated = c >= 17 && cols[17] && strstr(cols[17], "TRUNCATED");
	}
	fclose(f);
	return n;
}

TEST(manifest_facts_match)
{
	NEED_DUMPS();
	struct manifest_row rows[64];
	int n = read_manifest(rows, 64);
	REQUIRE(n > 0);
	int opened = 0;
	for (int i = 0; i < n; i++) {
		if (rows[i].truncated)
			continue;
		struct bc_target *t;
		struct bc_error *err = bc_target_open(path_of(rows[i].name), &t);
		if (err) {
			TEST_FAIL_AT("%s: %s", rows[i].name, err->message);
			bc_error_destroy(err);
			continue;
		}
		const struct bc_dump_info *info = bc_target_info(t);
		CHECK_EQ(info->build, rows[i].build);
		CHECK_EQ(info->dump_type, rows[i].dump_type);
		CHECK_EQ(info->bugcheck_code, rows[i].code);
		for (int k = 0; k < 4; k++)
			CHECK_EQ(info->bugcheck_parameters[k], rows[i].p[k]);
		CHECK(bc_bugcheck_name(info->bugcheck_code) != NULL);
		bc_target_close(t);
		opened++;
	}
	CHECK(opened >= 10);
}

// Facts read straight from DUMP_HEADER64 and TRIAGE_DUMP64 bytes here.
TEST(header_bytes_match)
{
	NEED_DUMPS();
	static char names[64][256];
	int n = list_dumps(names, 64);
	for (int i = 0; i < n; i++) {
		size_t size;
		uint8_t *b = slurp(path_of(names[i]), &size);
		REQUIRE(b);
		if (size < 0x2080 || memcmp(b, "PAGEDU64", 8) || bc_le32(b + 0xf98) != 4) {
			free(b);
			continue;
		}
		struct bc_target *t;
		struct bc_error *err = bc_target_open(path_of(names[i]), &t);
		if (err) {
			TEST_FAIL_AT("%s: %s", names[i], err->message);
			bc_error_destroy(err);
			free(b);
			continue;
		}
		const struct bc_dump_info *info = bc_target_info(t);
		CHECK_EQ(info->processors, bc_le32(b + 0x34));
		CHECK_EQ(info->machine_image_type, bc_le32(b + 0x30));
		CHECK_STR(bc_machine_name(info->machine),
			  bc_le32(b + 0x30) == 0xaa64 ? "arm64" : "x64");
		CHECK_EQ(info->ps_loaded_module_list, bc_le64(b + 0x20));
		CHECK_EQ(info->directory_table_base, bc_le64(b + 0x10));
		CHECK_EQ(info->system_time, bc_le64(b + 0xfa8));
		// Triage directory at 0x2000: DriverCount at +0x34; KDBG copy at +0x70.
		CHECK_EQ(bc_target_module_count(t), bc_le32(b + 0x2034));
		uint32_t kd = bc_le32(b + 0x2070);
		if (kd && kd + 0x20 <= size && !memcmp(b + kd + 0x10, "KDBG", 4))
			CHECK_EQ(info->kernel_base, bc_le64(b + kd + 0x18));
		// Reading the stack region through the VA map gives the stack bytes.
		uint64_t top = bc_le64(b + 0x2048);
		uint32_t at = bc_le32(b + 0x2028), len = bc_le32(b + 0x202c);
		uint8_t buf[64];
		if (len >= sizeof(buf) && at + sizeof(buf) <= size) {
			REQUIRE_OK(bc_target_read(t, top, buf, sizeof(buf)));
			CHECK(!memcmp(buf, b + at, sizeof(buf)));
			// One byte past the stack blob may be in another region; one byte
			// before the lowest region never is: an address far below must fault.
			err = bc_target_read(t, 0x1000, buf, 1);
			CHECK(err && err->code == BC_ERR_FAULT && err->fault == BC_FAULT_NOT_IN_DUMP);
			CHECK(err && err->address == 0x1000);
			bc_error_destroy(err);
		}
		bc_target_close(t);
		free(b);
	}
}

// The x64 triage dump's module facts, as a Microsoft debugger reported them
// (rizintb__triage_x64.dmp.groundtruth-notes.txt): 151 modules, amdppm.sys
// at fffff804`8b580000, size 0x3b000; its stamp is the symbol-store key.
TEST(rizin_x64_modules)
{
	NEED_DUMPS();
	struct bc_target *t;
	REQUIRE_OK(bc_target_open(path_of("rizintb__triage_x64.dmp"), &t));
	CHECK_EQ(bc_target_module_count(t), 151);
	const struct bc_module *m = bc_target_module_at(t, 0xfffff8048b58334cull);
	REQUIRE(m);
	CHECK_STR(m->name, "amdppm.sys");
	CHECK_EQ(m->base, 0xfffff8048b580000ull);
	CHECK_EQ(m->size, 0x3b000);
	CHECK_EQ(m->timestamp, 0xc9c03000u);
	CHECK(bc_target_module_named(t, "amdppm") == m);
	CHECK(bc_target_module_named(t, "AMDPPM.SYS") == m);
	bc_target_close(t);
}

// Parses "name = 0x..." lines of a rizin register dump.
static bool rizin_reg(const char *file, const char *reg, uint64_t *ret)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return false;
	char line[512], want[64];
	snprintf(want, sizeof(want), "%s = ", reg);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want))) {
			*ret = strtoull(line + strlen(want), NULL, 16);
			found = true;
		}
	}
	fclose(f);
	return found;
}

TEST(registers_match_rizin)
{
	NEED_DUMPS();
	static char names[64][256];
	int n = list_dumps(names, 64), compared = 0;
	static const char *const x64[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
					   "rip", "r8",  "r9",  "r10", "r11", "r12", "r13", "r14",
					   "r15" };
	for (int i = 0; i < n; i++) {
		char truth[8400];
		snprintf(truth, sizeof(truth), "%s.rizin-offline.txt", path_of(names[i]));
		uint64_t want;
		if (!rizin_reg(truth, "rip", &want) && !rizin_reg(truth, "pc", &want))
			continue;
		struct bc_target *t;
		REQUIRE_OK(bc_target_open(path_of(names[i]), &t));
		const struct bc_context *c = bc_target_context(t);
		REQUIRE(c);
		if (c->machine == BC_MACHINE_X64) {
			for (size_t k = 0; k < sizeof(x64) / sizeof(x64[0]); k++) {
				uint64_t got;
				REQUIRE(rizin_reg(truth, x64[k], &want));
				REQUIRE(!bc_context_register(c, x64[k], &got));
				if (got != want)
					TEST_FAIL_AT("%s: %s = %#" PRIx64 ", rizin says %#" PRIx64,
						     names[i], x64[k], got, want);
			}
			REQUIRE(rizin_reg(truth, "rflags", &want));
			CHECK_EQ(c->x64.eflags, want);
		} else {
			REQUIRE(rizin_reg(truth, "pc", &want));
			CHECK_EQ(c->arm64.pc, want);
		}
		compared++;
		bc_target_close(t);
	}
	CHECK(compared >= 8);
}

// rizin's regression test lists every ARM64 register of the triage dump.
TEST(arm64_registers_match_rizin_testdb)
{
	NEED_DUMPS();
	char truth[8400];
	snprintf(truth, sizeof(truth), "%s.rizin-testdb.txt", path_of("rizintb__triage_arm64.dmp"));
	struct bc_target *t;
	REQUIRE_OK(bc_target_open(path_of("rizintb__triage_arm64.dmp"), &t));
	const struct bc_context *c = bc_target_context(t);
	REQUIRE(c && c->machine == BC_MACHINE_ARM64);
	for (int r = 0; r <= 28; r++) {
		char name[8];
		uint64_t want;
		snprintf(name, sizeof(name), "x%d", r);
		REQUIRE(rizin_reg(truth, name, &want));
		CHECK_EQ(c->arm64.x[r], want);
	}
	const struct { const char *n; uint64_t got; } more[] = {
		{ "fp", c->arm64.fp }, { "lr", c->arm64.lr }, { "sp", c->arm64.sp },
		{ "pc", c->arm64.pc }, { "cpsr", c->arm64.cpsr }, { "fpcr", c->arm64.fpcr },
		{ "fpsr", c->arm64.fpsr },
	};
	for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
		uint64_t want;
		REQUIRE(rizin_reg(truth, more[k].n, &want));
		CHECK_EQ(more[k].got, want);
	}
	CHECK_EQ(bc_target_info(t)->processors, 8);
	CHECK_EQ(bc_target_module_count(t), 0xf5);  // DriverCount in the testdb's TRIAGE_DUMP64
	bc_target_close(t);
}

// WinDbg's `lm t n` for eolaruhagen__083125-14875-01.dmp: every module's
// start and end address.
TEST(modules_match_windbg_lm)
{
	NEED_DUMPS();
	char truth[8400];
	snprintf(truth, sizeof(truth), "%s.windbg-lm_t_n.txt",
		 path_of("eolaruhagen__083125-14875-01.dmp"));
	FILE *f = fopen(truth, "r");
	REQUIRE(f);
	struct bc_target *t;
	REQUIRE_OK(bc_target_open(path_of("eolaruhagen__083125-14875-01.dmp"), &t));
	char line[1024];
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		char start[32], end[32], mod[128], image[128];
		if (sscanf(line, "%31s %31s %127s %127s", start, end, mod, image) != 4 ||
		    strlen(start) != 17 || start[8] != '`')
			continue;
		start[8] = end[8] = '0';  // drop the backtick: "fffff807`5bc0e000"
		memmove(start + 8, start + 9, 9);
		memmove(end + 8, end + 9, 9);
		uint64_t s = strtoull(start, NULL, 16), e = strtoull(end, NULL, 16);
		const struct bc_module *m = bc_target_module_at(t, s);
		if (!m) {
			TEST_FAIL_AT("WinDbg lists %s at %#" PRIx64 "; bugcheck has nothing there", image, s);
			continue;
		}
		CHECK_EQ(m->base, s);
		CHECK_EQ(m->base + m->size, e);
		// WinDbg names the kernel by its original file name (ntkrnlmp.exe);
		// the driver list says ntoskrnl.exe. Both are "nt".
		bool kernel = m->base == bc_target_info(t)->kernel_base && !strcmp(mod, "nt");
		if (!kernel && strcasecmp(m->name, image))
			TEST_FAIL_AT("at %#" PRIx64 " WinDbg says %s, bugcheck %s", s, image, m->name);
		lines++;
	}
	fclose(f);
	CHECK_EQ(lines, bc_target_module_count(t));
	CHECK_EQ(bc_target_info(t)->kernel_base, 0xfffff8075bc0e000ull);
	bc_target_close(t);
}

// BlueScreenView's driver table for proxyrule__011620-8250-01.dmp (hand
// transcribed; one timestamp digit is hidden by the cursor and skipped).
TEST(modules_match_bluescreenview)
{
	NEED_DUMPS();
	char truth[8400];
	snprintf(truth, sizeof(truth), "%s.bluescreenview.txt", path_of("proxyrule__011620-8250-01.dmp"));
	FILE *f = fopen(truth, "r");
	REQUIRE(f);
	struct bc_target *t;
	REQUIRE_OK(bc_target_open(path_of("proxyrule__011620-8250-01.dmp"), &t));
	char line[1024];
	int rows = 0;
	while (fgets(line, sizeof(line), f)) {
		char *from = strstr(line, "fffff804`");
		char *to = from ? strstr(from + 1, "fffff804`") : NULL;
		if (!to)
			continue;  // not a row of the driver table
		uint64_t a = strtoull(from + 9, NULL, 16) | 0xfffff80400000000ull;
		uint64_t b = strtoull(to + 9, NULL, 16) | 0xfffff80400000000ull;
		char *size = strstr(to, "0x"), *stamp = size ? strstr(size + 2, "0x") : NULL;
		REQUIRE(size && stamp);
		const struct bc_module *m = bc_target_module_at(t, a);
		REQUIRE(m);
		CHECK_EQ(m->base, a);
		CHECK_EQ(m->size, strtoull(size, NULL, 16));
		CHECK_EQ(b, m->base + m->size);
		if (!strchr(stamp, '?'))
			CHECK_EQ(m->timestamp, strtoull(stamp, NULL, 16));
		rows++;
	}
	fclose(f);
	CHECK_EQ(rows, 12);
	bc_target_close(t);
}

// Each real dump cut at many lengths opens or fails with one FORMAT error;
// never a crash (the suite also runs under ASan/UBSan).
TEST(truncated_real_dumps_fail_cleanly)
{
	NEED_DUMPS();
	static char names[64][256];
	int n = list_dumps(names, 64);
	for (int i = 0; i < n; i++) {
		size_t size;
		uint8_t *b = slurp(path_of(names[i]), &size);
		REQUIRE(b);
		size_t cuts[] = { 0, 1, 7, 8, 0x1000, 0x1fff, 0x2000, 0x2040, 0x2080, 0x3000,
				  size / 3, size / 2, size - 1 };
		uint32_t size_of_dump = size > 0x2008 ? bc_le32(b + 0x2004) : 0;
		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]) + 1; k++) {
			size_t cut = k < sizeof(cuts) / sizeof(cuts[0]) ? cuts[k]
					: (size_of_dump && size_of_dump <= size ? size_of_dump - 1 : 0);
			if (cut >= size)
				continue;
			// A private copy so ASan catches any read past the cut.
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, b, cut);
			struct bc_target *t = NULL;
			struct bc_error *err = bc_target_open_memory(copy, cut, names[i], &t);
			if (err) {
				CHECK(err->code == BC_ERR_FORMAT);
				CHECK(err->message && strlen(err->message) > 10);
				bc_error_destroy(err);
			} else {
				uint8_t tmp[16];
				bc_error_destroy(bc_target_read(t, bc_target_info(t)->kernel_base, tmp, 16));
				bc_target_close(t);
			}
			free(copy);
		}
		free(b);
	}
}

TEST(foreign_files_are_named)
{
	NEED_DUMPS();
	char user[4200];
	snprintf(user, sizeof(user), "%s/../user/breakpad__ascii_read_av.dmp", kernel_dir);
	struct bc_target *t;
	struct bc_error *err = bc_target_open(user, &t);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "user-mode minidump");
	bc_error_destroy(err);
	err = bc_target_open(path_of("imhexpat__dmp64.hexpat.bin"), &t);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "truncated");
	bc_error_destroy(err);
}

TEST_MAIN()
