// !thread [ADDRESS] and !process: a kernel thread in WinDbg's layout (WINDBG_OUTPUT.md
// 11.6): labels in a 26-character column, pointers without the backquote,
// then the thread's stack as kv shows it. Fields no layout source gives (a
// dump whose kernel has no types: Cid, Teb, priorities) are left out, and a
// last line says which need the kernel's symbols.
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "bugcheck/kobj.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const char *hex(char *buf, uint64_t v, unsigned ps)
{
	snprintf(buf, 24, "%0*" PRIx64, (int)ps * 2, ps == 4 ? v & 0xffffffffu : v);
	return buf;
}

static void print_state(struct bc_session *s, const struct bc_thread_info *ti)
{
	const char *name = bc_thread_state_name(ti->state);
	if (!name) {
		fprintf(s->out, "STATE %u", ti->state);
		return;
	}
	fputs(name, s->out);
	if ((ti->state == 1 || ti->state == 2) && ti->has_processor)
		fprintf(s->out, " on processor %" PRIx32, ti->processor);
	if (ti->state == 5 && ti->has_wait_reason) {
		const char *why = bc_wait_reason_name(ti->wait_reason);
		if (why)
			fprintf(s->out, ": (%s)", why);
		else
			fprintf(s->out, ": (%u)", ti->wait_reason);
		if (ti->has_wait_mode)
			fputs(ti->wait_mode ? " UserMode" : " KernelMode", s->out);
		if (ti->has_alertable)
			fputs(ti->alertable ? " Alertable" : " Non-Alertable", s->out);
	}
}

// A running thread's IRQL: the one the debugger saved for its processor
// (KPRCB.DebuggerSavedIRQL), when that processor says it runs this thread.
static void print_irql(struct bc_session *s, const struct bc_thread_info *ti)
{
	uint64_t prcb, current, irql;
	if (ti->state != 2 || !ti->has_processor)
		return;
	struct bc_error *err = bc_target_prcb(s->target, ti->processor, &prcb);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	if (!bc_kernel_read_optional(s->target, prcb, "_KPRCB", "CurrentThread", &current) ||
	    current != ti->address ||
	    !bc_kernel_read_optional(s->target, prcb, "_KPRCB", "DebuggerSavedIRQL", &irql))
		return;
	const char *name = bc_cmd_irql_name(bc_target_info(s->target)->machine, irql);
	fprintf(s->out, "%-26s%" PRIu64 "%s%s%s\n", "IRQL", irql, name ? " (" : "",
		name ? name : "", name ? ")" : "");
}

// The objects a waiting thread waits on, one a line under the THREAD line.
static void print_wait_objects(struct bc_session *s, const struct bc_thread_info *ti)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	for (size_t i = 0; i < ti->wait_object_count; i++) {
		const char *name = ti->wait_objects[i].has_type
					   ? bc_dispatcher_object_name(ti->wait_objects[i].type)
					   : NULL;
		fprintf(s->out, "            %0*" PRIx64 "  ", (int)ps * 2, ti->wait_objects[i].address);
		if (name)
			fprintf(s->out, "%s\n", name);
		else if (ti->wait_objects[i].has_type)
			fprintf(s->out, "Type %u\n", ti->wait_objects[i].type);
		else
			fputs("(its type cannot be read)\n", s->out);
	}
}

static int print_thread(struct bc_session *s, const char *cmd, uint64_t thread, bool stack);

int cmd_thread_info(struct bc_session *s, const char *cmd, const char *args)
{
	while (isspace((unsigned char)*args))
		args++;
	uint64_t thread = bc_target_current_thread(s->target);
	if (*args) {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &thread);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	if (!thread) {
		fprintf(s->out, "%s: the dump does not say which thread was running; give an "
			"ETHREAD address\n", cmd);
		return 1;
	}
	return print_thread(s, cmd, thread, true);
}

static int print_thread(struct bc_session *s, const char *cmd, uint64_t thread, bool stack)
{
	struct bc_thread_info ti;
	unsigned ps = bc_target_info(s->target)->pointer_size;
	FILE *o = s->out;
	char a[24], b[24];
	struct bc_error *err = bc_target_thread_info(s->target, thread, &ti);
	if (err) {
		fprintf(o, "THREAD %s  ", hex(a, thread, ps));
		bc_put_escaped(o, err->message, 0);
		fputc('\n', o);
		bc_error_destroy(err);
		(void)cmd;
		return 1;
	}
	fprintf(o, "THREAD %s ", hex(a, thread, ps));
	if (ti.has_cid)
		fprintf(o, " Cid %04" PRIx64 ".%04" PRIx64 " ", ti.pid, ti.tid);
	if (ti.has_teb)
		fprintf(o, " Teb: %s", hex(a, ti.teb, ps));
	if (ti.has_win32_thread)
		fprintf(o, " Win32Thread: %s", hex(a, ti.win32_thread, ps));
	fputc(' ', o);
	print_state(s, &ti);
	fputc('\n', o);
	print_wait_objects(s, &ti);
	if (ti.has_process) {
		fprintf(o, "%-26s%s       Image:         ", "Owning Process", hex(a, ti.process, ps));
		bc_put_escaped(o, ti.has_image ? ti.image : "(needs symbols)", 0);
		fputc('\n', o);
	}
	if (ti.has_wait_time)
		fprintf(o, "%-26s%" PRIu32 "\n", "Wait Start TickCount", ti.wait_time);
	if (ti.has_context_switches)
		fprintf(o, "%-26s%" PRIu32 "\n", "Context Switch Count", ti.context_switches);
	if (ti.has_win32_start)
		fprintf(o, "Win32 Start Address 0x%s\n", hex(a, ti.win32_start, ps));
	if (ti.has_initial_stack && ti.has_kernel_stack)
		fprintf(o, "Stack Init %s Current %s\n", hex(a, ti.initial_stack, ps),
			hex(b, ti.kernel_stack, ps));
	if (ti.has_stack_base && ti.has_stack_limit)
		fprintf(o, "Base %s Limit %s\n", hex(a, ti.stack_base, ps), hex(b, ti.stack_limit, ps));
	if (ti.has_priority && ti.has_base_priority)
		fprintf(o, "Priority %d  BasePriority %d\n", ti.priority, ti.base_priority);
	print_irql(s, &ti);
	// Say which fields are missing and why, rather than leave the reader guessing.
	const char *missing[6];
	size_t n = 0;
	if (!ti.has_cid)
		missing[n++] = "Cid";
	if (!ti.has_image)
		missing[n++] = "the image name";
	if (!ti.has_win32_start)
		missing[n++] = "the start address";
	if (!ti.has_priority)
		missing[n++] = "priorities";
	if (!ti.has_wait_time || !ti.has_context_switches)
		missing[n++] = "wait and switch counts";
	if (n) {
		fputs("(", o);
		for (size_t i = 0; i < n; i++)
			fprintf(o, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "", missing[i]);
		fputs(" need the kernel's types: an ISF table or its PDB)\n", o);
	}
	if (!stack)
		return 0;
	// The thread's stack, from the registers it resumes with.
	struct bc_context ctx;
	err = bc_target_thread_context(s->target, thread, &ctx);
	if (err) {
		fputs("Stack: ", o);
		bc_put_escaped(o, err->message, 0);
		fputc('\n', o);
		bc_error_destroy(err);
		return 0;
	}
	return bc_cmd_stack_from(s, &ctx, "kv");
}

// !process: one process block of `!process 0 0` (WINDBG_OUTPUT.md 11.7).
static void print_process(struct bc_session *s, const struct bc_process_info *p)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	FILE *o = s->out;
	char a[24];
	fprintf(o, "PROCESS %s\n    SessionId: ", hex(a, p->address, ps));
	uint64_t id;
	if (p->has_session && !p->session)
		fputs("none", o);
	else if (p->has_session &&
		 !bc_kernel_read_field(s->target, p->session, "_MM_SESSION_SPACE", "SessionId", &id))
		fprintf(o, "%" PRIu64, id);
	else
		fputs("<Data Not Accessible>", o);
	if (p->has_pid)
		fprintf(o, "  Cid: %04" PRIx64, p->pid);
	if (p->has_peb)
		fprintf(o, "    Peb: %08" PRIx64, p->peb);
	if (p->has_parent)
		fprintf(o, "  ParentCid: %04" PRIx64, p->parent);
	fputc('\n', o);
	if (p->has_dtb || p->has_object_table) {
		fputs("   ", o);
		if (p->has_dtb)
			fprintf(o, " DirBase: %08" PRIx64, p->dtb);
		if (p->has_object_table)
			fprintf(o, "  ObjectTable: %s", hex(a, p->object_table, ps));
		fputc('\n', o);
	}
	fputs("    Image: ", o);
	bc_put_escaped(o, p->has_image		 ? p->image
			  : p->image_unreadable ? "<Data Not Accessible>"
						: "(needs symbols)", 0);
	fputs("\n\n", o);
}

struct thread_walk {
	struct bc_session *s;
	const char *cmd;
	bool stacks;
};

static bool print_each_thread(void *arg, uint64_t thread)
{
	struct thread_walk *w = arg;
	fputs("\n", w->s->out);
	print_thread(w->s, w->cmd, thread, w->stacks);
	return true;
}

struct process_walk {
	struct bc_session *s;
	const char *cmd;
	uint64_t flags;  ///< 2: each process's threads; 4: and their stacks
	size_t count;
};

// One process block, then (FLAGS 2 or 4) its threads from ThreadListHead.
static bool print_each(void *arg, uint64_t process)
{
	struct process_walk *w = arg;
	struct bc_process_info p;
	struct bc_error *err = bc_target_process_info(w->s->target, process, &p);
	if (err) {
		char a[24];
		fprintf(w->s->out, "PROCESS %s\n    ", hex(a, process,
						      bc_target_info(w->s->target)->pointer_size));
		bc_put_escaped(w->s->out, err->message, 0);
		fputs("\n\n", w->s->out);
		bc_error_destroy(err);
	} else {
		print_process(w->s, &p);
	}
	w->count++;
	if (!(w->flags & 6))
		return true;
	struct thread_walk tw = { w->s, w->cmd, (w->flags & 4) != 0 };
	char note[256];
	err = bc_target_each_thread(w->s->target, process, print_each_thread, &tw, note,
				    sizeof(note));
	if (err)
		bc_cmd_print_error(w->s, w->cmd, err);
	else
		bc_cmd_print_note(w->s, note);
	fputc('\n', w->s->out);
	return true;
}

// !process [ADDRESS [FLAGS]]: one process (default: the current one), or with
// ADDRESS 0 every process on nt!PsActiveProcessHead. FLAGS 2 lists each
// process's threads, 4 adds their stacks (7 = both, as WinDbg's "7").
int cmd_process(struct bc_session *s, const char *cmd, const char *args)
{
	while (isspace((unsigned char)*args))
		args++;
	uint64_t process = bc_target_current_process(s->target);
	struct process_walk w = { s, cmd, 0, 0 };
	if (*args) {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &process);
		const char *p = args + used;
		while (!err && isspace((unsigned char)*p))
			p++;
		if (!err && *p)
			err = bc_cmd_eval_prefix(s, p, &used, &w.flags);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	} else if (!process) {
		fprintf(s->out, "%s: the dump does not say which process was running; give an "
			"EPROCESS address, or 0 for all\n", cmd);
		return 1;
	}
	if (process) {
		print_each(&w, process);
		return 0;
	}
	fputs("**** NT ACTIVE PROCESS DUMP ****\n", s->out);
	char note[256];
	struct bc_error *err = bc_target_each_process(s->target, print_each, &w, note,
						      sizeof(note));
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	bc_cmd_print_note(s, note);
	return 0;
}
