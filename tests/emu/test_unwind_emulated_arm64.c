// ARM64 stacks whose true call chain is known: the program of
// tests/fixtures/unwind/callchain_arm64.c (clang, lld-link: packed and full
// .xdata records) runs under unicorn until arm64_stop's first instruction,
// while a hook records at each bl/blr the return address, SP and the
// callee-saved registers x19..x29 the caller resumes with. The state is
// written into a synthetic ARM64 kernel dump with the DLL as a loaded driver,
// and bc_target_stack must give back that chain, register for register.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/stack.h"
#include "callchain.h"
#include "emu_support.h"
#include "test.h"

enum { MAX_CALLS = 32, SAVED = 11 /* x19..x29 */ };

struct call {
	uint64_t return_address, sp;
	uint64_t saved[SAVED];
};

struct run {
	uc_engine *uc;
	struct call calls[MAX_CALLS];
	size_t depth;
	bool overflow;
	struct bc_context_arm64 regs;
};

struct program {
	struct emu_image image;
	uint64_t entry, stop;
};

static uint64_t reg(uc_engine *uc, int id)
{
	uint64_t v = 0;
	uc_reg_read(uc, id, &v);
	return v;
}

static int x_reg(int n)
{
	return n == 29 ? UC_ARM64_REG_X29 : n == 30 ? UC_ARM64_REG_X30 : UC_ARM64_REG_X0 + n;
}

static void on_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *arg)
{
	(void)size;
	struct run *r = arg;
	uint32_t insn = 0;
	uc_mem_read(uc, address, &insn, 4);
	bool bl = (insn & 0xfc000000u) == 0x94000000u, blr = (insn & 0xfffffc1fu) == 0xd63f0000u;
	if (bl || blr) {
		if (r->depth == MAX_CALLS) {
			r->overflow = true;
			return;
		}
		struct call *c = &r->calls[r->depth++];
		c->return_address = address + 4;
		c->sp = reg(uc, UC_ARM64_REG_SP);
		for (int i = 0; i < SAVED; i++)
			c->saved[i] = reg(uc, x_reg(19 + i));
	} else if ((insn & 0xfffffc1fu) == 0xd65f0000u && r->depth) {  // ret
		r->depth--;
	}
}

static bool load_program(struct program *p)
{
	memset(p, 0, sizeof(*p));
	const struct emu_export wanted[] = { { "callchain_arm64_entry", &p->entry },
					     { "arm64_stop", &p->stop } };
	return emu_load_image("callchain-arm64.dll", CALLCHAIN_ARM64_IMAGE_BASE, wanted, 2,
			      &p->image);
}

static bool run_program(const struct program *p, struct run *r)
{
	memset(r, 0, sizeof(*r));
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &r->uc) != UC_ERR_OK)
		return false;
	uc_engine *uc = r->uc;
	uint64_t stack_low = CALLCHAIN_ARM64_STACK_TOP - CALLCHAIN_ARM64_STACK_SIZE;
	bool ok = uc_mem_map(uc, CALLCHAIN_ARM64_IMAGE_BASE, p->image.size, UC_PROT_ALL) == 0 &&
		  uc_mem_write(uc, CALLCHAIN_ARM64_IMAGE_BASE, p->image.bytes, p->image.size) == 0 &&
		  uc_mem_map(uc, stack_low, CALLCHAIN_ARM64_STACK_SIZE, UC_PROT_ALL) == 0;
	// The thread's first frame returns to 0 (lr) with fp 0; distinct values
	// in every callee-saved register show one restored from the wrong slot.
	uint64_t sp = CALLCHAIN_ARM64_STACK_TOP - 0x100, zero = 0, arg = 1;
	uc_reg_write(uc, UC_ARM64_REG_SP, &sp);
	uc_reg_write(uc, UC_ARM64_REG_X30, &zero);
	uc_reg_write(uc, UC_ARM64_REG_X29, &zero);
	uc_reg_write(uc, UC_ARM64_REG_X0, &arg);
	for (int i = 19; i <= 28; i++) {
		uint64_t v = 0x0a0a0a0a00000000ull | (uint64_t)i;
		uc_reg_write(uc, x_reg(i), &v);
	}
	uc_hook hook;
	ok = ok && uc_hook_add(uc, &hook, UC_HOOK_CODE, on_instruction, r,
			       CALLCHAIN_ARM64_IMAGE_BASE,
			       CALLCHAIN_ARM64_IMAGE_BASE + p->image.size - 1) == 0;
	ok = ok && uc_emu_start(uc, p->entry, p->stop, 0, 100000) == 0;
	ok = ok && reg(uc, UC_ARM64_REG_PC) == p->stop && !r->overflow;
	struct bc_context_arm64 *c = &r->regs;
	c->context_flags = 0x400003;
	for (int i = 0; i < 29; i++)
		c->x[i] = reg(uc, x_reg(i));
	c->fp = reg(uc, UC_ARM64_REG_X29);
	c->lr = reg(uc, UC_ARM64_REG_X30);
	c->sp = reg(uc, UC_ARM64_REG_SP);
	c->pc = p->stop;
	c->cpsr = 0x60000005;
	return ok;
}

TEST(unwind_gives_the_true_chain_and_callee_saved_registers)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-arm64.dll not built");
	struct run r;
	REQUIRE(run_program(&p, &r));
	REQUIRE(r.depth >= 4);  // entry -> one -> two -> three -> arm64_stop
	static struct bc_fixture_blob blobs[32];
	static uint8_t pages[32 * EMU_PAGE];
	size_t n = 0;
	blobs[n++] = (struct bc_fixture_blob){ p.image.base, p.image.bytes, p.image.size };
	n = emu_written_pages(r.uc, CALLCHAIN_ARM64_STACK_TOP - CALLCHAIN_ARM64_STACK_SIZE, CALLCHAIN_ARM64_STACK_TOP, blobs, n, 32, pages);
	struct bc_context context = { .machine = BC_MACHINE_ARM64, .arm64 = r.regs };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	struct bc_error *err = emu_open_dump(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_ARM64, &p.image, blobs, n,
					     &context, &d);
	struct bc_target *t = d.target;
	if (!err)
		err = bc_target_stack(t, bc_target_context(t), 32, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		CHECK_EQ(s.frames[0].ip, p.stop);
		CHECK_EQ(s.frames[0].sp, r.regs.sp);
		if (s.count != r.depth + 1)
			TEST_FAIL_AT("%zu frames, the program had %zu (%s)", s.count, r.depth + 1,
				     s.note);
		for (size_t i = 1; i < s.count && i <= r.depth; i++) {
			const struct call *want = &r.calls[r.depth - i];
			const struct bc_stack_frame *got = &s.frames[i];
			if (got->ip != want->return_address || got->sp != want->sp)
				TEST_FAIL_AT("frame %zu: pc %" PRIx64 " sp %" PRIx64 ", the program "
					     "had %" PRIx64 " %" PRIx64, i, got->ip, got->sp,
					     want->return_address, want->sp);
			for (int k2 = 0; k2 < SAVED; k2++) {
				int x = 19 + k2;
				uint64_t v = x == 29 ? got->context.arm64.fp : got->context.arm64.x[x];
				if (v != want->saved[k2])
					TEST_FAIL_AT("frame %zu: x%d = %" PRIx64 ", the program had %"
						     PRIx64, i, x, v, want->saved[k2]);
			}
		}
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST_MAIN()
