// Stacks whose true call chain is known: the x64 program of
// tests/fixtures/unwind (built by clang and lld-link) runs under unicorn until
// a chosen instruction, while a hook records every call as it executes (the
// return address, the stack pointer after the return and the nonvolatile
// registers at that moment: what a perfect unwinder must recover for that
// frame). The machine state is then written into a synthetic kernel dump
// (tests/fixtures/gen) with the DLL as a loaded driver, and bc_target_stack
// must give back exactly the recorded chain: every frame's RIP and RSP and
// the eight nonvolatile registers, across frame pointers, saved XMM
// registers, large allocations, chained unwind info, an epilog and a prolog
// in progress, a leaf, and a double fault's machine frame on an IST stack.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/stack.h"
#include "bugcheck/symbols.h"
#include "callchain.h"
#include "emu_support.h"
#include "test.h"

enum { MAX_CALLS = 64, NONVOLATILE = 8 };

static const char *const nonvolatile_names[NONVOLATILE] = { "rbx", "rbp", "rsi", "rdi",
							    "r12", "r13", "r14", "r15" };
static const int nonvolatile_regs[NONVOLATILE] = { UC_X86_REG_RBX, UC_X86_REG_RBP,
						   UC_X86_REG_RSI, UC_X86_REG_RDI,
						   UC_X86_REG_R12, UC_X86_REG_R13,
						   UC_X86_REG_R14, UC_X86_REG_R15 };

// One frame as the processor made it: where execution resumes in the
// caller, the caller's stack pointer then, and its nonvolatile registers.
struct true_frame {
	uint64_t ip, sp;
	uint64_t nonvolatile[NONVOLATILE];
	bool machine_frame;  ///< entered by the simulated double fault, not a call
};

struct program {
	struct emu_image image;
	uint64_t entry, leaf_stop, epilog_add, epilog_pop, prolog_stop, trap_point;
	uint64_t chained_call_return, switch_stop;
};

struct run {
	uc_engine *uc;
	const struct program *prog;
	struct true_frame calls[MAX_CALLS];
	size_t depth;
	bool overflow;
	struct bc_context_x64 regs;  ///< at the stop
};

static uint64_t reg(uc_engine *uc, int id)
{
	uint64_t v = 0;
	uc_reg_read(uc, id, &v);
	return v;
}

static void record(struct run *r, uint64_t ip, bool machine_frame)
{
	if (r->depth == MAX_CALLS) {
		r->overflow = true;
		return;
	}
	struct true_frame *f = &r->calls[r->depth++];
	f->ip = ip;
	f->sp = reg(r->uc, UC_X86_REG_RSP);
	f->machine_frame = machine_frame;
	for (int i = 0; i < NONVOLATILE; i++)
		f->nonvolatile[i] = reg(r->uc, nonvolatile_regs[i]);
}

// Before each instruction: a call (E8 rel32, the only kind the program
// makes) opens a frame, a ret (C3) closes one, and the simulated fault's
// first instruction opens the machine frame the handler will unwind to.
static void on_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *arg)
{
	struct run *r = arg;
	uint8_t op = 0;
	uc_mem_read(uc, address, &op, 1);
	if (address == r->prog->trap_point)
		record(r, address, true);
	else if (op == 0xe8)
		record(r, address + size, false);
	else if (op == 0xc3 && r->depth)
		r->depth--;
}

// Loads callchain-x64.dll and the addresses of its entry and stop labels;
// false (having said "skipped") when it was not built.
static bool have_program(struct program *p)
{
	memset(p, 0, sizeof(*p));
	const struct emu_export wanted[] = {
		{ "callchain_entry", &p->entry },       { "asm_leaf_stop", &p->leaf_stop },
		{ "asm_epilog_add", &p->epilog_add },   { "asm_epilog_pop", &p->epilog_pop },
		{ "asm_prolog_stop", &p->prolog_stop }, { "asm_trap_point", &p->trap_point },
		{ "asm_chained_call_return", &p->chained_call_return },
		{ "asm_switch_stop", &p->switch_stop },
	};
	return emu_load_image("callchain-x64.dll", CALLCHAIN_IMAGE_BASE, wanted,
			      sizeof(wanted) / sizeof(wanted[0]), &p->image);
}

static uint64_t stop_for(const struct program *p, int scenario)
{
	switch (scenario) {
	case CALLCHAIN_RUN_EPILOG_ADD: return p->epilog_add;
	case CALLCHAIN_RUN_EPILOG_POP: return p->epilog_pop;
	case CALLCHAIN_RUN_PROLOG: return p->prolog_stop;
	case CALLCHAIN_RUN_SWITCH: return p->switch_stop;
	default: return p->leaf_stop;
	}
}

// Runs callchain_entry(scenario) from a fresh machine until its stop label.
// Distinct starting values in every nonvolatile register show any register
// the unwinder restores from the wrong slot.
static bool run_program(const struct program *p, int scenario, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->prog = p;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc) != UC_ERR_OK)
		return false;
	uc_engine *uc = r->uc;
	uint64_t stack_low = CALLCHAIN_STACK_TOP - CALLCHAIN_STACK_SIZE;
	bool ok = uc_mem_map(uc, CALLCHAIN_IMAGE_BASE, p->image.size, UC_PROT_ALL) == UC_ERR_OK &&
		  uc_mem_write(uc, CALLCHAIN_IMAGE_BASE, p->image.bytes, p->image.size) == UC_ERR_OK &&
		  uc_mem_map(uc, stack_low, CALLCHAIN_STACK_SIZE, UC_PROT_ALL) == UC_ERR_OK &&
		  uc_mem_map(uc, CALLCHAIN_IST_TOP - CALLCHAIN_IST_SIZE, CALLCHAIN_IST_SIZE,
			     UC_PROT_ALL) == UC_ERR_OK;
	// The thread's first frame returns to 0: the end of the stack.
	uint64_t rsp = CALLCHAIN_STACK_TOP - 0x108, zero = 0, arg = (uint64_t)scenario;
	ok = ok && uc_mem_write(uc, rsp, &zero, 8) == UC_ERR_OK;
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RCX, &arg);
	for (int i = 0; i < NONVOLATILE; i++) {
		uint64_t v = 0x0a0a0a0a00000000ull | (uint64_t)(i + 1);
		uc_reg_write(uc, nonvolatile_regs[i], &v);
	}
	uc_hook hook;
	ok = ok && uc_hook_add(uc, &hook, UC_HOOK_CODE, on_instruction, r, CALLCHAIN_IMAGE_BASE,
			       CALLCHAIN_IMAGE_BASE + p->image.size - 1) == UC_ERR_OK;
	uint64_t stop = stop_for(p, scenario);
	ok = ok && uc_emu_start(uc, p->entry, stop, 0, 100000) == UC_ERR_OK;
	ok = ok && reg(uc, UC_X86_REG_RIP) == stop && !r->overflow;
	static const int all[] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
				   UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
				   UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
				   UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15 };
	uint64_t *dst[] = { &r->regs.rax, &r->regs.rcx, &r->regs.rdx, &r->regs.rbx,
			    &r->regs.rsp, &r->regs.rbp, &r->regs.rsi, &r->regs.rdi,
			    &r->regs.r8,  &r->regs.r9,  &r->regs.r10, &r->regs.r11,
			    &r->regs.r12, &r->regs.r13, &r->regs.r14, &r->regs.r15 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		*dst[i] = reg(uc, all[i]);
	r->regs.rip = stop;
	r->regs.eflags = (uint32_t)reg(uc, UC_X86_REG_EFLAGS);
	r->regs.context_flags = 0x10001f;
	r->regs.cs = 0x10, r->regs.ss = 0x18, r->regs.ds = r->regs.es = r->regs.gs = 0x2b;
	r->regs.fs = 0x53;
	return ok;
}

enum { MAX_BLOBS = 256 };

// The machine as a dump: the image (unless @with_image is false: a dump
// that lacks it), every stack page the run wrote, on both stacks, and
// @extra (a page the test made) when not NULL.
static struct bc_error *make_dump_with(struct run *r, enum bc_fixture_format format,
				       bool with_image, const struct bc_fixture_blob *extra,
				       struct emu_dump *d)
{
	static struct bc_fixture_blob blobs[MAX_BLOBS];
	uint8_t *pages = malloc((size_t)MAX_BLOBS * EMU_PAGE);
	if (!pages)
		return &bc_enomem;
	const struct emu_image *img = &r->prog->image;
	size_t n = 0;
	if (with_image)
		blobs[n++] = (struct bc_fixture_blob){ img->base, img->bytes, img->size };
	n = emu_written_pages(r->uc, CALLCHAIN_STACK_TOP - CALLCHAIN_STACK_SIZE,
			      CALLCHAIN_STACK_TOP, blobs, n, MAX_BLOBS, pages);
	n = emu_written_pages(r->uc, CALLCHAIN_IST_TOP - CALLCHAIN_IST_SIZE, CALLCHAIN_IST_TOP,
			      blobs, n, MAX_BLOBS, pages);
	if (extra && n < MAX_BLOBS)
		blobs[n++] = *extra;
	struct bc_context context = { .machine = BC_MACHINE_X64, .x64 = r->regs };
	struct bc_error *err = emu_open_dump(format, BC_FIXTURE_X64, img, blobs, n, &context, d);
	free(pages);
	return err;
}

static struct bc_error *make_dump(struct run *r, enum bc_fixture_format format, bool with_image,
				  struct emu_dump *d)
{
	return make_dump_with(r, format, with_image, NULL, d);
}

static uint64_t nonvolatile_of(const struct bc_context_x64 *c, int i)
{
	const uint64_t v[NONVOLATILE] = { c->rbx, c->rbp, c->rsi, c->rdi,
					  c->r12, c->r13, c->r14, c->r15 };
	return v[i];
}

// The walk must be the recorded chain, innermost first, then end at the
// thread's zero return address.
static void check_walk(const struct run *r, const struct bc_stack *s, uint64_t trap_frame)
{
	if (s->count != r->depth + 1) {
		for (size_t i = 0; i < s->count; i++)
			printf("# walk %zu: ip %" PRIx64 " sp %" PRIx64 " (%s)\n", i,
			       s->frames[i].ip, s->frames[i].sp,
			       bc_frame_source_name(s->frames[i].source));
		for (size_t i = r->depth; i-- > 0;)
			printf("# true %zu: ip %" PRIx64 " sp %" PRIx64 "\n", r->depth - i,
			       r->calls[i].ip, r->calls[i].sp);
		TEST_FAIL_AT("%zu frames, the program had %zu; the walk ended: %s", s->count,
			     r->depth + 1, s->note);
		return;
	}
	CHECK_EQ(s->frames[0].ip, r->regs.rip);
	CHECK_EQ(s->frames[0].sp, r->regs.rsp);
	for (size_t i = 1; i < s->count; i++) {
		const struct true_frame *want = &r->calls[r->depth - i];
		const struct bc_stack_frame *got = &s->frames[i];
		if (got->ip != want->ip || got->sp != want->sp)
			TEST_FAIL_AT("frame %zu: ip %" PRIx64 " sp %" PRIx64 ", the program was at "
				     "ip %" PRIx64 " sp %" PRIx64, i, got->ip, got->sp, want->ip,
				     want->sp);
		CHECK_EQ(s->frames[i - 1].return_address, want->ip);
		for (int k = 0; k < NONVOLATILE; k++) {
			uint64_t v = nonvolatile_of(&got->context.x64, k);
			if (v != want->nonvolatile[k])
				TEST_FAIL_AT("frame %zu (ip %" PRIx64 "): %s = %" PRIx64 ", the "
					     "program had %" PRIx64, i, want->ip,
					     nonvolatile_names[k], v, want->nonvolatile[k]);
		}
		CHECK_EQ(got->source == BC_FRAME_TRAP, want->machine_frame);
		if (want->machine_frame)
			CHECK_EQ(s->frames[i - 1].trap_frame, trap_frame);
	}
	CHECK_EQ(s->end, BC_STACK_END_ZERO_IP);
}


// The handler's KTRAP_FRAME is its stack pointer after the prolog: where it
// was when it made the call recorded right after the machine frame. 0 when
// the run crossed none; *@index_ret (may be NULL) gets the machine frame's.
static uint64_t true_trap_frame(const struct run *r, size_t *index_ret)
{
	uint64_t trap_frame = 0;
	for (size_t i = 0; i + 1 < r->depth; i++) {
		if (r->calls[i].machine_frame) {
			trap_frame = r->calls[i + 1].sp;
			if (index_ret)
				*index_ret = i;
		}
	}
	return trap_frame;
}

// Runs @scenario, writes the dump, walks it and compares.
static void check_scenario(int scenario, enum bc_fixture_format format, size_t min_depth)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	bool ran = run_program(&p, scenario, &r);
	if (!ran) {
		emu_free_image(&p.image);
		uc_close(r.uc);
		TEST_FAIL_AT("the program did not reach its stop for scenario %d", scenario);
		return;
	}
	uint64_t trap_frame = true_trap_frame(&r, NULL);
	struct emu_dump d = { 0 };
	struct bc_error *err = make_dump(&r, format, true, &d);
	struct bc_stack s = { 0 };
	if (!err)
		err = bc_target_stack(d.target, bc_target_context(d.target), 64, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		CHECK(r.depth >= min_depth);
		check_walk(&r, &s, trap_frame);
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST(leaf_under_chained_xmm_large_and_frame_pointer_functions)
{
	// entry, c_frame_pointer, c_saves_xmm, c_large_alloc (+__chkstk returned),
	// c_medium_alloc, asm_chained (cold part), asm_dispatch -> the leaf.
	check_scenario(CALLCHAIN_RUN_LEAF, BC_FIXTURE_BITMAP_KERNEL, 7);
}

TEST(epilog_at_its_add_rsp)
{
	check_scenario(CALLCHAIN_RUN_EPILOG_ADD, BC_FIXTURE_BITMAP_KERNEL, 7);
}

TEST(epilog_at_its_first_pop)
{
	check_scenario(CALLCHAIN_RUN_EPILOG_POP, BC_FIXTURE_FULL, 7);
}

TEST(prolog_half_done)
{
	check_scenario(CALLCHAIN_RUN_PROLOG, BC_FIXTURE_RDMP_KERNEL, 7);
}

TEST(double_fault_on_an_ist_stack_crosses_the_machine_frame)
{
	check_scenario(CALLCHAIN_RUN_DOUBLE_FAULT, BC_FIXTURE_BITMAP_FULL, 9);
}

// A dump without the image's pages (as in small memory dumps): the unwind
// data must come from the image file found through the symbol path (here a
// flat directory holding callchain-x64.dll), and the walk is the same.
TEST(unwind_data_from_the_image_file_when_the_dump_lacks_the_image)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_DOUBLE_FAULT, &r));
	uint64_t trap_frame = true_trap_frame(&r, NULL);
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/unwind-fixtures",
		 getenv("BC_BINARY_DIR") ? getenv("BC_BINARY_DIR") : "build");
	struct bc_symbol_options opt = { .symbol_path = dir };
	struct bc_error *err = make_dump(&r, BC_FIXTURE_BITMAP_KERNEL, false, &d);
	uint8_t byte;
	if (!err) {
		// The image really is absent from the dump.
		struct bc_error *read_err = bc_target_read(d.target, p.entry, &byte, 1);
		CHECK(read_err != NULL);
		bc_error_destroy(read_err);
		err = bc_target_set_symbol_options(d.target, &opt);
	}
	if (!err)
		err = bc_target_stack(d.target, bc_target_context(d.target), 64, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		check_walk(&r, &s, trap_frame);
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

// Neither the dump nor the symbol path has the image: the walk scans the
// stack for return addresses, marks those frames as found by scanning, and
// every address it reports is one the program really returns to.
TEST(without_unwind_data_frames_are_found_by_scanning_and_marked)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_LEAF, &r));
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	struct bc_error *err = make_dump(&r, BC_FIXTURE_BITMAP_KERNEL, false, &d);
	if (!err)
		err = bc_target_stack(d.target, bc_target_context(d.target), 64, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		REQUIRE(s.count >= 2);
		for (size_t i = 1; i < s.count; i++) {
			CHECK_EQ(s.frames[i].source, BC_FRAME_SCAN);
			bool real = false;
			for (size_t k = 0; k < r.depth; k++)
				real |= r.calls[k].ip == s.frames[i].ip;
			if (!real)
				TEST_FAIL_AT("scanned frame %zu at %" PRIx64 " is no return address "
					     "of the program", i, s.frames[i].ip);
		}
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

// The handler's KTRAP_FRAME read back as registers: what the simulated
// processor pushed (RIP, RSP, CS, SS, the error code) and the RBP the
// handler saved into the frame's Rbp slot, all at the true values.
TEST(trap_frame_registers_are_the_interrupted_ones)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_DOUBLE_FAULT, &r));
	size_t trap_index = 0;
	uint64_t trap_frame = true_trap_frame(&r, &trap_index);
	REQUIRE(trap_frame != 0);
	const struct true_frame *trap = &r.calls[trap_index];
	struct emu_dump d = { 0 };
	struct bc_trap_frame tf;
	struct bc_error *err = make_dump(&r, BC_FIXTURE_BITMAP_KERNEL, true, &d);
	if (!err)
		err = bc_target_read_trap_frame(d.target, trap_frame, &tf);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		CHECK_EQ(tf.context.machine, BC_MACHINE_X64);
		CHECK_EQ(tf.context.x64.rip, trap->ip);
		CHECK_EQ(tf.context.x64.rsp, trap->sp);
		CHECK_EQ(tf.context.x64.rbp, trap->nonvolatile[1]);
		CHECK_EQ(tf.context.x64.cs, 0x10);
		CHECK_EQ(tf.context.x64.ss, 0x18);
		CHECK_EQ(tf.error_code, 0);
		CHECK(tf.kernel_mode);
		CHECK(!tf.from_symbols);  // no symbols for nt in this dump: built-in offsets
	}
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

static char *run_cli(const char *dump, const char *commands)
{
	const char *exe = getenv("BC_BUGCHECK");
	char cmd[4096];
	if (!exe || strchr(commands, '\'') || strchr(dump, '\''))
		return NULL;
	if (*commands)
		snprintf(cmd, sizeof(cmd), "'%s' -q '%s' -c '%s' 2>&1", exe, dump, commands);
	else
		snprintf(cmd, sizeof(cmd), "'%s' --json '%s' 2>&1", exe, dump);
	return bc_test_command_output(cmd);
}

// WinDbg's address form for 64-bit values: fffff805`17fefe70.
static const char *windbg_ptr(char *buf, uint64_t v)
{
	snprintf(buf, 24, "%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
	return buf;
}

// The same stack through the CLI: kv names the trap frame, .frame /r shows a
// frame's recovered registers, .trap switches to the interrupted context,
// and k = starts a walk from given registers.
TEST(cli_kv_frame_trap_and_k_equals_show_the_true_values)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_DOUBLE_FAULT, &r));
	size_t trap_index = 0;
	uint64_t trap_frame = true_trap_frame(&r, &trap_index);
	struct emu_dump d = { 0 };
	struct bc_error *err = make_dump(&r, BC_FIXTURE_BITMAP_KERNEL, true, &d);
	char path[] = "/tmp/bugcheck-emulated-XXXXXX";
	int fd = err ? -1 : mkstemp(path);
	bool written = fd >= 0 && write(fd, d.bytes, d.size) == (ssize_t)d.size;
	if (fd >= 0)
		close(fd);
	if (err || !written) {
		TEST_FAIL_AT("could not write the dump: %s", err ? err->message : "write failed");
		bc_error_destroy(err);
	} else {
		// Frame numbers: frame k is calls[depth - k].
		size_t frame = r.depth - 2;  // some frame in the middle: c_large_alloc's caller side
		const struct true_frame *mid = &r.calls[r.depth - frame];
		const struct true_frame *trap = &r.calls[trap_index];
		char cmds[512], a[24], b[24], want[128];
		snprintf(cmds, sizeof(cmds), "kv; .frame /r 0n%zu; k = %" PRIx64 " %" PRIx64 " %" PRIx64
			 "; .trap %" PRIx64, frame, mid->nonvolatile[1], mid->sp, mid->ip, trap_frame);
		char *out = run_cli(path, cmds);
		REQUIRE(out != NULL);
		snprintf(want, sizeof(want), "(TrapFrame @ %s)", windbg_ptr(a, trap_frame));
		CHECK_CONTAINS(out, want);
		// .frame /r: the frame line, then rbx..r15 as the program had them.
		const struct true_frame *caller = &r.calls[r.depth - frame - 1];
		snprintf(want, sizeof(want), "%02zx %s %s     ", frame, windbg_ptr(a, mid->sp),
			 windbg_ptr(b, caller->ip));
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "rbx=%016" PRIx64, mid->nonvolatile[0]);
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "r15=%016" PRIx64, mid->nonvolatile[7]);
		CHECK_CONTAINS(out, want);
		// k = rbp rsp rip: its first line is that frame, returning to the caller.
		snprintf(want, sizeof(want), "%s %s     ", windbg_ptr(a, mid->sp),
			 windbg_ptr(b, caller->ip));
		CHECK_CONTAINS(out, want);
		// .trap: the note, then the interrupted rip/rsp/rbp, and no segment line.
		CHECK_CONTAINS(out, "NOTE: The trap frame does not contain all registers.");
		snprintf(want, sizeof(want), "rip=%016" PRIx64 " rsp=%016" PRIx64 " rbp=%016" PRIx64,
			 trap->ip, trap->sp, trap->nonvolatile[1]);
		CHECK_CONTAINS(out, want);
		free(out);
		// --json: each frame's sp and ip, the trap frame, how it was found.
		out = run_cli(path, "");
		REQUIRE(out != NULL);
		for (size_t k = 1; k <= r.depth; k++) {
			const struct true_frame *t = &r.calls[r.depth - k];
			snprintf(want, sizeof(want), "{\"number\": %zu, \"sp\": \"0x%" PRIx64
				 "\", \"ip\": \"0x%" PRIx64 "\"", k, t->sp, t->ip);
			CHECK_CONTAINS(out, want);
		}
		snprintf(want, sizeof(want), "\"found_by\": \"trap\"");
		CHECK_CONTAINS(out, want);
		snprintf(want, sizeof(want), "\"trap_frame\": \"0x%" PRIx64 "\"", trap_frame);
		CHECK_CONTAINS(out, want);
		CHECK_CONTAINS(out, "\"module\": \"callchain-x64\"");
		free(out);
	}
	if (fd >= 0)
		unlink(path);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

// .thread on a switched-out thread: the program stops the way the kernel's
// context switch leaves a thread (a switch frame at RSP, which it stores as
// KTHREAD.KernelStack). A second thread's ETHREAD holds that KernelStack at
// the offset the dump's KDDEBUGGER_DATA64 declares; its registers must be
// the return into the switching function and the stack above it, and the
// walk from there the recorded chain, with the registers that function
// saved recovered for its caller.
TEST(a_switched_out_thread_resumes_after_its_switch_frame)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_SWITCH, &r));
	REQUIRE(r.depth >= 3);
	// The writer's KTHREAD.KernelStack offset, as any dump of it declares.
	struct emu_dump probe = { 0 };
	REQUIRE_OK(make_dump(&r, BC_FIXTURE_BITMAP_KERNEL, true, &probe));
	uint16_t kernel_stack_offset = bc_target_kdbg(probe.target)->offset_kthread_kernel_stack;
	emu_close_dump(&probe);
	REQUIRE(kernel_stack_offset != 0 && kernel_stack_offset + 8u <= EMU_PAGE);
	static uint8_t thread_page[EMU_PAGE];
	memset(thread_page, 0, sizeof(thread_page));
	for (int i = 0; i < 8; i++)
		thread_page[kernel_stack_offset + i] = (uint8_t)(r.regs.rsp >> (8 * i));
	struct bc_fixture_blob thread = { CALLCHAIN_THREAD_VA, thread_page, EMU_PAGE };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	struct bc_context ctx;
	struct bc_error *err = make_dump_with(&r, BC_FIXTURE_BITMAP_KERNEL, true, &thread, &d);
	if (!err)
		err = bc_target_thread_context(d.target, CALLCHAIN_THREAD_VA, &ctx);
	if (!err)
		err = bc_target_stack(d.target, &ctx, 64, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		const struct true_frame *innermost = &r.calls[r.depth - 1];
		CHECK_EQ(ctx.x64.rip, innermost->ip);
		CHECK_EQ(ctx.x64.rsp, innermost->sp);
		CHECK_EQ(s.count, r.depth);
		for (size_t i = 0; i < s.count && i < r.depth; i++) {
			const struct true_frame *want = &r.calls[r.depth - 1 - i];
			if (s.frames[i].ip != want->ip || s.frames[i].sp != want->sp)
				TEST_FAIL_AT("frame %zu: ip %" PRIx64 " sp %" PRIx64 ", the program "
					     "was at ip %" PRIx64 " sp %" PRIx64, i, s.frames[i].ip,
					     s.frames[i].sp, want->ip, want->sp);
		}
		// The switching function pushed its caller's rbp and rsi.
		if (s.count >= 2) {
			const struct true_frame *caller = &r.calls[r.depth - 2];
			CHECK_EQ(s.frames[1].context.x64.rbp, caller->nonvolatile[1]);
			CHECK_EQ(s.frames[1].context.x64.rsi, caller->nonvolatile[2]);
		}
		CHECK_EQ(s.end, BC_STACK_END_ZERO_IP);
	}
	// A thread whose KernelStack holds no return address is refused, not guessed at.
	if (!err) {
		uint64_t top = CALLCHAIN_STACK_TOP - 0x100;  // the zeroed words above the first frame
		for (int i = 0; i < 8; i++)
			thread_page[kernel_stack_offset + i] = (uint8_t)(top >> (8 * i));
		struct emu_dump bad = { 0 };
		REQUIRE_OK(make_dump_with(&r, BC_FIXTURE_BITMAP_KERNEL, true, &thread, &bad));
		struct bc_error *e = bc_target_thread_context(bad.target, CALLCHAIN_THREAD_VA, &ctx);
		REQUIRE(e != NULL);
		CHECK_CONTAINS(e->message, "no return address");
		bc_error_destroy(e);
		emu_close_dump(&bad);
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

// The chained part's return address lies in the out-of-line block: its
// RUNTIME_FUNCTION is the chained one, not the parent's.
TEST(the_chained_entry_is_the_one_covering_the_call)
{
	struct program p;
	if (!have_program(&p))
		SKIP("callchain-x64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, CALLCHAIN_RUN_LEAF, &r));
	bool seen = false;
	for (size_t i = 0; i < r.depth; i++)
		seen |= r.calls[i].ip == p.chained_call_return;
	CHECK(seen);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST_MAIN()
