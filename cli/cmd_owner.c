// !owner MODULE[!FUNCTION]: who the triage rules (bugcheck/triage.h: ours,
// then --triage FILE's) say owns a frame there, as WinDbg's "Followup:"
// line, then (beyond WinDbg) the rule that decided it and where it is.
#include <string.h>

#include "cmd.h"
#include "format.h"

int cmd_owner(struct bc_session *s, const char *cmd, const char *args)
{
	while (*args == ' ')
		args++;
	char name[512];
	size_t n = strcspn(args, " ");
	if (!n || n >= sizeof(name) || !s->triage) {
		fprintf(s->out, "%s: use !owner MODULE[!FUNCTION]\n", cmd);
		return 1;
	}
	memcpy(name, args, n);
	name[n] = 0;
	char *bang = strchr(name, '!');
	if (bang)
		*bang = 0;
	struct bc_triage_match m;
	bc_triage_rules_match(s->triage, name, bang ? bang + 1 : NULL, &m);
	if (m.verdict == BC_TRIAGE_UNMATCHED) {
		fputs("Followup:     (no triage rule names it)\n", s->out);
		return 0;
	}
	const char *prefix = m.verdict == BC_TRIAGE_MAYBE ? "maybe_"
			     : m.verdict == BC_TRIAGE_LAST ? "last_" : "";
	fprintf(s->out, "Followup:     %s", prefix);
	bc_put_escaped(s->out, m.verdict == BC_TRIAGE_IGNORE ? "ignore" : m.owner, 0);
	fputs("\n(rule ", s->out);
	bc_put_escaped(s->out, m.rule, 0);
	fprintf(s->out, ", line %u of ", m.line);
	bc_put_escaped(s->out, m.source, 0);
	fputs(")\n", s->out);
	return 0;
}
