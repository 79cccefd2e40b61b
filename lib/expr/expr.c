// WinDbg MASM expression evaluator: see include/bugcheck/expr.h.
//
// A recursive-descent parser that evaluates as it parses (no tree): one
// function per precedence level, loosest first. Only parentheses and unary
// operators recurse into a deeper level of nesting, so they alone count
// against BC_EXPR_MAX_DEPTH; binary operators of one level loop.
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/expr.h"
#include "bugcheck/symbols.h"

struct parser {
	struct bc_target *target;
	const struct bc_context *ctx;
	const char *text;
	size_t pos;
	unsigned depth;
};

// Longest word we resolve; longer ones are still consumed and then refused.
enum { MAX_WORD = 128 };

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '`';
}

static void skip_blanks(struct parser *p)
{
	while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t')
		p->pos++;
}

// "<what> at column 7 (near "+)"): <detail>". The excerpt is raw input;
// callers that print messages escape them.
static struct bc_error *vlocated_error(const struct parser *p, size_t at, const char *what,
				       const char *fmt, va_list ap)
{
	char detail[192];
	vsnprintf(detail, sizeof(detail), fmt, ap);
	const char *rest = p->text + at;
	if (!*rest)
		return bc_error_create(BC_ERR_INVALID_ARG, "%s at column %zu (end of input): %s",
				       what, at + 1, detail);
	return bc_error_create(BC_ERR_INVALID_ARG, "%s at column %zu (near \"%.16s%s\"): %s", what,
			       at + 1, rest, strlen(rest) > 16 ? "..." : "", detail);
}

BC_PRINTF(4, 5)
static struct bc_error *located_error(const struct parser *p, size_t at, const char *what,
				      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = vlocated_error(p, at, what, fmt, ap);
	va_end(ap);
	return err;
}

BC_PRINTF(3, 4)
static struct bc_error *syntax_error(const struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = vlocated_error(p, at, "syntax error", fmt, ap);
	va_end(ap);
	return err;
}

// Matches the operator @op at the current position (after blanks). Word
// operators ("and", "mod") must not run into a following name ("android").
static bool accept(struct parser *p, const char *op)
{
	skip_blanks(p);
	size_t n = strlen(op);
	const char *s = p->text + p->pos;
	if (isalpha((unsigned char)op[0])) {
		if (strncasecmp(s, op, n) || is_word_char(s[n]))
			return false;
	} else if (strncmp(s, op, n)) {
		return false;
	}
	p->pos += n;
	return true;
}

// Symbol-style operators that must not be mistaken for a longer one: "<" is
// not "<<" or "<=", "=" is not "==" (both mean equality anyway).
static bool accept_exact(struct parser *p, const char *op, const char *not_followed_by)
{
	size_t save = p->pos;
	if (!accept(p, op))
		return false;
	if (p->text[p->pos] && strchr(not_followed_by, p->text[p->pos])) {
		p->pos = save;
		return false;
	}
	return true;
}

static struct bc_error *parse_or(struct parser *p, uint64_t *ret);
static struct bc_error *parse_unary(struct parser *p, uint64_t *ret);

// ---- Primaries: numbers, names, registers, parentheses ----

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return 99;
}

// Parses digits of @radix in word[0..len), skipping backticks (WinDbg's
// digit-group separator). False on a bad digit, no digits or overflow.
static bool parse_digits(const char *word, size_t len, unsigned radix, uint64_t *ret,
			 bool *overflow)
{
	uint64_t v = 0;
	bool any = false;
	*overflow = false;
	for (size_t i = 0; i < len; i++) {
		if (word[i] == '`' && any)
			continue;
		int d = digit_value(word[i]);
		if (d >= (int)radix)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / radix) {
			*overflow = true;
			return false;
		}
		v = v * radix + (uint64_t)d;
		any = true;
	}
	*ret = v;
	return any;
}

// A number word: 0x/0n/0t/0y prefix or the default radix 16. Returns false
// for a word that is not a number (a name, or digits with *overflow set).
static bool word_number(const char *word, size_t len, uint64_t *ret, bool *overflow)
{
	unsigned radix = 16;
	size_t skip = 0;
	if (len >= 2 && word[0] == '0') {
		switch (tolower((unsigned char)word[1])) {
		case 'x': radix = 16; skip = 2; break;
		case 'n': radix = 10; skip = 2; break;
		case 't': radix = 8; skip = 2; break;
		case 'y': radix = 2; skip = 2; break;
		}
	}
	return parse_digits(word + skip, len - skip, radix, ret, overflow);
}

static struct bc_error *read_register(struct parser *p, size_t at, const char *name,
				      uint64_t *ret)
{
	if (!p->ctx || p->ctx->machine == BC_MACHINE_UNKNOWN)
		return located_error(p, at, "cannot resolve", "no register context for '%s'", name);
	// Pseudo-registers that need no debugger session.
	if (!strcasecmp(name, "$ip")) {
		*ret = bc_context_pc(p->ctx);
		return NULL;
	}
	if (!strcasecmp(name, "$csp")) {
		*ret = bc_context_sp(p->ctx);
		return NULL;
	}
	if (!strcasecmp(name, "$ptrsize")) {
		*ret = p->ctx->machine == BC_MACHINE_X86 ? 4 : 8;
		return NULL;
	}
	struct bc_error *err = bc_context_register(p->ctx, name, ret);
	if (err) {
		bc_error_destroy(err);
		return located_error(p, at, "bad register", "%s has no register '%s'",
				     bc_machine_name(p->ctx->machine), name);
	}
	return NULL;
}

// Reads a word (letters, digits, _, $, `) at the current position, and a
// "!symbol" tail when one follows. Returns its length (0: no word).
static size_t scan_word(const struct parser *p, size_t at, bool *has_bang)
{
	size_t n = 0;
	*has_bang = false;
	while (is_word_char(p->text[at + n]))
		n++;
	// "nt!KeBugCheckEx": a '!' followed by a name start belongs to the word ("1!=2" does not).
	if (n && p->text[at + n] == '!' &&
	    (isalpha((unsigned char)p->text[at + n + 1]) || p->text[at + n + 1] == '_')) {
		*has_bang = true;
		n++;
		while (is_word_char(p->text[at + n]))
			n++;
	}
	return n;
}

static struct bc_error *parse_word(struct parser *p, uint64_t *ret)
{
	size_t at = p->pos;
	bool has_bang;
	size_t len = scan_word(p, at, &has_bang);
	const char *word = p->text + at;
	p->pos += len;
	if (len >= MAX_WORD)
		return syntax_error(p, at, "name or number too long (%zu characters)", len);
	char name[MAX_WORD];
	memcpy(name, word, len);
	name[len] = 0;
	if (has_bang) {
		if (!p->target)
			return located_error(p, at, "cannot resolve", "'%s': no target to look "
					     "symbols up in", name);
		struct bc_error *err = bc_target_resolve_symbol(p->target, name, ret);
		if (err && err->code == BC_ERR_NOT_FOUND) {
			struct bc_error *located = located_error(p, at, "cannot resolve", "%s",
								 err->message);
			bc_error_destroy(err);
			return located;
		}
		return err;
	}
	uint64_t v;
	bool overflow;
	if (word_number(word, len, &v, &overflow)) {
		*ret = v;
		return NULL;
	}
	if (overflow)
		return syntax_error(p, at, "number '%s' does not fit in 64 bits", name);
	if (isdigit((unsigned char)word[0]))
		return syntax_error(p, at, "bad number '%s'", name);
	if (p->target) {
		const struct bc_module *m = bc_target_module_named(p->target, name);
		if (m) {
			*ret = m->base;
			return NULL;
		}
	}
	if (p->ctx) {
		if (name[0] == '$')
			return read_register(p, at, name, ret);
		struct bc_error *err = bc_context_register(p->ctx, name, ret);
		if (!err)
			return NULL;
		bc_error_destroy(err);
	}
	// Last, a symbol of any module ("KeBugCheckEx"), as WinDbg allows.
	if (p->target) {
		struct bc_error *err = bc_target_resolve_symbol(p->target, name, ret);
		if (!err)
			return NULL;
		bc_error_destroy(err);
	}
	return located_error(p, at, "cannot resolve", "'%s' is not a number, module%s", name,
			     p->ctx ? ", register or symbol" : " or symbol (and no registers are available)");
}

static struct bc_error *parse_primary(struct parser *p, uint64_t *ret)
{
	skip_blanks(p);
	size_t at = p->pos;
	char c = p->text[at];
	if (c == '(' || c == '[') {
		char close = c == '(' ? ')' : ']';
		if (++p->depth > BC_EXPR_MAX_DEPTH)
			return syntax_error(p, at, "nested more than %d levels deep", BC_EXPR_MAX_DEPTH);
		p->pos++;
		struct bc_error *err = parse_or(p, ret);
		if (err)
			return err;
		skip_blanks(p);
		if (p->text[p->pos] != close)
			return syntax_error(p, p->pos, "expected '%c' to close the '%c' at column %zu",
					    close, c, at + 1);
		p->pos++;
		p->depth--;
		return NULL;
	}
	if (c == '@') {
		p->pos++;
		bool has_bang;
		size_t len = scan_word(p, p->pos, &has_bang);
		if (!len || has_bang || len >= MAX_WORD)
			return syntax_error(p, at, "expected a register name after '@'");
		char name[MAX_WORD];
		memcpy(name, p->text + p->pos, len);
		name[len] = 0;
		p->pos += len;
		return read_register(p, at, name, ret);
	}
	if (is_word_char(c) && c != '`')
		return parse_word(p, ret);
	if (!c)
		return syntax_error(p, at, "expected an expression");
	return syntax_error(p, at, "expected a number, register, module name or '('");
}

// ---- Unary operators ----

static uint64_t sign_extend_32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

static struct bc_error *read_memory(struct parser *p, size_t at, const char *op, unsigned size,
				    uint64_t address, uint64_t *ret)
{
	if (!p->target)
		return located_error(p, at, "cannot evaluate", "%s() needs a dump to read memory", op);
	const struct bc_dump_info *info = bc_target_info(p->target);
	// 32-bit kernels keep addresses sign-extended; "poi(8fb7fad4)" means ffffffff`8fb7fad4.
	if (info->pointer_size == 4)
		address = sign_extend_32(address);
	struct bc_error *err;
	uint64_t v = 0;
	if (size == 0) {
		err = bc_target_read_pointer(p->target, address, &v);
	} else {
		uint8_t b[8] = { 0 };
		err = bc_target_read(p->target, address, b, size);
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)b[i] << (8 * i);
	}
	if (err) {
		struct bc_error *fault = err->code == BC_ERR_FAULT
			? bc_error_fault(err->address, err->fault,
					 "memory access error at column %zu: %s(%#llx): %s", at + 1,
					 op, (unsigned long long)address, err->message)
			: err;
		if (fault != err)
			bc_error_destroy(err);
		return fault;
	}
	*ret = v;
	return NULL;
}

struct unary_op {
	const char *name;
	unsigned read_size;  ///< memory operators: bytes (0: pointer-sized); else unused
	bool reads;
};

static const struct unary_op unary_ops[] = {
	{ "poi", 0, true }, { "by", 1, true }, { "wo", 2, true }, { "dwo", 4, true },
	{ "qwo", 8, true }, { "not", 0, false }, { "hi", 0, false }, { "low", 0, false },
	{ "-", 0, false }, { "+", 0, false },
};

static struct bc_error *parse_unary(struct parser *p, uint64_t *ret)
{
	skip_blanks(p);
	size_t at = p->pos;
	const struct unary_op *op = NULL;
	for (size_t i = 0; i < sizeof(unary_ops) / sizeof(unary_ops[0]) && !op; i++) {
		if (accept(p, unary_ops[i].name))
			op = &unary_ops[i];
	}
	if (!op)
		return parse_primary(p, ret);
	if (++p->depth > BC_EXPR_MAX_DEPTH)
		return syntax_error(p, at, "nested more than %d levels deep", BC_EXPR_MAX_DEPTH);
	uint64_t v;
	struct bc_error *err = parse_unary(p, &v);
	if (err)
		return err;
	p->depth--;
	if (op->reads)
		return read_memory(p, at, op->name, op->read_size, v, ret);
	switch (op->name[0]) {
	case 'n': *ret = v == 0; break;
	case 'h': *ret = (v >> 16) & 0xffff; break;  // MASM: high 16 bits of the low dword
	case 'l': *ret = v & 0xffff; break;
	case '-': *ret = 0 - v; break;
	default: *ret = v; break;
	}
	return NULL;
}

// ---- Binary operators, tightest first ----

static struct bc_error *parse_mul(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_unary(p, ret);
	while (!err) {
		char op;
		if (accept(p, "*"))
			op = '*';
		else if (accept(p, "/"))
			op = '/';
		else if (accept(p, "%") || accept(p, "mod"))
			op = '%';
		else
			break;
		skip_blanks(p);
		size_t at = p->pos;
		uint64_t rhs;
		if ((err = parse_unary(p, &rhs)))
			break;
		if (op != '*' && rhs == 0)
			return located_error(p, at, "division by zero", "the divisor is 0");
		*ret = op == '*' ? *ret * rhs : op == '/' ? *ret / rhs : *ret % rhs;
	}
	return err;
}

static struct bc_error *parse_add(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_mul(p, ret);
	while (!err) {
		bool plus;
		if (accept(p, "+"))
			plus = true;
		else if (accept(p, "-"))
			plus = false;
		else
			break;
		uint64_t rhs;
		if ((err = parse_mul(p, &rhs)))
			break;
		*ret = plus ? *ret + rhs : *ret - rhs;
	}
	return err;
}

static uint64_t shift(uint64_t v, uint64_t n, int kind)
{
	if (kind == '<')
		return n >= 64 ? 0 : v << n;
	uint64_t fill = kind == 'a' && (v >> 63) ? UINT64_MAX : 0;
	if (n >= 64)
		return fill;
	if (n == 0)
		return v;
	return (v >> n) | (fill << (64 - n));
}

static struct bc_error *parse_shift(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_add(p, ret);
	while (!err) {
		int kind;
		if (accept(p, "<<"))
			kind = '<';
		else if (accept(p, ">>>"))
			kind = 'a';
		else if (accept(p, ">>"))
			kind = '>';
		else
			break;
		uint64_t rhs;
		if ((err = parse_add(p, &rhs)))
			break;
		*ret = shift(*ret, rhs, kind);
	}
	return err;
}

static struct bc_error *parse_compare(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_shift(p, ret);
	while (!err) {
		int kind;
		if (accept(p, "==") || accept_exact(p, "=", ""))
			kind = '=';
		else if (accept(p, "!="))
			kind = '!';
		else if (accept(p, "<="))
			kind = 'l';
		else if (accept(p, ">="))
			kind = 'g';
		else if (accept_exact(p, "<", "<"))
			kind = '<';
		else if (accept_exact(p, ">", ">"))
			kind = '>';
		else
			break;
		uint64_t rhs;
		if ((err = parse_shift(p, &rhs)))
			break;
		uint64_t l = *ret;
		*ret = kind == '=' ? l == rhs : kind == '!' ? l != rhs : kind == 'l' ? l <= rhs
		     : kind == 'g' ? l >= rhs : kind == '<' ? l < rhs : l > rhs;
	}
	return err;
}

static struct bc_error *parse_and(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_compare(p, ret);
	while (!err && (accept(p, "and") || accept_exact(p, "&", "&"))) {
		uint64_t rhs;
		if (!(err = parse_compare(p, &rhs)))
			*ret &= rhs;
	}
	return err;
}

static struct bc_error *parse_xor(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_and(p, ret);
	while (!err && (accept(p, "xor") || accept(p, "^"))) {
		uint64_t rhs;
		if (!(err = parse_and(p, &rhs)))
			*ret ^= rhs;
	}
	return err;
}

static struct bc_error *parse_or(struct parser *p, uint64_t *ret)
{
	struct bc_error *err = parse_xor(p, ret);
	while (!err && (accept(p, "or") || accept_exact(p, "|", "|"))) {
		uint64_t rhs;
		if (!(err = parse_xor(p, &rhs)))
			*ret |= rhs;
	}
	return err;
}

BC_PUBLIC struct bc_error *bc_expr_eval_prefix(struct bc_target *target,
					       const struct bc_context *ctx, const char *text,
					       size_t *len_ret, uint64_t *ret)
{
	struct parser p = { .target = target, .ctx = ctx, .text = text };
	uint64_t v;
	struct bc_error *err = parse_or(&p, &v);
	if (err)
		return err;
	// Operator look-ahead skipped blanks it then did not use; they are not the expression's.
	while (p.pos > 0 && (text[p.pos - 1] == ' ' || text[p.pos - 1] == '\t'))
		p.pos--;
	*len_ret = p.pos;
	*ret = v;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_expr_eval(struct bc_target *target, const struct bc_context *ctx,
					const char *text, uint64_t *ret)
{
	struct parser p = { .target = target, .ctx = ctx, .text = text };
	uint64_t v;
	struct bc_error *err = parse_or(&p, &v);
	if (err)
		return err;
	skip_blanks(&p);
	if (text[p.pos]) {
		// Say what could have come instead: ")" alone means an unopened parenthesis.
		if (text[p.pos] == ')' || text[p.pos] == ']')
			return syntax_error(&p, p.pos, "'%c' without a matching opening bracket",
					    text[p.pos]);
		return syntax_error(&p, p.pos, "expected an operator or the end of the expression");
	}
	*ret = v;
	return NULL;
}
