// FrameData program strings (unwind/x86_frame_program.h). The token set
// follows Breakpad's and Microsoft's documented usage (UNWIND_AND_SYMBOLS.md
// 3.3); the numeric register names ($20 = ebx ...) are CodeView register
// numbers, found in real PDBs written by LLVM's linker.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unwind/x86_frame_program.h"

static const struct {
	const char *name;
	enum bc_x86_var var;
} names[] = {
	{ "$eip", BC_X86_EIP },
	{ "$esp", BC_X86_ESP },
	{ "$ebp", BC_X86_EBP },
	{ "$ebx", BC_X86_EBX },
	{ "$esi", BC_X86_ESI },
	{ "$edi", BC_X86_EDI },
	{ "$eax", BC_X86_EAX },
	{ "$ecx", BC_X86_ECX },
	{ "$edx", BC_X86_EDX },
	{ "$L", BC_X86_L },
	{ "$P", BC_X86_P },
	{ ".raSearch", BC_X86_RA_SEARCH },
	{ ".raSearchStart", BC_X86_RA_SEARCH_START },
	{ ".cbLocals", BC_X86_CB_LOCALS },
	{ ".cbParams", BC_X86_CB_PARAMS },
	{ ".cbSavedRegs", BC_X86_CB_SAVED_REGS },
	{ ".cbCalleeParams", BC_X86_CB_CALLEE_PARAMS },
	// CodeView register numbers (cvinfo.h CV_REG_EAX = 17 ... CV_REG_EDI = 24, CV_REG_EIP = 33).
	{ "$17", BC_X86_EAX },
	{ "$18", BC_X86_ECX },
	{ "$19", BC_X86_EDX },
	{ "$20", BC_X86_EBX },
	{ "$21", BC_X86_ESP },
	{ "$22", BC_X86_EBP },
	{ "$23", BC_X86_ESI },
	{ "$24", BC_X86_EDI },
	{ "$33", BC_X86_EIP },
};

void bc_x86_program_set(struct bc_x86_program_vars *v, enum bc_x86_var var, uint32_t value)
{
	v->value[var] = value;
	v->defined |= 1u << var;
}

static bool lookup_var(const char *tok, enum bc_x86_var *ret)
{
	if (tok[0] == '$' && tok[1] == 'T' && tok[2] >= '0' && tok[2] <= '9' && !tok[3]) {
		*ret = (enum bc_x86_var)(BC_X86_T0 + (tok[2] - '0'));
		return true;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(tok, names[i].name)) {
			*ret = names[i].var;
			return true;
		}
	}
	return false;
}

static bool parse_number(const char *tok, uint32_t *ret)
{
	int base = 10;
	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X') && tok[2]) {
		base = 16;
		tok += 2;
	}
	uint64_t v = 0;
	for (; *tok; tok++) {
		int d;
		if (*tok >= '0' && *tok <= '9')
			d = *tok - '0';
		else if (base == 16 && *tok >= 'a' && *tok <= 'f')
			d = *tok - 'a' + 10;
		else if (base == 16 && *tok >= 'A' && *tok <= 'F')
			d = *tok - 'A' + 10;
		else
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > UINT32_MAX)
			return false;
	}
	*ret = (uint32_t)v;
	return true;
}

// A stack entry: a value, or a variable not read yet (the left side of '=').
struct item {
	bool is_var;
	enum bc_x86_var var;
	uint32_t value;
};

struct machine {
	struct item stack[BC_X86_PROGRAM_MAX_DEPTH];
	size_t depth;
	struct bc_x86_program_vars *vars;
	const char *program;
};

static struct bc_error *bad(const struct machine *m, const char *tok, const char *why)
{
	return bc_error_format(UINT64_MAX, "frame program \"%.120s\": %s at \"%s\"", m->program, why,
			       tok);
}

static struct bc_error *value_of(const struct machine *m, const struct item *it, const char *tok,
				 uint32_t *ret)
{
	if (!it->is_var) {
		*ret = it->value;
		return NULL;
	}
	if (!(m->vars->defined & (1u << it->var)))
		return bad(m, tok, "a variable is read before it is set");
	*ret = m->vars->value[it->var];
	return NULL;
}

static struct bc_error *binary(struct machine *m, const char *tok, char op)
{
	if (m->depth < 2)
		return bad(m, tok, "an operator lacks operands");
	uint32_t a = 0, b = 0;
	struct bc_error *err = value_of(m, &m->stack[m->depth - 2], tok, &a);
	if (!err)
		err = value_of(m, &m->stack[m->depth - 1], tok, &b);
	if (err)
		return err;
	uint32_t r;
	switch (op) {
	case '+': r = a + b; break;
	case '-': r = a - b; break;
	case '*': r = a * b; break;
	case '/':
	case '%':
		if (!b)
			return bad(m, tok, "division by zero");
		r = op == '/' ? a / b : a % b;
		break;
	default:  // '@': align down; only a power of two is an alignment
		if (!b || (b & (b - 1)))
			return bad(m, tok, "alignment is not a power of two");
		r = a & ~(b - 1);
		break;
	}
	m->depth--;
	m->stack[m->depth - 1] = (struct item){ .value = r };
	return NULL;
}

static struct bc_error *step(struct machine *m, const char *tok, bc_x86_read32_fn *read, void *arg)
{
	if (!tok[1] && strchr("+-*/%@", tok[0]))
		return binary(m, tok, tok[0]);
	if (!strcmp(tok, "^")) {
		if (!m->depth)
			return bad(m, tok, "nothing to dereference");
		uint32_t address = 0, v = 0;
		struct bc_error *err = value_of(m, &m->stack[m->depth - 1], tok, &address);
		if (!err)
			err = read(arg, address, &v);
		if (err)
			return err;
		m->stack[m->depth - 1] = (struct item){ .value = v };
		return NULL;
	}
	if (!strcmp(tok, "=")) {
		if (m->depth < 2)
			return bad(m, tok, "an assignment lacks operands");
		const struct item *dst = &m->stack[m->depth - 2];
		uint32_t v = 0;
		struct bc_error *err = value_of(m, &m->stack[m->depth - 1], tok, &v);
		if (err)
			return err;
		if (!dst->is_var)
			return bad(m, tok, "assignment to a value");
		bc_x86_program_set(m->vars, dst->var, v);
		m->vars->assigned |= 1u << dst->var;
		m->depth -= 2;
		return NULL;
	}
	if (m->depth == BC_X86_PROGRAM_MAX_DEPTH)
		return bad(m, tok, "too deep");
	struct item it = { 0 };
	if (lookup_var(tok, &it.var))
		it.is_var = true;
	else if (!parse_number(tok, &it.value))
		return bad(m, tok, "unknown token");
	m->stack[m->depth++] = it;
	return NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct bc_error *bc_x86_program_run(const char *program, struct bc_x86_program_vars *vars,
				    bc_x86_read32_fn *read, void *arg)
{
	struct machine m = { .vars = vars, .program = program };
	size_t tokens = 0;
	const char *p = program;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		size_t n = 0;
		while (p[n] && !is_space(p[n]))
			n++;
		char tok[BC_X86_PROGRAM_MAX_TOKEN + 1];
		if (n > BC_X86_PROGRAM_MAX_TOKEN)
			return bc_error_format(UINT64_MAX, "frame program \"%.120s\": a token of %zu "
					       "characters", program, n);
		if (++tokens > BC_X86_PROGRAM_MAX_TOKENS)
			return bc_error_format(UINT64_MAX, "frame program \"%.120s\": more than %d "
					       "tokens", program, BC_X86_PROGRAM_MAX_TOKENS);
		memcpy(tok, p, n);
		tok[n] = 0;
		p += n;
		struct bc_error *err = step(&m, tok, read, arg);
		if (err)
			return err;
	}
	if (m.depth)
		return bc_error_format(UINT64_MAX, "frame program \"%.120s\": %zu values left over",
				       program, m.depth);
	return NULL;
}
