// x86 walks over a planted stack: EBP-chain frames, their ChildEBP and return
// addresses, and where the chain ends (zero, user mode, going backwards);
// frames found by FPO_DATA sizes, with a caller's record looked up at its
// return address - 1.
#include <string.h>

#include "base/bytes.h"
#include "test.h"
#include "unwind/stackwalk.h"

enum { STACK_SIZE = 0x400 };
static const uint32_t STACK = 0xf5d29000u;
static uint8_t stack_bytes[STACK_SIZE];

static struct bc_error *read_stack(void *arg, uint64_t address, void *buf, size_t size)
{
	(void)arg;
	uint64_t base = (uint64_t)(int64_t)(int32_t)STACK;
	if (address < base || address - base > STACK_SIZE || size > STACK_SIZE - (address - base))
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "not in the test stack");
	memcpy(buf, stack_bytes + (address - base), size);
	return NULL;
}

static void frame_at(uint32_t ebp, uint32_t caller_ebp, uint32_t ret)
{
	bc_put_le32(stack_bytes + (ebp - STACK), caller_ebp);
	bc_put_le32(stack_bytes + (ebp - STACK) + 4, ret);
}

TEST(ebp_chain_to_the_end)
{
	memset(stack_bytes, 0, sizeof(stack_bytes));
	frame_at(STACK + 0x100, STACK + 0x180, 0x8046a86cu);
	frame_at(STACK + 0x180, STACK + 0x300, 0x80450bb3u);
	frame_at(STACK + 0x300, 0, 0x0076fe84u);  // returns to user mode
	struct bc_stackwalk_env env = { .io = { read_stack, NULL, NULL } };
	struct bc_context_x86 c = { .eip = 0x80401000u, .esp = STACK + 0xf0, .ebp = STACK + 0x100 };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x86(&env, &c, 32, &st));
	REQUIRE_EQ(st.count, 4);
	CHECK_EQ(st.frames[0].ip, 0xffffffff80401000ull);
	CHECK_EQ(st.frames[0].sp, 0xffffffff00000000ull | (STACK + 0x100));
	CHECK_EQ(st.frames[0].return_address, 0xffffffff8046a86cull);
	CHECK_EQ(st.frames[1].ip, 0xffffffff8046a86cull);
	CHECK_EQ(st.frames[1].context.x86.ebp, STACK + 0x180);
	CHECK_EQ(st.frames[2].context.x86.esp, STACK + 0x188);
	CHECK_EQ(st.frames[3].ip, 0x0076fe84u);
	CHECK_EQ(st.end, BC_STACK_END_USER_MODE);
	bc_stack_free(&st);
}

TEST(broken_chain_stops_with_a_note)
{
	memset(stack_bytes, 0, sizeof(stack_bytes));
	frame_at(STACK + 0x100, STACK + 0x80, 0x8046a86cu);  // caller EBP below: broken
	struct bc_stackwalk_env env = { .io = { read_stack, NULL, NULL } };
	struct bc_context_x86 c = { .eip = 0x80401000u, .esp = STACK + 0xf0, .ebp = STACK + 0x100 };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x86(&env, &c, 32, &st));
	CHECK_EQ(st.count, 2);
	CHECK_EQ(st.end, BC_STACK_END_SP_BACKWARDS);
	CHECK_CONTAINS(st.note, "backwards");
	bc_stack_free(&st);
	// An EBP outside readable memory.
	c.ebp = 0x10;
	REQUIRE_OK(bc_stackwalk_x86(&env, &c, 32, &st));
	CHECK_EQ(st.count, 1);
	CHECK_EQ(st.end, BC_STACK_END_READ_FAILED);
	bc_stack_free(&st);
}


// Two FPO_DATA records (sizes, no program), given by address.
static struct bc_error *two_records(void *arg, uint64_t address, struct bc_x86_frame_info *ret)
{
	(void)arg;
	static const struct bc_x86_frame_info r[] = {
		// The first frame's function: 8 bytes of locals, one saved register,
		// two dword parameters.
		{ .kind = BC_X86_FRAME_FPO, .rva = 0x80401000u, .size = 0x20, .locals = 8,
		  .saved_regs = 4, .params = 8 },
		// A function whose last instruction is a call: its return address is
		// the first byte after it, found only by looking up address - 1.
		{ .kind = BC_X86_FRAME_FPO, .rva = 0x8f201000u, .size = 0x10 },
	};
	uint32_t a = (uint32_t)address;
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (a - r[i].rva < r[i].size) {
			*ret = r[i];
			return NULL;
		}
	}
	return &bc_not_found;
}

TEST(fpo_sizes_and_the_return_address_minus_one_lookup)
{
	memset(stack_bytes, 0, sizeof(stack_bytes));
	// Frame 0: esp STACK+0x40; return address at esp + 8 locals + 4 saved = STACK+0x4c.
	bc_put_le32(stack_bytes + 0x4c, 0x8f201010u);
	// Frame 1: esp STACK+0x50; its return address above the 8 parameter
	// bytes frame 0's function had (.raSearchStart adds the callee's params).
	bc_put_le32(stack_bytes + 0x58, 0x8f2020a0u);
	// Frame 2 has no record: the EBP chain, whose frame at STACK+0x100 returns to 0.
	struct bc_stackwalk_env env = { .io = { read_stack, NULL, NULL }, .x86_frame = two_records };
	struct bc_context_x86 c = { .eip = 0x80401008u, .esp = STACK + 0x40, .ebp = STACK + 0x100 };
	struct bc_stack st;
	REQUIRE_OK(bc_stackwalk_x86(&env, &c, 32, &st));
	REQUIRE_EQ(st.count, 3);
	CHECK_EQ(st.frames[0].sp, 0xffffffff00000000ull | (STACK + 0x48));  // return slot - 4
	CHECK_EQ(st.frames[1].ip, 0xffffffff8f201010ull);
	CHECK_EQ(st.frames[1].source, BC_FRAME_FPO);
	CHECK_EQ(st.frames[1].context.x86.esp, STACK + 0x50);
	CHECK(st.frames[0].fpo.present && st.frames[0].fpo.locals == 2 &&
	      st.frames[0].fpo.params == 2 && st.frames[0].fpo.saved_regs == 1);
	CHECK_EQ(st.frames[2].ip, 0xffffffff8f2020a0ull);
	CHECK_EQ(st.frames[2].source, BC_FRAME_FPO);
	CHECK_EQ(st.frames[2].context.x86.esp, STACK + 0x5c);
	CHECK_EQ(st.end, BC_STACK_END_ZERO_IP);
	bc_stack_free(&st);
}

TEST_MAIN()
