// Parameter values against a program whose arguments are known: the chain of
// tests/fixtures/unwind/params.c (clang -O0 with CodeView, lld-link with a
// PDB), x64 and x86, runs under unicorn from params_entry to params_stop;
// the machine is written into a synthetic kernel dump with the DLL as a
// loaded driver and its PDB found through the symbol path. `kp`, `kP`,
// `--json` and bc_target_frame_params must show the constants params.c
// passes (from callchain.h, not from bugcheck's output), with WinDbg's type
// names; without the PDB, kp prints what k prints.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/frame_params.h"
#include "bugcheck/stack.h"
#include "bugcheck/symbols.h"
#include "callchain.h"
#include "emu_support.h"
#include "test.h"

enum { MAX_BLOBS = 64 };

struct arch {
	bool x64;
	const char *file, *module;
	uint64_t base, stack_top, stack_size;
};

static const struct arch x64 = { true, "params-x64.dll", "params-x64", PARAMS_X64_IMAGE_BASE,
				 CALLCHAIN_STACK_TOP, CALLCHAIN_STACK_SIZE };
static const struct arch x86 = { false, "params-x86.dll", "params-x86", PARAMS_X86_IMAGE_BASE,
				 CALLCHAIN_X86_STACK_TOP, CALLCHAIN_X86_STACK_SIZE };

struct program {
	struct emu_image image;
	uint64_t entry, stop, origin;
	struct bc_context context;  ///< at the stop
	struct emu_dump dump;
	char path[64];              ///< the dump as a file, for the CLI
};

static uint64_t reg(uc_engine *uc, int id)
{
	uint64_t v = 0;
	uc_reg_read(uc, id, &v);
	return v;
}

enum run_result { RUN_OK, RUN_NOT_BUILT, RUN_FAILED };

// Runs params_entry to params_stop and writes the dump.
static enum run_result run(const struct arch *a, struct program *p)
{
	memset(p, 0, sizeof(*p));
	const struct emu_export wanted[] = { { "params_entry", &p->entry },
					     { "params_stop", &p->stop },
					     { "params_origin", &p->origin } };
	if (!emu_load_image(a->file, a->base, wanted, 3, &p->image))
		return RUN_NOT_BUILT;
	uc_engine *uc;
	if (uc_open(UC_ARCH_X86, a->x64 ? UC_MODE_64 : UC_MODE_32, &uc) != UC_ERR_OK) {
		TEST_FAIL_AT("unicorn cannot open");
		return RUN_FAILED;
	}
	uint64_t low = a->stack_top - a->stack_size;
	bool ok = uc_mem_map(uc, a->base, p->image.size, UC_PROT_ALL) == 0 &&
		  uc_mem_write(uc, a->base, p->image.bytes, p->image.size) == 0 &&
		  uc_mem_map(uc, low, a->stack_size, UC_PROT_ALL) == 0;
	// The thread's first frame: a zero return address.
	uint64_t sp = a->stack_top - 0x100, zero = 0;
	ok = ok && uc_mem_write(uc, sp, &zero, a->x64 ? 8 : 4) == 0;
	uc_reg_write(uc, a->x64 ? UC_X86_REG_RSP : UC_X86_REG_ESP, &sp);
	uc_reg_write(uc, a->x64 ? UC_X86_REG_RBP : UC_X86_REG_EBP, &zero);
	// x86: stop after params_stop's "push ebp; mov ebp, esp", where the EBP
	// chain (the only x86 walk without frame data) includes the leaf's frame.
	static const uint8_t prolog[3] = { 0x55, 0x89, 0xe5 };
	if (!a->x64 && !memcmp(p->image.bytes + (p->stop - a->base), prolog, 3))
		p->stop += 3;
	ok = ok && uc_emu_start(uc, p->entry, p->stop, 0, 100000) == 0;
	ok = ok && reg(uc, a->x64 ? UC_X86_REG_RIP : UC_X86_REG_EIP) == p->stop;
	if (a->x64) {
		struct bc_context_x64 *c = &p->context.x64;
		p->context.machine = BC_MACHINE_X64;
		static const int ids[] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX,
					   UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
					   UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,
					   UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
					   UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
					   UC_X86_REG_R15 };
		uint64_t *dst[] = { &c->rax, &c->rcx, &c->rdx, &c->rbx, &c->rsp, &c->rbp,
				    &c->rsi, &c->rdi, &c->r8, &c->r9, &c->r10, &c->r11,
				    &c->r12, &c->r13, &c->r14, &c->r15 };
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			*dst[i] = reg(uc, ids[i]);
		c->rip = p->stop;
		c->eflags = (uint32_t)reg(uc, UC_X86_REG_EFLAGS);
		c->context_flags = 0x10001f;
		c->cs = 0x10, c->ss = 0x18, c->ds = c->es = c->gs = 0x2b, c->fs = 0x53;
	} else {
		struct bc_context_x86 *c = &p->context.x86;
		p->context.machine = BC_MACHINE_X86;
		c->context_flags = 0x1003f;
		c->eax = (uint32_t)reg(uc, UC_X86_REG_EAX), c->ebx = (uint32_t)reg(uc, UC_X86_REG_EBX);
		c->ecx = (uint32_t)reg(uc, UC_X86_REG_ECX), c->edx = (uint32_t)reg(uc, UC_X86_REG_EDX);
		c->esi = (uint32_t)reg(uc, UC_X86_REG_ESI), c->edi = (uint32_t)reg(uc, UC_X86_REG_EDI);
		c->ebp = (uint32_t)reg(uc, UC_X86_REG_EBP), c->esp = (uint32_t)reg(uc, UC_X86_REG_ESP);
		c->eip = (uint32_t)p->stop, c->eflags = (uint32_t)reg(uc, UC_X86_REG_EFLAGS);
		c->cs = 0x8, c->ss = 0x10, c->ds = c->es = 0x23, c->fs = 0x30;
	}
	static struct bc_fixture_blob blobs[MAX_BLOBS];
	static uint8_t pages[MAX_BLOBS * EMU_PAGE];
	size_t n = 0;
	blobs[n++] = (struct bc_fixture_blob){ p->image.base, p->image.bytes, p->image.size };
	n = emu_written_pages(uc, low, a->stack_top, blobs, n, MAX_BLOBS, pages);
	uc_close(uc);
	if (!ok) {
		TEST_FAIL_AT("the program did not run to params_stop");
		return RUN_FAILED;
	}
	struct bc_error *err = emu_open_dump(BC_FIXTURE_BITMAP_KERNEL,
					     a->x64 ? BC_FIXTURE_X64 : BC_FIXTURE_X86_PAE, &p->image,
					     blobs, n, &p->context, &p->dump);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
		return RUN_FAILED;
	}
	snprintf(p->path, sizeof(p->path), "/tmp/bugcheck-params-XXXXXX");
	int fd = mkstemp(p->path);
	bool written = fd >= 0 && write(fd, p->dump.bytes, p->dump.size) == (ssize_t)p->dump.size;
	if (fd >= 0)
		close(fd);
	if (!written) {
		TEST_FAIL_AT("could not write %s", p->path);
		return RUN_FAILED;
	}
	return RUN_OK;
}

static void finish(struct program *p)
{
	unlink(p->path);
	emu_close_dump(&p->dump);
	emu_free_image(&p->image);
}

static const char *fixture_dir(char *buf, size_t size)
{
	snprintf(buf, size, "%s/unwind-fixtures",
		 getenv("BC_BINARY_DIR") ? getenv("BC_BINARY_DIR") : "build");
	return buf;
}

// The CLI's output for @commands on the dump, with @sympath ("" for none).
static char *run_cli(const char *dump, const char *sympath, const char *commands)
{
	const char *exe = getenv("BC_BUGCHECK");
	char cmd[4096];
	if (!exe || strchr(commands, '\'') || strchr(dump, '\'') || strchr(sympath, '\''))
		return NULL;
	// An empty _NT_SYMBOL_PATH keeps the caller's environment out of the run.
	snprintf(cmd, sizeof(cmd), "_NT_SYMBOL_PATH= '%s' -q %s%s%s '%s' %s%s%s 2>&1", exe,
		 *sympath ? "-y '" : "", sympath, *sympath ? "'" : "", dump,
		 *commands ? "-c '" : "--json", commands, *commands ? "'" : "");
	return bc_test_command_output(cmd);
}

// A pointer as kp shows it: 0xfffff805`12345678 (x64), 0x8f345678 (x86).
static const char *ptr(char *buf, uint64_t v, bool is64)
{
	if (is64)
		snprintf(buf, 32, "0x%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
	else
		snprintf(buf, 32, "0x%08" PRIx64, v & 0xffffffffu);
	return buf;
}

// The parameter texts params.c's constants must produce.
struct expected {
	char leaf[6][96], outer[4][96];
};

static void expect(const struct arch *a, const struct program *p, struct expected *e)
{
	char b[32];
	snprintf(e->leaf[0], 96, "int a = 0n%d", PARAMS_LEAF_A);
	snprintf(e->leaf[1], 96, "unsigned char b = 0x%x", PARAMS_LEAF_B);
	if (a->x64) {
		snprintf(e->leaf[2], 96, "unsigned int64 c = %s", ptr(b, PARAMS_LEAF_C, true));
		snprintf(e->outer[1], 96, "unsigned int64 big = %s",
			 ptr(b, PARAMS_OUTER_BIG, true));
	} else {
		snprintf(e->leaf[2], 96, "unsigned long c = 0x%lx", PARAMS_X86_LEAF_C);
		snprintf(e->outer[1], 96, "unsigned long big = 0x%lx", PARAMS_X86_OUTER_BIG);
	}
	snprintf(e->leaf[3], 96, "void * d = %s",
		 ptr(b, a->x64 ? PARAMS_LEAF_D : PARAMS_X86_LEAF_D, a->x64));
	snprintf(e->leaf[4], 96, "struct params_point * e = %s", ptr(b, p->origin, a->x64));
	snprintf(e->leaf[5], 96, "params_color f = PARAMS_BLUE (0n6)");
	snprintf(e->outer[0], 96, "struct params_point * pt = %s", ptr(b, p->origin, a->x64));
	snprintf(e->outer[2], 96, "int neg = 0n%d", PARAMS_OUTER_NEG);
	snprintf(e->outer[3], 96, "struct params_point pv = struct params_point");
}

static void check_kp(const struct arch *a)
{
	struct program p;
	enum run_result rr = run(a, &p);
	if (rr == RUN_NOT_BUILT)
		SKIP("params fixture not built");
	REQUIRE(rr == RUN_OK);
	char dir[1024], want[1024];
	fixture_dir(dir, sizeof(dir));
	struct expected e;
	expect(a, &p, &e);
	char *out = run_cli(p.path, dir, "kpn; kPn");
	REQUIRE(out != NULL);
	// kp: frame 0 is params_stop at its first instruction, 1 the leaf, 2 the outer, 3 the entry.
	snprintf(want, sizeof(want), "%s!params_stop(void)%s\n", a->module, a->x64 ? "" : "+0x3");
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "%s!params_leaf(%s, %s, %s, %s, %s, %s)+0x", a->module,
		 e.leaf[0], e.leaf[1], e.leaf[2], e.leaf[3], e.leaf[4], e.leaf[5]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "%s!params_outer(%s, %s, %s, %s)+0x", a->module, e.outer[0],
		 e.outer[1], e.outer[2], e.outer[3]);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "%s!params_entry(void)+0x", a->module);
	CHECK_CONTAINS(out, want);
	// Strings after char and wchar_t pointers; an unsigned value below 10 bare.
	snprintf(want, sizeof(want), "%s!params_named(char * name = 0x", a->module);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), " \"%s\", wchar_t * wide = 0x", PARAMS_NAME);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, " \"wide-name\", unsigned int small = 4)+0x");
	// kP: one parameter per line, the parenthesis closing on the last.
	snprintf(want, sizeof(want), "%s!params_leaf(\n            %s, \n            %s, \n            %s, \n            %s, "
		 "\n            %s, \n            %s)+0x", a->module, e.leaf[0], e.leaf[1], e.leaf[2],
		 e.leaf[3], e.leaf[4], e.leaf[5]);
	CHECK_CONTAINS(out, want);
	free(out);
	// --json: the leaf's parameters with their values.
	out = run_cli(p.path, dir, "");
	REQUIRE(out != NULL);
	snprintf(want, sizeof(want), "{\"name\": \"a\", \"type\": \"int\", \"value\": \"0n%d\"",
		 PARAMS_LEAF_A);
	CHECK_CONTAINS(out, want);
	snprintf(want, sizeof(want), "{\"name\": \"f\", \"type\": \"params_color\", \"value\": "
		 "\"PARAMS_BLUE (0n6)\"");
	CHECK_CONTAINS(out, want);
	free(out);
	finish(&p);
}

TEST(x64_kp_shows_the_arguments_the_program_passed)
{
	check_kp(&x64);
}

TEST(x86_kp_shows_the_arguments_the_program_passed)
{
	check_kp(&x86);
}

// The library: names, types and raw values of the leaf's parameters, and
// of a location evaluated with frame 1's own registers.
TEST(x64_frame_params_api_reads_the_values)
{
	struct program p;
	enum run_result rr = run(&x64, &p);
	if (rr == RUN_NOT_BUILT)
		SKIP("params fixture not built");
	REQUIRE(rr == RUN_OK);
	char dir[1024];
	struct bc_symbol_options opt = { .symbol_path = fixture_dir(dir, sizeof(dir)) };
	struct bc_target *t = p.dump.target;
	REQUIRE_OK(bc_target_set_symbol_options(t, &opt));
	struct bc_stack st;
	REQUIRE_OK(bc_target_stack(t, bc_target_context(t), 16, &st));
	REQUIRE(st.count >= 4);
	struct bc_frame_params fp;
	REQUIRE_OK(bc_target_frame_params(t, &st, 1, &fp));
	CHECK_STR(fp.procedure->name, "params_leaf");
	REQUIRE_EQ(fp.count, 6);
	static const char *const names[] = { "a", "b", "c", "d", "e", "f" };
	static const char *const types[] = { "int", "unsigned char", "unsigned int64", "void *",
					     "struct params_point *", "params_color" };
	const uint64_t values[] = { (uint32_t)PARAMS_LEAF_A, PARAMS_LEAF_B, PARAMS_LEAF_C,
				    PARAMS_LEAF_D, p.origin, 6 };
	for (size_t i = 0; i < 6; i++) {
		CHECK_STR(fp.params[i].param->name, names[i]);
		CHECK_STR(fp.params[i].type_name, types[i]);
		CHECK(fp.params[i].available);
		CHECK(fp.params[i].in_memory);
		CHECK_EQ(fp.params[i].value, values[i]);
		// In memory relative to frame 1's own stack pointer: its locals, or
		// the caller's outgoing arguments (e and f, past the home area).
		CHECK(fp.params[i].address >= st.frames[1].sp);
		CHECK(fp.params[i].address < st.frames[2].sp + 6 * 8);
	}
	bc_frame_params_free(&fp);
	// The struct's contents at the pointer the leaf received.
	uint8_t pt[8];
	REQUIRE_OK(bc_target_read(t, p.origin, pt, sizeof(pt)));
	CHECK_EQ((int32_t)(pt[0] | pt[1] << 8 | pt[2] << 16 | (uint32_t)pt[3] << 24), PARAMS_ORIGIN_X);
	// Frame 0 (params_stop) has none: "(void)", not "not found".
	REQUIRE_OK(bc_target_frame_params(t, &st, 0, &fp));
	CHECK_EQ(fp.count, 0);
	bc_frame_params_free(&fp);
	bc_stack_free(&st);
	finish(&p);
}

// Without the PDB (exports only), kp prints exactly what k prints.
TEST(without_private_symbols_kp_is_k)
{
	struct program p;
	enum run_result rr = run(&x64, &p);
	if (rr == RUN_NOT_BUILT)
		SKIP("params fixture not built");
	REQUIRE(rr == RUN_OK);
	char *k = run_cli(p.path, "", "kn");
	char *kp = run_cli(p.path, "", "kpn");
	char *kP = run_cli(p.path, "", "kPn");
	REQUIRE(k && kp && kP);
	CHECK(strstr(k, "params-x64!") != NULL);
	CHECK_STR(kp, k);
	CHECK_STR(kP, k);
	free(k);
	free(kp);
	free(kP);
	finish(&p);
}

TEST_MAIN()
