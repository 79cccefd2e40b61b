// Fuzz target: triage.ini parsing (bugcheck/triage.h), then a match and a
// blame over a few frames, with the input's first line as a module name.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/triage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct bc_triage_rules *rules;
	struct bc_error *err = bc_triage_rules_default(&rules);
	if (!err)
		err = bc_triage_rules_add(rules, text, size, "fuzz");
	if (!err) {
		char module[32] = { 0 };
		memcpy(module, text, size < sizeof(module) - 1 ? size : sizeof(module) - 1);
		module[strcspn(module, "\n!=")] = 0;
		const struct bc_triage_frame frames[] = {
			{ module, "KeBugCheckEx" }, { "nt", NULL }, { module, NULL }, { NULL, NULL },
		};
		struct bc_triage_match m;
		(void)bc_triage_blame(rules, frames, 4, &m);
	}
	bc_error_destroy(err);
	bc_triage_rules_free(rules);
	free(text);
	return 0;
}
