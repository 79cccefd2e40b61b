/*
 * nt/kobj_private.h: checking a candidate kernel layout against the offsets
 * and sizes the kernel wrote into KDDEBUGGER_DATA64 (nt/kobj.c owns that
 * table), for choosing a Vergilius file (nt/kobj_vergilius.c).
 */
#ifndef BC_NT_KOBJ_PRIVATE_H
#define BC_NT_KOBJ_PRIVATE_H

#include "bugcheck/symtab.h"
#include "bugcheck/target.h"

struct bc_layout_check {
	unsigned compared;         ///< KDDEBUGGER_DATA64 offsets and sizes @tab also knows
	unsigned agreed;           ///< ... equal to @tab's
	char disagreement[160];    ///< the first that differs: "_KTHREAD.State at 0x64, KDDEBUGGER_DATA64 says 0x68"
};

/** Compares every KDDEBUGGER_DATA64 offset and size of @t's kernel with @tab's layout. */
void bc_kdbg_check_layout(struct bc_target *t, struct bc_symtab *tab,
			  struct bc_layout_check *ret);

#endif
