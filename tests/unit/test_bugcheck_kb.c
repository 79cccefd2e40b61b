// The bug check knowledge base (bugcheck/bugcheck_kb.h): every code of the
// independent list in ../shared/docs/bugcheck_names.tsv has an entry with
// the same name; sub-codes and named values select what Microsoft's bug
// check reference says they mean (the values below were checked against the
// reference pages, MicrosoftDocs/windows-driver-docs debugger/bug-check-*.md,
// and WinDbg output in ../shared/docs/WINDBG_OUTPUT.md); NTSTATUS names are
// ntstatus.h's; and the parser refuses malformed text with the line it
// stopped at.
#include <stdlib.h>
#include <string.h>

#include "bugcheck/bugcheck_code.h"
#include "bugcheck/bugcheck_kb.h"
#include "nt/bugcheck_kb_private.h"
#include "nt/bugcheck_names.h"
#include "test.h"

static struct bc_bugcheck_kb *open_kb(void)
{
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_error *err = bc_bugcheck_kb_open(&kb);
	if (err) {
		TEST_FAIL_AT("bc_bugcheck_kb_open: %s", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	return kb;
}

// Looks @code up with the four values; fails the test when it is missing.
static bool lookup(struct bc_bugcheck_kb *kb, uint32_t code, uint64_t p1, uint64_t p2, uint64_t p3,
		   uint64_t p4, struct bc_bugcheck_info *info)
{
	uint64_t params[4] = { p1, p2, p3, p4 };
	struct bc_error *err = bc_bugcheck_kb_lookup(kb, code, params, info);
	if (err) {
		TEST_FAIL_AT("lookup %#x: %s", code, err->message);
		bc_error_destroy(err);
		return false;
	}
	return true;
}

static const char *label(const struct bc_bugcheck_info *info, int arg)
{
	return info->args[arg - 1].value_label;
}

TEST(every_listed_code_has_its_name)
{
	const char *shared = getenv("BC_SHARED_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/bugcheck_names.tsv", shared ? shared : "../shared");
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("# skipped: ../shared/docs not found (looked for %s)\n", path);
		SKIP("skipped: ../shared/docs not found");
	}
	struct bc_bugcheck_kb *kb = open_kb();
	if (!kb) {
		fclose(f);
		return;
	}
	char line[1024];
	unsigned rows = 0, with_params = 0;
	bool header = true;
	while (fgets(line, sizeof(line), f)) {
		if (header) {  // code, name, name in bugcodes.h, where listed, doc page
			header = false;
			continue;
		}
		char *name = strchr(line, '\t');
		if (!name)
			continue;
		*name++ = '\0';
		name[strcspn(name, "\t\n")] = '\0';
		uint32_t code = (uint32_t)strtoul(line, NULL, 16);
		rows++;
		struct bc_bugcheck_info info;
		struct bc_error *err = bc_bugcheck_kb_lookup(kb, code, NULL, &info);
		if (err) {
			TEST_FAIL_AT("%#x %s: %s", code, name, err->message);
			bc_error_destroy(err);
			continue;
		}
		if (strcmp(info.name, name))
			TEST_FAIL_AT("%#x: named %s, the list says %s", code, info.name, name);
		if (!info.explanation || !*info.explanation)
			TEST_FAIL_AT("%#x %s has no explanation", code, name);
		for (int i = 0; i < 4; i++) {
			if (info.args[i].text && *info.args[i].text) {
				with_params++;
				break;
			}
		}
	}
	fclose(f);
	bc_bugcheck_kb_close(kb);
	CHECK_EQ(rows, 551);
	// The commonly seen codes, at least, say what their parameters mean.
	CHECK(with_params >= 100);
	printf("# %u codes, %u with parameter text\n", rows, with_params);
}

// The generated name table (tools/gen_bugcheck_names.py) and the knowledge
// base name every code alike, also where ../shared is not at hand.
TEST(agrees_with_the_name_table)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	CHECK(bc_bugcheck_name_count >= 500);
	for (size_t i = 0; i < bc_bugcheck_name_count; i++) {
		struct bc_bugcheck_info info;
		struct bc_error *err = bc_bugcheck_kb_lookup(kb, bc_bugcheck_names[i].code, NULL, &info);
		if (err) {
			TEST_FAIL_AT("%#x: %s", bc_bugcheck_names[i].code, err->message);
			bc_error_destroy(err);
			continue;
		}
		if (strcmp(info.name, bc_bugcheck_names[i].name))
			TEST_FAIL_AT("%#x: %s here, %s in the name table", bc_bugcheck_names[i].code,
				     info.name, bc_bugcheck_names[i].name);
	}
	bc_bugcheck_kb_close(kb);
}

// 0x7F: Arg1 is the trap number (reference: 0 divide by zero, 8 double
// fault; WINDBG_OUTPUT.md 1.5: "Arg1: 0000000000000008, EXCEPTION_DOUBLE_FAULT").
TEST(unexpected_kernel_mode_trap)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	struct bc_bugcheck_info info;
	if (lookup(kb, 0x7F, 8, 0x80050033, 0x406f8, 0xfffff88001482416, &info)) {
		CHECK_STR(info.name, "UNEXPECTED_KERNEL_MODE_TRAP");
		CHECK_STR(label(&info, 1), "EXCEPTION_DOUBLE_FAULT");
		CHECK_EQ(info.args[0].kind, BC_BUGCHECK_ARG_CODE);
		char buf[128];
		CHECK_STR(bc_bugcheck_arg_text(&info.args[0], buf, sizeof(buf)), "EXCEPTION_DOUBLE_FAULT");
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_RESERVED);
	}
	if (lookup(kb, 0x7F, 0, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_DIVIDED_BY_ZERO");
	if (lookup(kb, 0x7F, 6, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_INVALID_OPCODE");
	if (lookup(kb, 0x7F, 0xD, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_GP_FAULT");
	// The rest of the names are wdm.h's EXCEPTION_* trap numbers.
	if (lookup(kb, 0x7F, 0x11, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_ALIGNMENT_CHECK");
	if (lookup(kb, 0x7F, 0xF, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_RESERVED_TRAP");
	if (lookup(kb, 0x7F, 0x12, 0, 0, 0, &info))
		CHECK(!label(&info, 1));
	// Bit 28: the same check under its own name.
	if (lookup(kb, 0x1000007F, 8, 0, 0, 0, &info)) {
		CHECK_STR(info.name, "UNEXPECTED_KERNEL_MODE_TRAP_M");
		CHECK_EQ(info.described_code, 0x7F);
		CHECK_STR(label(&info, 1), "EXCEPTION_DOUBLE_FAULT");
	}
	// A 32-bit dump's values are 32 bits wide: the same trap.
	if (lookup(kb, 0x7F, 0xffffffff00000008ull, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "EXCEPTION_DOUBLE_FAULT");
	// Without values nothing is selected.
	struct bc_error *err = bc_bugcheck_kb_lookup(kb, 0x7F, NULL, &info);
	CHECK(!err);
	bc_error_destroy(err);
	CHECK(!label(&info, 1));
	CHECK_STR(info.args[0].text, "trap number");
	bc_bugcheck_kb_close(kb);
}

// 0x50 Arg2 (reference: x64 after 1507: 0 read, 2 write, 0x10 execute;
// older kernels 1 write) and Arg4 (0x2 NONPAGED_BUGCHECK_NOT_PRESENT_PAGE_TABLE,
// 0x4 NONPAGED_BUGCHECK_VA_NOT_CANONICAL); 0xA/0xD1 Arg3 (bit 0 write, bit 3
// execute: 0 read, 1 write, 8 execute).
TEST(access_kinds)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	struct bc_bugcheck_info info;
	if (lookup(kb, 0x50, 0xffffffff00000090, 0, 0xfffff80240d322f9, 2, &info)) {
		CHECK_STR(label(&info, 2), "read");
		CHECK_EQ(info.args[0].kind, BC_BUGCHECK_ARG_ADDRESS);
		CHECK_EQ(info.args[2].kind, BC_BUGCHECK_ARG_ADDRESS);
		CHECK_STR(label(&info, 4), "NONPAGED_BUGCHECK_NOT_PRESENT_PAGE_TABLE");
		char buf[128];
		CHECK_STR(bc_bugcheck_arg_text(&info.args[1], buf, sizeof(buf)), "kind of access: read");
	}
	if (lookup(kb, 0x50, 0, 2, 0, 4, &info)) {
		CHECK_STR(label(&info, 2), "write");
		CHECK_STR(label(&info, 4), "NONPAGED_BUGCHECK_VA_NOT_CANONICAL");
	}
	if (lookup(kb, 0x50, 0, 1, 0, 0, &info))
		CHECK_STR(label(&info, 2), "write");
	if (lookup(kb, 0x50, 0, 0x10, 0, 0, &info))
		CHECK_STR(label(&info, 2), "execute");
	if (lookup(kb, 0x10000050, 0, 0x10, 0, 0, &info)) {
		CHECK_STR(info.name, "PAGE_FAULT_IN_NONPAGED_AREA_M");
		CHECK_STR(label(&info, 2), "execute");
	}
	static const uint32_t irql_codes[] = { 0xA, 0xD1 };
	for (size_t i = 0; i < 2; i++) {
		if (lookup(kb, irql_codes[i], 0xffff8001acdc6010, 2, 0, 0xfffff805736312d0, &info)) {
			CHECK_STR(label(&info, 3), "read");
			CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_IRQL);
			CHECK_EQ(info.args[3].kind, BC_BUGCHECK_ARG_ADDRESS);
		}
		if (lookup(kb, irql_codes[i], 0, 2, 1, 0, &info))
			CHECK_STR(label(&info, 3), "write");
		if (lookup(kb, irql_codes[i], 0, 2, 8, 0, &info))
			CHECK_STR(label(&info, 3), "execute");
	}
	bc_bugcheck_kb_close(kb);
}

// Sub-codes that change what the other parameters mean.
TEST(sub_codes)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	struct bc_bugcheck_info info;
	// 0x1A 0x41790: a page table page is corrupt; Arg2 the PFN entry (64-bit).
	if (lookup(kb, 0x1A, 0x41790, 0xffff86800762e9d0, 0, 1, &info)) {
		CHECK_CONTAINS(label(&info, 1), "page table page");
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_ADDRESS);
		CHECK_CONTAINS(info.args[1].text, "PFN");
	}
	// 0x1A 0x3F: an in-page CRC error: Arg2 page file offset, Arg3/Arg4 the CRCs.
	if (lookup(kb, 0x1A, 0x3F, 0, 0, 0, &info)) {
		CHECK_CONTAINS(info.args[1].text, "page file offset");
		CHECK_CONTAINS(info.args[3].text, "CRC");
	}
	// 0x133: 0 one DPC over its allotment, 1 cumulative.
	if (lookup(kb, 0x133, 0, 0x501, 0x500, 0xfffff8005a6fb320, &info)) {
		CHECK_CONTAINS(label(&info, 1), "single DPC");
		CHECK_CONTAINS(info.args[1].text, "time count");
		CHECK_CONTAINS(info.args[2].text, "allotment");
		CHECK_STR(info.args[3].pointee, "DPC_WATCHDOG_GLOBAL_TRIAGE_BLOCK");
	}
	if (lookup(kb, 0x133, 1, 0x1e00, 0xfffff8005a6fb320, 0, &info)) {
		CHECK_CONTAINS(label(&info, 1), "in total");
		CHECK_CONTAINS(info.args[1].text, "watchdog period");
		CHECK_EQ(info.args[2].kind, BC_BUGCHECK_ARG_POINTER);
		CHECK_EQ(info.args[3].kind, BC_BUGCHECK_ARG_RESERVED);
	}
	// 0x9F 3: Arg2 the PDO, Arg3 nt!_TRIAGE_9F_POWER, Arg4 the blocked IRP;
	// 4: Arg2 the time-out, Arg3 the thread holding the PnP lock.
	if (lookup(kb, 0x9F, 3, 1, 2, 3, &info)) {
		CHECK_STR(info.args[1].pointee, "DEVICE_OBJECT");
		CHECK_STR(info.args[2].pointee, "TRIAGE_9F_POWER");
		CHECK_STR(info.args[3].pointee, "IRP");
	}
	if (lookup(kb, 0x9F, 4, 0x12c, 1, 2, &info)) {
		CHECK_CONTAINS(info.args[1].text, "seconds");
		CHECK_STR(info.args[2].pointee, "ETHREAD");
		CHECK_STR(info.args[3].pointee, "TRIAGE_9F_PNP");
	}
	// 0x139 3: a LIST_ENTRY corruption; Arg2 trap frame, Arg3 exception record.
	if (lookup(kb, 0x139, 3, 0xffffe3847095f280, 0xffffe3847095f1d8, 0, &info)) {
		CHECK_STR(label(&info, 1), "FAST_FAIL_CORRUPT_LIST_ENTRY");
		CHECK_CONTAINS(info.args[0].value_note, "LIST_ENTRY");
		CHECK_STR(info.args[1].pointee, "KTRAP_FRAME");
		CHECK_STR(info.args[2].pointee, "EXCEPTION_RECORD");
	}
	if (lookup(kb, 0x139, 2, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "FAST_FAIL_STACK_COOKIE_CHECK_FAILURE");
	if (lookup(kb, 0x139, 0x1D, 0, 0, 0, &info))
		CHECK_CONTAINS(info.args[0].value_note, "RTL_BALANCED_NODE");
	// 0x124: the error source type; 0 a machine check with MCi_STATUS halves.
	if (lookup(kb, 0x124, 0, 0xffffe000b84e0028, 0xbf800000, 0x124, &info)) {
		CHECK_STR(label(&info, 1), "Machine Check Exception");
		CHECK_STR(info.args[1].pointee, "WHEA_ERROR_RECORD");
		CHECK_CONTAINS(info.args[2].text, "high 32 bits");
		CHECK_CONTAINS(info.args[3].text, "MCi_STATUS");
	}
	if (lookup(kb, 0x124, 4, 0, 0, 0, &info)) {
		CHECK_STR(label(&info, 1), "PCI Express Error");
		CHECK_EQ(info.args[2].kind, BC_BUGCHECK_ARG_RESERVED);
	}
	if (lookup(kb, 0x124, 7, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "BOOT Error");
	// 0xC4: 0 a zero-byte allocation (Arg2 IRQL, Arg3 pool type, Arg4 bytes);
	// 0x2001D the DDI rule IrqlReturn.
	if (lookup(kb, 0xC4, 0, 2, 0, 0, &info)) {
		CHECK_CONTAINS(label(&info, 1), "zero-byte");
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_IRQL);
		CHECK_CONTAINS(info.args[2].text, "pool type");
	}
	if (lookup(kb, 0xC4, 0x2001D, 0, 0, 0, &info))
		CHECK_CONTAINS(label(&info, 1), "IrqlReturn");
	if (lookup(kb, 0xC4, 0x62, 0, 0, 0, &info))
		CHECK_CONTAINS(label(&info, 1), "unloading");
	// 0xEF: Arg2 0 a process, 1 a thread ended.
	if (lookup(kb, 0xEF, 0xffff9a0f3a5c1080, 1, 0, 0, &info)) {
		CHECK_CONTAINS(label(&info, 2), "thread");
		CHECK_STR(info.args[0].pointee, "EPROCESS");
	}
	// 0xF4: Arg1 3 a process, 6 a thread.
	if (lookup(kb, 0xF4, 3, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "process");
	if (lookup(kb, 0xF4, 6, 0, 0, 0, &info))
		CHECK_STR(label(&info, 1), "thread");
	// 0xC2 7: freed twice; Arg4 the block being freed.
	if (lookup(kb, 0xC2, 7, 0, 0, 0, &info)) {
		CHECK_CONTAINS(label(&info, 1), "already freed");
		CHECK_CONTAINS(info.args[3].text, "block being freed");
	}
	// 0x19 0x22: an address freed that was never allocated (or freed already).
	if (lookup(kb, 0x19, 0x22, 0, 0, 0, &info))
		CHECK_CONTAINS(label(&info, 1), "freed");
	// 0x4E 0x7: a page unlocked more often than locked.
	if (lookup(kb, 0x4E, 7, 0, 0, 0, &info))
		CHECK_CONTAINS(label(&info, 1), "unlocked");
	// 0x109 Arg4: 0x1 a function, 0x2 the IDT.
	if (lookup(kb, 0x109, 0, 0, 0, 1, &info))
		CHECK_CONTAINS(label(&info, 4), "function");
	if (lookup(kb, 0x109, 0, 0, 0, 2, &info))
		CHECK_CONTAINS(label(&info, 4), "IDT");
	// 0xA0 0xB: the hibernation file is too small; Arg2 its size.
	if (lookup(kb, 0xA0, 0xB, 0, 0, 0, &info))
		CHECK_CONTAINS(info.args[1].text, "hibernation file");
	// 0x1C7 0: a chunk heap buffer's hash; Arg4 the damaged page's PFN.
	if (lookup(kb, 0x1C7, 0, 0, 0, 0, &info)) {
		CHECK_CONTAINS(label(&info, 1), "hash");
		CHECK_CONTAINS(info.args[3].text, "page frame number");
	}
	bc_bugcheck_kb_close(kb);
}

// Parameter kinds of the common codes without sub-codes.
TEST(parameter_kinds)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	struct bc_bugcheck_info info;
	// 0x3B: exception code, instruction, CONTEXT (WINDBG_OUTPUT.md 1.3).
	if (lookup(kb, 0x3B, 0xc0000005, 0xfffff8040eeea129, 0xffff9b86e56ce470, 0, &info)) {
		CHECK_EQ(info.args[0].kind, BC_BUGCHECK_ARG_NTSTATUS);
		CHECK_STR(label(&info, 1), "STATUS_ACCESS_VIOLATION");
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_ADDRESS);
		CHECK_STR(info.args[2].pointee, "CONTEXT");
	}
	// 0x7E: exception code (sign-extended on x64), address, record, context.
	if (lookup(kb, 0x7E, 0xffffffffc0000005, 0, 0, 0, &info)) {
		CHECK_STR(label(&info, 1), "STATUS_ACCESS_VIOLATION");
		CHECK_STR(info.args[2].pointee, "EXCEPTION_RECORD");
		CHECK_STR(info.args[3].pointee, "CONTEXT");
		char buf[128];
		CHECK_STR(bc_bugcheck_arg_text(&info.args[0], buf, sizeof(buf)),
			  "the exception code that was not handled: STATUS_ACCESS_VIOLATION");
	}
	if (lookup(kb, 0x1000007E, 0x80000003, 0, 0, 0, &info)) {
		CHECK_STR(info.name, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
		CHECK_STR(label(&info, 1), "STATUS_BREAKPOINT");
	}
	if (lookup(kb, 0x1E, 0xc0000005, 0, 0, 0, &info))
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_ADDRESS);
	if (lookup(kb, 0x8E, 0xc0000005, 0, 0, 0, &info))
		CHECK_STR(info.args[2].pointee, "KTRAP_FRAME");
	// 0x101: Arg3 the hung processor's PRCB, Arg4 its number.
	if (lookup(kb, 0x101, 0x18, 0, 0xffffd000a5a00180, 2, &info)) {
		CHECK_STR(info.args[2].pointee, "KPRCB");
		CHECK_EQ(info.args[3].kind, BC_BUGCHECK_ARG_VALUE);
	}
	if (lookup(kb, 0x116, 0, 0, 0xc000009a, 0, &info)) {
		CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_ADDRESS);
		CHECK_STR(label(&info, 3), "STATUS_INSUFFICIENT_RESOURCES");
	}
	if (lookup(kb, 0xFC, 0, 0, 0, 0, &info))
		CHECK_EQ(info.args[0].kind, BC_BUGCHECK_ARG_ADDRESS);
	if (lookup(kb, 0xBE, 0, 0, 0, 0, &info))
		CHECK_CONTAINS(info.args[1].text, "page table entry");
	if (lookup(kb, 0x154, 0, 0, 0, 0, &info))
		CHECK_EQ(info.args[0].kind, BC_BUGCHECK_ARG_ADDRESS);
	// A code nobody described.
	uint64_t zero[4] = { 0 };
	struct bc_error *err = bc_bugcheck_kb_lookup(kb, 0x12345, zero, &info);
	CHECK(err && err->code == BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	// The generated name table agrees with the knowledge base.
	CHECK_STR(bc_bugcheck_name(0xD1), "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
	if (lookup(kb, 0xD1, 0, 0, 0, 0, &info))
		CHECK_STR(info.name, bc_bugcheck_name(0xD1));
	bc_bugcheck_kb_close(kb);
}

// Names as ntstatus.h defines them.
TEST(ntstatus_names)
{
	struct bc_bugcheck_kb *kb = open_kb();
	REQUIRE(kb);
	static const struct {
		uint32_t status;
		const char *name;
	} want[] = {
		{ 0xC0000005, "STATUS_ACCESS_VIOLATION" },
		{ 0xC0000006, "STATUS_IN_PAGE_ERROR" },
		{ 0xC000001D, "STATUS_ILLEGAL_INSTRUCTION" },
		{ 0xC0000094, "STATUS_INTEGER_DIVIDE_BY_ZERO" },
		{ 0xC0000096, "STATUS_PRIVILEGED_INSTRUCTION" },
		{ 0xC00000FD, "STATUS_STACK_OVERFLOW" },
		{ 0x80000003, "STATUS_BREAKPOINT" },
		{ 0x80000002, "STATUS_DATATYPE_MISALIGNMENT" },
		{ 0xC0000420, "STATUS_ASSERTION_FAILURE" },
		{ 0xC0000409, "STATUS_STACK_BUFFER_OVERRUN" },
		{ 0xC000009A, "STATUS_INSUFFICIENT_RESOURCES" },
		{ 0xC0000102, "STATUS_FILE_CORRUPT_ERROR" },
		{ 0xC0000185, "STATUS_IO_DEVICE_ERROR" },
		{ 0xC000000E, "STATUS_NO_SUCH_DEVICE" },
		{ 0xC000009C, "STATUS_DEVICE_DATA_ERROR" },
		{ 0xC0000221, "STATUS_IMAGE_CHECKSUM_MISMATCH" },
		{ 0x00000000, "STATUS_SUCCESS" },
		{ 0x00000103, "STATUS_PENDING" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_STR(bc_bugcheck_kb_ntstatus_name(kb, want[i].status), want[i].name);
	CHECK(!bc_bugcheck_kb_ntstatus_name(kb, 0xC0DEC0DE));
	bc_bugcheck_kb_close(kb);
}

static const char good_status[] = "# statuses\n0xC0000005 STATUS_ACCESS_VIOLATION\n";

// Parses @text (with a valid status list) and expects it refused with a
// format error whose message holds @want.
static void expect_refused(const char *text, const char *want)
{
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_error *err = bc_bugcheck_kb_parse(text, strlen(text), good_status,
						   strlen(good_status), &kb);
	if (!err) {
		TEST_FAIL_AT("accepted: \"%s\"", text);
		bc_bugcheck_kb_close(kb);
		return;
	}
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK(!kb);
	CHECK_CONTAINS(err->message, want);
	bc_error_destroy(err);
}

TEST(parser_refuses_malformed_text)
{
	expect_refused("frobnicate 1\n", "line 1: unknown keyword");
	expect_refused("text hello\n", "line 1: text before any code line");
	expect_refused("code 0xZZ NAME\ntext t\n", "line 1: code: expected a 32-bit hex code");
	expect_refused("code 0x100000000 NAME\ntext t\n", "32-bit");
	expect_refused("code 0x1 lower_case\ntext t\n", "line 1: code: expected one name");
	expect_refused("code 0x1 A B\ntext t\n", "expected one name");
	expect_refused("code 0x1 A\n", "A (0x1) has no text line");
	expect_refused("code 0x1 A\ntext t\narg 5 value x\n", "line 3: arg: expected a parameter number 1-4");
	expect_refused("code 0x1 A\ntext t\narg 1 pointer x\n", "line 3: arg: unknown kind");
	expect_refused("code 0x1 A\ntext t\narg 1 ptr:bad-type x\n", "unknown kind");
	expect_refused("code 0x1 A\ntext t\narg 1 value x\narg 1 value y\n", "line 4: arg: this parameter is already described");
	expect_refused("code 0x1 A\ntext t\ncase 1 0x5\n", "line 3: case: expected a label");
	expect_refused("code 0x1 A\ntext t\ncase 1 5z x\n", "case: expected a hex value");
	expect_refused("code 0x1 A\ntext t\ncase 1 5 x\ncase 1 5 y\n", "line 4: case: this value is already described");
	expect_refused("code 0x1 A\ntext t\nnote n\n", "line 3: note must follow its case line");
	expect_refused("code 0x1 A\ntext t\ncase 1 5 x\ntext late\n", "text lines must follow each other");
	expect_refused("code 0x1 A\ntext t\n\ntext again\n", "line 4: text lines must follow each other");
	expect_refused("code 0x1 A\ntext t\ncode 0x1 B\ntext u\n", "code 0x1 is described twice");
	expect_refused("code 0x10000001 A_M\nsame 0x1\n", "same 0x1: no such described code");
	expect_refused("code 0x1 A\ntext t\ncode 0x2 B\nsame 0x2\n", "an entry cannot be the same as itself");
	expect_refused("code 0x1 A\ntext t\ncode 0x2 B\ntext u\nsame 0x1\n", "same must follow its code line directly");
	expect_refused("code 0x1 A\ntext t\ncode 0x2 B\nsame 0x1\ntext u\n", "text in an entry that is the same as another");
	expect_refused("", "no entries");
	static const char nul[] = "code 0x1 A\ntext t\0x\n";
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_error *err = bc_bugcheck_kb_parse(nul, sizeof(nul) - 1, good_status,
						   strlen(good_status), &kb);
	CHECK(err && err->code == BC_ERR_FORMAT);
	if (err)
		CHECK_CONTAINS(err->message, "NUL byte");
	bc_error_destroy(err);
	// The NTSTATUS list is checked the same way.
	static const char kb_text[] = "code 0x1 A\ntext t\n";
	static const char *bad_statuses[][2] = {
		{ "0xC0000005\n", "line 1: expected one name" },
		{ "C0000005 STATUS_X extra\n", "line 1: expected one name" },
		{ "# c\nnothex STATUS_X\n", "line 2: expected a 32-bit hex status" },
		{ "0x1 STATUS_A\n0x1 STATUS_B\n", "0x1 is named twice" },
	};
	for (size_t i = 0; i < sizeof(bad_statuses) / sizeof(bad_statuses[0]); i++) {
		kb = NULL;
		err = bc_bugcheck_kb_parse(kb_text, strlen(kb_text), bad_statuses[i][0],
					   strlen(bad_statuses[i][0]), &kb);
		CHECK(err && err->code == BC_ERR_FORMAT && !kb);
		if (err)
			CHECK_CONTAINS(err->message, bad_statuses[i][1]);
		bc_error_destroy(err);
	}
}

// A small valid text: lines joined, comments and CRLF ignored, sub-code
// overrides applied, a "same" entry and an undescribed bit-28 code resolved.
TEST(parser_accepts_small_text)
{
	static const char text[] =
		"# comment\r\n"
		"code 0x0000007F TRAP\r\n"
		"text first line\n"
		"text second line\n"
		"arg 1 code trap number\n"
		"arg 2 value general meaning\n"
		"arg 3 ptr:KTRAP_FRAME the frame\n"
		"case 1 0x8 EXCEPTION_DOUBLE_FAULT\n"
		"note note one\n"
		"note note two\n"
		"arg 2 address special meaning\n"
		"\n"
		"code 0x1000007F TRAP_M\n"
		"same 0x7F\n";
	struct bc_bugcheck_kb *kb = NULL;
	REQUIRE_OK(bc_bugcheck_kb_parse(text, strlen(text), good_status, strlen(good_status), &kb));
	struct bc_bugcheck_info info;
	uint64_t params[4] = { 8, 0, 0, 0 };
	REQUIRE_OK(bc_bugcheck_kb_lookup(kb, 0x7F, params, &info));
	CHECK_STR(info.name, "TRAP");
	CHECK_STR(info.explanation, "first line\nsecond line");
	CHECK_STR(label(&info, 1), "EXCEPTION_DOUBLE_FAULT");
	CHECK_STR(info.args[0].value_note, "note one\nnote two");
	CHECK_STR(info.args[1].text, "special meaning");
	CHECK_EQ(info.args[1].kind, BC_BUGCHECK_ARG_ADDRESS);
	CHECK_STR(info.args[2].pointee, "KTRAP_FRAME");
	CHECK_EQ(info.args[3].kind, BC_BUGCHECK_ARG_UNKNOWN);
	CHECK_STR(info.args[3].text, "");
	params[0] = 9;
	REQUIRE_OK(bc_bugcheck_kb_lookup(kb, 0x1000007F, params, &info));
	CHECK_STR(info.name, "TRAP_M");
	CHECK_EQ(info.described_code, 0x7F);
	CHECK(!label(&info, 1));
	CHECK_STR(info.args[1].text, "general meaning");
	bc_bugcheck_kb_close(kb);
}

// The texts tools/embed_text.cmake compiles into the library.
extern const char bc_bugcheck_kb_text[];
extern const size_t bc_bugcheck_kb_text_size;
extern const char bc_ntstatus_names_text[];
extern const size_t bc_ntstatus_names_text_size;

// Damaged copies of the real knowledge base (bytes overwritten, truncated)
// are parsed and, when accepted, looked up: no crash, no leak (ASan), and a
// refusal is always a format error.
TEST(parser_survives_damaged_text)
{
	size_t size = bc_bugcheck_kb_text_size;
	char *copy = malloc(size);
	REQUIRE(copy);
	static const char junk[] = "\n \t#0xZcaserg1234:_\r";
	uint64_t seed = 0x2545F4914F6CDD1Dull;
	unsigned accepted = 0;
	for (int round = 0; round < 300; round++) {
		memcpy(copy, bc_bugcheck_kb_text, size);
		size_t len = size;
		for (int k = 0; k < 8; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			copy[(seed >> 17) % size] = junk[(seed >> 7) % (sizeof(junk) - 1)];
		}
		if (round % 3 == 0)
			len = (seed >> 23) % size;
		struct bc_bugcheck_kb *kb = NULL;
		struct bc_error *err = bc_bugcheck_kb_parse(copy, len, bc_ntstatus_names_text,
							   bc_ntstatus_names_text_size, &kb);
		if (err) {
			CHECK_EQ(err->code, BC_ERR_FORMAT);
			CHECK(!kb);
			bc_error_destroy(err);
			continue;
		}
		accepted++;
		struct bc_bugcheck_info info;
		uint64_t params[4] = { 8, 0x10, 3, 0x41790 };
		for (uint32_t code = 0; code < 0x200; code++) {
			err = bc_bugcheck_kb_lookup(kb, code, params, &info);
			bc_error_destroy(err);
		}
		bc_bugcheck_kb_close(kb);
	}
	free(copy);
	printf("# %u of 300 damaged texts still parsed\n", accepted);
}
TEST_MAIN()
