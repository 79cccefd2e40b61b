// Command table and dispatch: see cmd.h.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "format.h"

const struct bc_command bc_commands[] = {
	{ ".bugcheck", false, cmd_bugcheck, ".bugcheck",
	  "bug check code and its four arguments" },
	{ "vertarget", false, cmd_vertarget, "vertarget",
	  "Windows version, product, kernel base, crash time and uptime" },
	{ "r", false, cmd_registers, "r [reg[,reg...]]",
	  "registers of the current context (all, or the ones named)" },
	{ "lm", true, cmd_lm, "lm[k|u][v][n][t] [m PATTERN] | lmvm NAME",
	  "loaded modules (v: verbose, m: name pattern, k/u: kernel/user, n/t: image name, "
	  "timestamp)" },
	{ "db dw dd dq dc dps dqs dds da du", false, cmd_display, "dX [ADDRESS] [L COUNT]",
	  "display memory as bytes, words, dwords, qwords, pointers with symbols, or strings" },
	{ "?", false, cmd_evaluate, "? EXPRESSION",
	  "evaluate an expression (hex by default, 0n decimal, poi(), @reg, module names)" },
	{ ".cxr", false, cmd_cxr, ".cxr [ADDRESS]",
	  "use the CONTEXT record at an address (e.g. a bug check argument); alone: reset" },
	{ ".trap", false, cmd_trap, ".trap [ADDRESS]",
	  "use the registers of the KTRAP_FRAME at an address (e.g. TRAP_FRAME); alone: reset" },
	{ ".thread", false, cmd_thread, ".thread [ADDRESS]",
	  "use the registers of a kernel thread (an ETHREAD address); alone: the current thread" },
	{ ".process", false, cmd_process_context, ".process [/p] [/r] [ADDRESS]",
	  "read user-mode addresses in a process's address space (an EPROCESS); 0: the dump's" },
	{ "~", true, cmd_processor, "~ | ~Ns",
	  "list the processors (KPRCB, thread, IPI state, where each stopped); ~Ns switches to "
	  "processor N: its registers (frozen by the bug check) and its stack" },
	{ "!running", false, cmd_running, "!running [-t]",
	  "each processor's KPRCB and current, next thread (-t: and its stack)" },
	{ "!irql", false, cmd_irql, "!irql [N]",
	  "the IRQL the debugger saved for a processor (needs the kernel's types)" },
	{ "!ipi", false, cmd_ipi, "!ipi [N]",
	  "interprocessor-interrupt state: IpiFrozen named (Running, Frozen, Owner), TargetCount, "
	  "PacketBarrier (needs the kernel's types)" },
	{ "!process", false, cmd_process, "!process [ADDRESS [FLAGS]] | !process 0 0",
	  "a process (default: the current one), or every process on PsActiveProcessHead" },
	{ "!pte", false, cmd_pte, "!pte ADDRESS",
	  "the page-table entries that map a virtual address, level by level" },
	{ "!verifier", false, cmd_verifier, "!verifier",
	  "Driver Verifier: whether it is on, its enabled checks, counters and verified drivers" },
	{ "!owner", false, cmd_owner, "!owner MODULE[!FUNCTION]",
	  "who the triage rules (bugcheck's, then --triage FILE's) say owns a frame there" },
	{ "!vm", false, cmd_vm, "!vm",
	  "virtual memory use: physical, available and modified pages, commit charge and limit" },
	{ "!sysinfo", false, cmd_sysinfo, "!sysinfo machineid | smbios | cpuinfo",
	  "the machine: BIOS, system and board from the SMBIOS tables, or the processor's "
	  "registry values (small memory dumps' secondary data)" },
	{ ".enumtag", false, cmd_enumtag, ".enumtag",
	  "list the secondary data blobs bug-check callbacks added (tag, size, first bytes)" },
	{ "!thread", false, cmd_thread_info, "!thread [ADDRESS]",
	  "a kernel thread: state, owning process, stacks, then its call stack (default: current)" },
	{ "!pcr", false, cmd_pcr, "!pcr [N]",
	  "a processor's KPCR: NT_TIB, self and KPRCB pointers, IRQL, IDT/GDT/TSS, threads" },
	{ "!prcb", false, cmd_prcb, "!prcb [N]",
	  "a processor's KPRCB: its address, number, current, next and idle threads" },
	{ ".frame", false, cmd_frame, ".frame [/r] [N]",
	  "show stack frame N of the current context (/r: its registers as unwound)" },
	{ ".exr", false, cmd_exr, ".exr ADDRESS | .exr -1",
	  "an exception record in memory, or the dump's own (-1)" },
	{ "k", true, cmd_stack, "k[n][b|v][L] [= RBP RSP RIP] [COUNT]",
	  "call stack of the current context (n: frame numbers, b: arguments, v: trap frames)" },
	{ "u", false, cmd_unassemble, "u [ADDRESS] [L COUNT]",
	  "disassemble forwards (8 instructions; u alone continues)" },
	{ "ub", false, cmd_unassemble_back, "ub [ADDRESS] [L COUNT]",
	  "disassemble the instructions that end just before an address" },
	{ "uf", false, cmd_unassemble_function, "uf [ADDRESS]",
	  "disassemble a whole function, block by block (from its symbol's start)" },
	{ ".sympath .sympath+", false, cmd_sympath, ".sympath [PATH] | .sympath+ PATH",
	  "show, set or extend the symbol path (WinDbg syntax: dirs, srv*cache*url, cache*dir)" },
	{ ".reload", false, cmd_reload, ".reload [/f] [MODULE]",
	  "forget loaded symbols so they are searched again (/f: load them now)" },
	{ "x", false, cmd_examine, "x MODULE!PATTERN",
	  "symbols matching a wildcard pattern (* and ?), in address order" },
	{ "ln", false, cmd_list_nearest, "ln [ADDRESS]",
	  "the nearest symbols before and after an address" },
	{ "dt", false, cmd_dt, "dt [-r[N]] [MODULE!]TYPE [ADDRESS]",
	  "a type's layout, or memory shown as that type (needs PDB or ISF types)" },
	{ "!analyze", false, cmd_analyze, "!analyze [-v] | !analyze -show CODE [P1 [P2 [P3 [P4]]]]",
	  "the verdict: failing stack, blamed module, bucket, evidence and advice (-v: all of "
	  "WinDbg's fields and ours); -show: what a bug check code and its parameters mean" },
	{ "!errrec", false, cmd_errrec, "!errrec ADDRESS",
	  "a WHEA error record (0x124's Arg2): severity, sections, and what failed in a Processor "
	  "Generic or Platform Memory section" },
	{ "!lmi", false, cmd_lmi, "!lmi MODULE",
	  "a module's image headers, CodeView record (the PDB it wants) and symbol state" },
	{ ".help", false, cmd_help, ".help", "list commands" },
	{ "q qq", false, cmd_quit, "q", "quit" },
};
const size_t bc_command_count = sizeof(bc_commands) / sizeof(bc_commands[0]);

// Does @name appear as a word in the space-separated @names?
static bool has_name(const char *names, const char *name, size_t len)
{
	const char *p = names;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

static const struct bc_command *find_command(const char *cmd, size_t len, size_t *name_len)
{
	for (size_t i = 0; i < bc_command_count; i++) {
		if (has_name(bc_commands[i].names, cmd, len)) {
			*name_len = len;
			return &bc_commands[i];
		}
	}
	// Commands with attached options: "lmvm" is "lm" with options "vm".
	for (size_t i = 0; i < bc_command_count; i++) {
		const struct bc_command *c = &bc_commands[i];
		size_t n = strcspn(c->names, " ");
		if (c->attached_options && len > n && !strncmp(cmd, c->names, n)) {
			*name_len = n;
			return c;
		}
	}
	return NULL;
}

static int run_one(struct bc_session *s, char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t end = strlen(text);
	while (end && isspace((unsigned char)text[end - 1]))
		text[--end] = 0;
	if (!*text)
		return 0;
	// WinDbg lets "?" and "r" touch their argument ("?1+2", "rrip" is not allowed, "r@rip" is).
	size_t len = text[0] == '?' ? 1 : strcspn(text, " \t");
	size_t name_len;
	const struct bc_command *c = find_command(text, len, &name_len);
	if (!c) {
		fputs("Unknown command: ", s->out);
		bc_put_escaped(s->out, text, 0);
		fputs(" (.help lists the commands)\n", s->out);
		return 1;
	}
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) - 1 ? len : sizeof(name) - 1),
		 text);
	const char *args = text + len;
	while (isspace((unsigned char)*args))
		args++;
	return c->run(s, name, args);
}

int bc_cmd_run_line(struct bc_session *s, const char *line)
{
	char *copy = strdup(line);
	if (!copy)
		return 1;
	int status = 0;
	char *p = copy;
	bool in_quote = false;
	char *start = p;
	for (;; p++) {
		if (*p == '"')
			in_quote = !in_quote;
		if (*p == 0 || (*p == ';' && !in_quote)) {
			bool last = *p == 0;
			*p = 0;
			status |= run_one(s, start);
			if (last || s->quit)
				break;
			start = p + 1;
		}
	}
	free(copy);
	fflush(s->out);
	return status;
}

int cmd_help(struct bc_session *s, const char *cmd, const char *args)
{
	(void)cmd;
	(void)args;
	fputs("Commands (WinDbg syntax; numbers are hex unless 0n-prefixed):\n", s->out);
	for (size_t i = 0; i < bc_command_count; i++)
		fprintf(s->out, "  %-40s %s\n", bc_commands[i].usage, bc_commands[i].summary);
	fputs("Several commands can be given on one line, separated by ';'.\n", s->out);
	return 0;
}

int cmd_quit(struct bc_session *s, const char *cmd, const char *args)
{
	(void)cmd;
	(void)args;
	s->quit = true;
	return 0;
}

void bc_cmd_print_note(struct bc_session *s, const char *note)
{
	if (!*note)
		return;
	fputs("NOTE: ", s->out);
	bc_put_escaped(s->out, note, 0);
	fputc('\n', s->out);
}
