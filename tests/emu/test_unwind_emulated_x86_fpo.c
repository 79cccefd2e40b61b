// x86 stacks of code built without frame pointers, whose true call chain is
// known: tests/fixtures/unwind/callchain_fpo_x86.c (clang -fomit-frame-pointer
// -g -gcodeview, lld-link /debug: FrameData records in the PDB) runs under
// unicorn in 32-bit mode to its stop label, while a hook records at every
// call instruction the return address it pushes, ESP before the call, and
// EBX/ESI/EDI/EBP. The state is written into a synthetic x86 PAE kernel dump
// with the DLL as a loaded driver.
//
// With the symbol path at BUILD/unwind-fixtures (where callchain-fpo-x86.pdb
// is), bc_target_stack must give back every frame: its return address, its
// ESP (the value at the call), and the callee-saved registers, which every
// function in the chain either saves (and its program restores) or leaves
// alone. Without the PDB the EBP chain alone must lose frames (fpo_c uses
// EBP as a general register), which shows the records are what is used.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/stack.h"
#include "callchain.h"
#include "emu_support.h"
#include "test.h"

enum { MAX_CALLS = 32, CHAIN_CALLS = 6 };

struct call {
	uint32_t return_address, esp, ebx, esi, edi, ebp;
};

struct run {
	uc_engine *uc;
	struct call calls[MAX_CALLS];
	size_t depth;
	bool overflow;
	struct bc_context_x86 regs;
};

struct program {
	struct emu_image image;
	uint64_t entry, stop;
	uint64_t switch_entry, switch_stop;  ///< the switched-out thread's program
};

static uint64_t sx(uint32_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

static uint32_t reg32(uc_engine *uc, int id)
{
	uint32_t v = 0;
	uc_reg_read(uc, id, &v);
	return v;
}

static void on_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *arg)
{
	struct run *r = arg;
	uint8_t op = 0;
	uc_mem_read(uc, address, &op, 1);
	if (op == 0xe8) {  // call rel32: the only calls the program makes
		if (r->depth == MAX_CALLS) {
			r->overflow = true;
			return;
		}
		r->calls[r->depth++] = (struct call){
			(uint32_t)(address + size), reg32(uc, UC_X86_REG_ESP),
			reg32(uc, UC_X86_REG_EBX), reg32(uc, UC_X86_REG_ESI),
			reg32(uc, UC_X86_REG_EDI), reg32(uc, UC_X86_REG_EBP),
		};
	} else if ((op == 0xc3 || op == 0xc2) && r->depth) {  // ret, ret N
		r->depth--;
	}
}

static bool load_program(struct program *p)
{
	memset(p, 0, sizeof(*p));
	const struct emu_export wanted[] = { { "fpo_entry", &p->entry },
					     { "fpo_stop_here", &p->stop },
					     { "fpo_switch_entry", &p->switch_entry },
					     { "fpo_switch_stop", &p->switch_stop } };
	return emu_load_image("callchain-fpo-x86.dll", CALLCHAIN_FPO_X86_IMAGE_BASE, wanted,
			      sizeof(wanted) / sizeof(wanted[0]), &p->image);
}

static bool run_from(const struct program *p, uint64_t entry, uint64_t stop, struct run *r)
{
	memset(r, 0, sizeof(*r));
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &r->uc) != UC_ERR_OK)
		return false;
	uc_engine *uc = r->uc;
	uint32_t stack_low = CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE;
	bool ok = uc_mem_map(uc, CALLCHAIN_FPO_X86_IMAGE_BASE, p->image.size, UC_PROT_ALL) == 0 &&
		  uc_mem_write(uc, CALLCHAIN_FPO_X86_IMAGE_BASE, p->image.bytes, p->image.size) == 0 &&
		  uc_mem_map(uc, stack_low, CALLCHAIN_X86_STACK_SIZE, UC_PROT_ALL) == 0;
	// The thread's first frame: return address 0, argument 5; registers the
	// chain must give back at its outermost frame.
	uint32_t esp = CALLCHAIN_X86_STACK_TOP - 0x100, words[2] = { 0, 5 };
	uint32_t ebp = 0, ebx = 0x01010003, esi = 0x01010006, edi = 0x01010007;
	ok = ok && uc_mem_write(uc, esp, words, sizeof(words)) == 0;
	uc_reg_write(uc, UC_X86_REG_ESP, &esp);
	uc_reg_write(uc, UC_X86_REG_EBP, &ebp);
	uc_reg_write(uc, UC_X86_REG_EBX, &ebx);
	uc_reg_write(uc, UC_X86_REG_ESI, &esi);
	uc_reg_write(uc, UC_X86_REG_EDI, &edi);
	uc_hook hook;
	ok = ok && uc_hook_add(uc, &hook, UC_HOOK_CODE, on_instruction, r,
			       CALLCHAIN_FPO_X86_IMAGE_BASE,
			       CALLCHAIN_FPO_X86_IMAGE_BASE + p->image.size - 1) == 0;
	ok = ok && uc_emu_start(uc, entry, stop, 0, 100000) == 0;
	ok = ok && reg32(uc, UC_X86_REG_EIP) == stop && !r->overflow;
	struct bc_context_x86 *c = &r->regs;
	c->context_flags = 0x1003f;
	c->eax = reg32(uc, UC_X86_REG_EAX), c->ebx = reg32(uc, UC_X86_REG_EBX);
	c->ecx = reg32(uc, UC_X86_REG_ECX), c->edx = reg32(uc, UC_X86_REG_EDX);
	c->esi = reg32(uc, UC_X86_REG_ESI), c->edi = reg32(uc, UC_X86_REG_EDI);
	c->ebp = reg32(uc, UC_X86_REG_EBP), c->esp = reg32(uc, UC_X86_REG_ESP);
	c->eip = (uint32_t)stop, c->eflags = reg32(uc, UC_X86_REG_EFLAGS);
	c->cs = 0x8, c->ss = 0x10, c->ds = c->es = 0x23, c->fs = 0x30;
	return ok;
}

static bool run_program(const struct program *p, struct run *r)
{
	return run_from(p, p->entry, p->stop, r);
}

enum { MAX_BLOBS = 33 };

// The run's machine as dump blobs: the image and every stack page written
// (room is left for one more blob). Returns the count.
static size_t machine_blobs(const struct program *p, struct run *r,
			    struct bc_fixture_blob blobs[MAX_BLOBS])
{
	static uint8_t pages[(MAX_BLOBS - 1) * EMU_PAGE];
	size_t n = 0;
	blobs[n++] = (struct bc_fixture_blob){ p->image.base, p->image.bytes, p->image.size };
	return emu_written_pages(r->uc, CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE,
				 CALLCHAIN_X86_STACK_TOP, blobs, n, MAX_BLOBS - 1, pages);
}

// Where the fixture DLL and its PDB are: the symbol path of these tests.
static const char *fixture_dir(void)
{
	static char dir[1024];
	snprintf(dir, sizeof(dir), "%s/unwind-fixtures",
		 getenv("BC_BINARY_DIR") ? getenv("BC_BINARY_DIR") : "build");
	return dir;
}

// Runs the program, writes the dump and walks it, with or without the
// symbol path that holds the PDB. False (after reporting) when it cannot.
static bool walk(struct program *p, struct run *r, bool with_pdb, struct emu_dump *d,
		 struct bc_stack *s)
{
	if (!run_program(p, r)) {
		TEST_FAIL_AT("the program did not run to its stop label");
		return false;
	}
	static struct bc_fixture_blob blobs[MAX_BLOBS];
	size_t n = machine_blobs(p, r, blobs);
	struct bc_context context = { .machine = BC_MACHINE_X86, .x86 = r->regs };
	struct bc_symbol_options opt = { .symbol_path = with_pdb ? fixture_dir() : "" };
	struct bc_error *err = emu_open_dump(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_X86_PAE, &p->image,
					     blobs, n, &context, d);
	if (!err)
		err = bc_target_set_symbol_options(d->target, &opt);
	if (!err)
		err = bc_target_stack(d->target, bc_target_context(d->target), 64, s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
		return false;
	}
	return true;
}

TEST(fpo_chain_is_walked_by_the_pdb_frame_records)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-fpo-x86.dll not built");
	struct run r = { 0 };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	if (!walk(&p, &r, true, &d, &s))
		goto out;
	if (r.depth != CHAIN_CALLS) {
		TEST_FAIL_AT("the program made %zu nested calls, not %d", r.depth, CHAIN_CALLS);
		goto out;
	}
	CHECK_EQ(s.frames[0].ip, sx((uint32_t)p.stop));
	CHECK_EQ(s.frames[0].context.x86.esp, r.regs.esp);
	if (s.count != r.depth + 1)
		TEST_FAIL_AT("%zu frames, the program had %zu (%s)", s.count, r.depth + 1, s.note);
	size_t by_record = 0, regs_checked = 0;
	for (size_t i = 1; i < s.count && i <= r.depth; i++) {
		const struct call *want = &r.calls[r.depth - i];
		const struct bc_context_x86 *got = &s.frames[i].context.x86;
		if (s.frames[i].ip != sx(want->return_address) || got->esp != want->esp)
			TEST_FAIL_AT("frame %zu: ip %" PRIx64 " esp %" PRIx32 ", the program had %"
				     PRIx32 " %" PRIx32, i, s.frames[i].ip, got->esp,
				     want->return_address, want->esp);
		CHECK_EQ(s.frames[i - 1].return_address, sx(want->return_address));
		// ChildEBP: 8 below the caller's ESP (return address slot - 4).
		CHECK_EQ(s.frames[i - 1].sp, sx(want->esp - 8));
		if (got->ebx != want->ebx || got->esi != want->esi || got->edi != want->edi ||
		    got->ebp != want->ebp)
			TEST_FAIL_AT("frame %zu registers: ebx %08x esi %08x edi %08x ebp %08x, the "
				     "program had %08x %08x %08x %08x", i, got->ebx, got->esi,
				     got->edi, got->ebp, want->ebx, want->esi, want->edi, want->ebp);
		else
			regs_checked += 4;
		by_record += s.frames[i].source == BC_FRAME_FPO;
	}
	// Frame 1 is found by the EBP chain (the stop function has no record);
	// the five above it by records, the last frame's return address is 0.
	CHECK_EQ(by_record, CHAIN_CALLS - 1);
	CHECK_EQ(s.frames[s.count - 1].return_address, 0);
	CHECK_EQ(s.end, BC_STACK_END_ZERO_IP);
	// kv's notes: fpo_c (frame 3) is an FPO frame, ebp_b (frame 4) a standard one.
	CHECK(s.count > 4 && s.frames[3].fpo.present && !s.frames[3].fpo.non_fpo);
	CHECK(s.count > 4 && s.frames[4].fpo.present && s.frames[4].fpo.non_fpo);
	CHECK(!s.frames[0].fpo.present);
	printf("# %zu frames reproduced (return address and esp), %zu callee-saved register "
	       "values, %zu frames found by FPO records\n", s.count - 1, regs_checked, by_record);
out:
	bc_stack_free(&s);
	emu_close_dump(&d);
	if (r.uc)
		uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST(without_the_pdb_the_ebp_chain_loses_frames)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-fpo-x86.dll not built");
	struct run r = { 0 };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	if (!walk(&p, &r, false, &d, &s))
		goto out;
	// fpo_c left 0x0c0c0005 in EBP for the frames below it, so the chain
	// breaks under fpo_c: far fewer frames than the program had.
	CHECK(s.count < r.depth + 1);
	CHECK(s.count <= 3);
	for (size_t i = 1; i < s.count; i++)
		CHECK(s.frames[i].source != BC_FRAME_FPO);
	printf("# without the PDB: %zu of %zu frames (%s)\n", s.count, r.depth + 1, s.note);
out:
	bc_stack_free(&s);
	emu_close_dump(&d);
	if (r.uc)
		uc_close(r.uc);
	emu_free_image(&p.image);
}

// .thread on a switched-out x86 thread: the program stops as the kernel's
// context switch leaves a thread (a KSWITCHFRAME at ESP, stored as
// KTHREAD.KernelStack), under an FPO function that saved every nonvolatile
// register. Another thread's ETHREAD holds that KernelStack at the offset
// the dump's KDDEBUGGER_DATA64 declares. Its registers must be the return
// into the switching function and the stack above it; the walk from there,
// through the PDB's records, the recorded chain with EBX/ESI/EDI/EBP.
TEST(a_switched_out_thread_resumes_after_its_switch_frame)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-fpo-x86.dll not built");
	struct run r = { 0 };
	struct emu_dump probe = { 0 }, d = { 0 };
	struct bc_stack s = { 0 };
	if (!run_from(&p, p.switch_entry, p.switch_stop, &r) || r.depth < 3) {
		TEST_FAIL_AT("the switch program did not run to its stop (%zu calls)", r.depth);
		goto out;
	}
	static struct bc_fixture_blob blobs[MAX_BLOBS];
	size_t n = machine_blobs(&p, &r, blobs);
	struct bc_context context = { .machine = BC_MACHINE_X86, .x86 = r.regs };
	// The writer's KTHREAD.KernelStack offset, as any dump of it declares.
	REQUIRE_OK(emu_open_dump(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_X86_PAE, &p.image, blobs, n,
				 &context, &probe));
	uint16_t offset = bc_target_kdbg(probe.target)->offset_kthread_kernel_stack;
	REQUIRE(offset != 0 && offset + 4u <= EMU_PAGE);
	static uint8_t thread_page[EMU_PAGE];
	memset(thread_page, 0, sizeof(thread_page));
	for (int i = 0; i < 4; i++)
		thread_page[offset + i] = (uint8_t)(r.regs.esp >> (8 * i));
	blobs[n++] = (struct bc_fixture_blob){ CALLCHAIN_X86_THREAD_VA, thread_page, EMU_PAGE };
	struct bc_symbol_options opt = { .symbol_path = fixture_dir() };
	struct bc_context ctx;
	struct bc_error *err = emu_open_dump(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_X86_PAE, &p.image,
					     blobs, n, &context, &d);
	if (!err)
		err = bc_target_set_symbol_options(d.target, &opt);
	if (!err)
		err = bc_target_thread_context(d.target, CALLCHAIN_X86_THREAD_VA, &ctx);
	if (!err)
		err = bc_target_stack(d.target, &ctx, 64, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
		goto out;
	}
	const struct call *innermost = &r.calls[r.depth - 1];
	CHECK_EQ(ctx.x86.eip, innermost->return_address);
	CHECK_EQ(ctx.x86.esp, innermost->esp);
	if (s.count != r.depth)
		TEST_FAIL_AT("%zu frames, the thread had %zu (%s)", s.count, r.depth, s.note);
	for (size_t i = 0; i < s.count && i < r.depth; i++) {
		const struct call *want = &r.calls[r.depth - 1 - i];
		const struct bc_context_x86 *got = &s.frames[i].context.x86;
		if (s.frames[i].ip != sx(want->return_address) || got->esp != want->esp)
			TEST_FAIL_AT("frame %zu: ip %" PRIx64 " esp %" PRIx32 ", the program had %"
				     PRIx32 " %" PRIx32, i, s.frames[i].ip, got->esp,
				     want->return_address, want->esp);
		// Above the switching function, every callee-saved register is the caller's own.
		if (i >= 1 && (got->ebx != want->ebx || got->esi != want->esi ||
			       got->edi != want->edi || got->ebp != want->ebp))
			TEST_FAIL_AT("frame %zu registers: ebx %08x esi %08x edi %08x ebp %08x, the "
				     "program had %08x %08x %08x %08x", i, got->ebx, got->esi,
				     got->edi, got->ebp, want->ebx, want->esi, want->edi, want->ebp);
	}
	CHECK_EQ(s.end, BC_STACK_END_ZERO_IP);
out:
	bc_stack_free(&s);
	emu_close_dump(&probe);
	emu_close_dump(&d);
	if (r.uc)
		uc_close(r.uc);
	emu_free_image(&p.image);
}

// kv through the CLI over the same dump written to a file: the FPO notes.
TEST(kv_shows_the_fpo_notes)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-fpo-x86.dll not built");
	const char *exe = getenv("BC_BUGCHECK");
	struct run r = { 0 };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	char path[] = "/tmp/bugcheck-fpo-XXXXXX";
	int fd = -1;
	if (!exe) {
		TEST_FAIL_AT("BC_BUGCHECK is not set (ctest sets it to the built CLI)");
		goto out;
	}
	if (!walk(&p, &r, true, &d, &s))
		goto out;
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	REQUIRE(f);
	fwrite(d.bytes, 1, d.size, f);
	fclose(f);
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "'%s' -q -y '%s' -c 'kv' '%s' 2>&1", exe, fixture_dir(), path);
	FILE *o = popen(cmd, "r");
	REQUIRE(o);
	char out[8192];
	size_t n = fread(out, 1, sizeof(out) - 1, o);
	out[n] = 0;
	pclose(o);
	unlink(path);
	printf("%s", out);
	// From llvm-pdbutil dump --fpo of callchain-fpo-x86.pdb: ebp_b's program
	// starts "$T0 $ebp 4 + ="; fpo_c's record at its call has 0 locals, 0
	// params, 8 bytes of saved registers; fpo_a's 12 locals, 8 params, 12 saved.
	CHECK_CONTAINS(out, "ebp_b+");
	CHECK_CONTAINS(out, "(FPO: [Non-Fpo])");
	CHECK_CONTAINS(out, "fpo_c+0x16 (FPO: [0,0,2])");
	CHECK_CONTAINS(out, "(FPO: [2,3,3])");
	// Args to Child at ChildEBP + 8: fpo_entry(5) calls fpo_a(5, 6), which calls ebp_b(5, 6, 3).
	CHECK_CONTAINS(out, "00000005 00000006 00000003 callchain-fpo-x86!ebp_b+");
out:
	bc_stack_free(&s);
	emu_close_dump(&d);
	if (r.uc)
		uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST_MAIN()
