// Symbol commands: .sympath, .reload, x (examine symbols), ln (list nearest).
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const char *skip_blanks(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static void print_sympath(struct bc_session *s)
{
	fputs("Symbol search path is: ", s->out);
	const char *path = bc_target_symbol_path(s->target);
	bc_put_escaped(s->out, *path ? path : "<empty>", 0);
	fputc('\n', s->out);
	struct bc_sympath *sp;
	struct bc_error *err = bc_sympath_parse(path, s->symbol_options.cache_dir, &sp);
	if (err) {
		bc_cmd_print_error(s, ".sympath", err);
		return;
	}
	char *expanded = bc_sympath_render(sp);
	if (expanded && *expanded) {
		fputs("Expanded Symbol search path is: ", s->out);
		bc_put_escaped(s->out, expanded, 0);
		fputc('\n', s->out);
	}
	fprintf(s->out, "Symbol servers: %s\n", s->symbol_options.allow_network
							 ? "allowed (--online)"
							 : "not contacted (offline; --online allows them)");
	free(expanded);
	bc_sympath_free(sp);
}

// .sympath [PATH] sets the path; .sympath+ PATH appends to it.
int cmd_sympath(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	bool append = cmd[strlen(cmd) - 1] == '+';
	if (!*args) {
		print_sympath(s);
		return 0;
	}
	char *path = NULL;
	const char *old = bc_target_symbol_path(s->target);
	if (append && *old) {
		if (asprintf(&path, "%s;%s", old, args) < 0)
			path = NULL;
	} else {
		path = strdup(args);
	}
	if (!path) {
		fputs("out of memory\n", s->out);
		return 1;
	}
	struct bc_symbol_options opt = s->symbol_options;
	opt.symbol_path = path;
	struct bc_error *err = bc_target_set_symbol_options(s->target, &opt);
	free(path);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	print_sympath(s);
	return 0;
}

static const char *state_text(enum bc_symbol_state st)
{
	switch (st) {
	case BC_SYMBOLS_DEFERRED: return "(deferred)";
	case BC_SYMBOLS_PDB: return "(pdb symbols)";
	case BC_SYMBOLS_ISF: return "(isf symbols)";
	case BC_SYMBOLS_EXPORT: return "(export symbols)";
	case BC_SYMBOLS_NONE: return "(no symbols)";
	}
	return "";
}

const char *bc_cmd_symbol_state(enum bc_symbol_state st)
{
	return state_text(st);
}

// .reload [/f] [module]: forget symbols so they are searched again (at once with /f).
int cmd_reload(struct bc_session *s, const char *cmd, const char *args)
{
	bool now = false;
	char module[256] = "";
	const char *p = skip_blanks(args);
	while (*p) {
		size_t n = strcspn(p, " \t");
		if (*p == '/' || *p == '-') {
			for (size_t i = 1; i < n; i++) {
				if (p[i] == 'f')
					now = true;
				else if (p[i] != 'n' && p[i] != 'v' && p[i] != 'i') {
					fputs(".reload: unknown option; usage: .reload [/f] [MODULE]\n",
					      s->out);
					return 1;
				}
			}
		} else {
			if (n >= sizeof(module))
				n = sizeof(module) - 1;
			memcpy(module, p, n);
			module[n] = 0;
			// ".reload /f nt.sys=..." forms name a file: keep the name before '='.
			module[strcspn(module, "=")] = 0;
		}
		p = skip_blanks(p + n);
	}
	struct bc_error *err = bc_target_reload_symbols(s->target, *module ? module : NULL, now);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	if (!now)
		return 0;
	// With /f, say what each module ended with, like WinDbg's load messages.
	for (size_t i = 0; i < bc_target_module_count(s->target); i++) {
		char name[64];
		bc_module_short_name(s->target, i, name, sizeof(name));
		const struct bc_module *m = bc_target_module(s->target, i);
		if (*module && strcasecmp(module, name) && strcasecmp(module, m->name))
			continue;
		const struct bc_module_symbols *ms = bc_target_module_symbols_peek(s->target, i);
		bc_put_escaped(s->out, name, 12);
		fprintf(s->out, " %s", state_text(ms->state));
		if (ms->symbol_file) {
			fputc(' ', s->out);
			bc_put_escaped(s->out, ms->symbol_file, 0);
		}
		if (ms->note && ms->state != BC_SYMBOLS_PDB) {
			fputs("  ", s->out);
			bc_put_escaped(s->out, ms->note, 0);
		}
		fputc('\n', s->out);
	}
	return 0;
}

struct x_print {
	struct bc_session *s;
	const char *module_name;
	uint64_t base;
	size_t shown;
};

enum { X_MAX_SHOWN = 100000 };

static bool x_one(void *arg, const struct bc_symbol *sym)
{
	struct x_print *x = arg;
	char a[24];
	fprintf(x->s->out, "%s   ",
		bc_fmt_ptr(a, x->base + sym->rva, bc_target_info(x->s->target)->pointer_size));
	bc_put_escaped(x->s->out, x->module_name, 0);
	fputc('!', x->s->out);
	bc_put_escaped(x->s->out, sym->name, 0);
	if (sym->forwarder) {
		fputs(" = forwarder to ", x->s->out);
		bc_put_escaped(x->s->out, sym->forwarder, 0);
	}
	fputs(sym->is_function ? " (<no parameter info>)\n" : " = <no type information>\n",
	      x->s->out);
	return ++x->shown < X_MAX_SHOWN;
}

// x module!pattern: symbols matching a WinDbg wildcard, in address order.
int cmd_examine(struct bc_session *s, const char *cmd, const char *args)
{
	args = skip_blanks(args);
	while (*args == '/') {  // x /v, /t ...: accepted, the layout stays the same
		args += strcspn(args, " \t");
		args = skip_blanks(args);
	}
	const char *bang = strchr(args, '!');
	if (!*args || !bang) {
		fputs("usage: x MODULE!PATTERN (e.g. x nt!KeBugCheck*)\n", s->out);
		return 1;
	}
	char module_pattern[256], pattern[512];
	size_t n = (size_t)(bang - args);
	if (n >= sizeof(module_pattern) || strlen(bang + 1) >= sizeof(pattern)) {
		fputs("x: pattern too long\n", s->out);
		return 1;
	}
	memcpy(module_pattern, args, n);
	module_pattern[n] = 0;
	snprintf(pattern, sizeof(pattern), "%s", bang + 1);
	pattern[strcspn(pattern, " \t")] = 0;
	size_t matched_modules = 0, shown = 0;
	for (size_t i = 0; i < bc_target_module_count(s->target); i++) {
		char name[64];
		bc_module_short_name(s->target, i, name, sizeof(name));
		if (!bc_wildcard_match(module_pattern, name))
			continue;
		matched_modules++;
		const struct bc_module_symbols *ms = bc_target_module_symbols(s->target, i);
		if (!ms->symtab) {
			if (strpbrk(module_pattern, "*?"))
				continue;  // a wildcard over modules skips those without symbols
			fputs("x: ", s->out);
			bc_put_escaped(s->out, name, 0);
			fputs(" has no symbols: ", s->out);
			bc_put_escaped(s->out, ms->note ? ms->note : "none found", 0);
			fputc('\n', s->out);
			return 1;
		}
		struct x_print x = { s, name, bc_target_module(s->target, i)->base, shown };
		struct bc_error *err = bc_symtab_each(ms->symtab, *pattern ? pattern : "*", x_one,
						      &x);
		shown = x.shown;
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	if (!matched_modules) {
		fputs("x: no loaded module matches ", s->out);
		bc_put_escaped(s->out, module_pattern, 0);
		fputc('\n', s->out);
		return 1;
	}
	return 0;
}

static void ln_side(struct bc_session *s, uint64_t at, const char *module, const char *name,
		    int64_t delta)
{
	char a[24];
	fprintf(s->out, "(%s)   ", bc_fmt_ptr(a, at, bc_target_info(s->target)->pointer_size));
	bc_put_escaped(s->out, module, 0);
	fputc('!', s->out);
	bc_put_escaped(s->out, name, 0);
	if (delta > 0)
		fprintf(s->out, "+0x%" PRIx64, (uint64_t)delta);
	else if (delta < 0)
		fprintf(s->out, "-0x%" PRIx64, (uint64_t)-delta);
}

// ln ADDRESS: the nearest symbols before and after an address.
int cmd_list_nearest(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t address;
	args = skip_blanks(args);
	if (!*args) {
		if (!s->has_context) {
			fputs("usage: ln ADDRESS\n", s->out);
			return 1;
		}
		address = bc_context_pc(&s->context);
	} else {
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &address);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
	}
	struct bc_address_symbol a;
	bc_target_describe_address(s->target, address, &a);
	if (!a.module) {
		char buf[24];
		fprintf(s->out, "ln: %s is not in any loaded module\n",
			bc_fmt_ptr(buf, address, bc_target_info(s->target)->pointer_size));
		return 1;
	}
	size_t index = (size_t)(a.module - bc_target_module(s->target, 0));
	const struct bc_module_symbols *ms = bc_target_module_symbols(s->target, index);
	if (!a.symbol || !ms->symtab) {
		char label[128];
		bc_target_format_address(s->target, address, label, sizeof(label));
		char buf[24];
		fprintf(s->out, "(%s)   ",
			bc_fmt_ptr(buf, address, bc_target_info(s->target)->pointer_size));
		bc_put_escaped(s->out, label, 0);
		fprintf(s->out, "   %s\n", state_text(ms->state));
		return 0;
	}
	ln_side(s, a.symbol_address, a.module_name, a.symbol, (int64_t)a.displacement);
	struct bc_symbol next;
	if (!bc_symtab_lookup_next(ms->symtab, address - a.module->base, &next)) {
		uint64_t next_address = a.module->base + next.rva;
		fputs("   |  ", s->out);
		ln_side(s, next_address, a.module_name, next.name,
			-(int64_t)(next_address - address));
	}
	fputc('\n', s->out);
	if (a.displacement == 0) {
		fputs("Exact matches:\n    ", s->out);
		bc_put_escaped(s->out, a.module_name, 0);
		fputc('!', s->out);
		bc_put_escaped(s->out, a.symbol, 0);
		fputs(" (<no parameter info>)\n", s->out);
	}
	return 0;
}
