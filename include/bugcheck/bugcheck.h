/*
 * bugcheck/bugcheck.h: the whole public API of libbugcheck.
 *
 * libbugcheck reads Windows kernel crash dumps (every DumpType, x64, x86 and
 * ARM64) and answers questions about them. It never prints, exits or keeps
 * global state; errors are returned as struct bc_error (bugcheck/error.h).
 * Start with bc_target_open() in bugcheck/target.h.
 */
#ifndef BUGCHECK_BUGCHECK_H
#define BUGCHECK_BUGCHECK_H

#include "bugcheck/analysis.h"
#include "bugcheck/bugcheck_code.h"
#include "bugcheck/bugcheck_kb.h"
#include "bugcheck/context.h"
#include "bugcheck/disasm.h"
#include "bugcheck/error.h"
#include "bugcheck/expr.h"
#include "bugcheck/known_drivers.h"
#include "bugcheck/kobj.h"
#include "bugcheck/stack.h"
#include "bugcheck/symbols.h"
#include "bugcheck/sympath.h"
#include "bugcheck/symtab.h"
#include "bugcheck/sysinfo.h"
#include "bugcheck/triage.h"
#include "bugcheck/target.h"
#include "bugcheck/whea.h"

#endif
