// Triage rules (bugcheck/triage.h): WinDbg's triage.ini read line by line
// into patterns, and the precedence Microsoft documents for choosing among
// the rules that match one frame.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/triage.h"

extern const char bc_triage_default_text[];
extern const size_t bc_triage_default_text_size;

enum {
	MAX_LINE = 1024,
	MAX_RULES = 1 << 16,
	MAX_NAME = 512,  // longer prefixes rank as this long
};

enum pattern_kind { PATTERN_ANY, PATTERN_PREFIX, PATTERN_EXACT };

struct pattern {
	enum pattern_kind kind;
	char *text;              // without the trailing '*'; "" for ANY
};

struct rule {
	struct pattern module, function;  // function ANY: the whole module
	enum bc_triage_verdict verdict;
	char *owner;
	char *written;           // "nt!Ki*", for reports
	unsigned line;
	size_t source;           // index in sources
};

struct bc_triage_rules {
	struct rule *rules;
	size_t count, cap;
	char **sources;
	size_t source_count;
};

static void rule_free(struct rule *r)
{
	free(r->module.text);
	free(r->function.text);
	free(r->owner);
	free(r->written);
}

BC_PUBLIC void bc_triage_rules_free(struct bc_triage_rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->count; i++)
		rule_free(&rules->rules[i]);
	free(rules->rules);
	for (size_t i = 0; i < rules->source_count; i++)
		free(rules->sources[i]);
	free(rules->sources);
	free(rules);
}

static char *copy_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

// "default" or "*" match anything; a trailing '*' makes a prefix.
static bool parse_pattern(const char *p, size_t n, struct pattern *ret)
{
	if ((n == 7 && !strncasecmp(p, "default", 7)) || (n == 1 && p[0] == '*')) {
		ret->kind = PATTERN_ANY;
		ret->text = copy_range("", 0);
	} else if (n > 1 && p[n - 1] == '*') {
		ret->kind = PATTERN_PREFIX;
		ret->text = copy_range(p, n - 1);
	} else {
		ret->kind = PATTERN_EXACT;
		ret->text = copy_range(p, n);
	}
	return ret->text != NULL;
}

static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)**p))
		(*p)++, (*n)--;
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

static bool same_pattern(const struct pattern *a, const struct pattern *b)
{
	return a->kind == b->kind && !strcasecmp(a->text, b->text);
}

// Parses one non-comment line into @r; NULL or what is wrong.
static const char *parse_line(const char *p, size_t n, struct rule *r)
{
	const char *eq = memchr(p, '=', n);
	if (!eq)
		return "no '=' (a rule is Module[!Function]=Owner)";
	const char *left = p, *right = eq + 1;
	size_t left_n = (size_t)(eq - p), right_n = n - left_n - 1;
	trim(&left, &left_n);
	const char *bang = memchr(left, '!', left_n);
	size_t module_n = bang ? (size_t)(bang - left) : left_n;
	if (module_n == 0)
		return "no module name before '=' or '!'";
	if (bang && left_n - module_n - 1 == 0)
		return "no function name after '!'";
	// Spaces in an owner are dropped, as WinDbg does.
	char owner[MAX_LINE];
	size_t owner_n = 0;
	for (size_t i = 0; i < right_n; i++)
		if (!isspace((unsigned char)right[i]))
			owner[owner_n++] = right[i];
	owner[owner_n] = 0;
	if (owner_n == 0)
		return "no owner after '='";
	const char *name = owner;
	r->verdict = BC_TRIAGE_OWNER;
	if (!strcasecmp(owner, "ignore")) {
		r->verdict = BC_TRIAGE_IGNORE;
	} else if (!strncasecmp(owner, "maybe_", 6)) {
		r->verdict = BC_TRIAGE_MAYBE;
		name += 6;
	} else if (!strncasecmp(owner, "last_", 5)) {
		r->verdict = BC_TRIAGE_LAST;
		name += 5;
	}
	if (!*name)
		return "no owner after the maybe_ or last_ prefix";
	bool ok = parse_pattern(left, module_n, &r->module) &&
		  (bang ? parse_pattern(bang + 1, left_n - module_n - 1, &r->function)
			: parse_pattern("*", 1, &r->function));
	r->owner = strdup(name);
	r->written = copy_range(left, left_n);
	return ok && r->owner && r->written ? NULL : "out of memory";
}

static struct bc_error *add_rule(struct bc_triage_rules *rules, struct rule *r)
{
	// The same Module!Function again (a user's file over the defaults): replace.
	for (size_t i = 0; i < rules->count; i++) {
		struct rule *old = &rules->rules[i];
		if (same_pattern(&old->module, &r->module) &&
		    same_pattern(&old->function, &r->function)) {
			rule_free(old);
			*old = *r;
			return NULL;
		}
	}
	if (rules->count == MAX_RULES)
		return bc_error_create(BC_ERR_FORMAT, "triage rules: more than %d rules", MAX_RULES);
	if (rules->count == rules->cap) {
		size_t cap = rules->cap ? rules->cap * 2 : 64;
		struct rule *p = realloc(rules->rules, cap * sizeof(*p));
		if (!p)
			return &bc_enomem;
		rules->rules = p;
		rules->cap = cap;
	}
	rules->rules[rules->count++] = *r;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_triage_rules_add(struct bc_triage_rules *rules, const char *text,
					       size_t size, const char *what)
{
	char **sources = realloc(rules->sources, (rules->source_count + 1) * sizeof(*sources));
	if (!sources)
		return &bc_enomem;
	rules->sources = sources;
	char *source = strdup(what ? what : "triage rules");
	if (!source)
		return &bc_enomem;
	size_t source_index = rules->source_count;
	rules->sources[rules->source_count++] = source;
	unsigned line = 0;
	for (size_t at = 0; at < size;) {
		const char *p = text + at;
		const char *nl = memchr(p, '\n', size - at);
		size_t n = nl ? (size_t)(nl - p) : size - at;
		at += n + 1;
		line++;
		trim(&p, &n);
		if (n == 0 || p[0] == ';' || p[0] == '#' || p[0] == '[')
			continue;  // blank, comment, or an ini section header
		if (n >= MAX_LINE)
			return bc_error_create(BC_ERR_FORMAT, "%s line %u: longer than %d bytes",
					       source, line, MAX_LINE);
		if (memchr(p, 0, n))
			return bc_error_create(BC_ERR_FORMAT, "%s line %u: a NUL byte", source, line);
		struct rule r = { .line = line, .source = source_index };
		const char *problem = parse_line(p, n, &r);
		if (problem) {
			rule_free(&r);
			if (!strcmp(problem, "out of memory"))
				return &bc_enomem;
			return bc_error_create(BC_ERR_FORMAT, "%s line %u: %s", source, line, problem);
		}
		struct bc_error *err = add_rule(rules, &r);
		if (err) {
			rule_free(&r);
			return err;
		}
	}
	return NULL;
}

BC_PUBLIC struct bc_error *bc_triage_rules_parse(const char *text, size_t size, const char *what,
						 struct bc_triage_rules **ret)
{
	*ret = NULL;
	struct bc_triage_rules *rules = calloc(1, sizeof(*rules));
	if (!rules)
		return &bc_enomem;
	struct bc_error *err = bc_triage_rules_add(rules, text, size, what);
	if (err) {
		bc_triage_rules_free(rules);
		return err;
	}
	*ret = rules;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_triage_rules_default(struct bc_triage_rules **ret)
{
	return bc_triage_rules_parse(bc_triage_default_text, bc_triage_default_text_size,
				     "bugcheck's default triage.ini", ret);
}

// How well @p names @name: 0 no match; else higher is more precise (an exact
// name, then longer prefixes, then anything).
static unsigned pattern_score(const struct pattern *p, const char *name)
{
	size_t n = strlen(p->text);
	switch (p->kind) {
	case PATTERN_ANY:
		return 1;
	case PATTERN_PREFIX:
		if (!name || strncasecmp(name, p->text, n))
			return 0;
		return 2 + (unsigned)(n < MAX_NAME ? n : MAX_NAME);
	case PATTERN_EXACT:
		return name && !strcasecmp(name, p->text) ? 3 + MAX_NAME : 0;
	}
	return 0;
}

BC_PUBLIC void bc_triage_rules_match(const struct bc_triage_rules *rules, const char *module,
				     const char *function, struct bc_triage_match *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!module)
		return;  // a bare address has no owner to look up
	uint64_t best = 0;
	for (size_t i = 0; i < rules->count; i++) {
		const struct rule *r = &rules->rules[i];
		unsigned m = pattern_score(&r->module, module);
		unsigned f = m ? pattern_score(&r->function, function) : 0;
		if (!m || !f)
			continue;
		// A module name match always beats a function name match.
		uint64_t score = (uint64_t)m * 4096 + f;
		if (score < best)
			continue;
		best = score;  // equal scores: the later line (a user's) wins
		ret->verdict = r->verdict;
		ret->owner = r->owner;
		ret->rule = r->written;
		ret->line = r->line;
		ret->source = rules->sources[r->source];
	}
}

BC_PUBLIC size_t bc_triage_blame(const struct bc_triage_rules *rules,
				 const struct bc_triage_frame *frames, size_t count,
				 struct bc_triage_match *match_ret)
{
	size_t maybe = SIZE_MAX, last = SIZE_MAX;
	struct bc_triage_match m, maybe_match = { 0 }, last_match = { 0 };
	for (size_t i = 0; i < count; i++) {
		bc_triage_rules_match(rules, frames[i].module, frames[i].function, &m);
		if (m.verdict == BC_TRIAGE_OWNER) {
			if (match_ret)
				*match_ret = m;
			return i;
		}
		if (m.verdict == BC_TRIAGE_MAYBE && maybe == SIZE_MAX)
			maybe = i, maybe_match = m;
		if (m.verdict == BC_TRIAGE_LAST && last == SIZE_MAX)
			last = i, last_match = m;
	}
	if (match_ret)
		*match_ret = maybe != SIZE_MAX ? maybe_match : last_match;
	return maybe != SIZE_MAX ? maybe : last;
}
