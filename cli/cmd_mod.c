// lm: list loaded modules (WINDBG_OUTPUT.md section 10).
//
//   lm [k|u] [v] [n] [t] [sm] [m PATTERN] [a ADDRESS]     also attached: lmvm nt, lmntsm
#include <ctype.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "format.h"

struct lm_options {
	bool verbose, kernel_only, user_only, image_names, timestamps, sort_by_name;
	const char *pattern;  ///< points into @storage
	bool has_address;
	uint64_t address;
	char storage[256];
};

static size_t module_index(struct bc_session *s, const struct bc_module *m)
{
	return (size_t)(m - bc_target_module(s->target, 0));
}

static void print_stamp(struct bc_session *s, uint32_t stamp)
{
	char date[BC_FMT_TIME_SIZE];
	switch (bc_target_timestamp_kind(s->target, stamp)) {
	case BC_TIMESTAMP_DATE:
		fprintf(s->out, "%s (%08" PRIX32 ")", bc_fmt_unix_time(date, stamp), stamp);
		break;
	case BC_TIMESTAMP_MAYBE_HASH:
		fprintf(s->out, "%s (%08" PRIX32 ") (or a reproducible-build hash)",
			bc_fmt_unix_time(date, stamp), stamp);
		break;
	case BC_TIMESTAMP_NOT_A_DATE:
		fprintf(s->out, "%08" PRIX32 " (a build hash, not a timestamp)", stamp);
		break;
	}
}

// WinDbg's module name: the image name without its extension; "nt" for the kernel.
static void module_short_name(struct bc_session *s, const struct bc_module *m, char *buf,
			      size_t size)
{
	bc_module_short_name(s->target, module_index(s, m), buf, size);
}

static bool word(const char **p, char *out, size_t size)
{
	while (isspace((unsigned char)**p))
		(*p)++;
	size_t n = strcspn(*p, " \t");
	if (!n || n >= size)
		return false;
	memcpy(out, *p, n);
	out[n] = 0;
	*p += n;
	return true;
}

static int parse_options(struct bc_session *s, const char *opts, struct lm_options *o)
{
	const char *p = opts;
	while (*p) {
		char c = *p++;
		if (isspace((unsigned char)c))
			continue;
		switch (c) {
		case 'v': o->verbose = true; break;
		case 'k': o->kernel_only = true; break;
		case 'u': o->user_only = true; break;
		case 'n': o->image_names = true; break;
		case 't': o->timestamps = true; break;
		case 'o': case 'l': case 'e': case 'f': break;  // no effect without symbols
		case 's':
			if (*p == 'm') {
				p++;
				o->sort_by_name = true;
				break;
			}
			goto bad;
		case 'm': case 'M':
			if (!word(&p, o->storage, sizeof(o->storage)))
				goto bad;
			o->pattern = o->storage;
			break;
		case 'a': {
			char expr[64];
			char *end;
			if (!word(&p, expr, sizeof(expr)))
				goto bad;
			// Plain hex with optional backtick; full expressions come with `?`.
			char digits[64];
			size_t d = 0;
			for (const char *q = expr; *q && d + 1 < sizeof(digits); q++)
				if (*q != '`')
					digits[d++] = *q;
			digits[d] = 0;
			o->address = strtoull(digits, &end, 16);
			if (*end)
				goto bad;
			o->has_address = true;
			break;
		}
		default:
			goto bad;
		}
	}
	return 0;
bad:
	fputs("lm: bad option in \"", s->out);
	bc_put_escaped(s->out, opts, 0);
	fputs("\"; usage: lm[k|u][v][n][t][sm] [m PATTERN] [a ADDRESS]\n", s->out);
	return 1;
}

static bool selected(struct bc_session *s, const struct lm_options *o, const struct bc_module *m)
{
	bool kernel = bc_target_info(s->target)->pointer_size == 8 ? (m->base >> 63) != 0
								    : (m->base & 0x80000000u) != 0;
	if ((o->kernel_only && !kernel) || (o->user_only && kernel))
		return false;
	if (o->has_address && !(o->address >= m->base && o->address - m->base < m->size))
		return false;
	if (o->pattern) {
		char name[128];
		module_short_name(s, m, name, sizeof(name));
		if (fnmatch(o->pattern, name, FNM_CASEFOLD) && fnmatch(o->pattern, m->name, FNM_CASEFOLD))
			return false;
	}
	return true;
}

static void print_verbose(struct bc_session *s, const struct bc_module *m)
{
	FILE *o = s->out;
	const struct bc_module_symbols *ms = bc_target_module_symbols(s->target, module_index(s, m));
	if (ms->symbol_file) {
		fputs(ms->state == BC_SYMBOLS_EXPORT ? "    Loaded symbol image file: "
						     : "    Symbol file: ", o);
		bc_put_escaped(o, ms->symbol_file, 0);
		fputc('\n', o);
	}
	if (ms->note) {
		fputs("    Symbols:          ", o);
		bc_put_escaped(o, ms->note, 0);
		fputc('\n', o);
	}
	fputs("    Image path: ", o);
	bc_put_escaped(o, m->path ? m->path : m->name, 0);
	fputs("\n    Image name: ", o);
	bc_put_escaped(o, m->name, 0);
	fputs("\n    Timestamp:        ", o);
	if (m->has_timestamp)
		print_stamp(s, m->timestamp);
	else
		fputs("unavailable", o);
	fprintf(o, "\n    CheckSum:         %08" PRIX32 "\n    ImageSize:        %08" PRIX64 "\n",
		m->checksum, m->size);
}

static void print_module(struct bc_session *s, const struct lm_options *o, const struct bc_module *m)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	char a[24], b[24], name[128];
	module_short_name(s, m, name, sizeof(name));
	fprintf(s->out, "%s %s   ", bc_fmt_ptr(a, m->base, ps), bc_fmt_ptr(b, m->base + m->size, ps));
	bc_put_escaped(s->out, name, 8);
	fputc(' ', s->out);
	if (o->image_names || o->timestamps) {
		if (o->image_names) {
			bc_put_escaped(s->out, m->name, 12);
			fputc(' ', s->out);
		}
		if (o->timestamps && m->has_timestamp)
			print_stamp(s, m->timestamp);
	} else {
		// lm shows what is loaded; lmv looks (WinDbg's deferred symbols).
		const struct bc_module_symbols *ms =
			o->verbose ? bc_target_module_symbols(s->target, module_index(s, m))
				   : bc_target_module_symbols_peek(s->target, module_index(s, m));
		fprintf(s->out, "  %s", bc_cmd_symbol_state(ms->state));
		if (ms->symbol_file) {
			fputc(' ', s->out);
			bc_put_escaped(s->out, ms->symbol_file, 0);
		}
	}
	fputc('\n', s->out);
	if (o->verbose)
		print_verbose(s, m);
}

static struct bc_session *sort_session;  // qsort has no argument; CLI-only, single-threaded

static int by_address(const void *x, const void *y)
{
	const struct bc_module *a = *(const struct bc_module *const *)x;
	const struct bc_module *b = *(const struct bc_module *const *)y;
	return a->base < b->base ? -1 : a->base > b->base;
}

static int by_name(const void *x, const void *y)
{
	char na[128], nb[128];
	module_short_name(sort_session, *(const struct bc_module *const *)x, na, sizeof(na));
	module_short_name(sort_session, *(const struct bc_module *const *)y, nb, sizeof(nb));
	return strcasecmp(na, nb);
}

static void print_unloaded(struct bc_session *s)
{
	size_t n = bc_target_unloaded_count(s->target);
	unsigned ps = bc_target_info(s->target)->pointer_size;
	if (!n)
		return;
	fputs("\nUnloaded modules:\n", s->out);
	for (size_t k = 0; k < n; k++) {
		const struct bc_unloaded_module *u = bc_target_unloaded(s->target, k);
		char a[24], b[24];
		fprintf(s->out, "%s %s   ", bc_fmt_ptr(a, u->base, ps), bc_fmt_ptr(b, u->end, ps));
		bc_put_escaped(s->out, u->name, 0);
		fputc('\n', s->out);
	}
}

int cmd_lm(struct bc_session *s, const char *cmd, const char *args)
{
	struct lm_options o = { 0 };
	char opts[512];
	snprintf(opts, sizeof(opts), "%s %s", cmd + 2, args);  // "lmvm" + " nt" -> "vm nt"
	if (parse_options(s, opts, &o))
		return 1;
	size_t n = bc_target_module_count(s->target);
	const struct bc_module **list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return 1;
	size_t shown = 0;
	for (size_t k = 0; k < n; k++)
		if (selected(s, &o, bc_target_module(s->target, k)))
			list[shown++] = bc_target_module(s->target, k);
	sort_session = s;
	qsort(list, shown, sizeof(*list), o.sort_by_name ? by_name : by_address);
	unsigned ps = bc_target_info(s->target)->pointer_size;
	fputs(ps == 8 ? "start             end                 module name\n"
		      : "start    end        module name\n", s->out);
	for (size_t k = 0; k < shown; k++)
		print_module(s, &o, list[k]);
	free(list);
	if (!o.pattern && !o.has_address && !o.kernel_only && !o.user_only)
		print_unloaded(s);
	return 0;
}
