// Processes and kernel lists (bugcheck/kobj.h): the walk of any LIST_ENTRY
// list, nt!PsActiveProcessHead through EPROCESS.ActiveProcessLinks, a
// process's threads through KTHREAD.ThreadListEntry, and each process's
// facts for `!process`.
//
// Every list comes from a stranger's memory: the walk is capped, detects a
// cycle that does not pass through the head (Brent's algorithm on the link
// addresses), checks that each entry's Blink points back, and ends with a
// note saying where and why it stopped; a small memory dump's missing
// entries are "not in this dump", not a corrupt list.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bugcheck/kobj.h"
#include "target_private.h"

BC_PUBLIC struct bc_error *bc_target_process_info(struct bc_target *t, uint64_t process,
						  struct bc_process_info *r)
{
	memset(r, 0, sizeof(*r));
	r->address = process;
	r->has_pid = bc_kernel_read_optional(t, process, "_EPROCESS", "UniqueProcessId", &r->pid);
	r->has_parent = bc_kernel_read_optional(t, process, "_EPROCESS", "InheritedFromUniqueProcessId",
				      &r->parent);
	r->has_peb = bc_kernel_read_optional(t, process, "_EPROCESS", "Peb", &r->peb);
	r->has_dtb = bc_kernel_read_optional(t, process, "_EPROCESS", "Pcb.DirectoryTableBase", &r->dtb);
	r->has_object_table = bc_kernel_read_optional(t, process, "_EPROCESS", "ObjectTable",
					    &r->object_table);
	r->has_session = bc_kernel_read_optional(t, process, "_EPROCESS", "Session", &r->session);
	struct bc_kfield f;
	struct bc_error *err = bc_kernel_field(t, "_EPROCESS", "ImageFileName", &f);
	if (!err) {
		size_t n = f.size && f.size < sizeof(r->image) ? (size_t)f.size : sizeof(r->image) - 1;
		err = bc_target_read(t, process + f.offset, r->image, n);
		r->image[sizeof(r->image) - 1] = 0;
		r->has_image = !err;
		r->image_unreadable = err != NULL;
	}
	if (err && !r->has_pid) {
		// Nothing of the process could be read: say why (no layout, or not in the dump).
		return err;
	}
	bc_error_destroy(err);
	return NULL;
}

BC_PUBLIC struct bc_error *bc_kernel_list_walk(struct bc_target *t, uint64_t head,
					       uint64_t entry_offset,
					       bool (*fn)(void *arg, uint64_t object), void *arg,
					       char *note, size_t note_size)
{
	if (note_size)
		note[0] = 0;
	unsigned ps = t->info.pointer_size;
	uint64_t prev = head, entry;
	struct bc_error *err = bc_target_read_pointer(t, head, &entry);
	if (err)
		return err;
	// Brent: a tortoise that jumps to the hare at powers of two.
	uint64_t tortoise = head;
	size_t power = 1, lambda = 0;
	for (size_t count = 0; entry != head; count++) {
		if (count == BC_KERNEL_LIST_MAX) {
			snprintf(note, note_size, "the list is longer than %d entries: stopped",
				 BC_KERNEL_LIST_MAX);
			return NULL;
		}
		if (entry == tortoise) {
			snprintf(note, note_size, "the list loops back to %" PRIx64 " without "
				 "returning to its head %" PRIx64 ": stopped", entry, head);
			return NULL;
		}
		if (++lambda == power) {
			tortoise = entry;
			power *= 2;
			lambda = 0;
		}
		uint64_t flink, blink;
		err = bc_target_read_pointer(t, entry, &flink);
		if (!err)
			err = bc_target_read_pointer(t, entry + ps, &blink);
		if (err) {
			bool absent = err->code == BC_ERR_FAULT && (err->fault == BC_FAULT_NOT_IN_DUMP ||
								     err->fault == BC_FAULT_NO_TRANSLATION);
			snprintf(note, note_size, "the list continues at %" PRIx64 ", %s", entry,
				 absent && t->info.format == BC_DUMP_TRIAGE
					 ? "which is not in this dump (small memory dump)"
					 : err->message);
			bc_error_destroy(err);
			return NULL;
		}
		if (blink != prev) {
			snprintf(note, note_size, "the entry at %" PRIx64 " does not point back to %"
				 PRIx64 " (its Blink is %" PRIx64 "): the list is damaged; stopped",
				 entry, prev, blink);
			return NULL;
		}
		if (!fn(arg, entry - entry_offset))
			return NULL;
		prev = entry;
		entry = flink;
	}
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_each_process(struct bc_target *t,
						  bool (*fn)(void *arg, uint64_t process),
						  void *arg, char *note, size_t note_size)
{
	if (note_size)
		note[0] = 0;
	uint64_t head = t->kdbg.present && t->kdbg.ps_active_process_head
				? t->kdbg.ps_active_process_head
				: t->info.ps_active_process_head;
	if (!head)
		return bc_error_create(BC_ERR_NOT_FOUND,
				       "the dump does not say where nt!PsActiveProcessHead is");
	struct bc_kfield links;
	struct bc_error *err = bc_kernel_field(t, "_EPROCESS", "ActiveProcessLinks", &links);
	if (err)
		return err;
	return bc_kernel_list_walk(t, head, links.offset, fn, arg, note, note_size);
}

BC_PUBLIC struct bc_error *bc_target_each_thread(struct bc_target *t, uint64_t process,
						 bool (*fn)(void *arg, uint64_t thread),
						 void *arg, char *note, size_t note_size)
{
	if (note_size)
		note[0] = 0;
	struct bc_kfield head, entry;
	struct bc_error *err = bc_kernel_field(t, "_KPROCESS", "ThreadListHead", &head);
	if (!err)
		err = bc_kernel_field(t, "_KTHREAD", "ThreadListEntry", &entry);
	if (err)
		return err;
	return bc_kernel_list_walk(t, process + head.offset, entry.offset, fn, arg, note,
				   note_size);
}

BC_PUBLIC struct bc_error *bc_target_set_process(struct bc_target *t, uint64_t process)
{
	if (t->paging == BC_PAGING_NONE)
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       "a small memory dump has no page tables: there is no process "
				       "address space to switch to");
	if (!process) {
		t->dtb = t->info.directory_table_base;
		t->implicit_process = 0;
		return NULL;
	}
	uint64_t dtb;
	struct bc_error *err = bc_kernel_read_field(t, process, "_EPROCESS",
						    "Pcb.DirectoryTableBase", &dtb);
	if (err)
		return err;
	// Every process maps the kernel the same way: a DirectoryTableBase that
	// does not is not a process's (a wrong address, or damage).
	uint64_t base = t->kdbg.present ? t->kdbg.kern_base : 0, want, got;
	if (base && !bc_target_translate(t, base, &want)) {
		uint64_t saved = t->dtb;
		t->dtb = dtb;
		err = bc_target_translate(t, base, &got);
		t->dtb = saved;
		if (err || got != want) {
			bc_error_destroy(err);
			return bc_error_create(BC_ERR_INVALID_ARG,
					       "%" PRIx64 " is not a process: its DirectoryTableBase %"
					       PRIx64 " does not map the kernel", process, dtb);
		}
	}
	t->dtb = dtb;
	t->implicit_process = process;
	return NULL;
}

BC_PUBLIC uint64_t bc_target_implicit_process(const struct bc_target *t)
{
	return t->implicit_process ? t->implicit_process : t->current_process;
}
