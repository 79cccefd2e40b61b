// ARM64 virtual unwind over hand-built records and stacks. Each test plants a
// function's packed .pdata word or .xdata record, encoded by hand from
// Microsoft's "ARM64 exception handling" document for the prolog written in
// its comment, and a stack whose saved registers are known; it checks the
// caller's registers the unwinder recovers (in the body, part-way through the
// prolog, inside an epilog). Expected values are the planted ones.
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "test.h"
#include "unwind/stackwalk.h"
#include "unwind/unwind_arm64.h"

enum { IMAGE_SIZE = 0x8000, STACK_SIZE = 0x20000 };
static const uint64_t IMAGE_BASE = 0xfffff80000400000ull;
static const uint64_t STACK_BASE = 0xffffa00000100000ull;
static const uint64_t RETURN = 0xfffff80000401234ull;   // the caller's code
static const uint64_t CALLER_LR = 0xfffff80000407770ull;

struct world {
	uint8_t image[IMAGE_SIZE];
	uint8_t stack[STACK_SIZE];
};

static struct bc_error *read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	struct world *w = arg;
	if (address < STACK_BASE || address - STACK_BASE > STACK_SIZE ||
	    size > STACK_SIZE - (address - STACK_BASE))
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "%#llx not in the test stack",
				      (unsigned long long)address);
	memcpy(buf, w->stack + (address - STACK_BASE), size);
	return NULL;
}

static struct bc_error *read_image(void *arg, uint64_t base, uint64_t rva, void *buf, size_t size)
{
	struct world *w = arg;
	if (base != IMAGE_BASE || rva > IMAGE_SIZE || size > IMAGE_SIZE - rva)
		return bc_error_fault(base + rva, BC_FAULT_NOT_IN_DUMP, "rva %#llx not in the image",
				      (unsigned long long)rva);
	memcpy(buf, w->image + rva, size);
	return NULL;
}

static struct world *new_world(struct bc_unwind_io *io)
{
	struct world *w = calloc(1, sizeof(*w));
	*io = (struct bc_unwind_io){ read_memory, read_image, w };
	return w;
}

static void put_stack(struct world *w, uint64_t address, uint64_t value)
{
	bc_put_le64(w->stack + (address - STACK_BASE), value);
}

// Packed .pdata word: Flag, FunctionLength (bytes), RegF, RegI, H, CR, FrameSize (bytes).
static uint32_t packed(unsigned flag, unsigned length, unsigned reg_f, unsigned reg_i, unsigned h,
		       unsigned cr, unsigned frame)
{
	return flag | (length / 4) << 2 | reg_f << 13 | reg_i << 16 | h << 20 | cr << 21 |
	       (frame / 16) << 23;
}

// .xdata at @rva: header word(s), epilog scope words, then the code bytes
// padded to whole words. Returns the number of bytes written.
static unsigned put_xdata(struct world *w, uint32_t rva, uint32_t header, const uint32_t *scopes,
			  unsigned scope_count, const uint8_t *codes, unsigned code_bytes)
{
	uint8_t *p = w->image + rva;
	bc_put_le32(p, header);
	unsigned n = 4;
	for (unsigned i = 0; i < scope_count; i++, n += 4)
		bc_put_le32(p + n, scopes[i]);
	memcpy(p + n, codes, code_bytes);
	return n + ((code_bytes + 3) & ~3u);
}

// Header word: FunctionLength (bytes), X, E, Epilog Count (or index), Code Words.
static uint32_t xheader(unsigned length, unsigned x, unsigned e, unsigned epilogs, unsigned words)
{
	return length / 4 | x << 20 | e << 21 | epilogs << 22 | words << 27;
}

static struct bc_arm64_runtime_function fn(uint32_t begin, uint32_t unwind, uint32_t length)
{
	return (struct bc_arm64_runtime_function){ begin, unwind, length };
}

static uint64_t at(uint32_t rva)
{
	return IMAGE_BASE + rva;
}

/* ---- Packed records ------------------------------------------------------- */

// Flag 1, RegI 2, CR 3 (chained), FrameSize 48, length 0x40:
//   0x00 stp x19,x20,[sp,#-16]!   save_regp_x
//   0x04 stp x29,lr,[sp,#-32]!    save_fplr_x
//   0x08 mov x29,sp               set_fp
//   ...
//   0x34 ldp x29,lr,[sp],#32      (epilog: the prolog's codes without set_fp)
//   0x38 ldp x19,x20,[sp],#16
//   0x3c ret
static void plant_chained(struct world *w, uint64_t entry_sp)
{
	put_stack(w, entry_sp - 16, 0x1919);  // x19
	put_stack(w, entry_sp - 8, 0x2020);   // x20
	put_stack(w, entry_sp - 48, 0xf0f0);  // caller's fp
	put_stack(w, entry_sp - 40, RETURN);  // lr
}

TEST(packed_chained_body_prolog_and_epilog)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x1000;
	plant_chained(w, s);
	struct bc_arm64_runtime_function rf = fn(0x1000, packed(1, 0x40, 0, 2, 0, 3, 48), 0x40);
	struct bc_unwind_arm64_result r;
	// Body, after an alloca moved sp: set_fp takes sp back from fp.
	struct bc_context_arm64 c = { .pc = at(0x1020), .sp = s - 48 - 0x200, .fp = s - 48,
				      .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.lr, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK_EQ(c.x[20], 0x2020);
	CHECK_EQ(r.flags, BC_UNWIND_ARM64_PACKED);
	CHECK_EQ(r.establisher_frame, s);
	// At 0x04: only stp x19,x20 has run.
	c = (struct bc_context_arm64){ .pc = at(0x1004), .sp = s - 16, .fp = 0xf0f0, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK(r.flags & BC_UNWIND_ARM64_IN_PROLOG);
	// At 0x08: the frame record is stored, x29 not yet set (it holds junk).
	c = (struct bc_context_arm64){ .pc = at(0x1008), .sp = s - 48, .fp = 0xdead, .lr = 0xbad };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK_EQ(c.sp, s);
	// At 0x00 nothing has run: pc = lr, sp unchanged.
	c = (struct bc_context_arm64){ .pc = at(0x1000), .sp = s, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	// Epilog at 0x38: the frame record is already reloaded, x19/x20 are not.
	c = (struct bc_context_arm64){ .pc = at(0x1038), .sp = s - 16, .fp = 0xf0f0, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[20], 0x2020);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	// At the ret everything is restored: nothing left to undo.
	c = (struct bc_context_arm64){ .pc = at(0x103c), .sp = s, .lr = RETURN, .x[19] = 7 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 7);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	free(w);
}

// Flag 1, RegI 1, RegF 1, H 1, CR 1 (lr saved, unchained), FrameSize 128,
// length 0x50. Save area: x19, lr (16), d8, d9 (16), x0-x7 (64) = 96;
// locals 32. No pre-indexed store pairs x19 with lr, so the area comes first:
//   0x00 sub sp,sp,#96            alloc_s
//   0x04 stp x19,lr,[sp]          save_lrpair
//   0x08 stp d8,d9,[sp,#16]       save_fregp
//   0x0c stp x0,x1,[sp,#32] .. 0x18 stp x6,x7,[sp,#80]   4 x nop
//   0x1c sub sp,sp,#32            alloc_s
//   epilog 0x3c: add sp,#32; ldp d8,d9; ldp x19,lr; add sp,#96; ret
TEST(packed_lr_pair_homed_parameters_and_fp_registers)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x2000;
	put_stack(w, s - 96, 0x1919);
	put_stack(w, s - 88, RETURN);
	struct bc_arm64_runtime_function rf = fn(0x1100, packed(1, 0x50, 1, 1, 1, 1, 128), 0x50);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1130), .sp = s - 128, .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	// At 0x08 (after sub and stp x19,lr): six of the eight codes not run yet.
	c = (struct bc_context_arm64){ .pc = at(0x1108), .sp = s - 96, .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK(r.flags & BC_UNWIND_ARM64_IN_PROLOG);
	// At 0x14 (homing x4,x5 next): only the final sub is still to come.
	c = (struct bc_context_arm64){ .pc = at(0x1114), .sp = s - 96, .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	// At 0x1c the 4 homing stores are done; the locals are not allocated.
	c = (struct bc_context_arm64){ .pc = at(0x111c), .sp = s - 96, .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	// Epilog (5 instructions, no homing): at 0x40 the locals are released.
	c = (struct bc_context_arm64){ .pc = at(0x1140), .sp = s - 96, .lr = CALLER_LR };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	free(w);
}

// Flag 1, CR 2 (chained, return address signed), FrameSize 32, length 0x20:
//   0x00 pacibsp                  pac_sign_lr
//   0x04 stp x29,lr,[sp,#-32]!    save_fplr_x
//   0x08 mov x29,sp               set_fp
// The saved lr carries PAC bits; the unwinder strips them (kernel address:
// bits 48-63 set again).
TEST(packed_pac_strips_the_signed_return_address)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x3000;
	uint64_t signed_ret = (RETURN & 0x0000ffffffffffffull) | 0x5a92000000000000ull;
	put_stack(w, s - 32, 0xf0f0);
	put_stack(w, s - 24, signed_ret);
	struct bc_arm64_runtime_function rf = fn(0x1200, packed(1, 0x20, 0, 0, 0, 2, 32), 0x20);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1210), .sp = s - 32, .fp = s - 32 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.lr, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK(r.flags & BC_UNWIND_ARM64_PAC);
	// At 0x04 only pacibsp ran: lr itself is signed.
	c = (struct bc_context_arm64){ .pc = at(0x1204), .sp = s, .lr = signed_ret };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK(r.flags & BC_UNWIND_ARM64_PAC);
	// A user-mode address (bit 55 clear) loses its PAC bits to zeros.
	CHECK_EQ(bc_arm64_strip_pac(0x003a7ff612345678ull), 0x00007ff612345678ull);
	CHECK_EQ(bc_arm64_strip_pac(RETURN), RETURN);
	free(w);
}

// Flag 1, RegI 10, RegF 7, CR 0, FrameSize 8000, length 0x100: saves 144
// bytes, locals 7856 subtracted in two steps (4080, then 3776):
//   0x00 stp x19,x20,[sp,#-144]!  save_regp_x
//   0x04..0x10 stp x21,x22,[sp,#16] .. stp x27,x28,[sp,#64]   save_regp
//   0x14..0x20 stp d8,d9,[sp,#80] .. stp d14,d15,[sp,#128]   save_fregp
//   0x24 sub sp,sp,#4080          alloc_m
//   0x28 sub sp,sp,#3776          alloc_m
TEST(packed_all_registers_and_a_split_local_area)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x10000;
	for (unsigned k = 0; k < 10; k++)
		put_stack(w, s - 144 + 8 * k, 0x1900 + k);
	struct bc_arm64_runtime_function rf = fn(0x1300, packed(1, 0x100, 7, 10, 0, 0, 8000), 0x100);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1380), .sp = s - 8000, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);  // CR 0: lr was never saved
	CHECK_EQ(c.sp, s);
	for (unsigned k = 0; k < 10; k++)
		CHECK_EQ(c.x[19 + k], 0x1900 + k);
	// At 0x28, between the two subs.
	c = (struct bc_context_arm64){ .pc = at(0x1328), .sp = s - 144 - 4080, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[28], 0x1909);
	struct bc_unwind_arm64_record rec;
	REQUIRE_OK(bc_unwind_arm64_decode(&io, IMAGE_BASE, &rf, &rec));
	CHECK_EQ(rec.function_length, 0x100);
	CHECK_EQ(rec.packed.reg_i, 10);
	CHECK_EQ(rec.packed.reg_f, 7);
	CHECK_EQ(rec.packed.frame_size, 8000);
	// Unwind order: alloc_m 3776, alloc_m 4080, save_fregp d14 @128 .. d8 @80,
	// save_regp x27 @64 .. x21 @16, save_regp_x x19 -144, end.
	static const uint8_t want[] = { 0xc0, 0xec, 0xc0, 0xff, 0xd9, 0x90, 0xd9, 0x0e, 0xd8, 0x8c,
					0xd8, 0x0a, 0xca, 0x08, 0xc9, 0x86, 0xc9, 0x04, 0xc8, 0x82,
					0xcc, 0x11, 0xe4 };
	REQUIRE(rec.code_size >= sizeof(want));
	CHECK(!memcmp(rec.codes, want, sizeof(want)));
	free(w);
}

// A fragment (Flag 2) of the chained function above: no prolog and no
// epilog of its own, so even its first instruction unwinds the whole frame.
TEST(packed_fragment_unwinds_its_parent_frame)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x4000;
	plant_chained(w, s);
	struct bc_arm64_runtime_function rf = fn(0x1400, packed(2, 0x40, 0, 2, 0, 3, 48), 0x40);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1400), .sp = s - 48, .fp = s - 48 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK(r.flags & BC_UNWIND_ARM64_CHAINED);
	CHECK(!(r.flags & (BC_UNWIND_ARM64_IN_PROLOG | BC_UNWIND_ARM64_EPILOG)));
	// Near its end too: there is no epilog to be in.
	c = (struct bc_context_arm64){ .pc = at(0x143c), .sp = s - 48, .fp = s - 48 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	free(w);
}

/* ---- .xdata records -------------------------------------------------------- */

// Length 0x100, two epilog scopes (at 0x80 and 0xf0, both using the prolog's
// codes from index 0), codes: set_fp, save_fplr_x 0x90, save_r19r20_x 16, end.
//   0x00 stp x19,x20,[sp,#-16]!   save_r19r20_x
//   0x04 stp x29,lr,[sp,#-0x90]!  save_fplr_x
//   0x08 mov x29,sp               set_fp
//   epilogs: mov sp,x29; ldp x29,lr,[sp],#0x90; ldp x19,x20,[sp],#16; ret
TEST(xdata_epilog_scopes_and_partial_prolog)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x5000;
	put_stack(w, s - 16, 0x1919);
	put_stack(w, s - 8, 0x2020);
	put_stack(w, s - 0xa0, 0xf0f0);
	put_stack(w, s - 0x98, RETURN);
	static const uint8_t codes[] = { 0xe1, 0x91, 0x22, 0xe4 };
	uint32_t scopes[] = { 0x80 / 4, 0xf0 / 4 };
	put_xdata(w, 0x4000, xheader(0x100, 0, 0, 2, 1), scopes, 2, codes, sizeof(codes));
	struct bc_arm64_runtime_function rf = fn(0x1500, 0x4000, 0x100);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1540), .sp = s - 0x400, .fp = s - 0xa0 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK_EQ(c.x[20], 0x2020);
	CHECK_EQ(r.flags, 0);
	// Prolog at 0x04: only x19/x20 saved.
	c = (struct bc_context_arm64){ .pc = at(0x1504), .sp = s - 16, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK(r.flags & BC_UNWIND_ARM64_IN_PROLOG);
	// First epilog, third instruction (0x88): mov sp and ldp x29,lr are done.
	c = (struct bc_context_arm64){ .pc = at(0x1588), .sp = s - 16, .fp = 0xf0f0,
				       .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	// Second epilog, first instruction: everything still to undo.
	c = (struct bc_context_arm64){ .pc = at(0x15f0), .sp = s - 0x300, .fp = s - 0xa0 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	// Between the two epilogs (0x90) is body.
	c = (struct bc_context_arm64){ .pc = at(0x1590), .sp = s - 0x300, .fp = s - 0xa0 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(r.flags, 0);
	free(w);
}

// The remaining save codes, one function without a frame record (length 0x80):
//   0x00 pacibsp                     fc
//   0x04 str x19,[sp,#-0x60]!        save_reg_x     d4 0b
//   0x08 stp x21,x22,[sp,#8]         save_regp      c8 81
//   0x0c stp x23,x24,[sp,#24]        save_next      e6
//   0x10 str x25,[sp,#40]            save_reg       d1 85
//   0x14 stp x27,lr,[sp,#48]         save_lrpair    d7 06
//   0x18 stp d8,d9,[sp,#64]          save_fregp     d8 08
//   0x1c str d10,[sp,#80]            save_freg      dc 8a
//   0x20 str d11,[sp,#-16]!          save_freg_x    de 61
//   0x24 stp d12,d13,[sp,#-16]!      save_fregp_x   db 01
//   0x28 mov x8,x0                   nop            e3
//   0x2c sub sp,sp,#0x1000           alloc_m        c1 00
//   0x30 sub sp,sp,#0x10000          alloc_l        e0 00 10 00
//   0x34 sub sp,sp,#16               alloc_s        01
// Single epilog in the header (E), none planted here.
static const uint8_t every_code[] = { 0x01, 0xe0, 0x00, 0x10, 0x00, 0xc1, 0x00, 0xe3, 0xdb, 0x01,
				      0xde, 0x61, 0xdc, 0x8a, 0xd8, 0x08, 0xd7, 0x06, 0xd1, 0x85,
				      0xe6, 0xc8, 0x81, 0xd4, 0x0b, 0xfc, 0xe4 };

static void plant_every_code(struct world *w, uint64_t s, uint64_t signed_ret)
{
	put_xdata(w, 0x4100, xheader(0x80, 0, 1, 0, 7), NULL, 0, every_code, sizeof(every_code));
	put_stack(w, s - 0x60, 0x1919);
	put_stack(w, s - 0x58, 0x2121);
	put_stack(w, s - 0x50, 0x2222);
	put_stack(w, s - 0x48, 0x2323);
	put_stack(w, s - 0x40, 0x2424);
	put_stack(w, s - 0x38, 0x2525);
	put_stack(w, s - 0x30, 0x2727);
	put_stack(w, s - 0x28, signed_ret);
}

TEST(xdata_every_save_code)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x1f000;
	uint64_t signed_ret = (RETURN & 0x0000ffffffffffffull) | 0x1280000000000000ull;
	plant_every_code(w, s, signed_ret);
	struct bc_arm64_runtime_function rf = fn(0x1600, 0x4100, 0x80);
	struct bc_unwind_arm64_result r;
	uint64_t body_sp = s - 0x80 - 0x1000 - 0x10000 - 0x10;
	struct bc_context_arm64 c = { .pc = at(0x1640), .sp = body_sp, .x[20] = 0x20,
				      .x[26] = 0x26, .x[28] = 0x28 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK_EQ(c.x[20], 0x20);  // not saved: untouched
	CHECK_EQ(c.x[21], 0x2121);
	CHECK_EQ(c.x[22], 0x2222);
	CHECK_EQ(c.x[23], 0x2323);
	CHECK_EQ(c.x[24], 0x2424);
	CHECK_EQ(c.x[25], 0x2525);
	CHECK_EQ(c.x[26], 0x26);
	CHECK_EQ(c.x[27], 0x2727);
	CHECK_EQ(c.x[28], 0x28);
	CHECK(r.flags & BC_UNWIND_ARM64_PAC);
	// At 0x18 (a..f ran): sp is s - 0x60.
	c = (struct bc_context_arm64){ .pc = at(0x1618), .sp = s - 0x60 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.x[27], 0x2727);
	CHECK(r.flags & BC_UNWIND_ARM64_IN_PROLOG);
	// At 0x0c the save_next pair (x23,x24) has not been stored yet.
	c = (struct bc_context_arm64){ .pc = at(0x160c), .sp = s - 0x60, .lr = signed_ret,
				       .x[23] = 0x23 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[21], 0x2121);
	CHECK_EQ(c.x[23], 0x23);
	CHECK_EQ(c.pc, RETURN);  // pac_sign_lr had run: lr itself is stripped
	// At 0x10 it has.
	c = (struct bc_context_arm64){ .pc = at(0x1610), .sp = s - 0x60, .lr = signed_ret };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.x[24], 0x2424);
	// The E bit names the epilog at index 0; with 14 instructions plus ret it
	// starts at 0x44. At 0x48 (add sp,#16 done) the rest is undone.
	c = (struct bc_context_arm64){ .pc = at(0x1648), .sp = body_sp + 0x10 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[25], 0x2525);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	free(w);
}

// A frame record reached by add_fp, with its own epilog codes (E, index 6):
//   0x00 stp x19,x20,[sp,#-32]!   save_r19r20_x 32   24
//   0x04 stp x29,lr,[sp,#16]      save_fplr 16       42
//   0x08 add x29,sp,#16           add_fp 16          e2 02
//   0x0c sub sp,sp,#0x40          alloc_s            04
//   epilog at 0x70: add sp,#0x40; ldp x29,lr,[sp,#16]; ldp x19,x20,[sp],#32; ret
TEST(xdata_add_fp_and_an_epilog_in_the_header)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x6000;
	put_stack(w, s - 32, 0x1919);
	put_stack(w, s - 24, 0x2020);
	put_stack(w, s - 16, 0xf0f0);
	put_stack(w, s - 8, RETURN);
	static const uint8_t codes[] = { 0x04, 0xe2, 0x02, 0x42, 0x24, 0xe4, 0x04, 0x42, 0x24, 0xe4 };
	put_xdata(w, 0x4200, xheader(0x80, 0, 1, 6, 3), NULL, 0, codes, sizeof(codes));
	struct bc_arm64_runtime_function rf = fn(0x1700, 0x4200, 0x80);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1720), .sp = s - 0x300, .fp = s - 16 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.fp, 0xf0f0);
	CHECK_EQ(c.x[19], 0x1919);
	// Epilog at 0x74: locals released, frame record and x19/x20 not yet.
	c = (struct bc_context_arm64){ .pc = at(0x1774), .sp = s - 32, .fp = s - 16 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.x[20], 0x2020);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	// 0x6c is body (the epilog is 4 instructions long).
	c = (struct bc_context_arm64){ .pc = at(0x176c), .sp = s - 0x300, .fp = s - 16 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(r.flags, 0);
	CHECK_EQ(c.sp, s);
	free(w);
}

// Chained regions (end_c), as in the document's shrink-wrapping example:
// region 1 saved the frame (stp x29,lr,[sp,#-256]!; stp x19,x20,[sp,#240];
// mov x29,sp); region 2 (length 0x40) adds stp x21,x22,[sp,#224] as its
// prolog, then end_c and region 1's codes:
//   save_regp x21 224 (c8 9c), end_c, set_fp, save_regp x19 240 (c8 1e),
//   save_fplr_x 256 (9f), end
TEST(xdata_chained_region_runs_the_parent_codes)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x7000;
	put_stack(w, s - 256, 0xf0f0);
	put_stack(w, s - 248, RETURN);
	put_stack(w, s - 16, 0x1919);
	put_stack(w, s - 8, 0x2020);
	put_stack(w, s - 32, 0x2121);
	put_stack(w, s - 24, 0x2222);
	static const uint8_t codes[] = { 0xc8, 0x9c, 0xe5, 0xe1, 0xc8, 0x1e, 0x9f, 0xe4 };
	put_xdata(w, 0x4300, xheader(0x40, 0, 0, 0, 2), NULL, 0, codes, sizeof(codes));
	// Zero epilog count and code words would mean an extended header: this
	// one has 2 code words, so no extension.
	struct bc_arm64_runtime_function rf = fn(0x1800, 0x4300, 0x40);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1810), .sp = s - 256, .fp = s - 256 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[19], 0x1919);
	CHECK_EQ(c.x[21], 0x2121);
	CHECK_EQ(c.x[22], 0x2222);
	CHECK(r.flags & BC_UNWIND_ARM64_CHAINED);
	// At the region's first instruction its own store has not run.
	c = (struct bc_context_arm64){ .pc = at(0x1800), .sp = s - 256, .fp = s - 256,
				       .x[21] = 0x21 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.x[21], 0x21);
	CHECK_EQ(c.x[20], 0x2020);
	CHECK(r.flags & BC_UNWIND_ARM64_IN_PROLOG);
	CHECK(r.flags & BC_UNWIND_ARM64_CHAINED);
	free(w);
}

// An extended header (Epilog Count and Code Words both 0 in the first word):
// 1 epilog scope and 1 code word in the second. Codes: alloc_s 32, end.
TEST(xdata_extended_header)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x8000;
	uint8_t *p = w->image + 0x4400;
	bc_put_le32(p, xheader(0x40, 0, 0, 0, 0));
	bc_put_le32(p + 4, 1 | 1 << 16);
	bc_put_le32(p + 8, 0x30 / 4);          // epilog at 0x30, index 0
	memcpy(p + 12, "\x02\xe4\xe4\xe4", 4);  // add sp,sp,#32 / sub sp,sp,#32
	struct bc_arm64_runtime_function rf = fn(0x1900, 0x4400, 0x40);
	struct bc_unwind_arm64_record rec;
	REQUIRE_OK(bc_unwind_arm64_decode(&io, IMAGE_BASE, &rf, &rec));
	CHECK_EQ(rec.epilog_scopes, 1);
	CHECK_EQ(rec.code_size, 4);
	CHECK_EQ(rec.scopes_rva, 0x4408);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1910), .sp = s - 32, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK_EQ(c.pc, RETURN);
	// At the ret of the epilog (0x34) the stack is already released.
	c = (struct bc_context_arm64){ .pc = at(0x1934), .sp = s, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.sp, s);
	CHECK(r.flags & BC_UNWIND_ARM64_EPILOG);
	free(w);
}

/* ---- Kernel frames ----------------------------------------------------------- */

// MSFT_OP_MACHINE_FRAME: sp points at {interrupted sp, interrupted pc}.
TEST(machine_frame_gives_sp_and_pc)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x9000;
	put_stack(w, s, STACK_BASE + 0xa000);
	put_stack(w, s + 8, 0xfffff80000409998ull);
	put_xdata(w, 0x4500, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xe9\xe4", 2);
	struct bc_arm64_runtime_function rf = fn(0x1a00, 0x4500, 0x40);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1a10), .sp = s, .lr = RETURN };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, 0xfffff80000409998ull);
	CHECK_EQ(c.sp, STACK_BASE + 0xa000);
	CHECK_EQ(c.lr, RETURN);
	CHECK(r.flags & BC_UNWIND_ARM64_MACHINE_FRAME);
	CHECK(r.flags & BC_UNWIND_ARM64_NOT_CALL);
	CHECK_EQ(r.machine_frame, s);
	free(w);
}

// MSFT_OP_TRAP_FRAME after alloc_s: the KTRAP_FRAME sits 0x20 bytes above
// the handler's sp (Spsr 0x90, Sp 0x98, X0-X18 0xa0, Lr 0x138, Fp 0x140, Pc 0x148).
TEST(trap_frame_restores_the_interrupted_registers)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0xb000, tf = s + 0x20;
	for (unsigned i = 0; i < 19; i++)
		put_stack(w, tf + 0xa0 + 8 * i, 0x100 + i);
	bc_put_le32(w->stack + (tf + 0x90 - STACK_BASE), 0x60000005);
	put_stack(w, tf + 0x98, STACK_BASE + 0xc000);
	put_stack(w, tf + 0x138, 0xfffff80000405550ull);
	put_stack(w, tf + 0x140, STACK_BASE + 0xc040);
	put_stack(w, tf + 0x148, 0xfffff80000406660ull);
	put_xdata(w, 0x4600, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\x02\xe8\xe4", 3);
	struct bc_arm64_runtime_function rf = fn(0x1b00, 0x4600, 0x40);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1b20), .sp = s, .x[19] = 0x19 };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, 0xfffff80000406660ull);
	CHECK_EQ(c.sp, STACK_BASE + 0xc000);
	CHECK_EQ(c.lr, 0xfffff80000405550ull);
	CHECK_EQ(c.fp, STACK_BASE + 0xc040);
	CHECK_EQ(c.x[0], 0x100);
	CHECK_EQ(c.x[18], 0x112);
	CHECK_EQ(c.x[19], 0x19);  // nonvolatile: not in a trap frame
	CHECK_EQ(c.cpsr, 0x60000005);
	CHECK(r.flags & BC_UNWIND_ARM64_TRAP_FRAME);
	CHECK_EQ(r.machine_frame, tf);
	free(w);
}

// MSFT_OP_CONTEXT: a whole ARM64 CONTEXT at sp (winnt.h layout: Cpsr 4,
// X0-X28 from 8, Fp 0xf0, Lr 0xf8, Sp 0x100, Pc 0x108).
TEST(context_frame_restores_everything)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0xd000;
	uint8_t *ctx = w->stack + (s - STACK_BASE);
	for (unsigned i = 0; i < 29; i++)
		bc_put_le64(ctx + 8 + 8 * i, 0x200 + i);
	bc_put_le64(ctx + 0xf0, 0xf0f0);
	bc_put_le64(ctx + 0xf8, 0xfffff80000401111ull);
	bc_put_le64(ctx + 0x100, STACK_BASE + 0xe000);
	bc_put_le64(ctx + 0x108, 0xfffff80000402222ull);
	put_xdata(w, 0x4700, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xea\xe4", 2);
	struct bc_arm64_runtime_function rf = fn(0x1c00, 0x4700, 0x40);
	struct bc_unwind_arm64_result r;
	struct bc_context_arm64 c = { .pc = at(0x1c10), .sp = s };
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.pc, 0xfffff80000402222ull);
	CHECK_EQ(c.sp, STACK_BASE + 0xe000);
	CHECK_EQ(c.lr, 0xfffff80000401111ull);
	CHECK_EQ(c.x[19], 0x213);
	CHECK_EQ(c.x[28], 0x21c);
	CHECK(r.flags & BC_UNWIND_ARM64_CONTEXT);
	free(w);
}

TEST(leaf_returns_to_lr)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_context_arm64 c = { .pc = at(0x1d00), .sp = STACK_BASE + 0x100, .lr = RETURN };
	struct bc_unwind_arm64_result r;
	REQUIRE_OK(bc_unwind_arm64_step(&io, IMAGE_BASE, NULL, &c, &r));
	CHECK_EQ(c.pc, RETURN);
	CHECK_EQ(c.sp, STACK_BASE + 0x100);
	CHECK_EQ(r.flags, BC_UNWIND_ARM64_LEAF);
	free(w);
}

/* ---- Hostile records ----------------------------------------------------------- */

static void check_refused(const struct bc_unwind_io *io, const struct bc_arm64_runtime_function *rf,
			  uint64_t pc, uint64_t sp, enum bc_error_code code, const char *what)
{
	struct bc_context_arm64 c = { .pc = pc, .sp = sp, .fp = sp, .lr = RETURN }, before = c;
	struct bc_unwind_arm64_result r;
	struct bc_error *err = bc_unwind_arm64_step(io, IMAGE_BASE, rf, &c, &r);
	if (!err || err->code != code)
		TEST_FAIL_AT("%s: expected error %d, got %s", what, code,
			     err ? err->message : "success");
	CHECK(!memcmp(&c, &before, sizeof(c)));
	bc_error_destroy(err);
}

TEST(corrupt_records_are_refused)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t s = STACK_BASE + 0x100;
	struct bc_arm64_runtime_function rf;
	// Packed: 11 integer registers; a frame smaller than its save area; flag 3.
	rf = fn(0x2000, packed(1, 0x40, 0, 11, 0, 0, 256), 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "RegI 11");
	rf = fn(0x2000, packed(1, 0x40, 7, 10, 1, 1, 64), 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "frame < save area");
	rf = fn(0x2000, 0x4803, 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "flag 3");
	// .xdata version 1.
	put_xdata(w, 0x5000, xheader(0x40, 0, 1, 0, 1) | 1 << 18, NULL, 0,
		  (const uint8_t *)"\xe4", 1);
	rf = fn(0x2000, 0x5000, 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "version 1");
	// alloc_l cut by the end of the code words.
	put_xdata(w, 0x5010, xheader(0x40, 0, 1, 0, 1), NULL, 0,
		  (const uint8_t *)"\x01\x01\x01\xe0", 4);
	rf = fn(0x2000, 0x5010, 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "truncated alloc_l");
	// E bit with the epilog index past the codes.
	put_xdata(w, 0x5020, xheader(0x40, 0, 1, 9, 1), NULL, 0, (const uint8_t *)"\xe4", 1);
	rf = fn(0x2000, 0x5020, 0x40);
	check_refused(&io, &rf, at(0x2010), s, BC_ERR_FORMAT, "epilog index");
	// An epilog scope whose index is past the codes (pc after its start).
	uint32_t scope = 0x20 / 4 | 40u << 22;
	put_xdata(w, 0x5030, xheader(0x40, 0, 0, 1, 1), &scope, 1, (const uint8_t *)"\xe4", 1);
	rf = fn(0x2000, 0x5030, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FORMAT, "epilog scope index");
	// save_next before an allocation; save_next left at the end.
	put_xdata(w, 0x5040, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xe6\x01\xe4", 3);
	rf = fn(0x2000, 0x5040, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FORMAT, "save_next + alloc");
	put_xdata(w, 0x5050, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xe6\xe4", 2);
	rf = fn(0x2000, 0x5050, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FORMAT, "trailing save_next");
	// save_regp of x30 and x31.
	put_xdata(w, 0x5060, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xca\xc0\xe4", 3);
	rf = fn(0x2000, 0x5060, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FORMAT, "save_regp x30,x31");
	// Reserved code 0xf0.
	put_xdata(w, 0x5070, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xf0\xe4", 2);
	rf = fn(0x2000, 0x5070, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FORMAT, "reserved 0xf0");
	// An allocation that would carry sp past the top of the address space.
	put_xdata(w, 0x5080, xheader(0x40, 0, 1, 0, 1), NULL, 0,
		  (const uint8_t *)"\xe0\xff\xff\xff\xe4", 5);
	rf = fn(0x2000, 0x5080, 0x40);
	check_refused(&io, &rf, at(0x2030), 0xffffffffff000000ull, BC_ERR_FORMAT, "sp overflow");
	// .xdata outside the image; a saved register outside the stack.
	rf = fn(0x2000, IMAGE_SIZE + 0x100, 0x40);
	check_refused(&io, &rf, at(0x2030), s, BC_ERR_FAULT, "xdata outside");
	put_xdata(w, 0x5090, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\x42\xe4", 2);
	rf = fn(0x2000, 0x5090, 0x40);
	check_refused(&io, &rf, at(0x2030), STACK_BASE + STACK_SIZE - 8, BC_ERR_FAULT,
		      "stack outside");
	free(w);
}

TEST(pdata_lookup_by_binary_search)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	// Four entries at 0x6000: .xdata (length from its header), packed,
	// a gap, packed fragment, then a reserved flag.
	put_xdata(w, 0x4800, xheader(0x100, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xe4", 1);
	uint32_t rows[4][2] = { { 0x1000, 0x4800 },
				{ 0x1100, packed(1, 0x40, 0, 0, 0, 3, 16) },
				{ 0x1200, packed(2, 0x80, 0, 0, 0, 3, 16) },
				{ 0x1300, 0x4803 } };
	for (int i = 0; i < 4; i++) {
		bc_put_le32(w->image + 0x6000 + 8 * i, rows[i][0]);
		bc_put_le32(w->image + 0x6000 + 8 * i + 4, rows[i][1]);
	}
	struct bc_arm64_runtime_function rf;
	REQUIRE_OK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x10fc, &rf));
	CHECK_EQ(rf.begin, 0x1000);
	CHECK_EQ(rf.length, 0x100);
	REQUIRE_OK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x1100, &rf));
	CHECK_EQ(rf.begin, 0x1100);
	CHECK_EQ(rf.length, 0x40);
	CHECK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x1140, &rf) == &bc_not_found);
	CHECK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x0fff, &rf) == &bc_not_found);
	REQUIRE_OK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x127c, &rf));
	CHECK_EQ(rf.begin, 0x1200);
	CHECK(bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 0, 0x1000, &rf) == &bc_not_found);
	struct bc_error *err = bc_unwind_arm64_lookup(&io, IMAGE_BASE, 0x6000, 32, 0x1300, &rf);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	// A table that runs off the image: a fault, not a crash.
	err = bc_unwind_arm64_lookup(&io, IMAGE_BASE, IMAGE_SIZE - 16, 0xfffffff0, 0x1000, &rf);
	CHECK(err && err->code == BC_ERR_FAULT);
	bc_error_destroy(err);
	free(w);
}

/* ---- The walker ------------------------------------------------------------------ */

// One image, .pdata at 0x6000 with three functions:
//   A (0x1100, packed CR 3, FrameSize 16): stp x29,lr,[sp,#-16]!; mov x29,sp
//   T (0x1200, .xdata: MSFT_OP_MACHINE_FRAME): an interrupt handler
//   C (0x1300, packed CR 1, FrameSize 16): str lr,[sp,#-16]!
// and a leaf L at 0x1000 without an entry. Frame 0 is in L (lr into A), A
// returns into T, whose machine frame holds pc in C and sp on another part
// of the stack; C's saved lr is 0: the end.
static struct bc_error *find_image(void *arg, uint64_t address, uint64_t *base, uint32_t *rva,
				   uint32_t *size)
{
	(void)arg;
	if (address < IMAGE_BASE || address - IMAGE_BASE >= IMAGE_SIZE)
		return &bc_not_found;
	if (address - IMAGE_BASE >= 0x7000)  // "an image whose headers are not in the dump"
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "no headers");
	*base = IMAGE_BASE;
	*rva = 0x6000;
	*size = 3 * 8;
	return NULL;
}

static bool plausible(void *arg, uint64_t address)
{
	(void)arg;
	return address == at(0x1114);  // just after a bl in A
}

static void plant_walk(struct world *w)
{
	put_xdata(w, 0x4900, xheader(0x40, 0, 1, 0, 1), NULL, 0, (const uint8_t *)"\xe9\xe4", 2);
	uint32_t rows[3][2] = { { 0x1100, packed(1, 0x40, 0, 0, 0, 3, 16) },
				{ 0x1200, 0x4900 },
				{ 0x1300, packed(1, 0x40, 0, 0, 0, 1, 16) } };
	for (int i = 0; i < 3; i++) {
		bc_put_le32(w->image + 0x6000 + 8 * i, rows[i][0]);
		bc_put_le32(w->image + 0x6000 + 8 * i + 4, rows[i][1]);
	}
}

TEST(walk_leaf_unwind_machine_frame_to_the_end)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	plant_walk(w);
	uint64_t sp0 = STACK_BASE + 0x1000, other = STACK_BASE + 0x400;
	// A's frame record at sp0: caller's fp, return into T (after a bl at T+0x10).
	put_stack(w, sp0, 0xf0f0);
	put_stack(w, sp0 + 8, at(0x1214));
	// T's machine frame at sp0 + 16: sp in C's frame, pc in C.
	put_stack(w, sp0 + 16, other);
	put_stack(w, sp0 + 24, at(0x1320));
	// C saved lr = 0 at other.
	put_stack(w, other, 0);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_arm64 start = { .pc = at(0x1008), .sp = sp0, .fp = sp0, .lr = at(0x1110) };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_arm64(&env, &start, 64, &st));
	REQUIRE_EQ(st.count, 4);
	CHECK_EQ(st.frames[0].source, BC_FRAME_CONTEXT);
	CHECK_EQ(st.frames[0].return_address, at(0x1110));
	CHECK_EQ(st.frames[1].source, BC_FRAME_LEAF);
	CHECK_EQ(st.frames[1].sp, sp0);
	CHECK_EQ(st.frames[2].source, BC_FRAME_UNWIND);
	CHECK_EQ(st.frames[2].ip, at(0x1214));
	CHECK_EQ(st.frames[2].sp, sp0 + 16);
	CHECK_EQ(st.frames[2].context.arm64.fp, 0xf0f0);
	CHECK_EQ(st.frames[2].context.machine, BC_MACHINE_ARM64);
	CHECK_EQ(st.frames[3].source, BC_FRAME_TRAP);
	CHECK_EQ(st.frames[3].ip, at(0x1320));
	CHECK_EQ(st.frames[3].sp, other);
	CHECK_EQ(st.end, BC_STACK_END_ZERO_IP);
	bc_stack_free(&st);
	// A leaf whose lr is its own pc cannot go anywhere.
	start = (struct bc_context_arm64){ .pc = at(0x1008), .sp = sp0, .lr = at(0x1008) };
	REQUIRE_OK(bc_stackwalk_arm64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	CHECK_EQ(st.end, BC_STACK_END_LOOP);
	bc_stack_free(&st);
	// A user-mode return ends the kernel stack.
	start = (struct bc_context_arm64){ .pc = at(0x1008), .sp = sp0, .lr = 0x00007ff612340000ull };
	REQUIRE_OK(bc_stackwalk_arm64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 2);
	CHECK_EQ(st.end, BC_STACK_END_USER_MODE);
	bc_stack_free(&st);
	// An address in no module stops with a note naming it.
	start.pc = 0xfffff80000900000ull;
	REQUIRE_OK(bc_stackwalk_arm64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	CHECK_EQ(st.end, BC_STACK_END_NO_MODULE);
	CHECK_CONTAINS(st.note, "fffff80000900000");
	bc_stack_free(&st);
	free(w);
}

// Code whose image headers are missing: the frame record fp points at gives
// the caller (a frame found by scanning), then unwinding resumes in A.
TEST(walk_falls_back_to_the_frame_chain)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	plant_walk(w);
	uint64_t sp0 = STACK_BASE + 0x2000, rec = sp0 + 0x40;
	put_stack(w, rec, rec + 0x100);  // caller's fp
	// A signed return into A (PAC bits in 56-63; bit 55 set as in every kernel address).
	put_stack(w, rec + 8, (at(0x1114) & 0x0000ffffffffffffull) | 0x3b80000000000000ull);
	// A's frame record (its fp is rec + 0x100 after the scan).
	put_stack(w, rec + 0x100, 0);
	put_stack(w, rec + 0x108, 0);
	struct bc_stackwalk_env env = { io, find_image, plausible, NULL };
	struct bc_context_arm64 start = { .pc = at(0x7010), .sp = sp0, .fp = rec };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_arm64(&env, &start, 64, &st));
	REQUIRE_EQ(st.count, 2);
	CHECK_EQ(st.frames[1].source, BC_FRAME_SCAN);
	CHECK_EQ(st.frames[1].ip, at(0x1114));
	CHECK_EQ(st.frames[1].context.arm64.fp, rec + 0x100);
	CHECK_EQ(st.frames[1].sp, rec + 16);
	CHECK_EQ(st.end, BC_STACK_END_ZERO_IP);
	bc_stack_free(&st);
	free(w);
}

TEST_MAIN()
