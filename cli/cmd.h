/*
 * cli/cmd.h: the command table and the commands' entry points.
 *
 * To add a command:
 *  1. write `int cmd_<name>(struct bc_session *s, const char *cmd, const char *args)`
 *     in cli/cmd_<area>.c (output to s->out, errors as one line to s->out
 *     too, as WinDbg does; return 0 on success, 1 on error);
 *  2. declare it below and add a row to `commands` in cli/cmd.c with its
 *     name(s), a one-line summary and usage (.help and docs/COMMANDS.md
 *     come from that row);
 *  3. add a CLI test in tests/cli/ asserting output against values read
 *     independently of bugcheck.
 */
#ifndef BC_CLI_CMD_H
#define BC_CLI_CMD_H

#include "session.h"

typedef int bc_cmd_fn(struct bc_session *s, const char *cmd, const char *args);

struct bc_command {
	const char *names;     ///< space-separated names ("db dw dd")
	bool attached_options; ///< options may follow the name without a space (lmvm)
	bc_cmd_fn *run;
	const char *usage;
	const char *summary;
};

/** Runs one line, which may hold several commands separated by ';'. */
int bc_cmd_run_line(struct bc_session *s, const char *line);

/** The table, for .help and documentation. */
extern const struct bc_command bc_commands[];
extern const size_t bc_command_count;

/** Prints the "what WinDbg prints on opening a dump" banner plus the bug check. */
void bc_print_summary(struct bc_session *s);

/** The version line, "Windows 10 Kernel Version 19041 MP (16 procs) Free x64". */
void bc_version_line(const struct bc_target *t, char *buf, size_t size);

/** "Windows 10" (also for 11, as WinDbg says), "Windows 7", ... for an NT build number. */
const char *bc_cmd_windows_name(uint32_t build);
/** Prints the whole dump summary as one JSON document (--json). */
void bc_print_json(struct bc_session *s);

bc_cmd_fn cmd_help, cmd_quit, cmd_bugcheck, cmd_vertarget, cmd_registers, cmd_lm,
	cmd_display, cmd_evaluate, cmd_sympath, cmd_reload, cmd_examine, cmd_list_nearest, cmd_dt,
	cmd_unassemble, cmd_unassemble_back, cmd_unassemble_function, cmd_cxr, cmd_exr, cmd_stack, cmd_lmi,
	cmd_trap, cmd_frame, cmd_thread, cmd_processor, cmd_running, cmd_prcb,
	cmd_thread_info, cmd_irql, cmd_ipi, cmd_process, cmd_pcr, cmd_verifier, cmd_pte,
	cmd_sysinfo, cmd_enumtag, cmd_vm, cmd_process_context, cmd_analyze, cmd_owner, cmd_errrec;

/** "DISPATCH_LEVEL", "IPI_LEVEL", ... for @irql on @machine; NULL for levels without a name. */
const char *bc_cmd_irql_name(enum bc_machine machine, uint64_t irql);
/** The session context's registers and current instruction (r's layout; x64 trap frames: no segment line). */
void bc_cmd_print_context(struct bc_session *s, bool trap_frame);
/** Runs the stack command @cmd ("k", "kv") from @start, leaving the session's context as it was. */
int bc_cmd_stack_from(struct bc_session *s, const struct bc_context *start, const char *cmd);
struct bc_bugcheck_kb;
/** "NAME (code)", the explanation, "Arguments:" and the four ArgN lines, as !analyze -v opens. */
struct bc_error *bc_cmd_print_bugcheck_explained(struct bc_session *s,
						 const struct bc_bugcheck_kb *kb, uint32_t code,
						 const uint64_t *params);
/** !analyze -show's work, after the option: @rest holds CODE [P1..P4]. */
int bc_cmd_analyze_show(struct bc_session *s, const char *cmd, const char *rest);
struct bc_analysis;
/** `bugcheck analyze --json`: the verdict as one JSON document (docs/JSON.md). */
void bc_print_analysis_json(struct bc_session *s, const struct bc_analysis *a);
/** `bugcheck analyze DUMP`: !analyze -v, or with @json the JSON document; 0 on success. */
int bc_cmd_analyze_dump(struct bc_session *s, bool json);
struct bc_stack_frame;
/** One frame in kb's layout (Child-SP, RetAddr, four arguments, call site), as STACK_TEXT shows it. */
void bc_cmd_print_stack_text_line(struct bc_session *s, const struct bc_stack_frame *frame);
/** "NOTE: why" on a line of its own when @note is not empty (list walks that stopped early). */
void bc_cmd_print_note(struct bc_session *s, const char *note);

/** One disassembly line, "fffff805`28f293cb 8b01            mov     eax,dword ptr [rcx]", no newline. */
void bc_cmd_print_instruction(struct bc_session *s, const struct bc_insn *insn);

struct bc_frame_param;
/**
 * A parameter's value as kp shows it: "0n-7", "0x218", "0xfffff805`12340000",
 * "BLUE (0n6)", "struct _POINT", "<Value unavailable error>"; a char or
 * wchar_t pointer is followed by its string (@tab: the module's types).
 */
void bc_cmd_format_param_value(struct bc_session *s, struct bc_symtab *tab,
			       const struct bc_frame_param *p, char *buf, size_t size);

/** "(pdb symbols)", "(deferred)", ... as lm shows them. */
const char *bc_cmd_symbol_state(enum bc_symbol_state st);

#endif
