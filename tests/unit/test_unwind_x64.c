// x64 virtual unwind over hand-built images and stacks: each test plants a
// function's UNWIND_INFO (as MSVC would emit it for the prolog described in
// its comment), a stack with known saved registers and return address, and
// checks the caller's registers the unwinder recovers.
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "test.h"
#include "unwind/stackwalk.h"
#include "unwind/unwind_x64.h"

enum { IMAGE_SIZE = 0x4000, STACK_SIZE = 0x1000 };
static const uint64_t IMAGE_BASE = 0xfffff80000400000ull;
static const uint64_t STACK_BASE = 0xffffa00000010000ull;

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

// UNWIND_INFO at @rva: version 1, the given header bytes and codes.
static void put_info(struct world *w, uint32_t rva, uint8_t version_flags, uint8_t prolog,
		     uint8_t frame, const uint8_t *codes, unsigned slots)
{
	uint8_t *p = w->image + rva;
	p[0] = version_flags;
	p[1] = prolog;
	p[2] = (uint8_t)slots;
	p[3] = frame;
	if (slots)
		memcpy(p + 4, codes, 2 * slots);
}

static const uint64_t RETURN = 0xfffff80000401234ull;

// Any kernel value inside the test image is taken for a return address.
static bool accept_all_returns(void *arg, uint64_t address)
{
	(void)arg;
	return address >= IMAGE_BASE && address < IMAGE_BASE + IMAGE_SIZE;
}

// push rbx (ends at 1); sub rsp,20h (ends at 5). Body from 5.
static void plant_push_alloc(struct world *w, struct bc_x64_runtime_function *rf)
{
	static const uint8_t codes[] = { 5, 0x32 /* ALLOC_SMALL 3 -> 0x20 */,
					 1, 0x30 /* PUSH_NONVOL rbx */ };
	put_info(w, 0x2000, 1, 5, 0, codes, 2);
	*rf = (struct bc_x64_runtime_function){ 0x1000, 0x1100, 0x2000 };
	memcpy(w->image + 0x1000, "\x53\x48\x83\xec\x20\x90\x90", 7);
}

TEST(body_undoes_push_and_allocation)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_x64_runtime_function rf;
	plant_push_alloc(w, &rf);
	uint64_t rsp = STACK_BASE + 0x100;
	put_stack(w, rsp + 0x20, 0x1111);     // saved rbx
	put_stack(w, rsp + 0x28, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1010, .rsp = rsp, .rbx = 0xdead };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, rsp + 0x30);
	CHECK_EQ(c.rbx, 0x1111);
	CHECK_EQ(r.flags, 0);
	free(w);
}

TEST(partly_executed_prolog_skips_later_codes)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_x64_runtime_function rf;
	plant_push_alloc(w, &rf);
	uint64_t rsp = STACK_BASE + 0x100;  // after push rbx only
	put_stack(w, rsp, 0x2222);
	put_stack(w, rsp + 8, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1001, .rsp = rsp };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, rsp + 0x10);
	CHECK_EQ(c.rbx, 0x2222);
	CHECK(r.flags & BC_UNWIND_X64_IN_PROLOG);
	free(w);
}

TEST(epilog_in_progress_is_emulated)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_x64_runtime_function rf;
	plant_push_alloc(w, &rf);
	// add rsp,20h; pop rbx; ret   at 0x1050
	memcpy(w->image + 0x1050, "\x48\x83\xc4\x20\x5b\xc3", 6);
	uint64_t rsp = STACK_BASE + 0x200;
	put_stack(w, rsp + 0x20, 0x3333);
	put_stack(w, rsp + 0x28, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1050, .rsp = rsp };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, rsp + 0x30);
	CHECK_EQ(c.rbx, 0x3333);
	CHECK(r.flags & BC_UNWIND_X64_EPILOG);
	// Halfway: after add rsp, at "pop rbx".
	c = (struct bc_context_x64){ .rip = IMAGE_BASE + 0x1054, .rsp = rsp + 0x20 };
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rbx, 0x3333);
	// A jmp back inside the function is not an epilog: the codes apply instead.
	memcpy(w->image + 0x1060, "\x5b\xeb\x00", 3);  // pop rbx; jmp +0 (inside)
	c = (struct bc_context_x64){ .rip = IMAGE_BASE + 0x1060, .rsp = rsp };
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK(!(r.flags & BC_UNWIND_X64_EPILOG));
	CHECK_EQ(c.rsp, rsp + 0x30);
	free(w);
}

// push rbp (1); sub rsp,40h (5); lea rbp,[rsp+20h] (10): frame register rbp,
// offset 2 (x16). The body then moves rsp (alloca); SAVE_NONVOL r12 at frame+0x30.
TEST(frame_register_survives_alloca)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	// SET_FPREG (10), SAVE_NONVOL r12 slot 6 (10), ALLOC_SMALL 7 -> 0x40 (5), PUSH_NONVOL rbp (1),
	// in descending prolog offset as MSVC orders them.
	static const uint8_t ordered[] = { 10, 0x03, 10, 0xc4, 6, 0, 5, 0x72, 1, 0x50 };
	put_info(w, 0x2100, 1, 10, 0x25 /* rbp, offset 2 */, ordered, 5);
	struct bc_x64_runtime_function rf = { 0x1200, 0x1300, 0x2100 };
	uint64_t entry_rsp = STACK_BASE + 0x400;     // rsp before push rbp (return address at +0)
	put_stack(w, entry_rsp, RETURN);
	uint64_t after_push = entry_rsp - 8;
	put_stack(w, after_push, 0x5555);            // caller's rbp
	uint64_t after_alloc = after_push - 0x40;    // frame base (rsp when lea ran)
	put_stack(w, after_alloc + 0x30, 0x6666);    // saved r12
	struct bc_context_x64 c = {
		.rip = IMAGE_BASE + 0x1280,
		.rsp = after_alloc - 0x300,              // alloca moved rsp far away
		.rbp = after_alloc + 0x20,
	};
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, entry_rsp + 8);
	CHECK_EQ(c.rbp, 0x5555);
	CHECK_EQ(c.r12, 0x6666);
	CHECK_EQ(r.establisher_frame, after_alloc);
	free(w);
}

TEST(machine_frame_with_error_code)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	static const uint8_t codes[] = { 0, 0x1a /* PUSH_MACHFRAME, error code */ };
	put_info(w, 0x2200, 1, 0, 0, codes, 1);
	struct bc_x64_runtime_function rf = { 0x1400, 0x1500, 0x2200 };
	uint64_t rsp = STACK_BASE + 0x600;
	put_stack(w, rsp + 8, 0xfffff80000409999ull);        // interrupted RIP
	put_stack(w, rsp + 8 + 0x18, STACK_BASE + 0x900);    // interrupted RSP
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1400, .rsp = rsp };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, 0xfffff80000409999ull);
	CHECK_EQ(c.rsp, STACK_BASE + 0x900);
	CHECK(r.flags & BC_UNWIND_X64_MACHINE_FRAME);
	CHECK_EQ(r.machine_frame, rsp + 8);
	CHECK(r.machine_frame_error_code);
	free(w);
}

// A function split in two: the second part's info chains to the primary one,
// which pushed rsi (a chain can carry the primary function's pushes).
TEST(chained_info_applies_the_parent_codes)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	static const uint8_t parent[] = { 1, 0x60 /* PUSH_NONVOL rsi */ };
	put_info(w, 0x2300, 1, 1, 0, parent, 1);
	static const uint8_t child[] = { 4, 0x12 /* ALLOC_SMALL 1 -> 0x10 */ };
	put_info(w, 0x2320, 1 | (4 << 3), 4, 0, child, 1);
	// Embedded RUNTIME_FUNCTION after the (padded) code array: 4 + 2*2.
	bc_put_le32(w->image + 0x2320 + 8, 0x1600);
	bc_put_le32(w->image + 0x2320 + 12, 0x1640);
	bc_put_le32(w->image + 0x2320 + 16, 0x2300);
	struct bc_x64_runtime_function rf = { 0x1700, 0x1780, 0x2320 };
	uint64_t rsp = STACK_BASE + 0x700;
	put_stack(w, rsp + 0x10, 0x7777);
	put_stack(w, rsp + 0x18, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1720, .rsp = rsp };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, rsp + 0x20);
	CHECK_EQ(c.rsi, 0x7777);
	CHECK(r.flags & BC_UNWIND_X64_CHAINED);
	free(w);
}

TEST(leaf_pops_the_return_address)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t rsp = STACK_BASE + 0x800;
	put_stack(w, rsp, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1900, .rsp = rsp };
	struct bc_unwind_x64_result r;
	REQUIRE_OK(bc_unwind_x64_step(&io, IMAGE_BASE, NULL, &c, &r));
	CHECK_EQ(c.rip, RETURN);
	CHECK_EQ(c.rsp, rsp + 8);
	CHECK(r.flags & BC_UNWIND_X64_LEAF);
	free(w);
}

TEST(corrupt_tables_fail_cleanly)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t rsp = STACK_BASE + 0x100;
	put_stack(w, rsp, RETURN);
	struct bc_context_x64 c = { .rip = IMAGE_BASE + 0x1000, .rsp = rsp }, before = c;
	struct bc_unwind_x64_result r;
	// Version 3.
	put_info(w, 0x2400, 3, 0, 0, NULL, 0);
	struct bc_x64_runtime_function rf = { 0x1000, 0x1100, 0x2400 };
	struct bc_error *err = bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	CHECK(!memcmp(&c, &before, sizeof(c)));
	// A chain pointing at itself.
	static const uint8_t one[] = { 0, 0x02 /* ALLOC_SMALL 0 -> 8 */ };
	put_info(w, 0x2500, 1 | (4 << 3), 0, 0, one, 1);
	bc_put_le32(w->image + 0x2500 + 8, 0x1000);
	bc_put_le32(w->image + 0x2500 + 12, 0x1100);
	bc_put_le32(w->image + 0x2500 + 16, 0x2500);
	rf.unwind_rva = 0x2500;
	err = bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	// An ALLOC_LARGE whose operand slots run past the code count.
	static const uint8_t cut[] = { 0, 0x01 };
	put_info(w, 0x2600, 1, 0, 0, cut, 1);
	rf.unwind_rva = 0x2600;
	err = bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	// Unwind data outside the image.
	rf.unwind_rva = IMAGE_SIZE + 0x100;
	err = bc_unwind_x64_step(&io, IMAGE_BASE, &rf, &c, &r);
	CHECK(err && err->code == BC_ERR_FAULT);
	bc_error_destroy(err);
	CHECK(!memcmp(&c, &before, sizeof(c)));
	free(w);
}

TEST(pdata_lookup_follows_indirect_entries)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	// Three sorted entries at 0x3000; the middle one is indirect (bit 0) to 0x3100.
	uint32_t rows[3][3] = { { 0x1000, 0x1100, 0x2000 },
				{ 0x1100, 0x1180, 0x3100 | 1 },
				{ 0x1200, 0x1300, 0x2100 } };
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			bc_put_le32(w->image + 0x3000 + 12 * i + 4 * j, rows[i][j]);
	bc_put_le32(w->image + 0x3100, 0x1080);
	bc_put_le32(w->image + 0x3104, 0x1180);
	bc_put_le32(w->image + 0x3108, 0x2200);
	struct bc_x64_runtime_function rf;
	REQUIRE_OK(bc_unwind_x64_lookup(&io, IMAGE_BASE, 0x3000, 36, 0x1250, &rf));
	CHECK_EQ(rf.begin, 0x1200);
	CHECK_EQ(rf.unwind_rva, 0x2100);
	REQUIRE_OK(bc_unwind_x64_lookup(&io, IMAGE_BASE, 0x3000, 36, 0x1150, &rf));
	CHECK_EQ(rf.begin, 0x1080);
	CHECK_EQ(rf.unwind_rva, 0x2200);
	struct bc_error *err = bc_unwind_x64_lookup(&io, IMAGE_BASE, 0x3000, 36, 0x1190, &rf);
	CHECK(err == &bc_not_found);
	// An indirect entry naming itself.
	bc_put_le32(w->image + 0x3000 + 12 + 8, (0x3000 + 12) | 1);
	err = bc_unwind_x64_lookup(&io, IMAGE_BASE, 0x3000, 36, 0x1150, &rf);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	free(w);
}

// The stack walker over one image with a .pdata of three functions:
//   A (0x1000): push rbx; sub rsp,20h    - frame 0, interrupted in its body
//   B (0x1100): sub rsp,28h              - called A
//   T (0x1200): a trap handler (PUSH_MACHFRAME, no error code) that interrupted
//               code in C (0x1300: sub rsp,38h) on another stack (an IST switch);
//   C returns to 0: the end.
static struct bc_error *find_image(void *arg, uint64_t address, uint64_t *base, uint32_t *rva,
				   uint32_t *size)
{
	(void)arg;
	if (address < IMAGE_BASE || address - IMAGE_BASE >= IMAGE_SIZE)
		return &bc_not_found;
	*base = IMAGE_BASE;
	*rva = 0x3000;
	*size = 4 * 12;
	return NULL;
}

TEST(walk_crosses_a_machine_frame_onto_another_stack)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	static const uint8_t a[] = { 5, 0x32, 1, 0x30 };
	static const uint8_t b[] = { 4, 0x42 /* ALLOC_SMALL 4 -> 0x28 */ };
	static const uint8_t t[] = { 0, 0x0a /* PUSH_MACHFRAME */ };
	static const uint8_t c[] = { 4, 0x62 /* ALLOC_SMALL 6 -> 0x38 */ };
	put_info(w, 0x2000, 1, 5, 0, a, 2);
	put_info(w, 0x2010, 1, 4, 0, b, 1);
	put_info(w, 0x2020, 1, 0, 0, t, 1);
	put_info(w, 0x2030, 1, 4, 0, c, 1);
	uint32_t rows[4][3] = { { 0x1000, 0x1080, 0x2000 }, { 0x1100, 0x1180, 0x2010 },
				{ 0x1200, 0x1280, 0x2020 }, { 0x1300, 0x1380, 0x2030 } };
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 3; j++)
			bc_put_le32(w->image + 0x3000 + 12 * i + 4 * j, rows[i][j]);
	// Frame 0 in A; A's frame: 0x20 locals, rbx, return into B (after a call at B+0x10).
	uint64_t sp0 = STACK_BASE + 0x100;
	put_stack(w, sp0 + 0x20, 0xb0b0);
	put_stack(w, sp0 + 0x28, IMAGE_BASE + 0x1015);
	uint64_t sp1 = sp0 + 0x30;
	// B's frame: 0x28 bytes, then a return into T (T "called" B).
	put_stack(w, sp1 + 0x28, IMAGE_BASE + 0x1210);
	uint64_t sp2 = sp1 + 0x30;
	// T's machine frame: interrupted RIP in C, RSP on a lower, separate stack area.
	uint64_t other = STACK_BASE + 0x20;
	put_stack(w, sp2, IMAGE_BASE + 0x1320);
	put_stack(w, sp2 + 0x18, other);
	// C's frame on the other area: 0x38 bytes then return address 0.
	put_stack(w, other + 0x38, 0);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1040, .rsp = sp0 };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	REQUIRE_EQ(st.count, 4);
	CHECK_EQ(st.frames[0].source, BC_FRAME_CONTEXT);
	CHECK_EQ(st.frames[0].return_address, IMAGE_BASE + 0x1015);
	CHECK_EQ(st.frames[1].ip, IMAGE_BASE + 0x1015);
	CHECK_EQ(st.frames[1].sp, sp1);
	CHECK_EQ(st.frames[1].context.x64.rbx, 0xb0b0);
	CHECK_EQ(st.frames[2].ip, IMAGE_BASE + 0x1210);
	CHECK_EQ(st.frames[2].sp, sp2);
	CHECK_EQ(st.frames[2].trap_frame, sp2 - 0x168);
	CHECK_EQ(st.frames[3].ip, IMAGE_BASE + 0x1320);
	CHECK_EQ(st.frames[3].sp, other);
	CHECK_EQ(st.frames[3].source, BC_FRAME_TRAP);
	CHECK_EQ(st.end, BC_STACK_END_ZERO_IP);
	bc_stack_free(&st);
	// An address in no module stops with a note naming it.
	start.rip = 0xfffff80000900000ull;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	CHECK_EQ(st.end, BC_STACK_END_NO_MODULE);
	CHECK_CONTAINS(st.note, "fffff80000900000");
	bc_stack_free(&st);
	free(w);
}

// With no .pdata entry for a function, each frame is a leaf: [rsp] is the
// return address. A return into user mode ends the kernel stack.
TEST(walk_of_leaves_stops_at_user_mode)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	uint64_t sp = STACK_BASE + 0x100;
	put_stack(w, sp, IMAGE_BASE + 0x1500);
	put_stack(w, sp + 8, 0x00007ffe7350d0c4ull);  // user-mode return
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1400, .rsp = sp };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	// .pdata (at 0x3000) is empty here: every frame is a leaf.
	REQUIRE_EQ(st.count, 3);
	CHECK_EQ(st.frames[1].source, BC_FRAME_LEAF);
	CHECK_EQ(st.frames[2].ip, 0x00007ffe7350d0c4ull);
	CHECK_EQ(st.end, BC_STACK_END_USER_MODE);
	bc_stack_free(&st);
	free(w);
}

// An image whose headers are in neither the dump nor the symbol path: no
// unwind data, so the walk scans.
static struct bc_error *find_image_without_headers(void *arg, uint64_t address, uint64_t *base,
						   uint32_t *rva, uint32_t *size)
{
	(void)arg, (void)base, (void)rva, (void)size;
	return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "no image headers");
}

// A scan that starts on the thread's stack stops at the stack's base: a
// return address planted just above it is found without the bound and
// ignored with it.
TEST(scan_stops_at_the_thread_stack_base)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t sp = STACK_BASE + 0x100, base = STACK_BASE + 0x200;
	memcpy(w->image + 0x1ffb, "\xe8\x00\x00\x00\x00", 5);  // a call ending at 0x2000
	put_stack(w, base + 0x10, IMAGE_BASE + 0x2000);
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1400, .rsp = sp };
	struct bc_stack st;
	struct bc_stackwalk_env env = { io, find_image_without_headers, accept_all_returns, w };
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	REQUIRE(st.count >= 2);
	CHECK_EQ(st.frames[1].ip, IMAGE_BASE + 0x2000);
	CHECK_EQ(st.frames[1].source, BC_FRAME_SCAN);
	bc_stack_free(&st);
	env.stack_low = STACK_BASE;
	env.stack_high = base;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	bc_stack_free(&st);
	free(w);
}

// A trap handler whose machine frame sends the walk back to the handler
// itself at the same stack pointer: the (ip, sp) pair repeats, and the walk
// stops there with a note instead of going round.
TEST(walk_stops_at_a_repeating_frame)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	static const uint8_t t[] = { 0, 0x0a /* PUSH_MACHFRAME */ };
	put_info(w, 0x2020, 1, 0, 0, t, 1);
	// find_image's table has four rows: empty ones first keep it sorted.
	uint32_t rows[3] = { 0x1200, 0x1280, 0x2020 };
	for (int j = 0; j < 3; j++)
		bc_put_le32(w->image + 0x3000 + 36 + 4 * j, rows[j]);
	uint64_t sp = STACK_BASE + 0x200;
	put_stack(w, sp, IMAGE_BASE + 0x1210);  // "interrupted" at the handler itself
	put_stack(w, sp + 0x18, sp);            // on the same stack pointer
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1210, .rsp = sp };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	CHECK_EQ(st.end, BC_STACK_END_LOOP);
	CHECK(st.count < 64);
	CHECK_CONTAINS(st.note, "repeats");
	bc_stack_free(&st);
	free(w);
}

// A stack pointer into nothing: the walk ends at once, saying which address
// could not be read.
TEST(walk_with_an_unreadable_stack_pointer_says_so)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	struct bc_x64_runtime_function rf;
	plant_push_alloc(w, &rf);
	bc_put_le32(w->image + 0x3000 + 36, rf.begin);
	bc_put_le32(w->image + 0x3000 + 40, rf.end);
	bc_put_le32(w->image + 0x3000 + 44, rf.unwind_rva);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1010, .rsp = 0xffffa0000badf000ull };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	CHECK_EQ(st.end, BC_STACK_END_READ_FAILED);
	CHECK_CONTAINS(st.note, "ffffa0000badf");
	bc_stack_free(&st);
	free(w);
}

// A RUNTIME_FUNCTION whose UnwindData points past the image: the walk ends
// with a note, it does not read elsewhere or crash.
TEST(unwind_data_outside_the_image_ends_the_walk)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint32_t rows[3] = { 0x1000, 0x1100, 0x7ffffff0 };
	for (int j = 0; j < 3; j++)
		bc_put_le32(w->image + 0x3000 + 36 + 4 * j, rows[j]);
	uint64_t sp = STACK_BASE + 0x100;
	put_stack(w, sp, IMAGE_BASE + 0x1050);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1010, .rsp = sp };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 64, &st));
	CHECK_EQ(st.count, 1);
	CHECK(st.end == BC_STACK_END_READ_FAILED || st.end == BC_STACK_END_BAD_UNWIND);
	CHECK(st.note[0] != 0);
	bc_stack_free(&st);
	free(w);
}

// The frame cap: a long chain of leaves stops at the requested count.
TEST(walk_stops_at_the_frame_limit)
{
	struct bc_unwind_io io;
	struct world *w = new_world(&io);
	uint64_t sp = STACK_BASE + 0x100;
	for (int i = 0; i < 100; i++)
		put_stack(w, sp + 8 * (uint64_t)i, IMAGE_BASE + 0x1400 + (uint64_t)i);
	struct bc_stackwalk_env env = { io, find_image, NULL, NULL };
	struct bc_context_x64 start = { .rip = IMAGE_BASE + 0x1400, .rsp = sp };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x64(&env, &start, 5, &st));
	CHECK_EQ(st.count, 5);
	CHECK_EQ(st.end, BC_STACK_END_NONE);
	bc_stack_free(&st);
	free(w);
}

TEST_MAIN()
