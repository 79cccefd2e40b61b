// Processors: ~Ns (switch to processor N), !running, !pcr, !prcb, !irql and
// !ipi, in WinDbg's layouts (WINDBG_OUTPUT.md 11.1-11.5). Each processor's KPRCB comes from
// nt!KiProcessorBlock and its fields from bugcheck/kobj.h: the kernel's
// types, else KDDEBUGGER_DATA64's offsets; a field neither knows is left
// blank (!running) or named as needing symbols (!prcb).
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/kobj.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static bool parse_processor(struct bc_session *s, const char *text, uint32_t *ret)
{
	char *end;
	unsigned long n = strtoul(text, &end, 10);
	if (end == text || n >= bc_target_info(s->target)->processors)
		return false;
	*ret = (uint32_t)n;
	return *end == 0 || isspace((unsigned char)*end) || *end == 's';
}

static uint64_t field_or_zero(struct bc_session *s, uint64_t prcb, const char *path, bool *known);

// ~ alone: one line per processor, "." marking the current one (as user
// mode's thread list does): its KPRCB, current thread, IPI state and where
// its saved registers stop. A processor the dump cannot describe says why.
static int list_processors(struct bc_session *s)
{
	const struct bc_dump_info *info = bc_target_info(s->target);
	unsigned ps = info->pointer_size;
	fprintf(s->out, "   #  %-*s  %-*s  %-12s  Where\n", (int)ps * 2 + (ps == 8), "Prcb", (int)ps * 2 + (ps == 8),
		"Thread", "IPI state");
	for (uint32_t n = 0; n < info->processors; n++) {
		fprintf(s->out, "%c %2" PRIu32 " ", n == s->processor ? '.' : ' ', n);
		uint64_t prcb;
		struct bc_error *err = bc_target_prcb(s->target, n, &prcb);
		if (err) {
			fprintf(s->out, " %s\n", err->message);
			bc_error_destroy(err);
			continue;
		}
		bool known;
		uint64_t thread = field_or_zero(s, prcb, "CurrentThread", &known);
		char a[24], b[24];
		fprintf(s->out, " %s  %s", bc_fmt_ptr(a, prcb, ps),
			known ? bc_fmt_ptr(b, thread, ps) : "");
		if (!known)
			fprintf(s->out, "%*s", (int)ps * 2 + (ps == 8), "");
		uint64_t frozen = field_or_zero(s, prcb, "IpiFrozen", &known);
		const char *state = known ? bc_ipi_frozen_name((uint32_t)frozen) : NULL;
		fprintf(s->out, "  %-12s", state ? state : known ? "?" : "");
		struct bc_context ctx;
		err = bc_target_processor_context(s->target, n, &ctx);
		if (err) {
			fprintf(s->out, "  (%s)\n", err->message);
			bc_error_destroy(err);
			continue;
		}
		char where[256];
		bc_target_format_address(s->target, bc_context_pc(&ctx), where, sizeof(where));
		if (!*where)
			bc_fmt_ptr(where, bc_context_pc(&ctx), ps);
		fprintf(s->out, "  %s\n", where);
	}
	return 0;
}

// ~Ns: processor N's registers become the current context (prompt "N: kd> ").
int cmd_processor(struct bc_session *s, const char *cmd, const char *args)
{
	while (isspace((unsigned char)*args))
		args++;
	if (!strcmp(cmd, "~") && !*args)
		return list_processors(s);
	const char *p = cmd + 1;
	size_t len = strlen(p);
	uint32_t n;
	if (len < 2 || p[len - 1] != 's' || !isdigit((unsigned char)p[0]) ||
	    !parse_processor(s, p, &n)) {
		fprintf(s->out, "%s: use ~Ns with N a processor number below %" PRIu32 "\n", cmd,
			bc_target_info(s->target)->processors);
		return 1;
	}
	struct bc_context ctx;
	struct bc_error *err = bc_target_processor_context(s->target, n, &ctx);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	s->processor = n;
	s->context = ctx;
	s->has_context = true;
	s->frame = 0;
	s->has_next_unassemble = false;
	bc_cmd_print_context(s, false);
	return 0;
}

// A KPRCB field, or 0 with *known false when no layout source or the dump gives it.
static uint64_t field_or_zero(struct bc_session *s, uint64_t prcb, const char *path, bool *known)
{
	uint64_t v;
	bool ok = bc_kernel_read_optional(s->target, prcb, "_KPRCB", path, &v);
	if (known)
		*known = ok;
	return v;
}

// The processor a command names (hex, as WinDbg reads numbers), else the
// current one. False after saying what is wrong.
static bool processor_argument(struct bc_session *s, const char *cmd, const char *args,
			       uint32_t *ret)
{
	*ret = s->processor;
	while (isspace((unsigned char)*args))
		args++;
	if (!*args)
		return true;
	uint64_t v;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &v);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return false;
	}
	if (v >= bc_target_info(s->target)->processors) {
		fprintf(s->out, "%s: no processor %" PRIu64 "\n", cmd, v);
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

// A pointer column: 16 (8) hex digits without the backquote, blank when unknown or zero.
static void column(struct bc_session *s, uint64_t v, bool known)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	if (known && v)
		fprintf(s->out, "  %0*" PRIx64, (int)ps * 2, ps == 4 ? v & 0xffffffffu : v);
	else
		fprintf(s->out, "  %*s", (int)ps * 2, "");
}

// !running [-t]: the processors' KPRCB, current and next threads; -t adds each stack.
int cmd_running(struct bc_session *s, const char *cmd, const char *args)
{
	bool stacks = strstr(args, "t") != NULL;
	uint32_t count = bc_target_info(s->target)->processors;
	if (count > 64)
		count = 64;  // the affinity mask is one 64-bit group
	uint64_t prcbs[64] = { 0 }, mask = 0, idle = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct bc_error *err = bc_target_prcb(s->target, i, &prcbs[i]);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		mask |= 1ull << i;
		bool known_current, known_idle;
		uint64_t current = field_or_zero(s, prcbs[i], "CurrentThread", &known_current);
		uint64_t idle_thread = field_or_zero(s, prcbs[i], "IdleThread", &known_idle);
		if (known_current && known_idle && current == idle_thread)
			idle |= 1ull << i;
	}
	unsigned ps = bc_target_info(s->target)->pointer_size;
	fprintf(s->out, "\nSystem Processors %" PRIx64 " (affinity mask)\n  Idle Processors %" PRIx64
		"\n", mask, idle);
	if (idle == mask)
		fputs("All processors idle.\n", s->out);
	fprintf(s->out, "\n     %-*s  %-*s  %-*s\n", (int)ps * 2, "Prcb", (int)ps * 2, "Current",
		(int)ps * 2, "Next");
	int status = 0;
	for (uint32_t i = 0; i < count; i++) {
		bool known_current, known_next;
		uint64_t current = field_or_zero(s, prcbs[i], "CurrentThread", &known_current);
		uint64_t next = field_or_zero(s, prcbs[i], "NextThread", &known_next);
		fprintf(s->out, "%3" PRIu32, i);
		column(s, prcbs[i], true);
		column(s, current, known_current);
		column(s, next, known_next);
		fputc('\n', s->out);
		if (!stacks)
			continue;
		fputc('\n', s->out);
		struct bc_context ctx;
		struct bc_error *err = bc_target_processor_context(s->target, i, &ctx);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			status = 1;
		} else {
			status |= bc_cmd_stack_from(s, &ctx, "k");
		}
		fputc('\n', s->out);
	}
	return status;
}

// !prcb [N]: one processor's KPRCB (the current processor's by default).
int cmd_prcb(struct bc_session *s, const char *cmd, const char *args)
{
	uint32_t n;
	if (!processor_argument(s, cmd, args, &n))
		return 1;
	uint64_t prcb;
	struct bc_error *err = bc_target_prcb(s->target, n, &prcb);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	char a[24];
	unsigned ps = bc_target_info(s->target)->pointer_size;
	fprintf(s->out, "PRCB for Processor %" PRIu32 " at %s:\n", n, bc_fmt_ptr(a, prcb, ps));
	bool known;
	uint64_t irql = field_or_zero(s, prcb, "DebuggerSavedIRQL", &known);
	if (known)
		fprintf(s->out, "Current IRQL -- %" PRIu64 "\n", irql);
	fputs("Threads--", s->out);
	static const char *const names[] = { "Current", "Next", "Idle" };
	static const char *const paths[] = { "CurrentThread", "NextThread", "IdleThread" };
	for (int i = 0; i < 3; i++) {
		uint64_t v = field_or_zero(s, prcb, paths[i], &known);
		if (known)
			fprintf(s->out, "  %s %0*" PRIx64, names[i], (int)ps * 2,
				ps == 4 ? v & 0xffffffffu : v);
		else
			fprintf(s->out, "  %s (needs symbols)", names[i]);
	}
	uint64_t number = field_or_zero(s, prcb, "Number", &known);
	fprintf(s->out, "\nNumber %" PRIu64 "\n", known ? number : (uint64_t)n);
	// Beyond WinDbg's !prcb: what the processor was doing with DPCs and
	// interrupts (the fields this kernel's KPRCB has; times in clock ticks).
	static const struct {
		const char *line, *label, *path;
	} activity[] = {
		{ "DPC --", "RoutineActive", "DpcRoutineActive" },
		{ "DPC --", "RequestSummary", "DpcRequestSummary" },
		{ "DPC --", "Time", "DpcTime" },
		{ "DPC --", "WatchdogCount", "DpcWatchdogCount" },
		{ "ISR --", "InterruptRequest", "InterruptRequest" },
		{ "ISR --", "Count", "InterruptCount" },
		{ "ISR --", "Time", "InterruptTime" },
		{ "ISR --", "NestingLevel", "NestingLevel" },
	};
	const char *open = NULL;
	for (size_t i = 0; i < sizeof(activity) / sizeof(*activity); i++) {
		uint64_t v = field_or_zero(s, prcb, activity[i].path, &known);
		if (!known)
			continue;
		if (!open || strcmp(open, activity[i].line)) {
			fprintf(s->out, "%s%s", open ? "\n" : "", activity[i].line);
			open = activity[i].line;
		}
		fprintf(s->out, "  %s %" PRIu64, activity[i].label, v);
	}
	if (open)
		fputc('\n', s->out);
	return 0;
}

// IRQL names (wdm.h): x64 and ARM64 have 16 levels, x86 32.
const char *bc_cmd_irql_name(enum bc_machine machine, uint64_t irql)
{
	switch (irql) {
	case 0: return "PASSIVE_LEVEL";
	case 1: return "APC_LEVEL";
	case 2: return "DISPATCH_LEVEL";
	}
	if (machine == BC_MACHINE_X86) {
		switch (irql) {
		case 27: return "SYNCH_LEVEL";
		case 28: return "CLOCK2_LEVEL";
		case 29: return "IPI_LEVEL";
		case 30: return "POWER_LEVEL";
		case 31: return "HIGH_LEVEL";
		}
		return NULL;
	}
	switch (irql) {
	case 12: return "SYNCH_LEVEL";
	case 13: return "CLOCK_LEVEL";
	case 14: return "IPI_LEVEL";
	case 15: return "HIGH_LEVEL";
	}
	return NULL;
}

// !irql [N]: the IRQL the debugger saved for a processor when the machine stopped.
int cmd_irql(struct bc_session *s, const char *cmd, const char *args)
{
	uint32_t n;
	if (!processor_argument(s, cmd, args, &n))
		return 1;
	uint64_t prcb, irql;
	struct bc_error *err = bc_target_prcb(s->target, n, &prcb);
	if (!err)
		err = bc_kernel_read_field(s->target, prcb, "_KPRCB", "DebuggerSavedIRQL", &irql);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	fprintf(s->out, "Debugger saved IRQL for processor 0x%" PRIx32 " -- %" PRIu64, n, irql);
	const char *name = bc_cmd_irql_name(bc_target_info(s->target)->machine, irql);
	if (name)
		fprintf(s->out, " (%s)%s", name,
			!strcmp(name, "SYNCH_LEVEL") ? " [Synchronization level]" : "");
	fputc('\n', s->out);
	return 0;
}

// One processor's IPI state; the values in uppercase hex without padding, as
// WinDbg's !ipi prints them.
static int print_ipi(struct bc_session *s, const char *cmd, uint32_t n)
{
	uint64_t prcb, frozen;
	struct bc_error *err = bc_target_prcb(s->target, n, &prcb);
	if (!err)
		err = bc_kernel_read_field(s->target, prcb, "_KPRCB", "IpiFrozen", &frozen);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	FILE *o = s->out;
	fprintf(o, "IPI State for Processor %" PRIu32 "\n  IPI Frozen:      %" PRIX64, n, frozen);
	if (frozen & 0x20)
		fputs(" [FreezeActive]", o);
	const char *name = bc_ipi_frozen_name((uint32_t)frozen);
	if (name && !((frozen & 0x20) && (frozen & 0x1f) == 0))
		fprintf(o, " [%s]", name);
	fputc('\n', o);
	static const char *const labels[] = { "Target Count:    ", "Packet Barrier:  ",
					      "Request Summary: " };
	static const char *const paths[] = { "TargetCount", "PacketBarrier", "RequestSummary" };
	for (int i = 0; i < 3; i++) {
		uint64_t v;
		if (!bc_kernel_read_optional(s->target, prcb, "_KPRCB", paths[i], &v))
			continue;  // not every build has every field
		fprintf(o, "  %s%" PRIX64 "\n", labels[i], v);
	}
	return 0;
}

// !ipi [N]: the interprocessor-interrupt state of one processor, or of all.
int cmd_ipi(struct bc_session *s, const char *cmd, const char *args)
{
	while (isspace((unsigned char)*args))
		args++;
	uint32_t count = bc_target_info(s->target)->processors, n;
	if (*args)
		return processor_argument(s, cmd, args, &n) ? print_ipi(s, cmd, n) : 1;
	int status = 0;
	for (uint32_t i = 0; i < count && i < 1024; i++) {
		if (i)
			fputc('\n', s->out);
		status |= print_ipi(s, cmd, i);
		if (status)
			break;
	}
	return status;
}

// !pcr [N]: the processor's KPCR, which holds its KPRCB (x64: _KPCR.Prcb,
// x86: _KPCR.PrcbData): labels right-aligned after a TAB, values without the
// backquote (WINDBG_OUTPUT.md 11.1). Needs the kernel's types.
int cmd_pcr(struct bc_session *s, const char *cmd, const char *args)
{
	uint32_t n;
	if (!processor_argument(s, cmd, args, &n))
		return 1;
	bool x86 = bc_target_info(s->target)->machine == BC_MACHINE_X86;
	uint64_t prcb;
	struct bc_kfield embedded;
	struct bc_error *err = bc_target_prcb(s->target, n, &prcb);
	if (!err)
		err = bc_kernel_field(s->target, "_KPCR", x86 ? "PrcbData" : "Prcb", &embedded);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	uint64_t pcr = prcb - embedded.offset;
	unsigned ps = bc_target_info(s->target)->pointer_size;
	FILE *o = s->out;
	char a[24];
	(void)a;
	fprintf(o, "KPCR for Processor %" PRIu32 " at %0*" PRIx64 ":\n", n, (int)ps * 2,
		ps == 4 ? pcr & 0xffffffffu : pcr);
	size_t shown = 0;
	uint64_t major, minor;
	if (bc_kernel_read_optional(s->target, pcr, "_KPCR", "MajorVersion", &major) &&
	    bc_kernel_read_optional(s->target, pcr, "_KPCR", "MinorVersion", &minor)) {
		fprintf(o, "    Major %" PRIu64 " Minor %" PRIu64 "\n", major, minor);
		shown++;
	}
	static const struct {
		const char *label, *path;
	} tib[] = {
		{ "NtTib.ExceptionList", "NtTib.ExceptionList" },
		{ "NtTib.StackBase", "NtTib.StackBase" },
		{ "NtTib.StackLimit", "NtTib.StackLimit" },
		{ "NtTib.SubSystemTib", "NtTib.SubSystemTib" },
		{ "NtTib.Version", "NtTib.Version" },
		{ "NtTib.UserPointer", "NtTib.ArbitraryUserPointer" },
		{ "NtTib.SelfTib", "NtTib.Self" },
	};
	for (size_t i = 0; i < sizeof(tib) / sizeof(tib[0]); i++) {
		uint64_t v;
		if (!bc_kernel_read_optional(s->target, pcr, "_KPCR", tib[i].path, &v))
			continue;
		fprintf(o, "\t%19s: %0*" PRIx64 "\n", tib[i].label, (int)ps * 2,
			ps == 4 ? v & 0xffffffffu : v);
		shown++;
	}
	if (shown)
		fputc('\n', o);
	// x86 names its self pointer SelfPcr and its KPRCB pointer Prcb; x64 Self, CurrentPrcb.
	static const struct {
		const char *label, *path86, *path64;
	} pcr_fields[] = {
		{ "SelfPcr", "SelfPcr", "Self" }, { "Prcb", "Prcb", "CurrentPrcb" },
		{ "Irql", "Irql", "Irql" },       { "IRR", "IRR", NULL },
		{ "IDR", "IDR", NULL },           { "InterruptMode", "InterruptMode", NULL },
		{ "IDT", "IDT", "IdtBase" },      { "GDT", "GDT", "GdtBase" },
		{ "TSS", "TSS", "TssBase" },
	};
	for (size_t i = 0; i < sizeof(pcr_fields) / sizeof(pcr_fields[0]); i++) {
		const char *path = x86 ? pcr_fields[i].path86 : pcr_fields[i].path64;
		uint64_t v;
		if (!path || !bc_kernel_read_optional(s->target, pcr, "_KPCR", path, &v))
			continue;
		fprintf(o, "\t%19s: %0*" PRIx64 "\n", pcr_fields[i].label, (int)ps * 2,
			ps == 4 ? v & 0xffffffffu : v);
		shown++;
	}
	if (shown)
		fputc('\n', o);
	else
		fputs("    (the KPCR's own fields are not in this dump)\n", o);
	static const char *const threads[] = { "CurrentThread", "NextThread", "IdleThread" };
	for (int i = 0; i < 3; i++) {
		bool known;
		uint64_t v = field_or_zero(s, prcb, threads[i], &known);
		if (known)
			fprintf(o, "\t%19s: %0*" PRIx64 "\n", threads[i], (int)ps * 2,
				ps == 4 ? v & 0xffffffffu : v);
	}
	return 0;
}

// Driver Verifier's flags (verifier.exe's documented bits), named as
// WinDbg's !verifier names the classic ones.
static const struct {
	uint32_t bit;
	const char *name;
} verifier_flags[] = {
	{ 0x1, "Special pool" },
	{ 0x2, "Special irql" },
	{ 0x4, "Inject random low-resource API failures" },
	{ 0x8, "All pool allocations checked on unload" },
	{ 0x10, "Io subsystem checking enabled" },
	{ 0x20, "Deadlock detection enabled" },
	{ 0x40, "Enhanced Io checking enabled" },
	{ 0x80, "DMA checking enabled" },
	{ 0x100, "Security checks enabled" },
	{ 0x200, "Force pending I/O requests" },
	{ 0x400, "IRP logging" },
	{ 0x800, "Miscellaneous checks enabled" },
	{ 0x2000, "Invariant MDL checking for stack" },
	{ 0x4000, "Invariant MDL checking for driver" },
	{ 0x8000, "Power framework delay fuzzing" },
	{ 0x10000, "Port/miniport interface checking" },
	{ 0x20000, "DDI compliance checking" },
	{ 0x40000, "Systematic low resources simulation" },
	{ 0x80000, "DDI compliance checking (additional)" },
	{ 0x200000, "NDIS/WIFI verification" },
	{ 0x800000, "Kernel synchronization delay fuzzing" },
	{ 0x1000000, "VM switch verification" },
	{ 0x2000000, "Code integrity checks" },
};

// !verifier: Driver Verifier's flags, counters and verified drivers, in the
// layout of WinDbg's documented example (WINDBG_OUTPUT.md 11.8).
int cmd_verifier(struct bc_session *s, const char *cmd, const char *args)
{
	(void)args;
	struct bc_verifier_info *v = calloc(1, sizeof(*v));
	if (!v)
		return 1;
	struct bc_error *err = bc_target_verifier(s->target, v);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		free(v);
		return 1;
	}
	FILE *o = s->out;
	if (!v->level) {
		fputs("\nVerify Level 0: Driver Verifier is not enabled (nt!MmVerifierData.Level "
		      "is 0)\n", o);
		free(v);
		return 0;
	}
	fprintf(o, "\nVerify Level %" PRIx32 " ... enabled options are:\n", v->level);
	uint32_t named = 0;
	for (size_t i = 0; i < sizeof(verifier_flags) / sizeof(verifier_flags[0]); i++) {
		if (v->level & verifier_flags[i].bit)
			fprintf(o, "    %s\n", verifier_flags[i].name);
		named |= verifier_flags[i].bit;
	}
	if (v->level & ~named)
		fprintf(o, "    (other flags %#" PRIx32 ")\n", v->level & ~named);
	fputs("\nSummary of All Verifier Statistics\n\n", o);
	static const char *const labels[BC_VERIFIER_COUNTERS] = {
		"RaiseIrqls", "AcquireSpinLocks", "Synch Executions", "Trims",
		"Pool Allocations Attempted", "Pool Allocations Succeeded",
		"Pool Allocations Succeeded SpecialPool", "Pool Allocations With NO TAG",
		"Pool Allocations Failed", "Pool Allocations Failed Deliberately",
	};
	for (int i = 0; i < BC_VERIFIER_COUNTERS; i++) {
		if (v->has_counter[i])
			fprintf(o, "%-39s0x%" PRIx64 "\n", labels[i], v->counters[i]);
		if (i == 3)
			fputc('\n', o);
	}
	fputs("\nDriver Verification List\n\n", o);
	if (!v->has_drivers) {
		fputs("    (not available: ", o);
		bc_put_escaped(o, v->drivers_note, 0);
		fputs(")\n", o);
	}
	for (size_t i = 0; i < v->driver_count; i++) {
		fputs("    ", o);
		bc_put_escaped(o, v->drivers[i], 0);
		fputc('\n', o);
	}
	if (v->has_drivers)
		bc_cmd_print_note(s, v->drivers_note);
	free(v);
	return 0;
}
