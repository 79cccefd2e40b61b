// !vm: the memory manager's counters (bugcheck/kobj.h bc_target_vm), in
// WinDbg's "*** Virtual Memory Usage ***" layout: pages, then KiB. A counter
// the dump does not hold says why instead of a number.
#include <inttypes.h>

#include "bugcheck/kobj.h"
#include "cmd.h"
#include "cmd_expr.h"

int cmd_vm(struct bc_session *s, const char *cmd, const char *args)
{
	(void)args;
	struct bc_vm_info vm;
	struct bc_error *err = bc_target_vm(s->target, &vm);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	fputs("\n*** Virtual Memory Usage ***\n", s->out);
	for (int i = 0; i < BC_VM_COUNTERS; i++) {
		char label[32];
		snprintf(label, sizeof(label), "%s:", bc_vm_counter_label(i));
		if (vm.known[i])
			fprintf(s->out, "\t%-18s %12" PRIu64 " (%12" PRIu64 " Kb)\n", label,
				vm.pages[i], vm.pages[i] * 4);
		else
			fprintf(s->out, "\t%-18s (%s)\n", label, vm.why[i]);
	}
	fprintf(s->out, "(from %s)\n", vm.source);
	return 0;
}
