/*
 * cli/session.h: the state of one bugcheck command-line session.
 *
 * A session wraps an opened target with UI state the library does not keep:
 * where output goes, the register context commands use (later switched by
 * .cxr / .trap), and where the d* commands continue when repeated.
 */
#ifndef BC_CLI_SESSION_H
#define BC_CLI_SESSION_H

#include <stdio.h>

#include "bugcheck/bugcheck.h"

struct bc_session {
	struct bc_target *target;
	FILE *out;
	struct bc_context context;  ///< registers used by r, @reg and the prompt
	bool has_context;
	size_t frame;               ///< .frame's current frame in that context's stack
	uint32_t processor;         ///< the current processor (~Ns), shown in the prompt
	// Continuation of memory display: "db" alone goes on where the last one stopped.
	char last_display[8];
	uint64_t next_display_address;
	// "u" alone goes on after the last instruction shown.
	uint64_t next_unassemble;
	bool has_next_unassemble;
	struct bc_symbol_options symbol_options;  ///< from -y/_NT_SYMBOL_PATH, --online; .sympath changes the path
	struct bc_triage_rules *triage;  ///< the default triage rules plus --triage FILE's
	bool quit;                  ///< set by q / qq
	char prompt[32];            ///< "0: kd> ", for the interactive prompt
};

#endif
