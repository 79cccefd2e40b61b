// FAILURE_BUCKET_ID and FAILURE_ID_HASH: the names !analyze gives a crash so
// that identical crashes fall into one bucket.
//
// A bucket is a bug check prefix, "VRF" when Driver Verifier watched the
// culprit, and the culprit "module!function" ("module!unknown_function"
// without symbols). The prefixes follow the buckets WinDbg prints
// (WINDBG_OUTPUT.md 1.1-1.6): "AV" for access violations (0xA, 0xD1, and
// exception bug checks with STATUS_ACCESS_VIOLATION), "0x7f_8" (code and
// first parameter) for bug checks whose first parameter is a sub-code,
// "RAISED_IRQL_FAULT_<process>" for 0x4A, "0x<code>" otherwise. The read,
// write or execute letter of 0x50's "AV_R_INVALID" is read from Arg2; the
// "INVALID" region name is ours (WinDbg asks the memory manager, which a
// small dump does not hold).
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis_private.h"
#include "analysis/md5.h"

enum prefix_kind {
	PREFIX_CODE,               // "0x<code>"
	PREFIX_CODE_ARG1,          // "0x<code>_<arg1>"
	PREFIX_ACCESS_VIOLATION,   // "AV"
	PREFIX_PAGE_FAULT,         // "AV_R_INVALID" (R, W or X from Arg2)
	PREFIX_EXCEPTION,          // "AV" for c0000005, else "0x<code>_<exception code>"
	PREFIX_RAISED_IRQL,        // "RAISED_IRQL_FAULT_<process>"
};

static const struct {
	uint32_t code;
	enum prefix_kind kind;
} prefixes[] = {
	{ 0x0A, PREFIX_ACCESS_VIOLATION },   // IRQL_NOT_LESS_OR_EQUAL
	{ 0xD1, PREFIX_ACCESS_VIOLATION },   // DRIVER_IRQL_NOT_LESS_OR_EQUAL
	{ 0x50, PREFIX_PAGE_FAULT },         // PAGE_FAULT_IN_NONPAGED_AREA
	{ 0x1E, PREFIX_EXCEPTION },          // KMODE_EXCEPTION_NOT_HANDLED
	{ 0x3B, PREFIX_EXCEPTION },          // SYSTEM_SERVICE_EXCEPTION
	{ 0x7E, PREFIX_EXCEPTION },          // SYSTEM_THREAD_EXCEPTION_NOT_HANDLED
	{ 0x8E, PREFIX_EXCEPTION },          // KERNEL_MODE_EXCEPTION_NOT_HANDLED
	{ 0x4A, PREFIX_RAISED_IRQL },        // IRQL_GT_ZERO_AT_SYSTEM_SERVICE
	{ 0x19, PREFIX_CODE_ARG1 },          // BAD_POOL_HEADER
	{ 0x1A, PREFIX_CODE_ARG1 },          // MEMORY_MANAGEMENT
	{ 0x7F, PREFIX_CODE_ARG1 },          // UNEXPECTED_KERNEL_MODE_TRAP
	{ 0x9F, PREFIX_CODE_ARG1 },          // DRIVER_POWER_STATE_FAILURE
	{ 0xC2, PREFIX_CODE_ARG1 },          // BAD_POOL_CALLER
	{ 0xC4, PREFIX_CODE_ARG1 },          // DRIVER_VERIFIER_DETECTED_VIOLATION
	{ 0xC9, PREFIX_CODE_ARG1 },          // DRIVER_VERIFIER_IOMANAGER_VIOLATION
	{ 0x133, PREFIX_CODE_ARG1 },         // DPC_WATCHDOG_VIOLATION
	{ 0x139, PREFIX_CODE_ARG1 },         // KERNEL_SECURITY_CHECK_FAILURE
	{ 0x13A, PREFIX_CODE_ARG1 },         // KERNEL_MODE_HEAP_CORRUPTION
};

enum { STATUS_ACCESS_VIOLATION = 0xC0000005u };

uint32_t bc_analysis_base_code(uint32_t code)
{
	// The "_M" variants (bit 28) are the same check; WinDbg buckets them as their base.
	return code >= 0x10000000u && code < 0x20000000u ? code & ~0x10000000u : code;
}

// The bug check part of the bucket, into @buf.
static void compose_prefix(const struct bc_analysis *a, char *buf, size_t size)
{
	uint32_t code = bc_analysis_base_code(a->code);
	enum prefix_kind kind = PREFIX_CODE;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (prefixes[i].code == code)
			kind = prefixes[i].kind;
	switch (kind) {
	case PREFIX_ACCESS_VIOLATION:
		snprintf(buf, size, "AV");
		return;
	case PREFIX_PAGE_FAULT: {
		// Arg2 on Windows 10: bit 1 write, bit 4 execute (older kernels: 0 read, 1 write).
		uint64_t access = a->params[1];
		const char *letter = access & 0x10 ? "X" : access & 0x3 ? "W" : "R";
		snprintf(buf, size, "AV_%s_INVALID", letter);
		return;
	}
	case PREFIX_EXCEPTION:
		if ((uint32_t)a->params[0] == STATUS_ACCESS_VIOLATION)
			snprintf(buf, size, "AV");
		else
			snprintf(buf, size, "0x%" PRIx32 "_%" PRIx32, code, (uint32_t)a->params[0]);
		return;
	case PREFIX_RAISED_IRQL:
		snprintf(buf, size, "RAISED_IRQL_FAULT_%s",
			 a->process_name[0] ? a->process_name : "UNKNOWN_PROCESS");
		return;
	case PREFIX_CODE_ARG1:
		snprintf(buf, size, "0x%" PRIx32 "_%" PRIx64, code, a->params[0]);
		return;
	case PREFIX_CODE:
		break;
	}
	snprintf(buf, size, "0x%" PRIx32, code);
}

void bc_analysis_compose_bucket(struct bc_analysis *a)
{
	char prefix[160], culprit[400];
	compose_prefix(a, prefix, sizeof(prefix));
	if (a->has_culprit) {
		const struct bc_analysis_frame *f = &a->culprit;
		if (f->has_module)
			snprintf(culprit, sizeof(culprit), "%s!%s", f->module,
				 f->function[0] ? f->function : "unknown_function");
		else
			snprintf(culprit, sizeof(culprit), "UNKNOWN_MODULE");
	} else if (a->image_name[0]) {
		// No frame to blame, but a parameter or the fault lies in an image.
		snprintf(culprit, sizeof(culprit), "IMAGE_%s", a->image_name);
	} else {
		snprintf(culprit, sizeof(culprit), a->frame_count ? "BAD_STACK" : "NO_STACK");
	}
	snprintf(a->bucket, sizeof(a->bucket), "%s_%s%s", prefix, a->module_verified ? "VRF_" : "",
		 culprit);
	bc_failure_id_hash(a->bucket, a->failure_hash, sizeof(a->failure_hash));
}

BC_PUBLIC void bc_failure_id_hash(const char *bucket, char *buf, size_t size)
{
	// "km:" + the bucket in lower case, as UTF-16LE (ASCII stays one unit each;
	// other bytes are widened as they are, which keeps the hash defined).
	enum { MAX_BUCKET = 1024 };
	uint8_t text[2 * (3 + MAX_BUCKET)];
	size_t n = 0;
	const char *parts[2] = { "km:", bucket };
	for (int p = 0; p < 2; p++)
		for (const char *c = parts[p]; *c && n + 2 <= sizeof(text); c++) {
			unsigned char ch = (unsigned char)*c;
			text[n++] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
			text[n++] = 0;
		}
	uint8_t d[16];
	bc_md5(text, n, d);
	// A GUID prints its first three fields as little-endian numbers.
	snprintf(buf, size,
		 "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x}", d[3],
		 d[2], d[1], d[0], d[5], d[4], d[7], d[6], d[8], d[9], d[10], d[11], d[12], d[13],
		 d[14], d[15]);
}
