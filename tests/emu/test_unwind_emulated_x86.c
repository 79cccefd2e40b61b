// x86 stacks whose true call chain is known: the program of
// tests/fixtures/unwind/callchain_x86.c (clang, lld-link, frame pointers
// kept) runs under unicorn in 32-bit mode to its stop label while a hook
// records each call's return address and the caller's EBP; the state is
// written into a synthetic x86 PAE kernel dump with the DLL as a loaded
// driver, and bc_target_stack must give back that chain: each frame's
// ChildEBP and return address, ending at the thread's first frame.
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

enum { MAX_CALLS = 32 };

struct call {
	uint32_t return_address, caller_ebp;
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
	uint64_t entry, stop;  // 32-bit addresses, zero-extended
};

// The library shows 32-bit kernel addresses sign-extended, like module bases.
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
		r->calls[r->depth++] = (struct call){ (uint32_t)(address + size),
						      reg32(uc, UC_X86_REG_EBP) };
	} else if ((op == 0xc3 || op == 0xc2) && r->depth) {  // ret, ret N
		r->depth--;
	}
}

static bool load_program(struct program *p)
{
	memset(p, 0, sizeof(*p));
	const struct emu_export wanted[] = { { "callchain_x86_entry", &p->entry },
					     { "x86_stop_here", &p->stop } };
	return emu_load_image("callchain-x86.dll", CALLCHAIN_X86_IMAGE_BASE, wanted, 2, &p->image);
}

static bool run_program(const struct program *p, struct run *r)
{
	memset(r, 0, sizeof(*r));
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &r->uc) != UC_ERR_OK)
		return false;
	uc_engine *uc = r->uc;
	uint32_t stack_low = CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE;
	bool ok = uc_mem_map(uc, CALLCHAIN_X86_IMAGE_BASE, p->image.size, UC_PROT_ALL) == 0 &&
		  uc_mem_write(uc, CALLCHAIN_X86_IMAGE_BASE, p->image.bytes, p->image.size) == 0 &&
		  uc_mem_map(uc, stack_low, CALLCHAIN_X86_STACK_SIZE, UC_PROT_ALL) == 0;
	// The thread's first frame: return address 0, argument 1, EBP 0.
	uint32_t esp = CALLCHAIN_X86_STACK_TOP - 0x100, words[2] = { 0, 1 }, zero = 0;
	ok = ok && uc_mem_write(uc, esp, words, sizeof(words)) == 0;
	uc_reg_write(uc, UC_X86_REG_ESP, &esp);
	uc_reg_write(uc, UC_X86_REG_EBP, &zero);
	uc_hook hook;
	ok = ok && uc_hook_add(uc, &hook, UC_HOOK_CODE, on_instruction, r, CALLCHAIN_X86_IMAGE_BASE,
			       CALLCHAIN_X86_IMAGE_BASE + p->image.size - 1) == 0;
	ok = ok && uc_emu_start(uc, p->entry, p->stop, 0, 100000) == 0;
	ok = ok && reg32(uc, UC_X86_REG_EIP) == p->stop && !r->overflow;
	struct bc_context_x86 *c = &r->regs;
	c->context_flags = 0x1003f;
	c->eax = reg32(uc, UC_X86_REG_EAX), c->ebx = reg32(uc, UC_X86_REG_EBX);
	c->ecx = reg32(uc, UC_X86_REG_ECX), c->edx = reg32(uc, UC_X86_REG_EDX);
	c->esi = reg32(uc, UC_X86_REG_ESI), c->edi = reg32(uc, UC_X86_REG_EDI);
	c->ebp = reg32(uc, UC_X86_REG_EBP), c->esp = reg32(uc, UC_X86_REG_ESP);
	c->eip = (uint32_t)p->stop, c->eflags = reg32(uc, UC_X86_REG_EFLAGS);
	c->cs = 0x8, c->ss = 0x10, c->ds = c->es = 0x23, c->fs = 0x30;
	return ok;
}

TEST(ebp_chain_is_the_true_call_chain)
{
	struct program p;
	if (!load_program(&p))
		SKIP("callchain-x86.dll not built");
	struct run r;
	REQUIRE(run_program(&p, &r));
	REQUIRE(r.depth >= 4);  // entry, x86_one, x86_two, x86_three -> x86_stop_fn
	// Dump pages: the image and every stack page the run wrote.
	static struct bc_fixture_blob blobs[32];
	static uint8_t pages[32 * EMU_PAGE];
	size_t n = 0;
	blobs[n++] = (struct bc_fixture_blob){ p.image.base, p.image.bytes, p.image.size };
	n = emu_written_pages(r.uc, CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE, CALLCHAIN_X86_STACK_TOP, blobs, n, 32, pages);
	struct bc_context context = { .machine = BC_MACHINE_X86, .x86 = r.regs };
	struct emu_dump d = { 0 };
	struct bc_stack s = { 0 };
	struct bc_error *err = emu_open_dump(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_X86_PAE, &p.image, blobs, n,
					     &context, &d);
	struct bc_target *t = d.target;
	if (!err)
		err = bc_target_stack(t, bc_target_context(t), 32, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		// Frame 0 is the stop; frame i is the caller of call depth - i, with
		// that caller's EBP as its ChildEBP.
		CHECK_EQ(s.frames[0].ip, sx((uint32_t)p.stop));
		CHECK_EQ(s.frames[0].sp, sx(r.regs.ebp));
		if (s.count != r.depth + 1)
			TEST_FAIL_AT("%zu frames, the program had %zu (%s)", s.count, r.depth + 1,
				     s.note);
		for (size_t i = 1; i < s.count && i <= r.depth; i++) {
			const struct call *want = &r.calls[r.depth - i];
			if (s.frames[i].ip != sx(want->return_address) ||
			    s.frames[i].sp != sx(want->caller_ebp))
				TEST_FAIL_AT("frame %zu: ip %" PRIx64 " ebp %" PRIx64 ", the program "
					     "had %" PRIx32 " %" PRIx32, i, s.frames[i].ip,
					     s.frames[i].sp, want->return_address, want->caller_ebp);
			CHECK_EQ(s.frames[i - 1].return_address, sx(want->return_address));
		}
	}
	bc_stack_free(&s);
	emu_close_dump(&d);
	uc_close(r.uc);
	emu_free_image(&p.image);
}

TEST_MAIN()
