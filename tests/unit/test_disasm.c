// One-instruction disassembly (lib/disasm): byte sequences with the text
// WinDbg printed for them, and hand-encoded ARM64 words.
//
// The x64 and x86 cases are WinDbg's own `u`/`ub`/`uf` lines quoted in
// ../shared/docs/WINDBG_OUTPUT.md section 8 (address, bytes, text); the
// test splits each line and expects our text to equal WinDbg's exactly,
// including names for the branch targets the symbol callback supplies. The
// operand semantics were also cross-checked with binutils objdump. ARM64
// words are encoded here from the Arm ARM field layouts, so the expected
// fields (registers, immediates, targets) follow from the encoding.
#include <ctype.h>

#include "bugcheck/bugcheck.h"
#include "test.h"

// WinDbg lines: "address bytes<pad>text". Names come from the same lines.
static const char *const windbg_x64[] = {
	// 8.1 `u win32kbase!WmsgpConnect+0xe7`
	"fffff805`28f293cb 8b01            mov     eax,dword ptr [rcx]",
	"fffff805`28f293cd 89442420        mov     dword ptr [rsp+20h],eax",
	"fffff805`28f293d1 448b4904        mov     r9d,dword ptr [rcx+4]",
	"fffff805`28f293d5 4c8d0514f0f9ff  lea     r8,[win32kbase!`string' (fffff805`28ec83f0)]",
	"fffff805`28f293dc ba91000000      mov     edx,91h",
	"fffff805`28f293e1 488d8c24e0000000 lea     rcx,[rsp+0E0h]",
	"fffff805`28f293e9 e8e608e9ff      call    win32kbase!StringCchPrintfW (fffff805`28db9cd4)",
	"fffff805`28f293ee 488d8424e0000000 lea     rax,[rsp+0E0h]",
	// 8.2 `ub EvilDriver+0x115b`
	"fffff807`84da1139 33d2            xor     edx,edx",
	"fffff807`84da113b 48895c2428      mov     qword ptr [rsp+28h],rbx",
	"fffff807`84da1140 4889442420      mov     qword ptr [rsp+20h],rax",
	"fffff807`84da1145 ff15e50e0000    call    qword ptr [EvilDriver+0x2030 (fffff807`84da2030)]",
	"fffff807`84da114b ba31427257      mov     edx,57724231h",
	"fffff807`84da1150 488bcb          mov     rcx,rbx",
	"fffff807`84da1153 8bf8            mov     edi,eax",
	// 8.3 `uf Driver+0x11b1` (without WinDbg's "  Branch" annotation)
	"fffff807`3d051000 48895c2408      mov     qword ptr [rsp+8],rbx",
	"fffff807`3d051066 0f114d1f        movups  xmmword ptr [rbp+1Fh],xmm1",
	"fffff807`3d05106a 48ffc0          inc     rax",
	"fffff807`3d05106d 6644393442      cmp     word ptr [rdx+rax*2],r14w",
	"fffff807`3d051072 75f6            jne     Driver+0x106a (fffff807`3d05106a)",
	"fffff807`3d051074 66894c4505      mov     word ptr [rbp+rax*2+5],cx",
};

static const char *const windbg_x86[] = {
	// 5.2 `r` on Windows 7 x86 and the x86 note of 8.1
	"00fa1075 83c420          add     esp,20h",
	"83f1d4f8 89442428        mov     dword ptr [esp+28h],eax",
};

// The symbol each quoted line shows for an address: "name (address)".
struct name_table {
	const char *const *lines;
	size_t count;
};

static uint64_t parse_address(const char *s, const char **end)
{
	uint64_t v = 0;
	for (; isxdigit((unsigned char)*s) || *s == '`'; s++) {
		if (*s != '`')
			v = v * 16 + (uint64_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
	}
	*end = s;
	return v;
}

// Finds "NAME (address)" for @address in any quoted line.
static bool doc_symbol(uint64_t address, char *buf, size_t size, void *arg)
{
	const struct name_table *t = arg;
	for (size_t i = 0; i < t->count; i++) {
		const char *open = strstr(t->lines[i], " (");
		if (!open)
			continue;
		const char *end;
		if (parse_address(open + 2, &end) != address)
			continue;
		// The name starts after the last '[' or after the mnemonic's padding.
		const char *start = open;
		while (start > t->lines[i] && start[-1] != '[' && start[-1] != ' ')
			start--;
		snprintf(buf, size, "%.*s", (int)(open - start), start);
		return true;
	}
	return false;
}

static size_t hex_bytes(const char *s, uint8_t *out, size_t max, const char **end)
{
	size_t n = 0;
	while (n < max && s[0] && s[1] && s[0] != ' ') {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	*end = s;
	return n;
}

static void check_windbg_lines(enum bc_machine machine, const char *const *lines, size_t count)
{
	struct name_table names = { lines, count };
	struct bc_disasm_options options = { doc_symbol, &names };
	for (size_t i = 0; i < count; i++) {
		const char *p;
		uint64_t address = parse_address(lines[i], &p);
		uint8_t code[BC_INSN_MAX_BYTES];
		size_t n = hex_bytes(p + 1, code, sizeof(code), &p);
		while (*p == ' ')
			p++;
		const char *expected = p;
		struct bc_insn insn;
		struct bc_error *err = bc_disasm_decode(machine, address, code, n, &options, &insn);
		if (err) {
			TEST_FAIL_AT("%s: %s", lines[i], err->message);
			bc_error_destroy(err);
			continue;
		}
		char text[BC_INSN_LINE_SIZE];
		CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), expected);
		CHECK_EQ(insn.length, n);
		CHECK_EQ(insn.address, address);
		char hex[2 * BC_INSN_MAX_BYTES + 1];
		char want_hex[2 * BC_INSN_MAX_BYTES + 1];
		snprintf(want_hex, sizeof(want_hex), "%.*s", (int)(2 * n),
			 strchr(lines[i], ' ') + 1);
		CHECK_STR(bc_disasm_format_bytes(&insn, hex, sizeof(hex)), want_hex);
	}
}

TEST(x64_matches_windbg_u_output)
{
	check_windbg_lines(BC_MACHINE_X64, windbg_x64, sizeof(windbg_x64) / sizeof(windbg_x64[0]));
}

TEST(x86_matches_windbg_output)
{
	check_windbg_lines(BC_MACHINE_X86, windbg_x86, sizeof(windbg_x86) / sizeof(windbg_x86[0]));
}

static struct bc_insn decode_ok(enum bc_machine machine, uint64_t address, const void *code,
				size_t size)
{
	struct bc_insn insn = { 0 };
	struct bc_error *err = bc_disasm_decode(machine, address, code, size, NULL, &insn);
	if (err) {
		TEST_FAIL_AT("decode at %#" PRIx64 ": %s", address, err->message);
		bc_error_destroy(err);
	}
	return insn;
}

// The faulting instruction of rizintb__triage_x64.dmp (bytes as stored there):
// REX.XB 89 /r, ModRM 14 (SIB, reg edx), SIB 01 (index r8, base r9).
TEST(x64_memory_operand_and_flags)
{
	static const uint8_t mov[] = { 0x43, 0x89, 0x14, 0x01, 0xcc, 0xcc };
	struct bc_insn insn = decode_ok(BC_MACHINE_X64, 0xfffff8048b58334cull, mov, sizeof(mov));
	char text[BC_INSN_LINE_SIZE];
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "mov     dword ptr [r9+r8],edx");
	CHECK_STR(insn.mnemonic, "mov");
	CHECK_EQ(insn.length, 4);
	CHECK(insn.flags & BC_INSN_HAS_MEMORY);
	CHECK(!(insn.flags & (BC_INSN_CALL | BC_INSN_BRANCH | BC_INSN_RETURN)));
	CHECK_STR(insn.memory.segment, "ds");
	CHECK_STR(insn.memory.base, "r9");
	CHECK_STR(insn.memory.index, "r8");
	CHECK_EQ(insn.memory.scale, 1);
	CHECK_EQ(insn.memory.disp, 0);
	CHECK_EQ(insn.memory.size, 4);

	// Without a symbol callback a branch target is the bare backticked address.
	static const uint8_t jmp[] = { 0xeb, 0x0b };  // jmp rel8 +0x0b
	insn = decode_ok(BC_MACHINE_X64, 0xfffff8048b583350ull, jmp, sizeof(jmp));
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "jmp     fffff804`8b58335d");
	CHECK_EQ(insn.flags & (BC_INSN_BRANCH | BC_INSN_CONDITIONAL | BC_INSN_HAS_TARGET),
		 BC_INSN_BRANCH | BC_INSN_HAS_TARGET);
	CHECK_EQ(insn.target, 0xfffff8048b58335dull);

	static const uint8_t jz[] = { 0x74, 0xfe };  // je $
	insn = decode_ok(BC_MACHINE_X64, 0x1000, jz, sizeof(jz));
	CHECK_STR(insn.mnemonic, "je");
	CHECK(insn.flags & BC_INSN_CONDITIONAL);
	CHECK_EQ(insn.target, 0x1000);

	static const uint8_t ret[] = { 0xc3 };
	insn = decode_ok(BC_MACHINE_X64, 0x1000, ret, sizeof(ret));
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "ret");
	CHECK(insn.flags & BC_INSN_RETURN);

	static const uint8_t call_rip[] = { 0xff, 0x15, 0xe5, 0x0e, 0x00, 0x00 };
	insn = decode_ok(BC_MACHINE_X64, 0xfffff80784da1145ull, call_rip, sizeof(call_rip));
	CHECK(insn.flags & BC_INSN_CALL);
	CHECK_EQ(insn.target, 0xfffff80784da2030ull);  // next instruction + 0xee5
	CHECK_STR(insn.memory.base, "");
	CHECK_EQ(insn.memory.disp, 0xfffff80784da2030ull);

	// MASM immediates: digits bare, letters get a leading 0 and all get "h".
	static const uint8_t and_rsp[] = { 0x48, 0x83, 0xe4, 0xf0 };  // and rsp, -16
	insn = decode_ok(BC_MACHINE_X64, 0, and_rsp, sizeof(and_rsp));
	CHECK_STR(insn.operands, "rsp,0FFFFFFFFFFFFFFF0h");
	static const uint8_t gs_load[] = { 0x65, 0x48, 0x8b, 0x04, 0x25, 0x88, 0x01, 0x00, 0x00 };
	insn = decode_ok(BC_MACHINE_X64, 0, gs_load, sizeof(gs_load));
	CHECK_STR(insn.operands, "rax,qword ptr gs:[188h]");
	CHECK_STR(insn.memory.segment, "gs");
	static const uint8_t int3[] = { 0xcc };
	insn = decode_ok(BC_MACHINE_X64, 0, int3, sizeof(int3));
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "int     3");
}

TEST(x86_branch_targets_are_32_bit)
{
	// call rel32 -5 at 82345678: calls itself; the address prints with 8 digits.
	static const uint8_t call[] = { 0xe8, 0xfb, 0xff, 0xff, 0xff };
	struct bc_insn insn = decode_ok(BC_MACHINE_X86, 0x82345678, call, sizeof(call));
	char text[BC_INSN_LINE_SIZE];
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "call    82345678");
	CHECK_EQ(insn.target, 0x82345678);
	// A sign-extended 32-bit address decodes the same.
	insn = decode_ok(BC_MACHINE_X86, 0xffffffff82345678ull, call, sizeof(call));
	CHECK_EQ(insn.target, 0x82345678);
	CHECK_EQ(insn.flags & BC_INSN_CALL, BC_INSN_CALL);
}

TEST(invalid_and_truncated_x64)
{
	struct bc_insn insn;
	static const uint8_t push_es[] = { 0x06 };  // PUSH ES: invalid in 64-bit mode (Intel SDM)
	struct bc_error *err = bc_disasm_decode(BC_MACHINE_X64, 0x1000, push_es, 1, NULL, &insn);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_INVALID_ARG);
	CHECK_CONTAINS(err->message, "not a valid x64 instruction");
	bc_error_destroy(err);
	static const uint8_t rex_only[] = { 0x48, 0x8b };  // mov r64, r/m64 without ModRM
	err = bc_disasm_decode(BC_MACHINE_X64, 0x1000, rex_only, 2, NULL, &insn);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_INVALID_ARG);
	CHECK_CONTAINS(err->message, "end inside");
	bc_error_destroy(err);
	err = bc_disasm_decode(BC_MACHINE_UNKNOWN, 0, push_es, 1, NULL, &insn);
	CHECK(err && err->code == BC_ERR_UNSUPPORTED);
	bc_error_destroy(err);
	err = bc_disasm_decode(BC_MACHINE_X64, 0, push_es, 0, NULL, &insn);
	CHECK(err && err->code == BC_ERR_INVALID_ARG);
	bc_error_destroy(err);
}

static struct bc_insn decode_arm64(uint64_t address, uint32_t word)
{
	uint8_t b[4] = { (uint8_t)word, (uint8_t)(word >> 8), (uint8_t)(word >> 16),
			 (uint8_t)(word >> 24) };
	return decode_ok(BC_MACHINE_ARM64, address, b, sizeof(b));
}

// A64 encodings from the Arm ARM (C6.2): the fields are assembled here.
static uint32_t a64_add_imm(unsigned rd, unsigned rn, unsigned imm12)
{
	return 0x91000000u | imm12 << 10 | rn << 5 | rd;  // ADD (immediate), 64-bit, shift 0
}

static uint32_t a64_bl(int32_t byte_offset)
{
	return 0x94000000u | ((uint32_t)(byte_offset / 4) & 0x3ffffff);
}

static uint32_t a64_bcond(unsigned cond, int32_t byte_offset)
{
	return 0x54000000u | ((uint32_t)(byte_offset / 4) & 0x7ffff) << 5 | cond;
}

TEST(arm64_encodings)
{
	char text[BC_INSN_LINE_SIZE], hex[40];
	// The instruction at pc of rizintb__triage_arm64.dmp: add x0, x19, #0x40.
	struct bc_insn insn = decode_arm64(0xfffff803f32de014ull, a64_add_imm(0, 19, 0x40));
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "add         x0,x19,#0x40");
	CHECK_STR(bc_disasm_format_bytes(&insn, hex, sizeof(hex)), "91010260");
	CHECK_EQ(insn.length, 4);

	insn = decode_arm64(0xfffff803f32de018ull, a64_bl(-0x14ea98));
	CHECK_STR(insn.mnemonic, "bl");
	CHECK_EQ(insn.flags & (BC_INSN_CALL | BC_INSN_HAS_TARGET), BC_INSN_CALL | BC_INSN_HAS_TARGET);
	CHECK_EQ(insn.target, 0xfffff803f318f580ull);
	CHECK_STR(insn.operands, "fffff803`f318f580");

	insn = decode_arm64(0x1000, a64_bcond(1, 8));  // cond 0001 = NE
	CHECK_STR(insn.mnemonic, "b.ne");
	CHECK_EQ(insn.flags & (BC_INSN_BRANCH | BC_INSN_CONDITIONAL),
		 BC_INSN_BRANCH | BC_INSN_CONDITIONAL);
	CHECK_EQ(insn.target, 0x1008);

	// STP x29, x30, [sp, #-16]! (pre-index, imm7 = -2 scaled by 8): WinDbg says fp/lr.
	uint32_t stp = 0xa9800000u | (0x7eu << 15) | (30u << 10) | (31u << 5) | 29u;
	insn = decode_arm64(0, stp);
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "stp         fp,lr,[sp,#-0x10]!");

	insn = decode_arm64(0, 0xd65f03c0u);  // RET (x30)
	CHECK_STR(bc_disasm_format(&insn, text, sizeof(text)), "ret");
	CHECK(insn.flags & BC_INSN_RETURN);

	insn = decode_arm64(0, 0xd503201fu | (0x1bu << 5));  // HINT #27 = PACIBSP
	CHECK_STR(insn.mnemonic, "pacibsp");

	// LDR x11, [x8, #0xa40]: unsigned offset imm12 = 0xa40 / 8.
	insn = decode_arm64(0, 0xf9400000u | (0xa40u / 8) << 10 | 8u << 5 | 11u);
	CHECK_STR(insn.operands, "x11,[x8,#0xa40]");

	struct bc_insn dummy;
	uint8_t half[2] = { 0x60, 0x02 };
	struct bc_error *err = bc_disasm_decode(BC_MACHINE_ARM64, 0, half, 2, NULL, &dummy);
	CHECK(err && err->code == BC_ERR_INVALID_ARG);
	bc_error_destroy(err);
}

TEST(symbol_names_go_into_operands)
{
	static const char *const line[] = {
		"fffff804`8b583350 eb0b            jmp     amdppm+0x335d (fffff804`8b58335d)",
	};
	check_windbg_lines(BC_MACHINE_X64, line, 1);
}

TEST_MAIN()
