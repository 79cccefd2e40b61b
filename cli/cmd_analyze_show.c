// !analyze -show CODE [P1 [P2 [P3 [P4]]]]: what a bug check means, in the
// layout of the head of WinDbg's !analyze -v ("NAME (code)", the explanation,
// "Arguments:", "ArgN: value, meaning"). The meanings come from the library's
// knowledge base (bugcheck/bugcheck_kb.h); !analyze -v (cmd_analyze.c) prints
// the same head through bc_cmd_print_bugcheck_explained().
#include <inttypes.h>
#include <string.h>

#include "bugcheck/bugcheck_kb.h"
#include "bugcheck/symbols.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

// Cuts the next space-separated word of *@rest into @buf; false at the end.
static bool next_word(const char **rest, char *buf, size_t size)
{
	const char *p = *rest + strspn(*rest, " \t");
	size_t n = strcspn(p, " \t");
	*rest = p + n;
	if (!n)
		return false;
	if (n >= size) {  // too long for any value: the caller refuses an empty word
		buf[0] = '\0';
		return true;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

// Prints the value of one parameter, 16 hex digits on 64-bit targets and 8 on
// 32-bit ones, then its meaning; an address inside a loaded image is named
// after it ("(amdppm+0x334c)"), which WinDbg leaves to the reader; a value's
// longer note follows on lines that start with a TAB, as WinDbg continues a
// parameter's text.
static void print_arg(struct bc_session *s, unsigned index, uint64_t value,
		      const struct bc_bugcheck_arg *arg)
{
	const struct bc_dump_info *info = bc_target_info(s->target);
	if (info->pointer_size == 4)
		fprintf(s->out, "Arg%u: %08" PRIx32, index + 1, (uint32_t)value);
	else
		fprintf(s->out, "Arg%u: %016" PRIx64, index + 1, value);
	char text[512];
	bc_bugcheck_arg_text(arg, text, sizeof(text));
	if (*text)
		fprintf(s->out, ", %s", text);
	if (arg->kind == BC_BUGCHECK_ARG_ADDRESS || arg->kind == BC_BUGCHECK_ARG_POINTER) {
		char where[320];
		bc_target_format_address(s->target, value, where, sizeof(where));
		if (*where) {
			fputs(" (", s->out);
			bc_put_escaped(s->out, where, 0);
			fputc(')', s->out);
		}
	}
	fputc('\n', s->out);
	for (const char *note = arg->value_note; note && *note;) {
		size_t n = strcspn(note, "\n");
		fprintf(s->out, "\t%.*s\n", (int)n, note);
		note += n + (note[n] == '\n');
	}
}

int bc_cmd_analyze_show(struct bc_session *s, const char *cmd, const char *rest)
{
	uint64_t values[5] = { 0 };
	char word[256];
	unsigned count = 0;
	while (next_word(&rest, word, sizeof(word))) {
		size_t used;
		struct bc_error *err;
		if (count == 5) {
			fprintf(s->out, "%s: too many values: -show CODE [P1 [P2 [P3 [P4]]]]\n", cmd);
			return 1;
		}
		if (!*word) {
			fprintf(s->out, "%s: value too long\n", cmd);
			return 1;
		}
		err = bc_cmd_eval_prefix(s, word, &used, &values[count]);
		if (!err && word[used])
			err = bc_error_create(BC_ERR_INVALID_ARG, "cannot read \"%s\" as a number",
					      word);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		count++;
	}
	if (!count) {
		fprintf(s->out, "%s: usage: !analyze -show CODE [P1 [P2 [P3 [P4]]]]\n", cmd);
		return 1;
	}
	if (values[0] > UINT32_MAX) {
		fprintf(s->out, "%s: %" PRIx64 " is not a bug check code (32 bits)\n", cmd, values[0]);
		return 1;
	}
	struct bc_bugcheck_kb *kb;
	struct bc_error *err = bc_bugcheck_kb_open(&kb);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	err = bc_cmd_print_bugcheck_explained(s, kb, (uint32_t)values[0], values + 1);
	bc_bugcheck_kb_close(kb);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	return 0;
}

struct bc_error *bc_cmd_print_bugcheck_explained(struct bc_session *s,
						 const struct bc_bugcheck_kb *kb, uint32_t code,
						 const uint64_t *params)
{
	struct bc_bugcheck_info info;
	struct bc_error *err = bc_bugcheck_kb_lookup(kb, code, params, &info);
	if (err)
		return err;
	fprintf(s->out, "%s (%" PRIx32 ")\n%s\nArguments:\n", info.name, info.code, info.explanation);
	for (unsigned i = 0; i < 4; i++)
		print_arg(s, i, params[i], &info.args[i]);
	return NULL;
}
