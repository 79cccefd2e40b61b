// FrameData program strings (unwind/x86_frame_program.h) over a small planted
// stack, with the expected values worked out by hand in the comments, and
// hostile programs that must fail with a message instead of misbehaving.
#include <string.h>

#include "base/bytes.h"
#include "test.h"
#include "unwind/x86_frame_program.h"

enum { BASE = 0x9bff0000u, SIZE = 0x100 };
static uint8_t mem[SIZE];

static struct bc_error *read32(void *arg, uint32_t address, uint32_t *ret)
{
	(void)arg;
	if (address < BASE || address - BASE > SIZE - 4)
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "not in the test memory");
	*ret = bc_le32(mem + (address - BASE));
	return NULL;
}

static void put(uint32_t address, uint32_t v)
{
	bc_put_le32(mem + (address - BASE), v);
}

static uint32_t bit(enum bc_x86_var v)
{
	return 1u << v;
}

TEST(fpo_program_finds_the_return_address_at_ra_search)
{
	memset(mem, 0, sizeof(mem));
	// .raSearch = BASE+0x40; there: return address 0x8f201234; saved ebx 4 below it.
	put(BASE + 0x40, 0x8f201234u);
	put(BASE + 0x3c, 0x0b0b0003u);
	struct bc_x86_program_vars v = { 0 };
	bc_x86_program_set(&v, BC_X86_RA_SEARCH, BASE + 0x40);
	bc_x86_program_set(&v, BC_X86_EBX, 0x11111111u);
	REQUIRE_OK(bc_x86_program_run("$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + = "
				      "$ebx $T0 4 - ^ =", &v, read32, NULL));
	CHECK_EQ(v.value[BC_X86_T0], BASE + 0x40);
	CHECK_EQ(v.value[BC_X86_EIP], 0x8f201234u);
	CHECK_EQ(v.value[BC_X86_ESP], BASE + 0x44);
	CHECK_EQ(v.value[BC_X86_EBX], 0x0b0b0003u);
	CHECK_EQ(v.assigned, bit(BC_X86_T0) | bit(BC_X86_EIP) | bit(BC_X86_ESP) | bit(BC_X86_EBX));
}

TEST(ebp_frame_program_and_codeview_register_numbers)
{
	memset(mem, 0, sizeof(mem));
	// EBP = BASE+0x20: [ebp] = caller ebp BASE+0x80, [ebp+4] = return 0x8f205678,
	// saved edi at ebp-8 (what "$24 $T0 8 - ^ =" reads: $24 is CodeView's EDI).
	put(BASE + 0x20, BASE + 0x80);
	put(BASE + 0x24, 0x8f205678u);
	put(BASE + 0x18, 0x0b0b0007u);
	struct bc_x86_program_vars v = { 0 };
	bc_x86_program_set(&v, BC_X86_EBP, BASE + 0x20);
	REQUIRE_OK(bc_x86_program_run("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =  "
				      "$24 $T0 8 - ^ = ", &v, read32, NULL));
	CHECK_EQ(v.value[BC_X86_EIP], 0x8f205678u);
	CHECK_EQ(v.value[BC_X86_EBP], BASE + 0x80);
	CHECK_EQ(v.value[BC_X86_ESP], BASE + 0x28);
	CHECK_EQ(v.value[BC_X86_EDI], 0x0b0b0007u);
}

TEST(aligned_frame_program)
{
	memset(mem, 0, sizeof(mem));
	// clang's realigned frame (msvc/crash.pdb): "$T1 .raSearch = $T0 $T1 4 - 8 @ = ..."
	// .raSearch = BASE+0x4c -> $T0 = (BASE+0x48) & ~7 = BASE+0x48;
	// .raSearch = BASE+0x52 (odd on purpose) -> $T0 = (BASE+0x4e) & ~7 = BASE+0x48.
	put(BASE + 0x48, BASE + 0xc0);  // saved ebp at $T1 - 4
	put(BASE + 0x4c, 0x8f209abcu);
	struct bc_x86_program_vars v = { 0 };
	bc_x86_program_set(&v, BC_X86_RA_SEARCH, BASE + 0x4c);
	REQUIRE_OK(bc_x86_program_run("$T1 .raSearch = $T0  $T1 4 - 8 @ = $ebp $T1 4 - ^ = "
				      "$eip $T1 ^ = $esp $T1 4 + =", &v, read32, NULL));
	CHECK_EQ(v.value[BC_X86_T0], BASE + 0x48);
	CHECK_EQ(v.value[BC_X86_EBP], BASE + 0xc0);
	CHECK_EQ(v.value[BC_X86_EIP], 0x8f209abcu);
	CHECK_EQ(v.value[BC_X86_ESP], BASE + 0x50);
	v = (struct bc_x86_program_vars){ 0 };
	bc_x86_program_set(&v, BC_X86_RA_SEARCH, BASE + 0x52);
	REQUIRE_OK(bc_x86_program_run("$T1 .raSearch = $T0 $T1 4 - 8 @ =", &v, read32, NULL));
	CHECK_EQ(v.value[BC_X86_T0], BASE + 0x48);
}

TEST(arithmetic_and_numbers)
{
	struct bc_x86_program_vars v = { 0 };
	// 7 3 * = 21; 21 4 % = 1; 100 7 / = 14; 0x10 1 - = 15; 5 7 - wraps to 0xfffffffe.
	REQUIRE_OK(bc_x86_program_run("$T0 7 3 * 4 % = $T1 100 7 / = $T2 0x10 1 - = $T3 5 7 - =",
				      &v, read32, NULL));
	CHECK_EQ(v.value[BC_X86_T0], 1);
	CHECK_EQ(v.value[BC_X86_T0 + 1], 14);
	CHECK_EQ(v.value[BC_X86_T0 + 2], 15);
	CHECK_EQ(v.value[BC_X86_T0 + 3], 0xfffffffeu);
	// .cbLocals etc. are read like any variable: 8 + 12 + 4 = 24.
	v = (struct bc_x86_program_vars){ 0 };
	bc_x86_program_set(&v, BC_X86_CB_LOCALS, 8);
	bc_x86_program_set(&v, BC_X86_CB_SAVED_REGS, 12);
	bc_x86_program_set(&v, BC_X86_CB_PARAMS, 4);
	REQUIRE_OK(bc_x86_program_run("$L .cbLocals .cbSavedRegs + .cbParams + =", &v, read32,
				      NULL));
	CHECK_EQ(v.value[BC_X86_L], 24);
}

static void expect_error(const char *program, const char *words)
{
	struct bc_x86_program_vars v = { 0 };
	bc_x86_program_set(&v, BC_X86_ESP, BASE + 0x10);
	struct bc_error *err = bc_x86_program_run(program, &v, read32, NULL);
	if (!err) {
		TEST_FAIL_AT("\"%.60s\" ran without an error", program);
		return;
	}
	CHECK_CONTAINS(err->message, words);
	bc_error_destroy(err);
}

TEST(hostile_programs_fail_with_a_reason)
{
	expect_error("$eip +", "lacks operands");
	expect_error("$eip =", "lacks operands");
	expect_error("^", "nothing to dereference");
	expect_error("$T0 $esp $frob + =", "unknown token");
	expect_error("$T0 $T5 =", "read before it is set");
	expect_error("$T0 4 0 / =", "division by zero");
	expect_error("$T0 4 0 % =", "division by zero");
	expect_error("$T0 $esp 6 @ =", "power of two");
	expect_error("$T0 $esp 0 @ =", "power of two");
	expect_error("4 5 =", "assignment to a value");
	expect_error("$T0 $esp", "left over");
	expect_error("$T0 99999999999 =", "unknown token");  // above 32 bits
	expect_error("$T0 0x10000 ^ =", "not in the test memory");
	// Stack depth: 40 pushes.
	char deep[400] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "1 ");
	expect_error(deep, "too deep");
	// Token count: 600 tokens that would each be fine.
	static char many[600 * 9 + 1];
	many[0] = 0;
	for (int i = 0; i < 300; i++)
		strcat(many, "$T0 1 = ");  // 3 tokens each: 900 tokens
	expect_error(many, "more than");
	// A token longer than any real one.
	char longtok[100];
	memset(longtok, 'a', 80);
	longtok[80] = 0;
	expect_error(longtok, "characters");
}

TEST_MAIN()
