// ?: evaluate an expression (WINDBG_OUTPUT.md section 15), and the
// expression helpers of cmd_expr.h that r and d* share.
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const struct bc_context *session_context(const struct bc_session *s)
{
	return s->has_context ? &s->context : NULL;
}

struct bc_error *bc_cmd_eval_prefix(struct bc_session *s, const char *text, size_t *len_ret,
				    uint64_t *ret)
{
	return bc_expr_eval_prefix(s->target, session_context(s), text, len_ret, ret);
}

void bc_cmd_print_error(struct bc_session *s, const char *cmd, struct bc_error *err)
{
	bc_put_escaped(s->out, cmd, 0);
	fputs(": ", s->out);
	bc_put_escaped(s->out, err->message, 0);
	fputc('\n', s->out);
	bc_error_destroy(err);
}

bool bc_cmd_module_label(struct bc_session *s, uint64_t address, char *buf, size_t size)
{
	bc_target_format_address(s->target, address, buf, size);
	return size && *buf;
}

int cmd_evaluate(struct bc_session *s, const char *cmd, const char *args)
{
	if (!*args) {
		fputs("usage: ? EXPRESSION\n", s->out);
		return 1;
	}
	uint64_t v;
	struct bc_error *err = bc_expr_eval(s->target, session_context(s), args, &v);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	// WinDbg shows the signed decimal and the hex at the target's pointer width.
	if (bc_target_info(s->target)->pointer_size == 4) {
		fprintf(s->out, "Evaluate expression: %" PRId32 " = %08" PRIx32 "\n", (int32_t)v,
			(uint32_t)v);
	} else {
		char hex[20];
		fprintf(s->out, "Evaluate expression: %" PRId64 " = %s\n", (int64_t)v,
			bc_fmt_ptr(hex, v, 8));
	}
	return 0;
}
