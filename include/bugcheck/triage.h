/*
 * bugcheck/triage.h: triage rules, WinDbg's triage.ini, that say who to blame
 * for a frame of a failing stack.
 *
 * A line is Module[!Function]=Owner. A trailing '*' matches a prefix (a '*'
 * anywhere else is a literal character); "default" as a module or function
 * matches anything; a line without a function covers the whole module.
 * Owner "ignore" passes the frame over; a "maybe_" or "last_" prefix lowers
 * the owner's priority (a definite match lower on the stack wins over a
 * maybe_ higher up, a maybe_ over a last_). Spaces in an owner are dropped.
 *
 * Precedence for one frame, as Microsoft documents it: an exact module name
 * before a module prefix; within the module, the exact function, then the
 * longest function prefix, then the whole module; then "default".
 *
 * The library carries a default set (data/triage.ini); a user's rules are
 * appended and replace a default line with the same Module!Function.
 * Ownership: the rules object is the caller's; strings it returns are
 * borrowed from it.
 */
#ifndef BUGCHECK_TRIAGE_H
#define BUGCHECK_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_triage_rules;

/** The library's default rules (data/triage.ini). */
BC_PUBLIC struct bc_error *bc_triage_rules_default(struct bc_triage_rules **ret);
/** Rules from triage.ini text; @what names it in errors ("triage.ini line 7: ..."). */
BC_PUBLIC struct bc_error *bc_triage_rules_parse(const char *text, size_t size, const char *what,
						 struct bc_triage_rules **ret);
/** Adds @text's rules to @rules; a line for an existing Module!Function replaces it. */
BC_PUBLIC struct bc_error *bc_triage_rules_add(struct bc_triage_rules *rules, const char *text,
					       size_t size, const char *what);
BC_PUBLIC void bc_triage_rules_free(struct bc_triage_rules *rules);

enum bc_triage_verdict {
	BC_TRIAGE_UNMATCHED = 0, ///< no rule (and no default) names the frame
	BC_TRIAGE_IGNORE,        ///< "ignore": look further down the stack
	BC_TRIAGE_OWNER,         ///< a definite owner
	BC_TRIAGE_MAYBE,         ///< "maybe_": only if nothing lower is definite
	BC_TRIAGE_LAST,          ///< "last_": only if nothing lower is definite or maybe_
};

struct bc_triage_match {
	enum bc_triage_verdict verdict;
	const char *owner;       ///< without its maybe_/last_ prefix; NULL when unmatched
	const char *rule;        ///< the rule as written ("nt!Ki*"), NULL when unmatched
	unsigned line;           ///< its line in its text
	const char *source;      ///< the text's @what
};

/** The rule that decides frame @module!@function (@function may be NULL: no symbol). */
BC_PUBLIC void bc_triage_rules_match(const struct bc_triage_rules *rules, const char *module,
				     const char *function, struct bc_triage_match *ret);

/** One frame of a failing stack, for bc_triage_blame(). */
struct bc_triage_frame {
	const char *module;      ///< WinDbg's short name ("nt", "iaStor"); NULL: no module
	const char *function;    ///< NULL when the module has no symbol there
};

/**
 * The frame !analyze blames, walking @frames from the top: the first
 * definite owner, else the first maybe_, else the first last_. SIZE_MAX when
 * every frame is ignored or unmatched. @match_ret (may be NULL) gets the
 * deciding rule.
 */
BC_PUBLIC size_t bc_triage_blame(const struct bc_triage_rules *rules,
				 const struct bc_triage_frame *frames, size_t count,
				 struct bc_triage_match *match_ret);

#ifdef __cplusplus
}
#endif
#endif
