// The r, d* and ? commands of the bugcheck CLI ($BC_BUGCHECK), run with
// popen() on real dumps from ../shared and on a synthetic x86 dump.
//
// Expected values come from independent readings: rizin's register dump and
// disassembly beside the dumps (*.rizin-offline.txt, parsed here), the
// triage directory and data blocks read here from the dump file's bytes
// (KERNEL_DUMP_FORMAT.md 2.4), cdb's module base in the ground-truth notes,
// and the context the fixture writer stored. Nothing is taken from
// bugcheck's own output.
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "test.h"

static char kernel_dir[4096];

static bool have_dumps(void)
{
	const char *shared = getenv("BC_SHARED_DIR");
	snprintf(kernel_dir, sizeof(kernel_dir), "%s/dumps/kernel", shared ? shared : "../shared");
	if (access(kernel_dir, R_OK)) {
		printf("# skipped: ../shared/dumps not found (looked in %s)\n", kernel_dir);
		return false;
	}
	return true;
}

#define NEED_DUMPS()                                                  \
	do {                                                          \
		if (!have_dumps())                                    \
			SKIP("skipped: ../shared/dumps not found");   \
	} while (0)

static const char *dump_path(const char *name)
{
	static char buf[8192];
	snprintf(buf, sizeof(buf), "%s/%s", kernel_dir, name);
	return buf;
}

// "-y SHARED/symbols/isf --cache TMPDIR/bugcheck-test-isf-index": the ISF
// tables, with the identification index every test on this machine shares.
static void isf_options(char *buf, size_t size)
{
	const char *shared = getenv("BC_SHARED_DIR");
	const char *tmp = getenv("TMPDIR");
	snprintf(buf, size, "-y '%s/symbols/isf' --cache '%s/bugcheck-test-isf-index'",
		 shared ? shared : "../shared", tmp && *tmp ? tmp : "/tmp");
}

// The real ISF table the writer lays synthetic kernels out from; false when absent.
static bool isf_table(char *buf, size_t size)
{
	const char *shared = getenv("BC_SHARED_DIR");
	snprintf(buf, size, "%s/symbols/isf/ntkrnlmp.pdb/5278AFF86C341677D7D7835C85B7B844-1.json.xz",
		 shared ? shared : "../shared");
	return access(buf, R_OK) == 0;
}

// Runs "bugcheck -q [OPTIONS] DUMP -c COMMANDS"; returns its stdout and stderr
// (malloc'd). @options are passed to the shell as they are (quote them).
static char *run_cli_with(const char *options, const char *dump, const char *commands,
			  int *status)
{
	return bc_test_run_bugcheck(options, dump, commands, status);
}

static char *run_cli(const char *dump, const char *commands, int *status)
{
	return run_cli_with("", dump, commands, status);
}

// The line of @out that starts with @prefix (copied into @buf), or NULL.
static const char *line_starting(const char *out, const char *prefix, char *buf, size_t size)
{
	for (const char *p = out; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(buf, size, "%.*s", (int)n, p);
			return buf;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

// The value after "name=" in r's output (names may be padded: " r8=").
static bool reg_value(const char *out, const char *name, uint64_t *ret)
{
	char key[16];
	snprintf(key, sizeof(key), "%s=", name);
	for (const char *p = strstr(out, key); p; p = strstr(p + 1, key)) {
		if (p != out && !isspace((unsigned char)p[-1]))
			continue;  // "r8=" inside "xr8=": not this register
		char *end;
		*ret = strtoull(p + strlen(key), &end, 16);
		return end != p + strlen(key);
	}
	return false;
}

// rizin's "dr" lines: "name = 0x...". Stops at the "---pd" disassembly part.
struct rizin {
	char names[48][16];
	uint64_t values[48];
	int count;
	char first_insn[128];  ///< the instruction after ";-- rip:" / ";-- pc:"
};

static bool read_rizin(const char *path, struct rizin *r)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[512];
	bool in_pd = false, next_is_pc = false;
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!strcmp(line, "---pd")) {
			in_pd = true;
			continue;
		}
		if (in_pd) {
			if (strstr(line, ";--")) {
				next_is_pc = true;
			} else if (next_is_pc) {
				// "            0xfffff8048b58334c      mov   dword [r9 + r8], edx"
				char *p = strstr(line, "0x");
				p = p ? strchr(p, ' ') : NULL;
				while (p && *p == ' ')
					p++;
				snprintf(r->first_insn, sizeof(r->first_insn), "%s", p ? p : "");
				char *semi = strchr(r->first_insn, ';');
				if (semi)
					*semi = 0;
				next_is_pc = false;
			}
			continue;
		}
		char name[16];
		unsigned long long v;
		if (line[0] != '#' && r->count < 48 && sscanf(line, "%15s = %llx", name, &v) == 2) {
			snprintf(r->names[r->count], sizeof(r->names[0]), "%s", name);
			r->values[r->count++] = v;
		}
	}
	fclose(f);
	return r->count > 0;
}

// Text without blanks, "ptr", "#", and a trailing "ds:002b:...=..." annotation,
// so WinDbg/bugcheck syntax and rizin syntax compare.
static void normalize_insn(const char *in, char *out, size_t size)
{
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s", in);
	char *last = strrchr(tmp, ' ');
	if (last && strlen(last) > 4 && last[3] == ':' && last[2] == 's')
		*last = 0;  // " ds:002b:ffff9b00`0336004c=????????"
	size_t n = 0;
	for (const char *p = tmp; *p && n + 1 < size; p++) {
		if (!strncmp(p, "ptr", 3) && (p == tmp || p[-1] == ' ')) {
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '#')
			continue;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = 0;
}

static uint8_t *slurp(const char *path, size_t *size_ret)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*size_ret = (size_t)n;
	return b;
}

// The parts of a 64-bit triage dump this test reads by hand
// (KERNEL_DUMP_FORMAT.md 2.4: TRIAGE_DUMP64 at 0x2000).
struct triage {
	uint8_t *file;
	size_t size;
	uint64_t top_of_stack;
	uint32_t stack_offset, stack_size;
	uint32_t blocks_offset, blocks_count;
};

static bool triage_load(const char *path, struct triage *t)
{
	memset(t, 0, sizeof(*t));
	t->file = slurp(path, &t->size);
	if (!t->file || t->size < 0x2100)
		return false;
	const uint8_t *d = t->file + 0x2000;
	t->stack_offset = bc_le32(d + 0x28);
	t->stack_size = bc_le32(d + 0x2c);
	t->top_of_stack = bc_le64(d + 0x48);
	t->blocks_offset = bc_le32(d + 0x78);  // DataBlocksOffset, DataBlocksCount
	t->blocks_count = bc_le32(d + 0x7c);
	return (uint64_t)t->stack_offset + t->stack_size <= t->size;
}

// The file bytes of [va, va + n) when one data block holds all of them.
static const uint8_t *triage_block_bytes(const struct triage *t, uint64_t va, size_t n)
{
	for (uint32_t i = 0; i < t->blocks_count; i++) {
		uint64_t at = (uint64_t)t->blocks_offset + 16ull * i;
		if (at + 16 > t->size)
			break;
		uint64_t start = bc_le64(t->file + at);
		uint32_t off = bc_le32(t->file + at + 8), size = bc_le32(t->file + at + 12);
		if (va >= start && va - start + n <= size && (uint64_t)off + size <= t->size)
			return t->file + off + (va - start);
	}
	return NULL;
}

static void fmt_ptr(char *buf, size_t size, uint64_t v)
{
	snprintf(buf, size, "%08" PRIx32 "`%08" PRIx32, (uint32_t)(v >> 32), (uint32_t)v);
}

// cdb's "lm a fffff8048b58334c" (rizintb__triage_x64.dmp.groundtruth-notes.txt).
static const uint64_t AMDPPM_BASE = 0xfffff8048b580000ull, AMDPPM_SIZE = 0x3b000;

TEST(r_x64_matches_rizin)
{
	NEED_DUMPS();
	struct rizin rz;
	char path[8300];
	snprintf(path, sizeof(path), "%s.rizin-offline.txt", dump_path("rizintb__triage_x64.dmp"));
	REQUIRE(read_rizin(path, &rz));
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), "r", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	int compared = 0;
	uint64_t rip = 0, efl = 0;
	for (int i = 0; i < rz.count; i++) {
		const char *name = rz.names[i];
		uint64_t v;
		if (!strcmp(name, "mxcsr"))
			continue;  // r does not show it
		if (!strcmp(name, "rflags")) {
			efl = rz.values[i];
			name = "efl";
		}
		if (!strcmp(name, "rip"))
			rip = rz.values[i];
		if (!reg_value(out, name, &v)) {
			TEST_FAIL_AT("no %s= in r output:\n%s", name, out);
			continue;
		}
		CHECK_EQ(v, rz.values[i]);
		compared++;
	}
	CHECK_EQ(compared, 18);  // rax..r15, rip, efl
	// EFLAGS 0x50246 (rizin): IF (bit 9), ZF (6), PF (2) set; IOPL 0.
	CHECK_EQ(efl, 0x50246);
	CHECK_CONTAINS(out, "\niopl=0         nv up ei pl zr na pe nc\n");
	CHECK_CONTAINS(out, "             efl=00050246\n");
	// The label names amdppm (cdb's base) and the offset of rip in it.
	char want[256], line[512];
	REQUIRE(rip >= AMDPPM_BASE && rip < AMDPPM_BASE + AMDPPM_SIZE);
	snprintf(want, sizeof(want), "\namdppm+0x%" PRIx64 ":\n", rip - AMDPPM_BASE);
	CHECK_CONTAINS(out, want);
	// The instruction line: backticked address, the code bytes stored in the
	// dump's data blocks, then the text rizin decodes there.
	char addr[32];
	fmt_ptr(addr, sizeof(addr), rip);
	const char *insn_line = line_starting(out, addr, line, sizeof(line));
	REQUIRE(insn_line);
	struct triage t;
	REQUIRE(triage_load(dump_path("rizintb__triage_x64.dmp"), &t));
	const uint8_t *code = triage_block_bytes(&t, rip, 4);
	if (!code) {
		TEST_FAIL_AT("no data block holds the code at rip");
	} else {
		char hex[16];
		snprintf(hex, sizeof(hex), "%02x%02x%02x%02x ", code[0], code[1], code[2], code[3]);
		CHECK(!strncmp(insn_line + strlen(addr) + 1, hex, strlen(hex)));
	}
	// "fffff804`8b58334c 43891401        mov     ...": text starts at column 18 + 16.
	REQUIRE(strlen(insn_line) > strlen(addr) + 17);
	char ours[256], theirs[256];
	normalize_insn(insn_line + strlen(addr) + 17, ours, sizeof(ours));
	normalize_insn(rz.first_insn, theirs, sizeof(theirs));
	CHECK_STR(ours, theirs);  // "movdword[r9+r8],edx"
	CHECK_STR(theirs, "movdword[r9+r8],edx");
	free(t.file);
	free(out);
}

TEST(r_named_registers)
{
	NEED_DUMPS();
	struct rizin rz;
	char path[8300];
	snprintf(path, sizeof(path), "%s.rizin-offline.txt", dump_path("rizintb__triage_x64.dmp"));
	REQUIRE(read_rizin(path, &rz));
	uint64_t rip = 0, rsp = 0, rax = 0;
	for (int i = 0; i < rz.count; i++) {
		if (!strcmp(rz.names[i], "rip"))
			rip = rz.values[i];
		if (!strcmp(rz.names[i], "rsp"))
			rsp = rz.values[i];
		if (!strcmp(rz.names[i], "rax"))
			rax = rz.values[i];
	}
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), "r rip,rsp; r @rax eax al", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	char want[256];
	snprintf(want, sizeof(want), "rip=%016" PRIx64 " rsp=%016" PRIx64 "\n", rip, rsp);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "rax=%016" PRIx64 " eax=%08" PRIx32 " al=%02x\n", rax,
		 (uint32_t)rax, (unsigned)(rax & 0xff));
	CHECK_CONTAINS(out, want);
	free(out);
	out = run_cli(dump_path("rizintb__triage_x64.dmp"), "r bogus", &status);
	REQUIRE(out);
	CHECK_EQ(status, 1);
	CHECK_CONTAINS(out, "Bad register error at 'bogus'");
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);  // exactly one line
	free(out);
}

// "ffff8504`29890ee8  xx xx xx xx xx xx xx xx-xx ... xx  ascii" from file bytes.
static void db_line(char *buf, size_t size, uint64_t va, const uint8_t *b, size_t n)
{
	char addr[32];
	fmt_ptr(addr, sizeof(addr), va);
	int w = snprintf(buf, size, "%s ", addr);
	for (size_t i = 0; i < 16; i++) {
		if (i < n)
			w += snprintf(buf + w, size - (size_t)w, "%c%02x", i == 8 ? '-' : ' ', b[i]);
		else
			w += snprintf(buf + w, size - (size_t)w, "   ");
	}
	w += snprintf(buf + w, size - (size_t)w, "  ");
	for (size_t i = 0; i < n; i++)
		buf[w++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
	buf[w] = 0;
}

TEST(db_dq_dps_show_the_stack_bytes)
{
	NEED_DUMPS();
	struct triage t;
	REQUIRE(triage_load(dump_path("rizintb__triage_x64.dmp"), &t));
	REQUIRE(t.stack_size >= 0x200);
	const uint8_t *stack = t.file + t.stack_offset;
	uint64_t top = t.top_of_stack;
	char cmds[512], addr[32];
	fmt_ptr(addr, sizeof(addr), top);
	// db at TopOfStack, 0x24 bytes (two full lines and a short one), then a continuation.
	snprintf(cmds, sizeof(cmds), "db %s L24; db L10; dq %#" PRIx64 " L5; dps %#" PRIx64 " L20",
		 addr, top + 0x40, top);
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), cmds, &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	char want[256];
	db_line(want, sizeof(want), top, stack, 16);
	CHECK_CONTAINS(out, want);
	db_line(want, sizeof(want), top + 0x10, stack + 0x10, 16);
	CHECK_CONTAINS(out, want);
	db_line(want, sizeof(want), top + 0x20, stack + 0x20, 4);
	CHECK_CONTAINS(out, want);
	db_line(want, sizeof(want), top + 0x24, stack + 0x24, 16);  // "db L10" goes on at +0x24
	CHECK_CONTAINS(out, want);
	// dq: two backticked qwords a line.
	for (int i = 0; i < 5; i += 2) {
		char a[32], q0[32], q1[32];
		fmt_ptr(a, sizeof(a), top + 0x40 + 8u * (unsigned)i);
		fmt_ptr(q0, sizeof(q0), bc_le64(stack + 0x40 + 8 * i));
		fmt_ptr(q1, sizeof(q1), bc_le64(stack + 0x48 + 8 * i));
		if (i < 4)
			snprintf(want, sizeof(want), "%s  %s %s\n", a, q0, q1);
		else
			snprintf(want, sizeof(want), "%s  %s\n", a, q0);
		CHECK_CONTAINS(out, want);
	}
	// dps: one pointer a line; values inside amdppm (cdb's range) carry its name.
	int in_module = 0;
	for (int i = 0; i < 0x20; i++) {
		char a[32], v[32];
		uint64_t value = bc_le64(stack + 8 * i);
		fmt_ptr(a, sizeof(a), top + 8u * (unsigned)i);
		fmt_ptr(v, sizeof(v), value);
		snprintf(want, sizeof(want), "\n%s  %s", a, v);
		CHECK_CONTAINS(out, want);
		if (value >= AMDPPM_BASE && value < AMDPPM_BASE + AMDPPM_SIZE) {
			snprintf(want, sizeof(want), "\n%s  %s amdppm+0x%" PRIx64 "\n", a, v,
				 value - AMDPPM_BASE);
			CHECK_CONTAINS(out, want);
			in_module++;
		}
	}
	CHECK(in_module > 0);  // the faulting address is on the stack (KeBugCheckEx arguments)
	free(out);
	free(t.file);
}

TEST(db_past_the_stack_shows_question_marks)
{
	NEED_DUMPS();
	struct triage t;
	REQUIRE(triage_load(dump_path("rizintb__triage_x64.dmp"), &t));
	uint64_t end = t.top_of_stack + t.stack_size;
	if (triage_block_bytes(&t, end, 1)) {
		free(t.file);
		SKIP("a data block continues the stack");
	}
	char cmds[128], want[256], addr[32];
	snprintf(cmds, sizeof(cmds), "db %#" PRIx64 " L20; dd %#" PRIx64 " L4", end - 8, end - 8);
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), cmds, NULL);
	REQUIRE(out);
	const uint8_t *b = t.file + t.stack_offset + t.stack_size - 8;
	fmt_ptr(addr, sizeof(addr), end - 8);
	int w = snprintf(want, sizeof(want), "%s ", addr);
	for (int i = 0; i < 8; i++)
		w += snprintf(want + w, sizeof(want) - (size_t)w, " %02x", b[i]);
	snprintf(want + w, sizeof(want) - (size_t)w, "-?\? ?? ?? ?? ?? ?? ?? ??  ");
	CHECK_CONTAINS(out, want);
	fmt_ptr(addr, sizeof(addr), end + 8);
	snprintf(want, sizeof(want), "%s  ?? ?? ?? ?? ?? ?? ?? ?\?-?? ?? ?? ?? ?? ?? ?? ??  "
		 "????????????????\n", addr);
	CHECK_CONTAINS(out, want);
	fmt_ptr(addr, sizeof(addr), end - 8);
	snprintf(want, sizeof(want), "%s  %08" PRIx32 " %08" PRIx32 " ???????? ????????\n", addr,
		 bc_le32(b), bc_le32(b + 4));
	CHECK_CONTAINS(out, want);
	free(out);
	free(t.file);
}

TEST(evaluate)
{
	NEED_DUMPS();
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"),
			    "? 0n10; ? amdppm; ? -1; ? amdppm+0x334c == @rip; ? poi(@rsp+8)-amdppm",
			    &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "Evaluate expression: 10 = 00000000`0000000a\n");
	// cdb: amdppm.sys base fffff804`8b580000; as a signed 64-bit number:
	CHECK_CONTAINS(out, "Evaluate expression: -8776575352832 = fffff804`8b580000\n");
	CHECK_CONTAINS(out, "Evaluate expression: -1 = ffffffff`ffffffff\n");
	CHECK_CONTAINS(out, "Evaluate expression: 1 = 00000000`00000001\n");
	free(out);
	out = run_cli(dump_path("rizintb__triage_x64.dmp"), "? 1+", &status);
	REQUIRE(out);
	CHECK_EQ(status, 1);
	CHECK_STR(out, "?: syntax error at column 3 (end of input): expected an expression\n");
	free(out);
}

TEST(da_escapes_control_characters)
{
	NEED_DUMPS();
	// Every PE image's DOS stub says this at offset 0x4e, ending in CR CR LF '$'.
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), "da amdppm+4e L30", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "fffff804`8b58004e  \"This program cannot be run in DOS mode."
			    "\\x0d\\x0d\\x0a$\"\n");
	for (const char *p = out; *p; p++)
		CHECK(*p == '\n' || (unsigned char)*p >= 0x20);
	free(out);
}

TEST(r_arm64_matches_rizin)
{
	NEED_DUMPS();
	struct rizin rz;
	char path[8300];
	snprintf(path, sizeof(path), "%s.rizin-offline.txt", dump_path("rizintb__triage_arm64.dmp"));
	REQUIRE(read_rizin(path, &rz));
	char *out = run_cli(dump_path("rizintb__triage_arm64.dmp"), "r", NULL);
	REQUIRE(out);
	int compared = 0;
	uint64_t pc = 0;
	for (int i = 0; i < rz.count; i++) {
		const char *name = rz.names[i];
		uint64_t v;
		if (!strcmp(name, "fpcr") || !strcmp(name, "fpsr"))
			continue;
		if (!strcmp(name, "cpsr"))
			name = "psr";
		if (!strcmp(name, "pc"))
			pc = rz.values[i];
		if (!reg_value(out, name, &v)) {
			TEST_FAIL_AT("no %s= in r output:\n%s", name, out);
			continue;
		}
		CHECK_EQ(v, rz.values[i]);
		compared++;
	}
	CHECK_EQ(compared, 34);  // x0..x28, fp, lr, sp, pc, psr
	char addr[32], line[512], ours[256], theirs[256];
	fmt_ptr(addr, sizeof(addr), pc);
	const char *insn = line_starting(out, addr, line, sizeof(line));
	REQUIRE(insn);
	// "fffff803`f32de014 91010260 add         x0,x19,#0x40"
	REQUIRE(strlen(insn) > strlen(addr) + 10);
	normalize_insn(insn + strlen(addr) + 10, ours, sizeof(ours));
	normalize_insn(rz.first_insn, theirs, sizeof(theirs));
	CHECK_STR(ours, theirs);  // "addx0,x19,0x40"
	free(out);
}

// Splits a backticked 64-bit value ("ffffa704`eeb6bc88") at *p and advances.
static uint64_t next_ptr(const char **p)
{
	while (**p == ' ' || **p == ':')
		(*p)++;
	uint64_t v = 0;
	for (; isxdigit((unsigned char)**p) || **p == '`'; (*p)++) {
		if (**p != '`')
			v = v * 16 + (uint64_t)(isdigit((unsigned char)**p) ? **p - '0'
								 : tolower((unsigned char)**p) - 'a' + 10);
	}
	return v;
}

// WinDbg's own kv on eolaruhagen__083125-14875-01.dmp: frame 0 is KeBugCheckEx
// at the context's rsp; "Args to Child" are the four home slots above the
// return address, and RetAddr is the qword at Child-SP.
TEST(stack_matches_windbg_kv)
{
	NEED_DUMPS();
	char path[8300], line[1024];
	snprintf(path, sizeof(path), "%s.windbg-kv.txt",
		 dump_path("eolaruhagen__083125-14875-01.dmp"));
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "00 ", 3);
	fclose(f);
	REQUIRE(found);
	const char *p = line + 3;
	uint64_t child_sp = next_ptr(&p), ret_addr = next_ptr(&p), args[4];
	for (int i = 0; i < 4; i++)
		args[i] = next_ptr(&p);
	CHECK_EQ(args[0], 0x4a);  // the bug check code, as the README says
	char *out = run_cli(dump_path("eolaruhagen__083125-14875-01.dmp"),
			    "r rsp; dq @rsp+8 L4; dps @rsp L1; r", NULL);
	REQUIRE(out);
	char want[256], a[32], v0[32], v1[32];
	snprintf(want, sizeof(want), "rsp=%016" PRIx64 "\n", child_sp);
	CHECK_CONTAINS(out, want);
	for (int i = 0; i < 4; i += 2) {
		fmt_ptr(a, sizeof(a), child_sp + 8 + 8u * (unsigned)i);
		fmt_ptr(v0, sizeof(v0), args[i]);
		fmt_ptr(v1, sizeof(v1), args[i + 1]);
		snprintf(want, sizeof(want), "%s  %s %s\n", a, v0, v1);
		CHECK_CONTAINS(out, want);
	}
	// The README beside the dump gives nt at fffff807`5bc0e000.
	fmt_ptr(a, sizeof(a), child_sp);
	fmt_ptr(v0, sizeof(v0), ret_addr);
	snprintf(want, sizeof(want), "%s  %s nt+0x%" PRIx64 "\n", a, v0,
		 (uint64_t)(ret_addr - 0xfffff8075bc0e000ull));
	CHECK_CONTAINS(out, want);
	// KeBugCheckEx starts by spilling rcx to its home slot: r's annotation
	// shows that slot's current value, WinDbg's first "Args to Child".
	fmt_ptr(a, sizeof(a), child_sp + 8);
	snprintf(want, sizeof(want), "mov     qword ptr [rsp+8],rcx ss:0018:%s=%016" PRIx64 "\n",
		 a, args[0]);
	CHECK_CONTAINS(out, want);
	free(out);
}

// x86 layout (WINDBG_OUTPUT.md 5.2) on a synthetic dump written to a file.
// ~Ns, !running and !prcb over the writer's 8-processor dump: each
// processor's KPRCB and current thread where the writer put them, and ~1s
// switching to the registers processor 1 was frozen with.
TEST(processors_switch_and_list)
{
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL };
	struct bc_fixture_expect ex;
	char path[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, &ex, path));
	int status;
	char *out = run_cli(path, "!running; !prcb 1; ~1s; r rip; ~9s", &status);
	unlink(path);
	REQUIRE(out);
	char want[256];
	snprintf(want, sizeof(want), "System Processors %x (affinity mask)",
		 (1u << ex.processors) - 1);
	CHECK_CONTAINS(out, want);
	for (uint32_t i = 0; i < ex.processors; i++) {
		snprintf(want, sizeof(want), "%3u  %016" PRIx64 "  %016" PRIx64 "  ", i, ex.prcb[i],
			 ex.thread[i]);
		CHECK_CONTAINS(out, want);
	}
	snprintf(want, sizeof(want), "PRCB for Processor 1 at %08" PRIx64 "`%08" PRIx64 ":",
		 ex.prcb[1] >> 32, ex.prcb[1] & 0xffffffffu);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "Threads--  Current %016" PRIx64, ex.thread[1]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "rip=%016" PRIx64 "\n", ex.cpu_pc[1]);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "~9s: use ~Ns with N a processor number below 8");
	free(out);
}

// !pte over the writer's x64 dump: for a 4 KiB mapping it recorded, the PTE
// column's page frame is the physical page the writer mapped, and each
// level's entry sits at the self-map address the textbook formula gives
// from the PteBase the writer put in KDDEBUGGER_DATA64.
TEST(pte_shows_the_mapping_the_writer_made)
{
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex);
	char path[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, ex, path));
	const struct bc_fixture_mapping *small = NULL, *large = NULL;
	for (size_t i = 0; i < ex->mapping_count; i++) {
		if (ex->mappings[i].page_size == 0x1000 && !small)
			small = &ex->mappings[i];
		if (ex->mappings[i].page_size == 0x200000 && !large)
			large = &ex->mappings[i];
	}
	REQUIRE(small);
	char cmds[128];
	snprintf(cmds, sizeof(cmds), "!pte %" PRIx64 "%s%" PRIx64, small->va,
		 large ? "; !pte " : "", large ? large->va : 0);
	char *out = run_cli(path, cmds, NULL);
	unlink(path);
	REQUIRE(out);
	char want[160];
	snprintf(want, sizeof(want), "VA %016" PRIx64 "\n", small->va);
	CHECK_CONTAINS(out, want);
	uint64_t pte = ex->pte_base + (((small->va & 0xffffffffffffull) >> 12) << 3);
	uint64_t pde = ex->pte_base + (((pte & 0xffffffffffffull) >> 12) << 3);
	snprintf(want, sizeof(want), "PDE at %016" PRIX64 "    PTE at %016" PRIX64 "\n", pde, pte);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "  pfn %-10" PRIx64, small->pa >> 12);
	CHECK_CONTAINS(out, want);
	if (large) {
		CHECK_CONTAINS(out, "(a 2048 KiB large page)\n");
		// The PDE maps the 2 MiB page itself: its frame, and 'L' among its flags.
		snprintf(want, sizeof(want), "  pfn %-10" PRIx64,
			 (uint64_t)((large->pa & ~0x1fffffull) >> 12));
		const char *at = strstr(out, want);
		CHECK(at != NULL);
		if (at)
			CHECK_EQ(at[2 + 14 + 2], 'L');
	}
	free(out);
	free(ex);
}

TEST(r_and_dd_x86_fixture)
{
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL,
					.machine = BC_FIXTURE_X86_PAE };
	struct bc_fixture_expect ex;
	char path[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, &ex, path));
	int status;
	char *out = run_cli(path, "r; dd esp L2; ? esp; r eip; dps esp L1", &status);
	unlink(path);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	const struct bc_context_x86 *c = &ex.context.x86;
	char want[256];
	snprintf(want, sizeof(want),
		 "eax=%08" PRIx32 " ebx=%08" PRIx32 " ecx=%08" PRIx32 " edx=%08" PRIx32
		 " esi=%08" PRIx32 " edi=%08" PRIx32 "\n", c->eax, c->ebx, c->ecx, c->edx, c->esi,
		 c->edi);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "eip=%08" PRIx32 " esp=%08" PRIx32 " ebp=%08" PRIx32 " iopl=",
		 c->eip, c->esp, c->ebp);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want),
		 "cs=%04" PRIx32 "  ss=%04" PRIx32 "  ds=%04" PRIx32 "  es=%04" PRIx32
		 "  fs=%04" PRIx32 "  gs=%04" PRIx32 "             efl=%08" PRIx32 "\n",
		 c->cs, c->ss, c->ds, c->es, c->fs, c->gs, c->eflags);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "\n%08" PRIx32 "  %08" PRIx32 " %08" PRIx32 "\n", c->esp,
		 (uint32_t)ex.stack_words[0], (uint32_t)ex.stack_words[1]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "Evaluate expression: %" PRId32 " = %08" PRIx32 "\n",
		 (int32_t)c->esp, c->esp);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "\neip=%08" PRIx32 "\n", c->eip);
	CHECK_CONTAINS(out, want);
	// Labels: offsets from the kernel base the writer chose (32-bit arithmetic).
	uint32_t nt = (uint32_t)ex.kern_base;
	snprintf(want, sizeof(want), "\nnt+0x%" PRIx32 ":\n%08" PRIx32 " ", c->eip - nt, c->eip);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "\n%08" PRIx32 "  %08" PRIx32 " nt+0x%" PRIx32 "\n", c->esp,
		 (uint32_t)ex.stack_words[0], (uint32_t)ex.stack_words[0] - nt);
	CHECK_CONTAINS(out, want);
	free(out);
}

// rizin's pd lines after "---pd": address and mnemonic of each instruction.
static int read_rizin_pd(const char *path, uint64_t *addrs, char (*mnems)[16], int room)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512];
	bool in_pd = false;
	int n = 0;
	while (fgets(line, sizeof(line), f) && n < room) {
		if (!strncmp(line, "---pd", 5)) {
			in_pd = true;
			continue;
		}
		unsigned long long a;
		char m[16];
		if (in_pd && !strstr(line, ";--") && sscanf(line, " 0x%llx %15s", &a, m) == 2) {
			addrs[n] = a;
			snprintf(mnems[n], sizeof(mnems[n]), "%s", m);
			n++;
		}
	}
	fclose(f);
	return n;
}

TEST(u_and_ub_follow_rizin_instruction_boundaries)
{
	NEED_DUMPS();
	char path[8300];
	snprintf(path, sizeof(path), "%s.rizin-offline.txt", dump_path("rizintb__triage_x64.dmp"));
	uint64_t addrs[16];
	char mnems[16][16];
	int n = read_rizin_pd(path, addrs, mnems, 16);
	REQUIRE(n >= 4);
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), "u @rip L4", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	// The label names the module offset of rip (amdppm's base from cdb).
	char label[64];
	snprintf(label, sizeof(label), "amdppm+0x%llx:\n",
		 (unsigned long long)(addrs[0] - AMDPPM_BASE));
	CHECK(strstr(out, label) != NULL);
	for (int i = 0; i < 4; i++) {
		char a[32], buf[256];
		fmt_ptr(a, sizeof(a), addrs[i]);
		const char *line = line_starting(out, a, buf, sizeof(buf));
		CHECK(line != NULL);
		if (line)
			CHECK(strstr(line, mnems[i]) != NULL);
	}
	free(out);
	// ub before the fourth instruction ends exactly on rizin's boundaries.
	char cmd[64], a[32], buf[256];
	snprintf(cmd, sizeof(cmd), "ub %llx L3", (unsigned long long)addrs[3]);
	out = run_cli(dump_path("rizintb__triage_x64.dmp"), cmd, &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	for (int i = 0; i < 3; i++) {
		fmt_ptr(a, sizeof(a), addrs[i]);
		CHECK(line_starting(out, a, buf, sizeof(buf)) != NULL);
	}
	fmt_ptr(a, sizeof(a), addrs[3]);
	CHECK(line_starting(out, a, buf, sizeof(buf)) == NULL);
	free(out);
}

// Bug check 0x7E's Arg3 and Arg4 point at the exception record and CONTEXT
// (MANIFEST.tsv P3/P4); the record's address is Arg2, and the CONTEXT is the
// one rizin reports for this dump.
TEST(exr_and_cxr_follow_the_bugcheck_arguments)
{
	NEED_DUMPS();
	int status;
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"),
			    ".exr ffff850429891ee8; .cxr ffff850429891720; .cxr", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "ExceptionAddress: fffff8048b58334c (amdppm+");
	CHECK_CONTAINS(out, "   ExceptionCode: c0000005 (Access violation)\n");
	CHECK_CONTAINS(out, "NumberParameters: 2\n");
	CHECK_CONTAINS(out, "rip=fffff8048b58334c rsp=ffff850429892120 rbp=fffff8048b58f598");
	CHECK_CONTAINS(out, "Resetting default scope\n");
	free(out);
	out = run_cli(dump_path("rizintb__triage_x64.dmp"), ".cxr 1234", &status);
	REQUIRE(out);
	CHECK(status != 0);
	CHECK_CONTAINS(out, ".cxr: ");
	free(out);
}

// A display that starts in a hole a megabyte wide and runs into the stack:
// the stack's first bytes (from the file, at the triage directory's offset)
// appear after the "??" lines.
TEST(db_across_a_wide_hole_reaches_the_stack)
{
	NEED_DUMPS();
	struct triage t;
	REQUIRE(triage_load(dump_path("rizintb__triage_x64.dmp"), &t));
	uint64_t start = t.top_of_stack - 0xffff0;  // the last line starts at the stack
	if (triage_block_bytes(&t, start, 1) || t.stack_size < 16) {
		free(t.file);
		SKIP("a data block lies before the stack");
	}
	char cmds[128], want[256], addr[32];
	snprintf(cmds, sizeof(cmds), "db %#" PRIx64 " L%#x", start, 0x100000);
	char *out = run_cli(dump_path("rizintb__triage_x64.dmp"), cmds, NULL);
	REQUIRE(out);
	const uint8_t *b = t.file + t.stack_offset;
	fmt_ptr(addr, sizeof(addr), t.top_of_stack);
	int w = snprintf(want, sizeof(want), "%s ", addr);
	for (int i = 0; i < 16; i++)
		w += snprintf(want + w, sizeof(want) - (size_t)w, "%c%02x", i == 8 ? '-' : ' ', b[i]);
	CHECK_CONTAINS(out, want);
	fmt_ptr(addr, sizeof(addr), start);
	snprintf(want, sizeof(want), "%s  ?? ?? ?? ?? ?? ?? ?? ?\?-?? ?? ?? ?? ?? ?? ?? ??  ", addr);
	CHECK_CONTAINS(out, want);
	free(out);
	free(t.file);
}

// Symbols for a small memory dump without its kernel image: with the ISF
// directory in the symbol path, the kernel is identified from its
// KDDEBUGGER_DATA64. rizin's RIP (beside the dump) is nt!KeBugCheckEx's
// first instruction; the _EPROCESS offsets are Vergilius's for 19041
// (10.0.19041.264-x64: UniqueProcessId 1088, ActiveProcessLinks 1096,
// ImageFileName 1448); _LIST_ENTRY is two pointers.
TEST(symbols_from_isf_tables)
{
	NEED_DUMPS();
	char options[9000];
	isf_options(options, sizeof(options));
	int status;
	char *out = run_cli_with(options, dump_path("ojusha__100623-6156-01.dmp"),
				 "ln fffff805531fbca0; x nt!KeBugCheckEx; kn; dt nt!_LIST_ENTRY; "
				 "dt nt!_EPROCESS; ? nt!KeBugCheckEx+0x10; lm m nt", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "(fffff805`531fbca0)   nt!KeBugCheckEx   |  ");
	CHECK_CONTAINS(out, "Exact matches:\n    nt!KeBugCheckEx (<no parameter info>)\n");
	CHECK_CONTAINS(out, "fffff805`531fbca0   nt!KeBugCheckEx");
	CHECK_CONTAINS(out, "00 ffffcc04`584b6ed8 ");  // rizin's rsp
	CHECK_CONTAINS(out, "     nt!KeBugCheckEx\n");
	CHECK_CONTAINS(out, "   +0x000 Flink : Ptr64 _LIST_ENTRY\n   +0x008 Blink : Ptr64 _LIST_ENTRY\n");
	CHECK_CONTAINS(out, "   +0x440 UniqueProcessId ");
	CHECK_CONTAINS(out, "   +0x448 ActiveProcessLinks ");
	CHECK_CONTAINS(out, "   +0x5a8 ImageFileName ");
	CHECK_CONTAINS(out, "Evaluate expression: -8773223596880 = fffff805`531fbcb0\n");
	CHECK_CONTAINS(out, "(isf symbols)");
	free(out);
	// Without a symbol path the same commands say what is missing.
	out = run_cli(dump_path("ojusha__100623-6156-01.dmp"), "x nt!KeBugCheckEx", &status);
	REQUIRE(out);
	CHECK(status != 0);
	CHECK_CONTAINS(out, "nt has no symbols");
	free(out);
}

// The x64 unwinder on a small memory dump whose driver images are in a symbol
// store: after .cxr to bug check 0x7E's CONTEXT (Arg4), the stack climbs
// through amdppm's and Wdf01000's .pdata (their image files in the store) into
// nt!IofCallDriver, with amdppm's frames named from its PDB: the chain issue 4
// names from WinDbg's analysis of this dump; frame 0's Child-SP is rizin's
// rsp for that context.
TEST(stack_unwinds_through_store_images)
{
	NEED_DUMPS();
	const char *shared_env = getenv("BC_SHARED_DIR");
	const char *tmp = getenv("TMPDIR");
	const char *sh = shared_env ? shared_env : "../shared";
	char options[9000];
	snprintf(options, sizeof(options),
		 "-y '%s/symbols/store;%s/symbols/isf' --cache '%s/bugcheck-test-isf-index'", sh, sh,
		 tmp && *tmp ? tmp : "/tmp");
	int status;
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"),
				 ".cxr ffff850429891720; kn 40", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "00 ffff8504`29892120 ");
	// amdppm.pdb from the store names amdppm's frames: the chain the issue lists.
	static const char *const chain[] = {
		"amdppm!WriteIoMemRawEx+", "amdppm!WriteGenAddrEx+",
		"amdppm!WriteGenAddrMaybeHiddenEx+", "amdppm!InitAcpiCpc+",
		"amdppm!ProcLibDeviceStart+", "amdppm!EvtDevicePrepareHardware+", "Wdf01000+",
		"nt!IofCallDriver+",
	};
	const char *at = out;
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		const char *next = at ? strstr(at, chain[i]) : NULL;
		CHECK(next != NULL);
		at = next;
	}
	// Every frame's Child-SP grows.
	uint64_t last = 0;
	int frames = 0;
	for (const char *p = strstr(out, "\n00 "); p && p[1]; p = strchr(p + 1, '\n')) {
		unsigned n;
		char hi[9], lo[9];
		if (sscanf(p + 1, "%2x %8[0-9a-f]`%8[0-9a-f]", &n, hi, lo) != 3)
			break;
		uint64_t sp = strtoull(hi, NULL, 16) << 32 | strtoull(lo, NULL, 16);
		CHECK(sp > last);
		last = sp;
		frames++;
	}
	CHECK(frames >= 17);
	free(out);
}

// rizin's stack of the same dump (the .rizin-testdb.txt beside it, frames
// "N  0xIP sp: 0xSP ..."): after .cxr to the bug check's CONTEXT our frame k
// is rizin's frame 8 + k. Frames 8..24 (amdppm, Wdf01000, into
// nt!IofCallDriver) must have rizin's stack pointers, and each frame's
// RetAddr must be rizin's next frame's instruction pointer.
TEST(stack_matches_rizins_frames_8_to_24)
{
	NEED_DUMPS();
	char path[8300];
	snprintf(path, sizeof(path), "%s.rizin-testdb.txt", dump_path("rizintb__triage_x64.dmp"));
	FILE *f = fopen(path, "r");
	if (!f)
		SKIP("skipped: the rizin stack file is not in ../shared");
	unsigned long long ip[40] = { 0 }, sp[40] = { 0 };
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		unsigned n;
		unsigned long long a, b;
		if (sscanf(line, "%u 0x%llx sp: 0x%llx", &n, &a, &b) == 3 && n < 40) {
			ip[n] = a;
			sp[n] = b;
		}
	}
	fclose(f);
	REQUIRE(sp[8] && sp[24] && ip[25]);
	const char *shared_env = getenv("BC_SHARED_DIR");
	const char *tmp = getenv("TMPDIR");
	const char *sh = shared_env ? shared_env : "../shared";
	char options[9000];
	snprintf(options, sizeof(options),
		 "-y '%s/symbols/store;%s/symbols/isf' --cache '%s/bugcheck-test-isf-index'", sh, sh,
		 tmp && *tmp ? tmp : "/tmp");
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"),
				 ".cxr ffff850429891720; kn 20", NULL);
	REQUIRE(out);
	for (unsigned k = 0; k + 8 <= 24; k++) {
		char want[96];
		unsigned long long s = sp[8 + k], r = ip[8 + k + 1];
		// Frame 24's return address needs ntoskrnl's unwind data, which
		// ../shared lacks: there the walk scans (and says so), so only its
		// stack pointer is rizin's.
		if (8 + k == 24)
			snprintf(want, sizeof(want), "\n%02x %08llx`%08llx ", k, s >> 32,
				 s & 0xffffffffu);
		else
			snprintf(want, sizeof(want), "\n%02x %08llx`%08llx %08llx`%08llx ", k,
				 s >> 32, s & 0xffffffffu, r >> 32, r & 0xffffffffu);
		if (!strstr(out, want))
			TEST_FAIL_AT("frame %u (rizin's %u): no line starting \"%s\"", k, 8 + k,
				     want + 1);
	}
	CHECK_CONTAINS(out, "nt!IofCallDriver+0x55\n");  // rizin: IofCallDriver+85
	CHECK_CONTAINS(out, "Following frames may be wrong.");
	free(out);
}

// Code a small memory dump does not hold comes from the image file in the
// symbol path, as in WinDbg: amdppm+0x1c40 is on a page the triage dump
// lacks (db shows ??), yet u shows the instructions GNU objdump reads from
// amdppm.sys at ImageBase 0x1c0000000 + 0x1c40 (bytes and boundaries).
TEST(u_reads_code_missing_from_a_small_dump_from_the_image_file)
{
	NEED_DUMPS();
	const char *shared_env = getenv("BC_SHARED_DIR");
	const char *sh = shared_env ? shared_env : "../shared";
	char image[8300], cmd[9000], options[8400];
	snprintf(image, sizeof(image), "%s/symbols/store/amdppm.sys/c9c030003b000/amdppm.sys", sh);
	snprintf(cmd, sizeof(cmd), "objdump -d --start-address=0x1c0001c40 "
		 "--stop-address=0x1c0001c50 '%s' 2>/dev/null", image);
	FILE *p = popen(cmd, "r");
	if (!p)
		SKIP("skipped: objdump not found");
	// objdump lines: "   1c0001c40:\t48 89 5c 24 08 \tmov ..." -> "fffff804`8b581c40 48895c2408".
	char want[8][96];
	int n = 0;
	char line[512];
	while (n < 3 && fgets(line, sizeof(line), p)) {
		unsigned long long addr;
		int used = -1;  // set only when the ':' after the address matched
		if (sscanf(line, " %llx:%n", &addr, &used) != 1 || used < 0 ||
		    addr < 0x1c0001c40ull)
			continue;
		char bytes[48] = "";
		size_t k = 0;
		for (const char *q = line + used; *q && k + 2 < sizeof(bytes); q++) {
			if (isxdigit((unsigned char)q[0]) && isxdigit((unsigned char)q[1]) &&
			    (q[2] == ' ' || q[2] == '\t' || q[2] == '\n')) {
				bytes[k++] = q[0];
				bytes[k++] = q[1];
				q += 2;
				if (*q == '\t')
					break;  // the mnemonic follows
			} else if (*q != ' ' && *q != '\t') {
				break;
			}
		}
		bytes[k] = 0;
		uint64_t va = 0xfffff8048b580000ull + (addr - 0x1c0000000ull);
		snprintf(want[n++], sizeof(want[0]), "%08llx`%08llx %s ",
			 (unsigned long long)(va >> 32), (unsigned long long)(va & 0xffffffffu), bytes);
	}
	pclose(p);
	if (n < 3)
		SKIP("skipped: objdump gave no disassembly of amdppm.sys");
	snprintf(options, sizeof(options), "-y '%s/symbols/store'", sh);
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"),
				 "db amdppm+1c40 L4; u amdppm+1c40 L3", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "fffff804`8b581c40  ?? ?? ?? ??");  // not in the dump itself
	for (int i = 0; i < n; i++)
		CHECK_CONTAINS(out, want[i]);
	free(out);
}

// !thread on eolaruhagen, whose kernel no ISF table matches: every field
// comes from KDDEBUGGER_DATA64's offsets, and the lines bugcheck prints are
// WinDbg's own (its !thread output beside the dump): Stack Init/Current
// exactly, Base/Limit and Owning Process up to the parts that need types.
TEST(thread_matches_windbg_thread_without_types)
{
	NEED_DUMPS();
	char path[8300], line[512], want[520];
	snprintf(path, sizeof(path), "%s.windbg-thread.txt",
		 dump_path("eolaruhagen__083125-14875-01.dmp"));
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	char *out = run_cli(dump_path("eolaruhagen__083125-14875-01.dmp"), "!thread", NULL);
	REQUIRE(out);
	REQUIRE(line_starting(text, "Stack Init ", line, sizeof(line)));
	snprintf(want, sizeof(want), "%s\n", line);
	CHECK_CONTAINS(out, want);
	REQUIRE(line_starting(text, "Base ", line, sizeof(line)));
	char *call = strstr(line, " Call ");
	REQUIRE(call);
	*call = 0;
	snprintf(want, sizeof(want), "%s\n", line);
	CHECK_CONTAINS(out, want);
	REQUIRE(line_starting(text, "Owning Process ", line, sizeof(line)));
	char *image = strstr(line, "Image:");
	REQUIRE(image);
	image[6] = 0;
	CHECK_CONTAINS(out, line);
	// "THREAD ffffd20bfc13c080  Cid 0cac.11b8  Teb: 0000007d48790000 ... RUNNING on processor 0"
	CHECK_CONTAINS(out, "THREAD ffffd20bfc13c080 ");
	CHECK_CONTAINS(out, "Teb: 0000007d48790000");
	CHECK_CONTAINS(text, "Teb: 0000007d48790000");
	CHECK_CONTAINS(out, "RUNNING on processor 0\n");
	CHECK_CONTAINS(text, "RUNNING on processor 0");
	CHECK_CONTAINS(out, "(Cid, the image name, the start address, priorities and wait and "
			    "switch counts need the kernel's types");
	free(out);
}

// !thread on rizintb with the ISF table identified for its kernel: rizin's
// stack (beside the dump) runs ExpWorkerThread <- PspSystemThreadStartup, so
// this is a system worker thread: process System, PID 4, and its start
// address is ExpWorkerThread (rizin: ExpWorkerThread+261 at fffff8047bc25975).
TEST(thread_with_isf_types_is_a_system_worker)
{
	NEED_DUMPS();
	char options[9000];
	isf_options(options, sizeof(options));
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"), "!thread", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, " Cid 0004.");
	CHECK_CONTAINS(out, "Image:         System\n");
	char want[128];
	snprintf(want, sizeof(want), "Win32 Start Address 0x%016llx\n",
		 0xfffff8047bc25975ull - 261);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "RUNNING on processor ");
	free(out);
}

// !ipi on real small dumps whose kernels have ISF tables: when Windows
// bug-checks it freezes every other processor, so the bug-checking one
// (the KPRCB copy at the header's PrcbOffset names it: rizintb 0, ojusha 1,
// checked below from the file's bytes)
// is running and all the others are frozen (KPRCB.IpiFrozen, read here from
// the KPRCBs in the dumps' data blocks).
TEST(ipi_shows_the_other_processors_frozen)
{
	NEED_DUMPS();
	char options[9000];
	isf_options(options, sizeof(options));
	static const struct {
		const char *dump;
		unsigned processors, current;
	} cases[] = {
		{ "rizintb__triage_x64.dmp", 16, 0 },
		{ "ojusha__100623-6156-01.dmp", 12, 1 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		// The bug-checking processor, read here from the file's bytes: the
		// KPRCB copy at the triage header's PrcbOffset (0x1c), its number at
		// KDDEBUGGER_DATA64's OffsetPrcbNumber (0x2be; the block's copy is at
		// DebuggerDataOffset, header 0x70).
		struct triage tr;
		REQUIRE(triage_load(dump_path(cases[c].dump), &tr));
		uint32_t prcb_offset = bc_le32(tr.file + 0x2000 + 0x1c);
		uint32_t kdbg_offset = bc_le32(tr.file + 0x2000 + 0x70);
		REQUIRE((uint64_t)kdbg_offset + 0x2c0 <= tr.size);
		uint16_t number_offset = bc_le16(tr.file + kdbg_offset + 0x2be);
		REQUIRE((uint64_t)prcb_offset + number_offset < tr.size);
		CHECK_EQ(tr.file[prcb_offset + number_offset], cases[c].current);
		free(tr.file);
		char *out = run_cli_with(options, dump_path(cases[c].dump), "!ipi", NULL);
		REQUIRE(out);
		for (unsigned i = 0; i < cases[c].processors; i++) {
			char want[128];
			snprintf(want, sizeof(want), "IPI State for Processor %u\n  IPI Frozen:      %s\n",
				 i, i == cases[c].current ? "0 [Running]" : "2 [Frozen]");
			CHECK_CONTAINS(out, want);
		}
		free(out);
	}
}

// !process 0 0 on rizintb with its ISF table: the crash came during boot,
// and the dump's data blocks hold the whole of PsActiveProcessHead (five
// processes, the last linking back to the head). The first is System, PID 4,
// whose DirBase is the dump header's DirectoryTableBase (0x1ad000 in rizin's
// reading of the header beside the dump). Fields of processes whose bytes
// the dump lacks are shown as not accessible, never guessed.
TEST(process_list_of_a_small_dump)
{
	NEED_DUMPS();
	char options[9000];
	isf_options(options, sizeof(options));
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"), "!process 0 0",
				 NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "**** NT ACTIVE PROCESS DUMP ****\nPROCESS ");
	CHECK_CONTAINS(out, "    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000\n"
			    "    DirBase: 001ad000  ObjectTable: ");
	CHECK_CONTAINS(out, "    Image: System\n");
	size_t blocks = 0;
	for (const char *p = strstr(out, "\nPROCESS "); p; p = strstr(p + 1, "\nPROCESS "))
		blocks++;
	CHECK_EQ(blocks, 5);
	CHECK(strstr(out, "NOTE:") == NULL);  // the walk came back to the head
	free(out);
	// System's threads: the list head is in the dump, most threads are not,
	// and the walk says where it had to stop.
	out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"),
			   "!process ffffc08bdce94180 2", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "THREAD ");
	CHECK_CONTAINS(out, "NOTE: the list continues at ");
	CHECK_CONTAINS(out, "which is not in this dump (small memory dump)\n");
	free(out);
}

// !pcr on rizintb: its data blocks hold KiProcessorBlock (processor 0's KPRCB
// at fffff804`782d4180) but not the KPCR header around it; x64 kernels embed
// the KPRCB at _KPCR.Prcb (0x180 in the ISF table), so the KPCR is at
// ...4000, and what the dump lacks is said, not printed as zeros.
TEST(pcr_of_a_small_dump)
{
	NEED_DUMPS();
	char options[9000];
	isf_options(options, sizeof(options));
	char *out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"),
				 "dq nt!KiProcessorBlock L1; !pcr 0", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "  fffff804`782d4180\n");
	CHECK_CONTAINS(out, "KPCR for Processor 0 at fffff804782d4000:\n"
			    "    (the KPCR's own fields are not in this dump)\n");
	CHECK_CONTAINS(out, "\t      CurrentThread: ");
	free(out);
}

// The processor commands over an 8-processor dump the writer laid out from
// a real ISF table (tests/fixtures/gen/mkdump_isf.c): the reader identifies
// the kernel, and every value the commands print is the one the writer
// recorded: saved IRQLs, IpiFrozen, each KPCR and its self pointer, the
// threads, the System process, and the bug-checking processor's place.
TEST(processor_commands_on_a_kernel_laid_out_from_isf)
{
	NEED_DUMPS();
	char table[4300], options[9000];
	if (!isf_table(table, sizeof(table)))
		SKIP("skipped: ../shared/symbols/isf not found");
	isf_options(options, sizeof(options));
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL, .isf_table = table };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex);
	char path[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, ex, path));
	char cmds[600];
	snprintf(cmds, sizeof(cmds),
		 "!irql 0; !irql 1; !irql 2; !irql 3; !irql 4; !irql 5; !irql 6; "
		 "!irql 7; !ipi; !pcr 1; !running; !process 0 0; !thread; .process; "
		 ".process /p /r 0; .process %" PRIx64, ex->thread[0]);
	char *out = run_cli_with(options, path, cmds, NULL);
	unlink(path);
	REQUIRE(out);
	char want[256];
	for (uint32_t i = 0; i < ex->processors; i++) {
		unsigned irql = ex->saved_irql[i];
		snprintf(want, sizeof(want), "Debugger saved IRQL for processor 0x%x -- %u (%s)\n", i,
			 irql, irql == 2 ? "DISPATCH_LEVEL" : irql == 14 ? "IPI_LEVEL"
				 : irql == 0 ? "PASSIVE_LEVEL" : "?");
		CHECK_CONTAINS(out, want);
		if (ex->has_ipi_frozen) {
			snprintf(want, sizeof(want), "IPI State for Processor %u\n  IPI Frozen:      %X [%s]",
				 i, ex->ipi_frozen[i], ex->ipi_frozen[i] == 2 ? "Frozen" : "Running");
			CHECK_CONTAINS(out, want);
		}
		snprintf(want, sizeof(want), "%3u  %016" PRIx64 "  %016" PRIx64 "  ", i, ex->prcb[i],
			 ex->thread[i]);
		CHECK_CONTAINS(out, want);
	}
	snprintf(want, sizeof(want), "KPCR for Processor 1 at %016" PRIx64 ":\n", ex->kpcr[1]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "\t            SelfPcr: %016" PRIx64 "\n\t               Prcb: %016"
		 PRIx64 "\n", ex->kpcr[1], ex->prcb[1]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "\t         IdleThread: %016" PRIx64 "\n", ex->idle_thread[1]);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "  Idle Processors 0\n");
	CHECK_CONTAINS(out, "**** NT ACTIVE PROCESS DUMP ****\nPROCESS ");
	snprintf(want, sizeof(want), "Cid: %04" PRIx64, ex->process_id);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "    Image: %s\n", ex->process_name);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "THREAD %016" PRIx64 " ", ex->thread[ex->current_processor]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "RUNNING on processor %x\n", ex->current_processor);
	CHECK_CONTAINS(out, want);
	// .process: the bug-checking thread's process is System; an address that
	// is no process is refused rather than switched to.
	snprintf(want, sizeof(want), "Implicit process is %08" PRIx64 "`%08" PRIx64 "\n",
		 ex->process >> 32, ex->process & 0xffffffffu);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), ".process: %" PRIx64 " is not a process: its "
		 "DirectoryTableBase ", ex->thread[0]);
	CHECK_CONTAINS(out, want);
	free(out);
	free(ex);
}

// !sysinfo and .enumtag over a real small dump's secondary data, in
// WinDbg's "Name = value" layout; the values were read by hand from the
// dump's SMBIOS and registry blobs (WinDbg's !analyze says VirtualBox too).
TEST(sysinfo_commands_on_a_real_small_dump)
{
	NEED_DUMPS();
	char *out = run_cli_with("", dump_path("eolaruhagen__083125-14875-01.dmp"),
				 "!sysinfo machineid; !sysinfo cpuinfo; !sysinfo smbios; .enumtag",
				 NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "Machine ID Information [From Smbios 2.5, DMIVersion 0, Size=499]\n"
			    "BiosVendor = innotek GmbH\nBiosVersion = VirtualBox\n"
			    "BiosReleaseDate = 12/01/2006\nSystemManufacturer = innotek GmbH\n"
			    "SystemProductName = VirtualBox\n");
	CHECK_CONTAINS(out, "[CPU Information]\n~MHz = REG_DWORD 3072\n");
	CHECK_CONTAINS(out, "ProcessorNameString = REG_SZ Intel(R) Core(TM) Ultra 9 275HX\n");
	CHECK_CONTAINS(out, "[BIOS Information (Type 0) - Length 20 - Handle 0000h]\n"
			    "  String 1   innotek GmbH\n");
	CHECK_CONTAINS(out, "{BC5C008F-1E3A-44D7-988D-86F6884C6758} - 0x1fb bytes (SMBIOS tables)\n"
			    "  00 02 05 00 F3 01 00 00");
	free(out);
}

// A 64-bit address as WinDbg prints it in stacks: "ffff8504`29890ee8".
static const char *ticked(char *buf, uint64_t v)
{
	snprintf(buf, 20, "%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
	return buf;
}

// The value the writer recorded for field @path of the @type at @object.
static bool find_field(const struct bc_fixture_expect *ex, uint64_t object, const char *type,
		       const char *path, uint64_t *value)
{
	for (size_t i = 0; i < ex->field_count; i++) {
		const struct bc_fixture_field *f = &ex->fields[i];
		if (f->object == object && !strcmp(f->type, type) && !strcmp(f->path, path)) {
			*value = f->value;
			return true;
		}
	}
	return false;
}

// A pointer as a column shows it: 16 digits (8 on 32-bit targets, whose
// values the writer records sign-extended), with WinDbg's backtick in the
// middle of 64-bit ones when @tick.
static const char *column_ptr(char *buf, uint64_t v, unsigned pointer_size, bool tick)
{
	if (pointer_size == 4)
		snprintf(buf, 20, "%08" PRIx32, (uint32_t)v);
	else if (tick)
		ticked(buf, v);
	else
		snprintf(buf, 20, "%016" PRIx64, v);
	return buf;
}

// What !ipi, !running, ~ and !irql must say of a planted freeze: processor
// 4 bug-checked (Running, DISPATCH_LEVEL, where its chain starts), every
// other one Frozen where the frozen chain starts.
static void check_frozen_processors(const char *out, const struct bc_fixture_expect *ex)
{
	char want[512], a[20], b[20];
	unsigned ps = ex->pointer_size;
	for (uint32_t i = 0; i < ex->processors; i++) {
		const char *state = ex->ipi_frozen[i] == 2 ? "Frozen" : "Running";
		CHECK(ex->ipi_frozen[i] == (i == 4 ? 0u : 2u));
		snprintf(want, sizeof(want), "IPI State for Processor %u\n  IPI Frozen:      "
			 "%X [%s]", i, ex->ipi_frozen[i], state);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "%3u  %s  %s  ", i, column_ptr(a, ex->prcb[i], ps, false),
			 column_ptr(b, ex->thread[i], ps, false));
		CHECK_CONTAINS(out, want);
		// ~: the current processor marked, where each one stopped.
		snprintf(want, sizeof(want), "%c %2u  %s  %s  %-12s  %s\n", i == 4 ? '.' : ' ', i,
			 column_ptr(a, ex->prcb[i], ps, true), column_ptr(b, ex->thread[i], ps, true),
			 state, i == 4 ? ex->chain[0].call_site : ex->frozen_chain[0].call_site);
		CHECK_CONTAINS(out, want);
	}
	CHECK_CONTAINS(out, "Debugger saved IRQL for processor 0x4 -- 2 (DISPATCH_LEVEL)\n");
}

// The stack `k` must print for planted frames (mkdump_chain.c): each
// frame's stack pointer, its return address (the next frame's pc, 0 after
// the last) and its call site, all as the writer recorded them.
static void expected_stack(const struct bc_fixture_chain_frame *f, size_t n, char *buf,
			   size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "Child-SP          RetAddr               "
				       "Call Site\n");
	for (size_t i = 0; i < n && used < size; i++) {
		char sp[20], ret[20];
		used += (size_t)snprintf(buf + used, size - used, "%s %s     %s\n",
					 ticked(sp, f[i].sp),
					 ticked(ret, i + 1 < n ? f[i + 1].pc : 0), f[i].call_site);
	}
}

// Issue 5's scenario, in a full and a bitmap dump laid out from a real ISF
// table: 8 processors, processor 4 double-faulted in nt!KiIpiSendRequest
// (under the verifier, called from iaStor.sys), the others frozen by the bug
// check in KiFreezeTargetExecution. !ipi, !running, !irql, ~, `~4s; k`,
// `~0s; k` and .trap report exactly the state the writer planted, down to
// each frame's stack pointer and the trap frame's registers.
TEST(ipi_double_fault_scenario)
{
	NEED_DUMPS();
	char table[4300], options[9000];
	if (!isf_table(table, sizeof(table)))
		SKIP("skipped: ../shared/symbols/isf not found");
	isf_options(options, sizeof(options));
	static const enum bc_fixture_format formats[] = { BC_FIXTURE_FULL,
							   BC_FIXTURE_BITMAP_KERNEL };
	for (size_t f = 0; f < sizeof(formats) / sizeof(*formats); f++) {
		struct bc_fixture_spec spec = { .format = formats[f] };
		bc_fixture_ipi_double_fault(&spec, table);
		struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
		REQUIRE(ex);
		char path[BC_FIXTURE_TEMP_PATH];
		REQUIRE_OK(bc_fixture_write_temp(&spec, ex, path));
		CHECK(ex->current_processor == 4 && ex->processors == 8);
		REQUIRE(ex->chain_count > 4 && ex->chain[2].trap_frame && ex->frozen_chain_count);
		char cmds[240], t[20];
		snprintf(cmds, sizeof(cmds), "!vm; !ipi; !running; !irql; ~; ~4s; k; .trap %s; ~0s; k; "
			 "!process 0 7; !prcb 4",
			 ticked(t, ex->chain[2].trap_frame));
		char *out = run_cli_with(options, path, cmds, NULL);
		unlink(path);
		REQUIRE(out);
		char want[4096], a[20], b[20];
		check_frozen_processors(out, ex);
		// !vm: nt!MiSystemPartition's counters, the machine's RAM first.
		REQUIRE(ex->has_vm);
		static const char *const vm_labels[] = { "Physical Memory:", "Available Pages:",
							 "ResAvail Pages:", "Modified Pages:",
							 "Committed pages:", "Commit limit:",
							 "Peak Commitment:" };
		for (int i = 0; i < 7; i++) {
			snprintf(want, sizeof(want), "\t%-18s %12" PRIu64 " (%12" PRIu64 " Kb)\n",
				 vm_labels[i], ex->vm_pages[i], ex->vm_pages[i] * 4);
			CHECK_CONTAINS(out, want);
		}
		expected_stack(ex->chain, ex->chain_count, want, sizeof(want));
		CHECK_CONTAINS(out, want);
		CHECK_CONTAINS(out, "nt!KiIpiSendRequest+0x");
		CHECK_CONTAINS(out, "iaStor+0x");
		// .trap: the interrupted pc (bug check parameter 4) and stack.
		CHECK(ex->bugcheck_parameters[3] == ex->interrupted_pc &&
		      ex->interrupted_pc == ex->chain[3].pc);
		snprintf(want, sizeof(want), "rip=%016" PRIx64 " rsp=%016" PRIx64 " ",
			 ex->chain[3].pc, ex->chain[3].sp);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "%s:\n%s 53              push    rbx\n",
			 ex->chain[3].call_site, ticked(a, ex->chain[3].pc));
		CHECK_CONTAINS(out, want);
		// Processor 0, frozen: its own stack, through KiIpiInterrupt's trap frame.
		CHECK(ex->frozen_sp[0] == ex->frozen_chain[0].sp);
		expected_stack(ex->frozen_chain, ex->frozen_chain_count, want, sizeof(want));
		CHECK_CONTAINS(out, want);
		CHECK_CONTAINS(out, "nt!KiFreezeTargetExecution+0x");
		// !process 0 7: System's threads (ThreadListHead), each running
		// thread's stack from its processor's frozen registers.
		// !prcb 4: DPC and interrupt activity as the writer set them.
		static const char *const activity[] = { "DpcRoutineActive", "DpcRequestSummary",
							"DpcTime", "InterruptCount", "InterruptTime",
							"NestingLevel" };
		uint64_t v[6] = { 0 };
		for (int k = 0; k < 6; k++)
			REQUIRE(find_field(ex, ex->prcb[4], "_KPRCB", activity[k], &v[k]));
		snprintf(want, sizeof(want), "DPC --  RoutineActive %" PRIu64 "  RequestSummary %"
			 PRIu64 "  Time %" PRIu64, v[0], v[1], v[2]);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "  Count %" PRIu64 "  Time %" PRIu64 "  NestingLevel %"
			 PRIu64 "\n", v[3], v[4], v[5]);
		CHECK_CONTAINS(out, want);
		REQUIRE(ex->process_threads_listed);
		for (uint32_t i = 0; i < ex->processors; i++) {
			snprintf(want, sizeof(want), "THREAD %016" PRIx64 "  Cid 0004.", ex->thread[i]);
			CHECK_CONTAINS(out, want);
			snprintf(want, sizeof(want), "RUNNING on processor %x\n", i);
			CHECK_CONTAINS(out, want);
		}
		snprintf(want, sizeof(want), "%s %s     : ", ticked(a, ex->frozen_chain[0].sp),
			 ticked(b, ex->frozen_chain[1].pc));
		CHECK_CONTAINS(out, want);
		// A running thread's IRQL is its processor's saved one (frozen
		// processors: IPI_LEVEL, 14).
		CHECK(ex->saved_irql[0] == 14);
		snprintf(want, sizeof(want), "RUNNING on processor 0\n%-26s%016" PRIx64 "       "
			 "Image:         System\n", "Owning Process", ex->process);
		CHECK_CONTAINS(out, want);
		CHECK_CONTAINS(out, "Priority 0  BasePriority 0\nIRQL                      14 "
				    "(IPI_LEVEL)\n");
		// The waiting worker: its wait (reason, mode) and the queue it waits on.
		REQUIRE(ex->waiting_thread && ex->wait_object);
		snprintf(want, sizeof(want), "THREAD %016" PRIx64 "  Cid 0004.", ex->waiting_thread);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), " WAIT: (WrQueue) KernelMode Non-Alertable\n"
			 "            %016" PRIx64 "  QueueObject\n", ex->wait_object);
		CHECK_CONTAINS(out, want);
		free(out);
		free(ex);
	}
}

// The Vergilius layout @name (.yml.xz) of ../shared in @layout, and the
// reader's option naming their directory in @options; false when absent.
static bool vergilius_layout(const char *name, char *layout, size_t layout_size, char *options,
			     size_t options_size)
{
	const char *shared = getenv("BC_SHARED_DIR");
	if (!shared)
		shared = "../shared";
	snprintf(layout, layout_size, "%s/symbols/vergilius/%s.yml.xz", shared, name);
	snprintf(options, options_size, "--types '%s/symbols/vergilius'", shared);
	return access(layout, R_OK) == 0;
}

// The same scenario on a 32-bit kernel: x86 PAE build 7601, full and bitmap
// dumps laid out from the real Windows 7 SP1 x86 layout of the Vergilius
// Project (tests/fixtures/gen/mkdump_vergilius.c), read back with that
// layout given to the reader (--types), which accepts it only because
// every KDDEBUGGER_DATA64 offset agrees. Processor 4's EBP chain and the
// frozen processors' state are what the writer planted.
TEST(x86_freeze_scenario_from_a_vergilius_layout)
{
	NEED_DUMPS();
	char layout[4300], options[4400];
	if (!vergilius_layout("6.1.7601.17514-x86", layout, sizeof(layout), options,
			      sizeof(options)))
		SKIP("skipped: ../shared/symbols/vergilius not found");
	static const enum bc_fixture_format formats[] = { BC_FIXTURE_FULL,
							   BC_FIXTURE_BITMAP_KERNEL };
	for (size_t f = 0; f < sizeof(formats) / sizeof(*formats); f++) {
		struct bc_fixture_spec spec = { .format = formats[f] };
		bc_fixture_x86_freeze(&spec, layout);
		struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
		REQUIRE(ex);
		char path[BC_FIXTURE_TEMP_PATH];
		REQUIRE_OK(bc_fixture_write_temp(&spec, ex, path));
		REQUIRE(ex->pointer_size == 4 && ex->current_processor == 4 && ex->has_ipi_frozen);
		REQUIRE(ex->chain_count == 6 && ex->frozen_chain_count > 2);
		char *out = run_cli_with(options, path, "!ipi; !running; !irql; ~; ~4s; k; ~0s; k",
					 NULL);
		unlink(path);
		REQUIRE(out);
		char want[2048];
		check_frozen_processors(out, ex);
		// x86 k: ChildEBP, RetAddr, call site (frames named by RVA: no symbols).
		const struct bc_fixture_chain_frame *chains[2] = { ex->chain, ex->frozen_chain };
		size_t counts[2] = { ex->chain_count, ex->frozen_chain_count };
		for (int c = 0; c < 2; c++) {
			size_t used = (size_t)snprintf(want, sizeof(want), "ChildEBP RetAddr  \n");
			for (size_t i = 0; i < counts[c] && used < sizeof(want); i++)
				used += (size_t)snprintf(want + used, sizeof(want) - used,
							 "%08" PRIx32 " %08" PRIx32 " %s\n",
							 (uint32_t)chains[c][i].sp,
							 i + 1 < counts[c] ? (uint32_t)chains[c][i + 1].pc : 0,
							 chains[c][i].call_site);
			CHECK_CONTAINS(out, want);
		}
		CHECK_CONTAINS(out, "contosonet+0x1a75\n");
		free(out);
		free(ex);
	}
}

// eolaruhagen's kernel (19041.3803) has no ISF table here, but the Vergilius
// layout of 19041.264 agrees with every offset its KDDEBUGGER_DATA64 states,
// so the reader takes its types: !thread then shows what WinDbg's !thread
// beside the dump shows (windbg-thread.txt), field by field.
TEST(thread_with_a_vergilius_layout_matches_windbg)
{
	NEED_DUMPS();
	char options[4400], layout[4300];
	if (!vergilius_layout("10.0.19041.264-x64", layout, sizeof(layout), options,
			      sizeof(options)))
		SKIP("skipped: ../shared/symbols/vergilius not found");
	char *out = run_cli_with(options, dump_path("eolaruhagen__083125-14875-01.dmp"), "!thread",
				 NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "THREAD ffffd20bfc13c080  Cid 0cac.11b8  Teb: 0000007d48790000 "
			    "Win32Thread: ffffd20bfcfe25f0 RUNNING on processor 0\n");
	CHECK_CONTAINS(out, "Owning Process            ffffd20bfc53e080       Image:         "
			    "notmyfault64.e\n");
	CHECK_CONTAINS(out, "Wait Start TickCount      31683\n");
	CHECK_CONTAINS(out, "Context Switch Count      2419");
	CHECK_CONTAINS(out, "Win32 Start Address 0x00007ff727f74848\n");
	CHECK_CONTAINS(out, "Stack Init ffffa704eeb6bfd0 Current ffffa704eec5a2d0\n"
			    "Base ffffa704eeb6c000 Limit ffffa704eeb66000");
	CHECK_CONTAINS(out, "Priority 12  BasePriority 8");
	free(out);
}

// !owner over the rules: a user's --triage file is read after ours and
// replaces or adds owners; a bad file stops the program with its line.
TEST(owner_with_a_user_triage_file)
{
	char rules[] = "/tmp/bc_test_triage_XXXXXX";
	int fd = mkstemp(rules);
	REQUIRE(fd >= 0);
	static const char text[] = "; my team\niaStor=IntelRST\nnt!KiIpi*=maybe_Kernel\n";
	REQUIRE(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	char options[200], dump[BC_FIXTURE_TEMP_PATH];
	snprintf(options, sizeof(options), "--triage '%s'", rules);
	struct bc_fixture_spec spec = { 0 };
	REQUIRE_OK(bc_fixture_write_temp(&spec, NULL, dump));
	char *out = run_cli_with(options, dump, "!owner iaStor!Foo; !owner nt!KiIpiSendRequest; "
				 "!owner nt!KeBugCheckEx", NULL);
	REQUIRE(out);
	char want[512];
	snprintf(want, sizeof(want), "Followup:     IntelRST\n(rule iaStor, line 2 of %s)\n",
		 rules);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "Followup:     maybe_Kernel\n");
	CHECK_CONTAINS(out, "Followup:     ignore\n(rule nt!KeBugCheck*, line ");
	free(out);
	FILE *f = fopen(rules, "w");
	REQUIRE(f);
	fputs("iaStor=IntelRST\nno equals sign\n", f);
	fclose(f);
	int status;
	out = run_cli_with(options, dump, "!owner x", &status);
	REQUIRE(out);
	CHECK(status != 0);
	snprintf(want, sizeof(want), "%s line 2: no '='", rules);
	CHECK_CONTAINS(out, want);
	free(out);
	unlink(rules);
	unlink(dump);
}

// !verifier: the writer (laid out from a real ISF table) sets
// MmVerifierData.Level to 0x9bb, the level of WinDbg's documented example,
// and puts two drivers on VfSuspectDriversList; the real small dumps
// (rizintb 0x1000007E, ojusha 0x50: no verifier bug check) have Level 0.
TEST(verifier_flags_and_drivers)
{
	NEED_DUMPS();
	char table[4300], options[9000];
	if (!isf_table(table, sizeof(table)))
		SKIP("skipped: ../shared/symbols/isf not found");
	isf_options(options, sizeof(options));
	static const char *const drivers[] = { "iaStor.sys", "myfault.sys" };
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL, .isf_table = table,
					.verifier_level = 0x9bb, .verified_drivers = drivers,
					.verified_driver_count = 2 };
	struct bc_fixture_expect *ex = calloc(1, sizeof(*ex));
	REQUIRE(ex);
	char path[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, ex, path));
	char *out = run_cli_with(options, path, "!verifier", NULL);
	unlink(path);
	REQUIRE(out);
	// 0x9bb's options, in the documented example's words and order.
	CHECK_CONTAINS(out, "Verify Level 9bb ... enabled options are:\n"
			    "    Special pool\n    Special irql\n"
			    "    All pool allocations checked on unload\n"
			    "    Io subsystem checking enabled\n    Deadlock detection enabled\n"
			    "    DMA checking enabled\n    Security checks enabled\n"
			    "    Miscellaneous checks enabled\n");
	CHECK_CONTAINS(out, "Driver Verification List\n\n    iaStor.sys\n    myfault.sys\n");
	CHECK(strstr(out, "NOTE:") == NULL);
	free(out);
	free(ex);
	out = run_cli_with(options, dump_path("rizintb__triage_x64.dmp"), "!verifier", NULL);
	REQUIRE(out);
	CHECK_CONTAINS(out, "Driver Verifier is not enabled");
	free(out);
}

// Without ntoskrnl's image the walk scans the stack, and says so; on
// eolaruhagen that reproduces WinDbg's own kv (beside the dump) for the
// frames before the trap frame: Child-SP and RetAddr of frames 00 and 01,
// and frame 02's Child-SP.
TEST(scanned_stack_agrees_with_windbg_kv)
{
	NEED_DUMPS();
	char path[8300];
	snprintf(path, sizeof(path), "%s.windbg-kv.txt", dump_path("eolaruhagen__083125-14875-01.dmp"));
	FILE *f = fopen(path, "r");
	if (!f)
		SKIP("skipped: the WinDbg kv file is not in ../shared");
	char lines[3][64] = { "", "", "" };
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned n;
		char sp[20], ret[20];
		if (sscanf(line, "%2x %19s %19s", &n, sp, ret) == 3 && n < 3)
			snprintf(lines[n], sizeof(lines[n]), "%02x %s %s", n, sp, ret);
	}
	fclose(f);
	REQUIRE(lines[0][0] && lines[1][0] && lines[2][0]);
	int status;
	char *out = run_cli(dump_path("eolaruhagen__083125-14875-01.dmp"), "kn 3", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, lines[0]);
	CHECK_CONTAINS(out, lines[1]);
	lines[2][20] = 0;  // "02 ffffa704`eeb6bdd0": the RetAddr there comes from the trap frame
	CHECK_CONTAINS(out, lines[2]);
	CHECK_CONTAINS(out, "WARNING: Stack unwind information not available. Following frames may be "
			    "wrong.\n");
	free(out);
}

// Files as targets: amdppm.sys from the store mapped at its ImageBase holds,
// at the faulting RVA 0x334c, the instruction rizin disassembled in the dump;
// amdppm.pdb alone at the dump's base names that address like WinDbg would
// (llvm-pdbutil: WriteIoMemRawEx at 0001:8924, .text at 0x1000 -> RVA 0x32dc).
TEST(image_and_pdb_files_as_targets)
{
	NEED_DUMPS();
	const char *shared_env = getenv("BC_SHARED_DIR");
	const char *sh = shared_env ? shared_env : "../shared";
	char image[4200], pdb[4200];
	snprintf(image, sizeof(image), "%s/symbols/store/amdppm.sys/c9c030003b000/amdppm.sys", sh);
	snprintf(pdb, sizeof(pdb),
		 "%s/symbols/store/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", sh);
	int status;
	char *out = run_cli(image, "u amdppm+0x334c L1; lm", &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "00000001`c000334c 43891401        mov     dword ptr [r9+r8],edx");
	free(out);
	out = run_cli_with("--base fffff8048b580000", pdb, "ln fffff8048b58334c; x amdppm!WriteIoMemRawEx",
			   &status);
	REQUIRE(out);
	CHECK_EQ(status, 0);
	CHECK_CONTAINS(out, "(fffff804`8b5832dc)   amdppm!WriteIoMemRawEx+0x70");
	CHECK_CONTAINS(out, "fffff804`8b5832dc   amdppm!WriteIoMemRawEx (<no parameter info>)");
	free(out);
}

TEST_MAIN()
