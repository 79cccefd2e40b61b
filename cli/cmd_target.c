// The opening banner, vertarget and .bugcheck (WINDBG_OUTPUT.md sections 2-4).
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "format.h"

const char *bc_cmd_windows_name(uint32_t build)
{
	if (build >= 10240) return "Windows 10";  // WinDbg says "Windows 10" for 11 too
	if (build >= 9600) return "Windows 8.1";
	if (build >= 9200) return "Windows 8";
	if (build >= 7600) return "Windows 7";
	if (build >= 6000) return "Windows Vista";
	if (build >= 3790) return "Windows Server 2003";
	if (build >= 2600) return "Windows XP";
	if (build >= 2195) return "Windows 2000";
	return "Windows NT";
}

static const char *machine_text(enum bc_machine m)
{
	switch (m) {
	case BC_MACHINE_X64: return "x64";
	case BC_MACHINE_X86: return "x86 compatible";
	case BC_MACHINE_ARM64: return "ARM 64-bit (AArch64)";
	case BC_MACHINE_UNKNOWN: break;
	}
	return "unknown machine";
}

void bc_version_line(const struct bc_target *t, char *buf, size_t size)
{
	const struct bc_dump_info *i = bc_target_info(t);
	const char *build_kind = i->major_version == 0xc ? "Checked" : "Free";
	snprintf(buf, size, "%s Kernel Version %u %s (%u procs) %s %s", bc_cmd_windows_name(i->build),
		 i->build, i->processors > 1 ? "MP" : "UP", i->processors, build_kind,
		 machine_text(i->machine));
}

static const char *product_name(uint32_t type)
{
	switch (type) {
	case 1: return "WinNt";
	case 2: return "LanManNt";
	case 3: return "Server";
	}
	return "unknown";
}

static void print_product(struct bc_session *s, const struct bc_dump_info *i)
{
	static const char *const suites[] = {
		"SmallBusiness", "Enterprise", "BackOffice", "CommunicationServer",
		"TerminalServer", "SmallBusinessRestricted", "EmbeddedNT", "DataCenter",
		"SingleUserTS", "Personal", "Blade", "EmbeddedRestricted",
		"SecurityAppliance", "StorageServer", "ComputeServer", "WHServer",
	};
	if (!i->has_product_type)
		return;
	fprintf(s->out, "Product: %s, suite:", product_name(i->product_type));
	for (unsigned b = 0; b < 16; b++)
		if (i->suite_mask & (1u << b))
			fprintf(s->out, " %s", suites[b]);
	fputc('\n', s->out);
}

static void print_build_lab(struct bc_session *s)
{
	const struct bc_kdbg *kd = bc_target_kdbg(s->target);
	char lab[128];
	size_t n;
	if (!kd->present || !kd->nt_build_lab)
		return;
	struct bc_error *err = bc_target_read_string(s->target, kd->nt_build_lab, false, 100, lab,
						     sizeof(lab), &n);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	fputs("Edition build lab: ", s->out);
	bc_put_escaped(s->out, lab, 0);
	fputc('\n', s->out);
}

static void print_version_block(struct bc_session *s)
{
	const struct bc_dump_info *i = bc_target_info(s->target);
	char line[BC_FMT_TIME_SIZE + 32], a[24], b[24];
	bc_version_line(s->target, line, sizeof(line));
	fprintf(s->out, "%s\n", line);
	print_product(s, i);
	print_build_lab(s);
	fprintf(s->out, "Kernel base = %s PsLoadedModuleList = %s\n",
		bc_fmt_ptr0x(a, i->kernel_base, i->pointer_size),
		bc_fmt_ptr0x(b, i->ps_loaded_module_list, i->pointer_size));
	if (i->has_system_time)
		fprintf(s->out, "Debug session time: %s\n", bc_fmt_filetime(line, i->system_time));
	if (i->has_system_uptime)
		fprintf(s->out, "System Uptime: %s\n", bc_fmt_uptime(line, i->system_uptime));
	else
		fputs("System Uptime: not available\n", s->out);
}

int cmd_vertarget(struct bc_session *s, const char *cmd, const char *args)
{
	(void)cmd;
	(void)args;
	print_version_block(s);
	return 0;
}

int cmd_bugcheck(struct bc_session *s, const char *cmd, const char *args)
{
	(void)cmd;
	(void)args;
	const struct bc_dump_info *i = bc_target_info(s->target);
	char p[24];
	fprintf(s->out, "Bugcheck code %08" PRIx32 "\nArguments", i->bugcheck_code);
	for (int k = 0; k < 4; k++)
		fprintf(s->out, " %s", bc_fmt_ptr(p, i->bugcheck_parameters[k], i->pointer_size));
	fputc('\n', s->out);
	return 0;
}

static const char *dump_kind_line(const struct bc_dump_info *i)
{
	switch (i->format) {
	case BC_DUMP_TRIAGE:
		return "Mini Kernel Dump File: Only registers and stack trace are available";
	case BC_DUMP_BITMAP_KERNEL:
		return "Kernel Bitmap Dump File: Kernel address space is available, User address "
		       "space may not be available.";
	case BC_DUMP_BITMAP_FULL:
		return "Kernel Bitmap Dump File: Full address space is available";
	case BC_DUMP_FULL_RUNS:
		return "Kernel Complete Dump File: Full address space is available";
	case BC_DUMP_SUMMARY:
		return "Kernel Summary Dump File: Only kernel address space is available";
	case BC_DUMP_RDMP_KERNEL:
		return "Kernel Dump File: Only kernel address space is available";
	case BC_DUMP_RDMP_KERNEL_USER:
		return "Kernel Dump File: Kernel and user address spaces are available";
	case BC_DUMP_RDMP_COMPLETE:
		return "Kernel Complete Dump File: Full address space is available";
	case BC_TARGET_IMAGE:
		return "Executable image file (not a dump): its headers and sections are mapped";
	case BC_TARGET_SYMBOLS:
		return "Symbol file (not a dump): symbols and types only, no memory";
	}
	return "Kernel Dump File";
}

// The bug check in the old short !analyze form, then its name, then which
// module each address-like argument falls in (a fact, not a verdict).
static void print_bugcheck_block(struct bc_session *s)
{
	const struct bc_dump_info *i = bc_target_info(s->target);
	const char *name = bc_bugcheck_name(i->bugcheck_code);
	fprintf(s->out, "\nBugCheck %" PRIX32 ", {%" PRIx64 ", %" PRIx64 ", %" PRIx64 ", %" PRIx64 "}\n",
		i->bugcheck_code, i->bugcheck_parameters[0], i->bugcheck_parameters[1],
		i->bugcheck_parameters[2], i->bugcheck_parameters[3]);
	fprintf(s->out, "%s (%" PRIx32 ")\n", name ? name : "UNKNOWN_BUGCHECK_CODE",
		i->bugcheck_code);
	for (int k = 0; k < 4; k++) {
		const struct bc_module *m = bc_target_module_at(s->target, i->bugcheck_parameters[k]);
		if (!m)
			continue;
		char a[24];
		fprintf(s->out, "Arg%d %s is inside ", k + 1,
			bc_fmt_ptr(a, i->bugcheck_parameters[k], i->pointer_size));
		bc_put_escaped(s->out, m->name, 0);
		fprintf(s->out, "+0x%" PRIx64 "\n", i->bugcheck_parameters[k] - m->base);
	}
}

// A target that is a file of its own (image or symbols): what it is and where.
static void print_file_summary(struct bc_session *s, const struct bc_dump_info *i)
{
	char a[24], b[24];
	const struct bc_module *m = bc_target_module(s->target, 0);
	fputs(i->format == BC_TARGET_IMAGE ? "Loading Image File [" : "Loading Symbol File [", s->out);
	bc_put_escaped(s->out, bc_target_path(s->target), 0);
	fprintf(s->out, "]\n%s\n", dump_kind_line(i));
	fprintf(s->out, "Machine: %s\n", machine_text(i->machine));
	if (m) {
		char name[64];
		bc_module_short_name(s->target, 0, name, sizeof(name));
		fprintf(s->out, "Module %s at %s - %s\n", name, bc_fmt_ptr(a, m->base, i->pointer_size),
			bc_fmt_ptr(b, m->base + m->size, i->pointer_size));
	}
}

void bc_print_summary(struct bc_session *s)
{
	const struct bc_dump_info *i = bc_target_info(s->target);
	if (i->format == BC_TARGET_IMAGE || i->format == BC_TARGET_SYMBOLS) {
		print_file_summary(s, i);
		return;
	}
	fputs("Loading Dump File [", s->out);
	bc_put_escaped(s->out, bc_target_path(s->target), 0);
	fprintf(s->out, "]\n%s\n\n", dump_kind_line(i));
	print_version_block(s);
	fprintf(s->out, "Loaded module list: %zu modules (%s), %zu unloaded\n",
		bc_target_module_count(s->target), bc_target_module_source(s->target),
		bc_target_unloaded_count(s->target));
	for (size_t w = 0; w < bc_target_warning_count(s->target); w++) {
		fputs("WARNING: ", s->out);
		bc_put_escaped(s->out, bc_target_warning(s->target, w), 0);
		fputc('\n', s->out);
	}
	print_bugcheck_block(s);
}
