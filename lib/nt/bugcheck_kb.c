// The bug check knowledge base: parses the compiled-in data/bugcheck_kb.txt
// and data/ntstatus_names.txt (formats at their top) into a caller-owned
// object and answers lookups from it. The parser trusts nothing: every line is
// checked, counts are capped, and a bad line is refused with its number.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/words.h"
#include "bugcheck/bugcheck_code.h"
#include "nt/bugcheck_kb_private.h"

// The texts tools/embed_text.cmake generates from data/.
extern const char bc_bugcheck_kb_text[];
extern const size_t bc_bugcheck_kb_text_size;
extern const char bc_ntstatus_names_text[];
extern const size_t bc_ntstatus_names_text_size;

// Caps far above the data's size, so a runaway text cannot take all memory.
enum { MAX_ENTRIES = 8192, MAX_CASES = 65536, MAX_STATUSES = 8192, MAX_NAME = 100 };

// Bug check codes with this bit set are the base code's check ("_M" names).
#define BUGCHECK_VARIANT_BIT 0x10000000u

struct kb_arg {
	bool set;
	enum bc_bugcheck_arg_kind kind;
	const char *pointee;
	const char *text;
};

struct kb_case {
	unsigned arg;  // 0-3: the parameter whose value selects this case
	uint64_t value;
	const char *label;
	const char *note;
	struct kb_arg overrides[4];  // what the parameters mean in this case
};

struct kb_entry {
	uint32_t code;
	bool has_same;
	uint32_t same;  // the code whose explanation and parameters apply
	const char *name;
	const char *explanation;
	struct kb_arg args[4];
	size_t first_case, case_count;
	size_t line;  // for messages
};

struct kb_status {
	uint32_t status;
	const char *name;
};

struct bc_bugcheck_kb {
	char *kb_text;  // owned copies, cut into NUL-terminated strings in place
	char *status_text;
	struct kb_entry *entries;
	size_t entry_count, entry_cap;
	struct kb_case *cases;
	size_t case_count, case_cap;
	struct kb_status *statuses;
	size_t status_count, status_cap;
};

static const struct {
	const char *word;
	enum bc_bugcheck_arg_kind kind;
} arg_kinds[] = {
	{ "value", BC_BUGCHECK_ARG_VALUE },       { "address", BC_BUGCHECK_ARG_ADDRESS },
	{ "ntstatus", BC_BUGCHECK_ARG_NTSTATUS }, { "irql", BC_BUGCHECK_ARG_IRQL },
	{ "code", BC_BUGCHECK_ARG_CODE },         { "bits", BC_BUGCHECK_ARG_BITS },
	{ "reserved", BC_BUGCHECK_ARG_RESERVED }, { "unknown", BC_BUGCHECK_ARG_UNKNOWN },
};

// Where the parser is: which file and line, for messages.
struct parse_state {
	struct bc_bugcheck_kb *kb;
	const char *file;
	size_t line;
	size_t line_offset;
	struct kb_entry *entry;  // the entry being filled, or NULL
	struct kb_case *kase;    // its latest case, or NULL
	char *join_end;          // end of the text or note being extended by the next line
	char **join_target;      // which string a following "text"/"note" line extends
	const char *last_keyword;
};

static struct bc_error *line_error(const struct parse_state *ps, const char *what)
{
	return bc_error_format(ps->line_offset, "%s line %zu: %s", ps->file, ps->line, what);
}

// Lines other than "code" and "same" belong to an entry that explains itself.
static struct bc_error *need_own_entry(const struct parse_state *ps, const char *keyword)
{
	if (!ps->entry)
		return bc_error_format(ps->line_offset, "%s line %zu: %s before any code line",
				       ps->file, ps->line, keyword);
	if (ps->entry->has_same)
		return bc_error_format(ps->line_offset,
				       "%s line %zu: %s in an entry that is the same as another",
				       ps->file, ps->line, keyword);
	return NULL;
}

static bool grow(void **array, size_t *cap, size_t count, size_t elem, size_t max)
{
	if (count < *cap)
		return true;
	if (count >= max)
		return false;
	size_t want = *cap ? *cap * 2 : 64;
	if (want > max)
		want = max;
	void *bigger = realloc(*array, want * elem);
	if (!bigger)
		return false;
	*array = bigger;
	*cap = want;
	return true;
}

// "0x1A", "1a": 1 to 16 hex digits.
static bool parse_hex(const char *s, uint64_t *ret)
{
	if (!s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s || strlen(s) > 16)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

// A bug check or status name: capitals, digits and underscores.
static bool is_identifier(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return n > 0 && n <= MAX_NAME;
}

// "1".."4" -> 0..3
static bool parse_arg_number(const char *s, unsigned *ret)
{
	if (!s || s[0] < '1' || s[0] > '4' || s[1])
		return false;
	*ret = (unsigned)(s[0] - '1');
	return true;
}

static bool parse_kind(char *word, struct kb_arg *ret)
{
	if (!strncmp(word, "ptr:", 4)) {
		if (!is_identifier(word + 4))
			return false;
		ret->kind = BC_BUGCHECK_ARG_POINTER;
		ret->pointee = word + 4;
		return true;
	}
	for (size_t i = 0; i < sizeof(arg_kinds) / sizeof(arg_kinds[0]); i++) {
		if (!strcmp(word, arg_kinds[i].word)) {
			ret->kind = arg_kinds[i].kind;
			ret->pointee = NULL;
			return true;
		}
	}
	return false;
}

// Checks that the entry just finished says something.
static struct bc_error *finish_entry(struct parse_state *ps)
{
	struct kb_entry *e = ps->entry;
	if (!e)
		return NULL;
	if (!e->has_same && !e->explanation)
		return bc_error_format(UINT64_MAX, "%s line %zu: %s (%#x) has no text line",
				       ps->file, e->line, e->name, e->code);
	return NULL;
}

// "text" and "note" lines that follow each other form one string of lines:
// the new line's words move down to just after the previous ones. The
// destination is always before the source, and the source's NUL ends it.
static void join_line(struct parse_state *ps, char *words)
{
	size_t n = strlen(words);
	ps->join_end[0] = '\n';
	memmove(ps->join_end + 1, words, n + 1);
	ps->join_end += 1 + n;
}

static struct bc_error *parse_code_line(struct parse_state *ps, char *rest)
{
	struct bc_error *err = finish_entry(ps);
	if (err)
		return err;
	uint64_t code;
	char *code_word = bc_next_word(&rest);
	char *name = bc_next_word(&rest);
	if (!parse_hex(code_word, &code) || code > UINT32_MAX)
		return line_error(ps, "code: expected a 32-bit hex code");
	if (!name || !is_identifier(name) || *rest)
		return line_error(ps, "code: expected one name of capitals, digits and '_'");
	struct bc_bugcheck_kb *kb = ps->kb;
	if (!grow((void **)&kb->entries, &kb->entry_cap, kb->entry_count, sizeof(*kb->entries),
		  MAX_ENTRIES))
		return line_error(ps, "too many entries, or out of memory");
	struct kb_entry *e = &kb->entries[kb->entry_count++];
	memset(e, 0, sizeof(*e));
	e->code = (uint32_t)code;
	e->name = name;
	e->first_case = kb->case_count;
	e->line = ps->line;
	ps->entry = e;
	ps->kase = NULL;
	return NULL;
}

static struct bc_error *parse_arg_line(struct parse_state *ps, char *rest)
{
	struct bc_error *err = need_own_entry(ps, "arg");
	if (err)
		return err;
	unsigned n;
	if (!parse_arg_number(bc_next_word(&rest), &n))
		return line_error(ps, "arg: expected a parameter number 1-4");
	char *kind_word = bc_next_word(&rest);
	struct kb_arg arg = { .set = true, .text = rest };
	if (!kind_word || !parse_kind(kind_word, &arg))
		return line_error(ps, "arg: unknown kind (value, address, ntstatus, irql, code, "
				      "bits, reserved, unknown, ptr:TYPE)");
	struct kb_arg *slot = ps->kase ? &ps->kase->overrides[n] : &ps->entry->args[n];
	if (slot->set)
		return line_error(ps, "arg: this parameter is already described here");
	*slot = arg;
	return NULL;
}

static struct bc_error *parse_case_line(struct parse_state *ps, char *rest)
{
	struct bc_error *err = need_own_entry(ps, "case");
	if (err)
		return err;
	unsigned n;
	uint64_t value;
	if (!parse_arg_number(bc_next_word(&rest), &n))
		return line_error(ps, "case: expected a parameter number 1-4");
	if (!parse_hex(bc_next_word(&rest), &value))
		return line_error(ps, "case: expected a hex value");
	if (!*rest)
		return line_error(ps, "case: expected a label after the value");
	struct bc_bugcheck_kb *kb = ps->kb;
	for (size_t i = ps->entry->first_case; i < kb->case_count; i++)
		if (kb->cases[i].arg == n && kb->cases[i].value == value)
			return line_error(ps, "case: this value is already described");
	if (!grow((void **)&kb->cases, &kb->case_cap, kb->case_count, sizeof(*kb->cases),
		  MAX_CASES))
		return line_error(ps, "too many cases, or out of memory");
	struct kb_case *c = &kb->cases[kb->case_count++];
	memset(c, 0, sizeof(*c));
	c->arg = n;
	c->value = value;
	c->label = rest;
	ps->entry->case_count++;
	ps->kase = c;
	return NULL;
}

static struct bc_error *parse_words_line(struct parse_state *ps, const char *keyword, char *rest)
{
	bool is_text = !strcmp(keyword, "text");
	struct bc_error *err = need_own_entry(ps, keyword);
	if (err)
		return err;
	if (!*rest)
		return line_error(ps, is_text ? "text: empty line" : "note: empty line");
	if (ps->last_keyword && !strcmp(ps->last_keyword, keyword) && ps->join_end) {
		join_line(ps, rest);
		return NULL;
	}
	const char **target;
	if (is_text) {
		if (ps->kase || ps->entry->explanation)
			return line_error(ps, "text lines must follow each other, before any case");
		target = &ps->entry->explanation;
	} else {
		if (!ps->kase || ps->kase->note)
			return line_error(ps, "note must follow its case line");
		target = &ps->kase->note;
	}
	*target = rest;
	ps->join_end = rest + strlen(rest);
	return NULL;
}

static struct bc_error *parse_same_line(struct parse_state *ps, char *rest)
{
	struct kb_entry *e = ps->entry;
	uint64_t code;
	if (!e)
		return line_error(ps, "same before any code line");
	if (e->has_same || e->explanation || e->case_count)
		return line_error(ps, "same must follow its code line directly");
	for (unsigned i = 0; i < 4; i++)
		if (e->args[i].set)
			return line_error(ps, "same must follow its code line directly");
	if (!parse_hex(bc_next_word(&rest), &code) || code > UINT32_MAX || *rest)
		return line_error(ps, "same: expected one 32-bit hex code");
	if (code == e->code)
		return line_error(ps, "same: an entry cannot be the same as itself");
	e->has_same = true;
	e->same = (uint32_t)code;
	return NULL;
}

static struct bc_error *parse_kb_line(struct parse_state *ps, char *line)
{
	char *rest = line;
	char *keyword = bc_next_word(&rest);
	// Decided now: joining a text line moves its words over its own keyword.
	const char *joinable = !strcmp(keyword, "text") ? "text"
			       : !strcmp(keyword, "note") ? "note" : NULL;
	struct bc_error *err;
	if (!strcmp(keyword, "code"))
		err = parse_code_line(ps, rest);
	else if (!strcmp(keyword, "same"))
		err = parse_same_line(ps, rest);
	else if (joinable)
		err = parse_words_line(ps, joinable, rest);
	else if (!strcmp(keyword, "arg"))
		err = parse_arg_line(ps, rest);
	else if (!strcmp(keyword, "case"))
		err = parse_case_line(ps, rest);
	else
		err = line_error(ps, "unknown keyword (code, same, text, arg, case, note)");
	ps->last_keyword = joinable;
	return err;
}

static struct bc_error *parse_status_line(struct parse_state *ps, char *line)
{
	char *rest = line;
	uint64_t status;
	if (!parse_hex(bc_next_word(&rest), &status) || status > UINT32_MAX)
		return line_error(ps, "expected a 32-bit hex status");
	char *name = bc_next_word(&rest);
	if (!name || !is_identifier(name) || *rest)
		return line_error(ps, "expected one name of capitals, digits and '_' after the status");
	struct bc_bugcheck_kb *kb = ps->kb;
	if (!grow((void **)&kb->statuses, &kb->status_cap, kb->status_count,
		  sizeof(*kb->statuses), MAX_STATUSES))
		return line_error(ps, "too many statuses, or out of memory");
	kb->statuses[kb->status_count++] = (struct kb_status){ (uint32_t)status, name };
	return NULL;
}

typedef struct bc_error *line_parser(struct parse_state *ps, char *line);

// Copies @text, cuts it into lines and hands each non-comment line to @parse.
static struct bc_error *parse_lines(struct parse_state *ps, const char *text, size_t size,
				    char **copy_ret, line_parser *parse)
{
	if (size && memchr(text, '\0', size))
		return bc_error_format((uint64_t)((const char *)memchr(text, '\0', size) - text),
				       "%s: a NUL byte in the text", ps->file);
	char *copy = malloc(size + 1);
	if (!copy)
		return &bc_enomem;
	memcpy(copy, text, size);
	copy[size] = '\0';
	*copy_ret = copy;
	char *p = copy;
	ps->line = 0;
	while (*p) {
		char *line = p;
		char *end = strchr(p, '\n');
		p = end ? end + 1 : line + strlen(line);
		if (end)
			*end = '\0';
		ps->line++;
		ps->line_offset = (size_t)(line - copy);
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		const char *first = line + strspn(line, " \t");
		if (!*first || *first == '#') {
			// A comment or blank line ends a run of text lines.
			ps->last_keyword = NULL;
			continue;
		}
		struct bc_error *err = parse(ps, line);
		if (err)
			return err;
	}
	return NULL;
}

static int compare_entries(const void *a, const void *b)
{
	uint32_t x = ((const struct kb_entry *)a)->code, y = ((const struct kb_entry *)b)->code;
	return x < y ? -1 : x > y;
}

static int compare_statuses(const void *a, const void *b)
{
	uint32_t x = ((const struct kb_status *)a)->status, y = ((const struct kb_status *)b)->status;
	return x < y ? -1 : x > y;
}

static const struct kb_entry *find_entry(const struct bc_bugcheck_kb *kb, uint32_t code)
{
	size_t lo = 0, hi = kb->entry_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (kb->entries[mid].code < code)
			lo = mid + 1;
		else if (kb->entries[mid].code > code)
			hi = mid;
		else
			return &kb->entries[mid];
	}
	return NULL;
}

// After parsing: entries sorted and unique, every "same" names a described entry.
static struct bc_error *check_kb(struct bc_bugcheck_kb *kb)
{
	if (!kb->entry_count)
		return bc_error_format(UINT64_MAX, "bugcheck_kb.txt: no entries");
	qsort(kb->entries, kb->entry_count, sizeof(*kb->entries), compare_entries);
	for (size_t i = 1; i < kb->entry_count; i++)
		if (kb->entries[i].code == kb->entries[i - 1].code)
			return bc_error_format(UINT64_MAX,
					       "bugcheck_kb.txt line %zu: code %#x is described twice",
					       kb->entries[i].line, kb->entries[i].code);
	for (size_t i = 0; i < kb->entry_count; i++) {
		const struct kb_entry *e = &kb->entries[i];
		if (!e->has_same)
			continue;
		const struct kb_entry *target = find_entry(kb, e->same);
		if (!target || target->has_same)
			return bc_error_format(UINT64_MAX,
					       "bugcheck_kb.txt line %zu: same %#x: no such described code",
					       e->line, e->same);
	}
	qsort(kb->statuses, kb->status_count, sizeof(*kb->statuses), compare_statuses);
	for (size_t i = 1; i < kb->status_count; i++)
		if (kb->statuses[i].status == kb->statuses[i - 1].status)
			return bc_error_format(UINT64_MAX, "ntstatus_names.txt: %#x is named twice",
					       kb->statuses[i].status);
	return NULL;
}

BC_PUBLIC void bc_bugcheck_kb_close(struct bc_bugcheck_kb *kb)
{
	if (!kb)
		return;
	free(kb->kb_text);
	free(kb->status_text);
	free(kb->entries);
	free(kb->cases);
	free(kb->statuses);
	free(kb);
}

struct bc_error *bc_bugcheck_kb_parse(const char *kb_text, size_t kb_size,
				      const char *status_text, size_t status_size,
				      struct bc_bugcheck_kb **ret)
{
	*ret = NULL;
	struct bc_bugcheck_kb *kb = calloc(1, sizeof(*kb));
	if (!kb)
		return &bc_enomem;
	struct parse_state ps = { .kb = kb, .file = "bugcheck_kb.txt" };
	struct bc_error *err = parse_lines(&ps, kb_text, kb_size, &kb->kb_text, parse_kb_line);
	if (!err)
		err = finish_entry(&ps);
	if (!err) {
		struct parse_state sps = { .kb = kb, .file = "ntstatus_names.txt" };
		err = parse_lines(&sps, status_text, status_size, &kb->status_text,
				  parse_status_line);
	}
	if (!err)
		err = check_kb(kb);
	if (err) {
		bc_bugcheck_kb_close(kb);
		return err;
	}
	*ret = kb;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_bugcheck_kb_open(struct bc_bugcheck_kb **ret)
{
	return bc_bugcheck_kb_parse(bc_bugcheck_kb_text, bc_bugcheck_kb_text_size,
				    bc_ntstatus_names_text, bc_ntstatus_names_text_size, ret);
}

BC_PUBLIC const char *bc_bugcheck_kb_ntstatus_name(const struct bc_bugcheck_kb *kb,
						   uint32_t status)
{
	size_t lo = 0, hi = kb->status_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (kb->statuses[mid].status < status)
			lo = mid + 1;
		else if (kb->statuses[mid].status > status)
			hi = mid;
		else
			return kb->statuses[mid].name;
	}
	return NULL;
}

// A 32-bit value may arrive sign-extended (0xffffffffc0000005 on x64) or
// zero-extended; either way it is the same 32-bit value.
static bool as_32bit(uint64_t v, uint32_t *ret)
{
	if (v >> 32 != 0 && v >> 32 != 0xffffffffu)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool case_matches(const struct kb_case *c, uint64_t v)
{
	uint32_t low;
	return v == c->value || (c->value <= UINT32_MAX && as_32bit(v, &low) && low == c->value);
}

static void copy_arg(const struct kb_arg *from, struct bc_bugcheck_arg *to)
{
	to->kind = from->kind;
	to->pointee = from->pointee;
	to->text = from->text ? from->text : "";  // an undescribed parameter means ""
}

BC_PUBLIC struct bc_error *bc_bugcheck_kb_lookup(const struct bc_bugcheck_kb *kb, uint32_t code,
						 const uint64_t *params,
						 struct bc_bugcheck_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->code = code;
	const struct kb_entry *named = find_entry(kb, code);
	const struct kb_entry *e = named;
	if (!e && (code & BUGCHECK_VARIANT_BIT))
		e = find_entry(kb, code & ~BUGCHECK_VARIANT_BIT);
	else if (e && e->has_same)
		e = find_entry(kb, e->same);
	if (!e || e->has_same)
		return bc_error_create(BC_ERR_NOT_FOUND, "bug check %#x is not in the knowledge base",
				       code);
	ret->described_code = e->code;
	ret->name = named ? named->name : bc_bugcheck_name(code);
	if (!ret->name)
		ret->name = e->name;
	ret->explanation = e->explanation;
	for (unsigned i = 0; i < 4; i++)
		copy_arg(&e->args[i], &ret->args[i]);
	// The first case whose value matches selects the label of its parameter
	// and, where it says so, what the other parameters mean.
	bool selected[4] = { false };
	bool overridden[4] = { false };
	for (size_t k = 0; params && k < e->case_count; k++) {
		const struct kb_case *c = &kb->cases[e->first_case + k];
		if (selected[c->arg] || !case_matches(c, params[c->arg]))
			continue;
		selected[c->arg] = true;
		ret->args[c->arg].value_label = c->label;
		ret->args[c->arg].value_note = c->note;
		for (unsigned i = 0; i < 4; i++) {
			if (c->overrides[i].set && !overridden[i]) {
				copy_arg(&c->overrides[i], &ret->args[i]);
				overridden[i] = true;
			}
		}
	}
	for (unsigned i = 0; params && i < 4; i++) {
		uint32_t status;
		if (ret->args[i].kind == BC_BUGCHECK_ARG_NTSTATUS && !ret->args[i].value_label &&
		    as_32bit(params[i], &status))
			ret->args[i].value_label = bc_bugcheck_kb_ntstatus_name(kb, status);
	}
	return NULL;
}

BC_PUBLIC const char *bc_bugcheck_arg_text(const struct bc_bugcheck_arg *arg, char *buf,
					   size_t size)
{
	if (!size)
		return buf;
	const char *text = arg->text ? arg->text : "";
	const char *label = arg->value_label;
	// A sub-code's name says it all (WinDbg: "Arg1: 0000000000000008, EXCEPTION_DOUBLE_FAULT").
	if (label && (arg->kind == BC_BUGCHECK_ARG_CODE || !*text))
		snprintf(buf, size, "%s", label);
	else if (label)
		snprintf(buf, size, "%s: %s", text, label);
	else
		snprintf(buf, size, "%s", text);
	return buf;
}
