// The MASM expression evaluator (lib/expr): number forms, operators and
// precedence, registers of hand-made contexts, module names and memory
// operators over synthetic dumps (tests/fixtures/gen), syntax errors with
// their columns, and hostile nesting. Expected values are worked out by
// hand from MASM's rules or taken from what the fixture writer stored.
#include <stdlib.h>

#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "test.h"

static uint64_t eval_full(struct bc_target *t, const struct bc_context *ctx, const char *text,
			  bool *ok)
{
	uint64_t v = 0;
	struct bc_error *err = bc_expr_eval(t, ctx, text, &v);
	*ok = !err;
	if (err) {
		TEST_FAIL_AT("\"%s\": %s", text, err->message);
		bc_error_destroy(err);
	}
	return v;
}

#define CHECK_EXPR_CTX(t, ctx, text, want)                                     \
	do {                                                                   \
		bool ok_;                                                      \
		uint64_t v_ = eval_full(t, ctx, text, &ok_);                   \
		if (ok_)                                                       \
			CHECK_EQ(v_, want);                                    \
	} while (0)

#define CHECK_EXPR(text, want) CHECK_EXPR_CTX(NULL, NULL, text, want)

// Fails unless @text is refused with @code and a message naming @column.
static void check_error(struct bc_target *t, const struct bc_context *ctx, const char *text,
			enum bc_error_code code, int column, const char *words)
{
	uint64_t v = 0x5a5a;
	struct bc_error *err = bc_expr_eval(t, ctx, text, &v);
	if (!err) {
		TEST_FAIL_AT("\"%s\" evaluated to %#" PRIx64 ", expected an error", text, v);
		return;
	}
	if (err->code != code)
		TEST_FAIL_AT("\"%s\": code %d, expected %d (%s)", text, err->code, code,
			     err->message);
	char col[32];
	snprintf(col, sizeof(col), "column %d", column);
	if (column)
		CHECK_CONTAINS(err->message, col);
	if (words)
		CHECK_CONTAINS(err->message, words);
	CHECK_EQ(v, 0x5a5a);  // the result is not written on failure
	bc_error_destroy(err);
}

TEST(numbers)
{
	CHECK_EXPR("10", 0x10);  // hex by default
	CHECK_EXPR("0x10", 0x10);
	CHECK_EXPR("0X1f", 0x1f);
	CHECK_EXPR("0n10", 10);
	CHECK_EXPR("0N255", 255);
	CHECK_EXPR("0t17", 017);
	CHECK_EXPR("0y101", 5);
	CHECK_EXPR("fffff804`8b58334c", 0xfffff8048b58334cull);
	CHECK_EXPR("0xfffff804`8b580000", 0xfffff8048b580000ull);
	CHECK_EXPR("ffffffffffffffff", UINT64_MAX);
	CHECK_EXPR("0n18446744073709551615", UINT64_MAX);
	CHECK_EXPR("0y" "1111111111111111111111111111111111111111111111111111111111111111",
		   UINT64_MAX);
	CHECK_EXPR("  42  ", 0x42);
	// All-hex words are numbers, as in WinDbg ("add", "beef").
	CHECK_EXPR("add", 0xadd);
	CHECK_EXPR("BEEF", 0xbeef);
	CHECK_EXPR("0b1", 0xb1);  // no 0b prefix in MASM: this is hex b1
}

TEST(bad_numbers)
{
	check_error(NULL, NULL, "10000000000000000", BC_ERR_INVALID_ARG, 1, "64 bits");
	check_error(NULL, NULL, "0n18446744073709551616", BC_ERR_INVALID_ARG, 1, "64 bits");
	check_error(NULL, NULL, "0x", BC_ERR_INVALID_ARG, 1, "bad number");
	check_error(NULL, NULL, "1+0n12a", BC_ERR_INVALID_ARG, 3, "bad number");
	check_error(NULL, NULL, "0y102", BC_ERR_INVALID_ARG, 1, NULL);
	check_error(NULL, NULL, "0t8", BC_ERR_INVALID_ARG, 1, NULL);
	check_error(NULL, NULL, "1g", BC_ERR_INVALID_ARG, 1, NULL);
}

TEST(operators_and_precedence)
{
	CHECK_EXPR("1+2*3", 7);
	CHECK_EXPR("(1+2)*3", 9);
	CHECK_EXPR("[1+2]*3", 9);
	CHECK_EXPR("10/3", 5);  // 0x10 / 3
	CHECK_EXPR("10%3", 1);
	CHECK_EXPR("10 mod 3", 1);
	CHECK_EXPR("10 MOD 3", 1);
	CHECK_EXPR("8-3-2", 3);  // left to right
	CHECK_EXPR("40/4/2", 8);
	CHECK_EXPR("-1", UINT64_MAX);
	CHECK_EXPR("--1", 1);
	CHECK_EXPR("+5", 5);
	CHECK_EXPR("4*-1", (uint64_t)-4);
	CHECK_EXPR("2-3", UINT64_MAX);  // wraps like 64-bit unsigned
	CHECK_EXPR("ffffffffffffffff+2", 1);
	CHECK_EXPR("8000000000000000*2", 0);
	CHECK_EXPR("1<<0n40", 1ull << 40);
	CHECK_EXPR("1<<0n64", 0);
	CHECK_EXPR("8000000000000000>>3f", 1);
	CHECK_EXPR("8000000000000000>>>3f", UINT64_MAX);
	CHECK_EXPR("8000000000000000>>>0n100", UINT64_MAX);
	CHECK_EXPR("4000000000000000>>>1", 0x2000000000000000ull);
	CHECK_EXPR("1+1<<4", 0x20);  // shifts are looser than +
	CHECK_EXPR("1==1", 1);
	CHECK_EXPR("1=2", 0);
	CHECK_EXPR("1!=2", 1);
	CHECK_EXPR("2>1", 1);
	CHECK_EXPR("1<2", 1);
	CHECK_EXPR("2<=1", 0);
	CHECK_EXPR("2>=2", 1);
	CHECK_EXPR("-1>1", 1);  // comparisons are unsigned
	CHECK_EXPR("1+2==3", 1);
	CHECK_EXPR("1==1 and 2", 0);  // (1==1) & 2: and is looser than ==
	CHECK_EXPR("6 and 3", 2);
	CHECK_EXPR("6&3", 2);
	CHECK_EXPR("6 or 3", 7);
	CHECK_EXPR("6|3", 7);
	CHECK_EXPR("6 xor 3", 5);
	CHECK_EXPR("6^3", 5);
	CHECK_EXPR("1|2 and 3", 3);  // 1 | (2 & 3)
	CHECK_EXPR("1^3 and 2", 3);  // 1 ^ (3 & 2)
	CHECK_EXPR("not 0", 1);
	CHECK_EXPR("not 5", 0);
	CHECK_EXPR("hi 12345678", 0x1234);
	CHECK_EXPR("low 12345678", 0x5678);
	CHECK_EXPR("hi(12345678)+1", 0x1235);
}

TEST(syntax_errors_name_the_column)
{
	check_error(NULL, NULL, "", BC_ERR_INVALID_ARG, 1, "expected an expression");
	check_error(NULL, NULL, "1+", BC_ERR_INVALID_ARG, 3, "end of input");
	check_error(NULL, NULL, "(1", BC_ERR_INVALID_ARG, 3, "')'");
	check_error(NULL, NULL, "1 2", BC_ERR_INVALID_ARG, 3, "near \"2\"");
	check_error(NULL, NULL, "1)", BC_ERR_INVALID_ARG, 2, "')'");
	check_error(NULL, NULL, "1 + * 2", BC_ERR_INVALID_ARG, 5, NULL);
	check_error(NULL, NULL, "1/0", BC_ERR_INVALID_ARG, 3, "division by zero");
	check_error(NULL, NULL, "5 % (1-1)", BC_ERR_INVALID_ARG, 5, "division by zero");
	check_error(NULL, NULL, "@", BC_ERR_INVALID_ARG, 1, "register");
	check_error(NULL, NULL, "1 && 2", BC_ERR_INVALID_ARG, 3, NULL);
	check_error(NULL, NULL, "#", BC_ERR_INVALID_ARG, 1, NULL);
	check_error(NULL, NULL, "zzz", BC_ERR_INVALID_ARG, 1, "'zzz'");
	check_error(NULL, NULL, "1+nt!KeBugCheckEx", BC_ERR_INVALID_ARG, 3, "no target");
	check_error(NULL, NULL, "@rip", BC_ERR_INVALID_ARG, 1, "no register context");
	check_error(NULL, NULL, "poi(1000)", BC_ERR_INVALID_ARG, 1, "needs a dump");
}

TEST(hostile_nesting_is_bounded)
{
	enum { DEEP = 100000 };
	char *text = malloc(2 * DEEP + 2);
	REQUIRE(text);
	// Exactly BC_EXPR_MAX_DEPTH parentheses are fine; one more is refused.
	int n = BC_EXPR_MAX_DEPTH;
	memset(text, '(', (size_t)n);
	text[n] = '7';
	memset(text + n + 1, ')', (size_t)n);
	text[2 * n + 1] = 0;
	CHECK_EXPR(text, 7);
	n = BC_EXPR_MAX_DEPTH + 1;
	memset(text, '(', (size_t)n);
	text[n] = '7';
	memset(text + n + 1, ')', (size_t)n);
	text[2 * n + 1] = 0;
	check_error(NULL, NULL, text, BC_ERR_INVALID_ARG, BC_EXPR_MAX_DEPTH + 1, "nested");
	// Far deeper input fails the same way instead of exhausting the stack.
	memset(text, '(', DEEP);
	text[DEEP] = 0;
	check_error(NULL, NULL, text, BC_ERR_INVALID_ARG, BC_EXPR_MAX_DEPTH + 1, "nested");
	memset(text, '-', DEEP);
	text[DEEP] = '1';
	text[DEEP + 1] = 0;
	check_error(NULL, NULL, text, BC_ERR_INVALID_ARG, BC_EXPR_MAX_DEPTH + 1, "nested");
	for (int i = 0; i < DEEP / 4; i++)
		memcpy(text + 4 * i, "not ", 4);
	text[DEEP] = 0;
	check_error(NULL, NULL, text, BC_ERR_INVALID_ARG, 0, "nested");
	// Long flat input is not nesting: 10000 additions evaluate.
	for (int i = 0; i < 10000; i++)
		memcpy(text + 2 * i, "1+", 2);
	strcpy(text + 20000, "0");
	CHECK_EXPR(text, 10000);
	free(text);
}

static struct bc_context x64_context(void)
{
	struct bc_context c = { .machine = BC_MACHINE_X64 };
	c.x64.rip = 0xfffff8048b58334cull;
	c.x64.rsp = 0xffff850429892120ull;
	c.x64.rax = 0xffffc08be4da6240ull;
	c.x64.r8 = 0xffff9b0003360008ull;
	c.x64.r9 = 0x44;
	c.x64.eflags = 0x50246;
	c.x64.cs = 0x10;
	return c;
}

TEST(registers)
{
	struct bc_context c = x64_context();
	CHECK_EXPR_CTX(NULL, &c, "@rip", 0xfffff8048b58334cull);
	CHECK_EXPR_CTX(NULL, &c, "rip", 0xfffff8048b58334cull);
	CHECK_EXPR_CTX(NULL, &c, "@RSP", 0xffff850429892120ull);
	CHECK_EXPR_CTX(NULL, &c, "rsp+8", 0xffff850429892128ull);
	CHECK_EXPR_CTX(NULL, &c, "@eax", 0xe4da6240);
	CHECK_EXPR_CTX(NULL, &c, "eax", 0xe4da6240);
	CHECK_EXPR_CTX(NULL, &c, "@r9+@r8", 0xffff9b000336004cull);
	CHECK_EXPR_CTX(NULL, &c, "r9+r8", 0xffff9b000336004cull);
	CHECK_EXPR_CTX(NULL, &c, "@efl", 0x50246);
	CHECK_EXPR_CTX(NULL, &c, "cs", 0x10);
	CHECK_EXPR_CTX(NULL, &c, "$ip", 0xfffff8048b58334cull);
	CHECK_EXPR_CTX(NULL, &c, "@$csp", 0xffff850429892120ull);
	CHECK_EXPR_CTX(NULL, &c, "@$ptrsize", 8);
	// Hex wins over names: "add" stays a number even with registers around.
	CHECK_EXPR_CTX(NULL, &c, "add", 0xadd);
	check_error(NULL, &c, "@x19", BC_ERR_INVALID_ARG, 1, "x19");
	check_error(NULL, &c, "rip+@bogus", BC_ERR_INVALID_ARG, 5, "bogus");
	check_error(NULL, &c, "bogus", BC_ERR_INVALID_ARG, 1, "not a number, module, register or symbol");

	struct bc_context a = { .machine = BC_MACHINE_ARM64 };
	a.arm64.x[19] = 0xfffff803efd00980ull;
	a.arm64.pc = 0xfffff803f32de014ull;
	a.arm64.sp = 0xffffe00e0e4bc4a0ull;
	a.arm64.fp = 0x1234;
	CHECK_EXPR_CTX(NULL, &a, "@x19+40", 0xfffff803efd009c0ull);
	CHECK_EXPR_CTX(NULL, &a, "x19", 0xfffff803efd00980ull);
	CHECK_EXPR_CTX(NULL, &a, "pc", 0xfffff803f32de014ull);
	CHECK_EXPR_CTX(NULL, &a, "@x29", 0x1234);  // x29 is fp
	CHECK_EXPR_CTX(NULL, &a, "@$csp", 0xffffe00e0e4bc4a0ull);
	CHECK_EXPR_CTX(NULL, &a, "@$ptrsize", 8);
	check_error(NULL, &a, "@rip", BC_ERR_INVALID_ARG, 1, "arm64");

	// WINDBG_OUTPUT.md 15: "? 8fb7fad4 - esp" on x86 gives 9d8 with esp 8fb7f0fc.
	struct bc_context x = { .machine = BC_MACHINE_X86 };
	x.x86.esp = 0x8fb7f0fc;
	x.x86.ebp = 0x8fb7f128;
	CHECK_EXPR_CTX(NULL, &x, "8fb7fad4 - esp", 0x9d8);
	CHECK_EXPR_CTX(NULL, &x, "ebp-@esp", 0x2c);
	CHECK_EXPR_CTX(NULL, &x, "@$ptrsize", 4);
}

TEST(prefix_stops_before_a_length)
{
	struct bc_context c = x64_context();
	size_t len = 0;
	uint64_t v = 0;
	REQUIRE_OK(bc_expr_eval_prefix(NULL, &c, "@rsp L20", &len, &v));
	CHECK_EQ(len, 4);
	CHECK_EQ(v, 0xffff850429892120ull);
	REQUIRE_OK(bc_expr_eval_prefix(NULL, &c, "  fffff804`8b580000 L4", &len, &v));
	CHECK_EQ(len, 19);
	CHECK_EQ(v, 0xfffff8048b580000ull);
	REQUIRE_OK(bc_expr_eval_prefix(NULL, &c, "1 + 2 l3", &len, &v));
	CHECK_EQ(len, 5);
	CHECK_EQ(v, 3);
	REQUIRE_OK(bc_expr_eval_prefix(NULL, &c, "(rsp - 8)*2 Lfoo", &len, &v));
	CHECK_EQ(len, 11);
	CHECK_EQ(v, (0xffff850429892120ull - 8) * 2);
	REQUIRE_OK(bc_expr_eval_prefix(NULL, &c, "20", &len, &v));
	CHECK_EQ(len, 2);
	struct bc_error *err = bc_expr_eval_prefix(NULL, &c, "  L20", &len, &v);
	CHECK(err && err->code == BC_ERR_INVALID_ARG);
	bc_error_destroy(err);
	err = bc_expr_eval_prefix(NULL, &c, "", &len, &v);
	CHECK(err && err->code == BC_ERR_INVALID_ARG);
	bc_error_destroy(err);
}

struct fixture {
	struct bc_fixture_expect ex;
	uint8_t *bytes;
	size_t size;
	struct bc_target *t;
};

static void fixture_close(struct fixture *f)
{
	bc_target_close(f->t);
	free(f->bytes);
	f->t = NULL;
	f->bytes = NULL;
}

static bool fixture_open(struct fixture *f, enum bc_fixture_format format,
			 enum bc_fixture_machine machine)
{
	struct bc_fixture_spec spec = { .format = format, .machine = machine };
	memset(f, 0, sizeof(*f));
	struct bc_error *err = bc_fixture_build(&spec, &f->ex, &f->bytes, &f->size);
	if (!err)
		err = bc_target_open_memory(f->bytes, f->size, "fixture", &f->t);
	if (err) {
		TEST_FAIL_AT("fixture %s/%s: %s", bc_fixture_format_name(format),
			     bc_fixture_machine_name(machine), err->message);
		bc_error_destroy(err);
		fixture_close(f);
		return false;
	}
	return true;
}

static uint64_t sign_extend32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

// "name.sys" -> "name", WinDbg's module name.
static void short_name(const char *name, char *buf, size_t size)
{
	const char *dot = strrchr(name, '.');
	size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	snprintf(buf, size, "%.*s", (int)n, name);
}

// poi/by/wo/dwo/qwo and module names against what the writer stored.
static void check_memory_and_modules(enum bc_fixture_format format,
				     enum bc_fixture_machine machine)
{
	struct fixture f;
	if (!fixture_open(&f, format, machine))
		return;
	const struct bc_fixture_expect *ex = &f.ex;
	const struct bc_context *ctx = &ex->context;
	bool is32 = ex->pointer_size == 4;
	char text[160];
	uint64_t w0 = ex->stack_words[0], w1 = ex->stack_words[1];
	uint64_t want0 = is32 ? sign_extend32(w0) : w0;
	uint64_t want1 = is32 ? sign_extend32(w1) : w1;

	snprintf(text, sizeof(text), "poi(0x%" PRIx64 ")", ex->stack_va);
	CHECK_EXPR_CTX(f.t, ctx, text, want0);
	// On x86 the typed address is 32-bit; the evaluator sign-extends it to read.
	if (is32) {
		snprintf(text, sizeof(text), "poi(%08" PRIx32 ")", (uint32_t)ex->stack_va);
		CHECK_EXPR_CTX(f.t, ctx, text, want0);
	}
	snprintf(text, sizeof(text), "poi(@$csp+%u)", ex->pointer_size);
	CHECK_EXPR_CTX(f.t, ctx, text, want1);
	CHECK_EXPR_CTX(f.t, ctx, "poi $csp", want0);
	snprintf(text, sizeof(text), "by(0x%" PRIx64 ")", ex->stack_va);
	CHECK_EXPR_CTX(f.t, ctx, text, w0 & 0xff);
	snprintf(text, sizeof(text), "wo(0x%" PRIx64 ")", ex->stack_va);
	CHECK_EXPR_CTX(f.t, ctx, text, w0 & 0xffff);
	snprintf(text, sizeof(text), "dwo(0x%" PRIx64 ")", ex->stack_va);
	CHECK_EXPR_CTX(f.t, ctx, text, w0 & 0xffffffff);
	if (!is32) {
		snprintf(text, sizeof(text), "qwo(0x%" PRIx64 ")+1", ex->stack_va);
		CHECK_EXPR_CTX(f.t, ctx, text, w0 + 1);
		snprintf(text, sizeof(text), "poi(poi(0x%" PRIx64 ")-poi(0x%" PRIx64 ")+%#" PRIx64 ")",
			 ex->stack_va, ex->stack_va, ex->stack_va + 8);
		CHECK_EXPR_CTX(f.t, ctx, text, want1);
	}

	// Module names: "nt" and a driver without its extension.
	CHECK_EXPR_CTX(f.t, ctx, "nt", ex->kern_base);
	CHECK_EXPR_CTX(f.t, ctx, "nt+0x10", ex->kern_base + 0x10);
	const struct bc_fixture_module *m = &ex->modules[ex->culprit];
	char name[64];
	short_name(m->name, name, sizeof(name));
	CHECK_EXPR_CTX(f.t, ctx, name, m->base);
	snprintf(text, sizeof(text), "%s+0x334c", name);
	CHECK_EXPR_CTX(f.t, ctx, text, m->base + 0x334c);

	// An address the dump lacks: BC_ERR_FAULT naming it.
	if (ex->fault_count) {
		uint64_t va = ex->faults[0].va;
		snprintf(text, sizeof(text), "1+poi(%#" PRIx64 ")", va);
		uint64_t v;
		struct bc_error *err = bc_expr_eval(f.t, ctx, text, &v);
		if (!err) {
			TEST_FAIL_AT("%s read something at a fault address", text);
		} else {
			CHECK_EQ(err->code, BC_ERR_FAULT);
			if (!is32)
				CHECK_EQ(err->address, va);
			CHECK_CONTAINS(err->message, "column 3");
			bc_error_destroy(err);
		}
	}
	fixture_close(&f);
}

TEST(memory_x64_bitmap)
{
	check_memory_and_modules(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_X64);
}

TEST(memory_x64_triage)
{
	check_memory_and_modules(BC_FIXTURE_TRIAGE, BC_FIXTURE_X64);
}

TEST(memory_x86_pae_full)
{
	check_memory_and_modules(BC_FIXTURE_FULL, BC_FIXTURE_X86_PAE);
}

TEST(memory_x86_triage)
{
	check_memory_and_modules(BC_FIXTURE_TRIAGE, BC_FIXTURE_X86);
}

TEST(memory_arm64_bitmap)
{
	check_memory_and_modules(BC_FIXTURE_BITMAP_KERNEL, BC_FIXTURE_ARM64);
}

TEST_MAIN()
