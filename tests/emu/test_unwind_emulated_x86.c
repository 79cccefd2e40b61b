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
#include "bugcheck/pe.h"
#include "bugcheck/stack.h"
#include "callchain.h"
#include "mkdump.h"
#include "test.h"

enum { MAX_CALLS = 32, PAGE = 0x1000 };

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
	uint8_t *image;
	uint32_t image_size, timestamp, checksum;
	uint32_t entry, stop;
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
	const char *dir = getenv("BC_BINARY_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/unwind-fixtures/callchain-x86.dll", dir ? dir : "build");
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_file(path, &pe);
	memset(p, 0, sizeof(*p));
	if (err) {
		printf("# skipped: %s (built by tests/fixtures/unwind)\n", err->message);
		bc_error_destroy(err);
		return false;
	}
	const struct bc_pe_info *info = bc_pe_info(pe);
	p->image_size = info->size_of_image;
	p->timestamp = info->timestamp;
	p->checksum = info->checksum;
	p->image = calloc(1, p->image_size);
	err = p->image && info->image_base == CALLCHAIN_X86_IMAGE_BASE
		      ? bc_pe_read(pe, 0, p->image, info->size_of_headers)
		      : bc_error_create(BC_ERR_FORMAT, "%s: not the expected fixture", path);
	for (size_t i = 0; !err && i < bc_pe_section_count(pe); i++) {
		const struct bc_pe_section *s = bc_pe_section(pe, i);
		uint32_t n = s->virtual_size < s->raw_size ? s->virtual_size : s->raw_size;
		if (s->rva < p->image_size && n <= p->image_size - s->rva)
			err = bc_pe_read(pe, s->rva, p->image + s->rva, n);
	}
	const struct bc_pe_exports *ex = NULL;
	if (!err)
		err = bc_pe_exports(pe, &ex);
	const struct bc_pe_export *entry = ex ? bc_pe_export_by_name(ex, "callchain_x86_entry") : NULL;
	const struct bc_pe_export *stop = ex ? bc_pe_export_by_name(ex, "x86_stop_here") : NULL;
	if (!err && (!entry || !stop))
		err = bc_error_create(BC_ERR_FORMAT, "%s: exports missing", path);
	if (!err) {
		p->entry = CALLCHAIN_X86_IMAGE_BASE + entry->rva;
		p->stop = CALLCHAIN_X86_IMAGE_BASE + stop->rva;
	}
	bc_pe_close(pe);
	if (err) {
		printf("# skipped: %s\n", err->message);
		bc_error_destroy(err);
		free(p->image);
		p->image = NULL;
		return false;
	}
	return true;
}

static bool run_program(const struct program *p, struct run *r)
{
	memset(r, 0, sizeof(*r));
	if (uc_open(UC_ARCH_X86, UC_MODE_32, &r->uc) != UC_ERR_OK)
		return false;
	uc_engine *uc = r->uc;
	uint32_t stack_low = CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE;
	bool ok = uc_mem_map(uc, CALLCHAIN_X86_IMAGE_BASE, p->image_size, UC_PROT_ALL) == 0 &&
		  uc_mem_write(uc, CALLCHAIN_X86_IMAGE_BASE, p->image, p->image_size) == 0 &&
		  uc_mem_map(uc, stack_low, CALLCHAIN_X86_STACK_SIZE, UC_PROT_ALL) == 0;
	// The thread's first frame: return address 0, argument 1, EBP 0.
	uint32_t esp = CALLCHAIN_X86_STACK_TOP - 0x100, words[2] = { 0, 1 }, zero = 0;
	ok = ok && uc_mem_write(uc, esp, words, sizeof(words)) == 0;
	uc_reg_write(uc, UC_X86_REG_ESP, &esp);
	uc_reg_write(uc, UC_X86_REG_EBP, &zero);
	uc_hook hook;
	ok = ok && uc_hook_add(uc, &hook, UC_HOOK_CODE, on_instruction, r, CALLCHAIN_X86_IMAGE_BASE,
			       CALLCHAIN_X86_IMAGE_BASE + p->image_size - 1) == 0;
	ok = ok && uc_emu_start(uc, p->entry, p->stop, 0, 100000) == 0;
	ok = ok && reg32(uc, UC_X86_REG_EIP) == p->stop && !r->overflow;
	struct bc_context_x86 *c = &r->regs;
	c->context_flags = 0x1003f;
	c->eax = reg32(uc, UC_X86_REG_EAX), c->ebx = reg32(uc, UC_X86_REG_EBX);
	c->ecx = reg32(uc, UC_X86_REG_ECX), c->edx = reg32(uc, UC_X86_REG_EDX);
	c->esi = reg32(uc, UC_X86_REG_ESI), c->edi = reg32(uc, UC_X86_REG_EDI);
	c->ebp = reg32(uc, UC_X86_REG_EBP), c->esp = reg32(uc, UC_X86_REG_ESP);
	c->eip = p->stop, c->eflags = reg32(uc, UC_X86_REG_EFLAGS);
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
	static uint8_t pages[16][PAGE];
	size_t n = 0;
	blobs[n++] = (struct bc_fixture_blob){ CALLCHAIN_X86_IMAGE_BASE, p.image, p.image_size };
	static const uint8_t zero_page[PAGE];
	for (uint32_t va = CALLCHAIN_X86_STACK_TOP - CALLCHAIN_X86_STACK_SIZE, k = 0;
	     va < CALLCHAIN_X86_STACK_TOP && k < 16; va += PAGE) {
		if (uc_mem_read(r.uc, va, pages[k], PAGE) == 0 && memcmp(pages[k], zero_page, PAGE)) {
			blobs[n++] = (struct bc_fixture_blob){ va, pages[k], PAGE };
			k++;
		}
	}
	struct bc_fixture_module module = {
		"callchain-x86.dll", "\\SystemRoot\\System32\\drivers\\callchain-x86.dll",
		CALLCHAIN_X86_IMAGE_BASE, p.image_size, p.timestamp, p.checksum, 0x49104000,
		true, false,
	};
	struct bc_context context = { .machine = BC_MACHINE_X86, .x86 = r.regs };
	struct bc_fixture_spec spec = {
		.machine = BC_FIXTURE_X86_PAE, .blobs = blobs, .blob_count = n,
		.extra_modules = &module, .extra_module_count = 1, .context = &context,
	};
	uint8_t *bytes = NULL;
	size_t size;
	struct bc_target *t = NULL;
	struct bc_stack s = { 0 };
	struct bc_error *err = bc_fixture_build(&spec, NULL, &bytes, &size);
	if (!err)
		err = bc_target_open_memory(bytes, size, "emulated-x86.dmp", &t);
	if (!err)
		err = bc_target_stack(t, bc_target_context(t), 32, &s);
	if (err) {
		TEST_FAIL_AT("%s", err->message);
		bc_error_destroy(err);
	} else {
		// Frame 0 is the stop; frame i is the caller of call depth - i, with
		// that caller's EBP as its ChildEBP.
		CHECK_EQ(s.frames[0].ip, sx(p.stop));
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
	bc_target_close(t);
	free(bytes);
	uc_close(r.uc);
	free(p.image);
}

TEST_MAIN()
