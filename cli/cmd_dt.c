// dt: display a type's layout, or memory read as that type, in WinDbg's layout:
//
//    +0x000 Pcb              : _KPROCESS
//    +0x2e0 UniqueProcessId  : Ptr64 Void                  (type only)
//    +0x2e0 UniqueProcessId  : 0x00000000`00000004 Void    (with an address)
//
// Nested structures expand with -r[N]; enums alone list their values.
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"
#include "bugcheck/vergilius.h"

enum { DT_MAX_DEPTH = 8, DT_MAX_ARRAY_TEXT = 256 };

struct dt {
	struct bc_session *s;
	struct bc_symtab *tab;
	unsigned ptr_size;
	int max_depth;
};

static const struct bc_type *type_of(struct dt *d, uint32_t id)
{
	const struct bc_type *t;
	struct bc_error *err = bc_symtab_type(d->tab, id, &t);
	if (err) {
		bc_error_destroy(err);
		return NULL;
	}
	return t;
}

static const char *base_label(const struct bc_type *t)
{
	if (t->name && (!strcmp(t->name, "bool") || !strcmp(t->name, "_Bool")))
		return "Bool";
	if (t->is_float)
		return "Float";
	if (t->is_char)
		return t->size == 2 ? "Wchar" : t->is_signed ? "Char" : "UChar";
	static const char *const s[] = { "Int1B", "Int2B", NULL, "Int4B", NULL, NULL, NULL, "Int8B" };
	static const char *const u[] = { "Uint1B", "Uint2B", NULL, "Uint4B",
					 NULL, NULL, NULL, "Uint8B" };
	if (t->size >= 1 && t->size <= 8 && s[t->size - 1])
		return t->is_signed ? s[t->size - 1] : u[t->size - 1];
	return t->name ? t->name : "<base>";
}

// The type column without an address: "Ptr64 _DEVICE_OBJECT", "[15] UChar", "Pos 0, 1 Bit".
static void label(struct dt *d, const struct bc_type *t, char *buf, size_t size, int depth)
{
	if (!t || depth > DT_MAX_DEPTH) {
		snprintf(buf, size, "<unknown type>");
		return;
	}
	char inner[256];
	switch (t->kind) {
	case BC_TYPE_VOID: snprintf(buf, size, "Void"); return;
	case BC_TYPE_BASE: snprintf(buf, size, "%s", base_label(t)); return;
	case BC_TYPE_POINTER: {
		const struct bc_type *target = type_of(d, t->target_id);
		if (target && target->kind == BC_TYPE_FUNCTION)
			snprintf(inner, sizeof(inner), "Function");
		else
			label(d, target, inner, sizeof(inner), depth + 1);
		// Long nested labels are cut, never overflowed.
		if (snprintf(buf, size, "Ptr%u %s", t->size == 4 ? 32 : 64, inner) < 0)
			buf[0] = 0;
		return;
	}
	case BC_TYPE_ARRAY:
		label(d, type_of(d, t->target_id), inner, sizeof(inner), depth + 1);
		if (snprintf(buf, size, "[%" PRIu64 "] %s", t->count, inner) < 0)
			buf[0] = 0;
		return;
	case BC_TYPE_BITFIELD:
		snprintf(buf, size, "Pos %u, %u Bit%s", t->bit_position, t->bit_length,
			 t->bit_length == 1 ? "" : "s");
		return;
	case BC_TYPE_FUNCTION: snprintf(buf, size, "Function"); return;
	case BC_TYPE_ENUM:
	case BC_TYPE_STRUCT:
	case BC_TYPE_CLASS:
	case BC_TYPE_UNION:
		snprintf(buf, size, "%s", t->name ? t->name : "<unnamed-tag>");
		return;
	}
	snprintf(buf, size, "<unknown type>");
}

static bool read_unsigned(struct dt *d, uint64_t address, uint64_t size, uint64_t *ret)
{
	uint8_t b[8] = { 0 };
	if (size == 0 || size > 8)
		return false;
	struct bc_error *err = bc_target_read(d->s->target, address, b, (size_t)size);
	if (err) {
		bc_error_destroy(err);
		return false;
	}
	uint64_t v = 0;
	for (uint64_t i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	*ret = v;
	return true;
}

static int64_t sign_extend(uint64_t v, unsigned bits)
{
	if (bits >= 64)
		return (int64_t)v;
	uint64_t m = 1ull << (bits - 1);
	return (int64_t)((v ^ m) - m);
}

static void put_ptr(struct dt *d, uint64_t v)
{
	char buf[24];
	fprintf(d->s->out, "0x%s", bc_fmt_ptr(buf, v, d->ptr_size));
}

static void put_char(FILE *o, uint64_t c)
{
	if (c >= 0x20 && c < 0x7f)
		fprintf(o, " '%c'", (int)c);
}

static void print_enum_value(struct dt *d, const struct bc_type *t, int64_t v)
{
	fprintf(d->s->out, "%" PRId64, v);
	for (size_t i = 0; i < t->enumerator_count; i++) {
		if (t->enumerators[i].value == v) {
			fputs(" ( ", d->s->out);
			bc_put_escaped(d->s->out, t->enumerators[i].name, 0);
			fputs(" )", d->s->out);
			return;
		}
	}
}

// A character array shown as a string: `[15]  "smss.exe"`.
static void print_char_array(struct dt *d, const struct bc_type *array,
			     const struct bc_type *elem, uint64_t address)
{
	size_t unit = elem->size == 2 ? 2 : 1;
	uint64_t count = array->count < DT_MAX_ARRAY_TEXT ? array->count : DT_MAX_ARRAY_TEXT;
	char text[DT_MAX_ARRAY_TEXT * 3 + 1];
	size_t len;
	struct bc_error *err = bc_target_read_string(d->s->target, address, unit == 2,
						     (size_t)count, text, sizeof(text), &len);
	fprintf(d->s->out, "[%" PRIu64 "]  ", array->count);
	if (err) {
		fputs("??", d->s->out);
		bc_error_destroy(err);
		return;
	}
	fputc('"', d->s->out);
	bc_put_escaped(d->s->out, text, 0);
	fputc('"', d->s->out);
}

static void print_fields(struct dt *d, const struct bc_type *t, bool has_address,
			 uint64_t address, int depth);

// The value column for one field at @address.
static void print_value(struct dt *d, const struct bc_type *t, uint64_t address, int depth)
{
	FILE *o = d->s->out;
	uint64_t v;
	char lab[256];
	switch (t->kind) {
	case BC_TYPE_BASE:
		if (t->is_float || !read_unsigned(d, address, t->size, &v)) {
			if (t->is_float && read_unsigned(d, address, t->size, &v)) {
				double f;
				if (t->size == 4) {
					float x;
					uint32_t u = (uint32_t)v;
					memcpy(&x, &u, 4);
					f = x;
				} else {
					memcpy(&f, &v, 8);
				}
				fprintf(o, "%g", f);
			} else {
				fputs("??", o);
			}
			return;
		}
		if (t->is_signed)
			fprintf(o, "0n%" PRId64, sign_extend(v, (unsigned)t->size * 8));
		else
			fprintf(o, "0x%" PRIx64, v);
		if (t->is_char)
			put_char(o, v);
		return;
	case BC_TYPE_BITFIELD: {
		const struct bc_type *base = type_of(d, t->target_id);
		uint64_t size = base ? base->size : (t->bit_position + t->bit_length + 7u) / 8u;
		if (t->bit_length == 0 || t->bit_length > 64 ||
		    t->bit_position + t->bit_length > 64 || !read_unsigned(d, address, size, &v)) {
			fputs("??", o);
			return;
		}
		v >>= t->bit_position;
		fputs("0y", o);
		for (int bit = t->bit_length - 1; bit >= 0; bit--)
			fputc((v >> bit) & 1 ? '1' : '0', o);
		return;
	}
	case BC_TYPE_ENUM:
		if (!read_unsigned(d, address, t->size ? t->size : 4, &v)) {
			fputs("??", o);
			return;
		}
		print_enum_value(d, t, sign_extend(v, (unsigned)(t->size ? t->size : 4) * 8));
		return;
	case BC_TYPE_POINTER: {
		if (!read_unsigned(d, address, t->size ? t->size : d->ptr_size, &v)) {
			fputs("??", o);
			return;
		}
		if (t->size == 4)
			v = (uint64_t)(uint32_t)v;
		put_ptr(d, v);
		const struct bc_type *target = type_of(d, t->target_id);
		if (target && target->kind == BC_TYPE_FUNCTION) {
			char sym[256];
			bc_target_format_address(d->s->target, v, sym, sizeof(sym));
			fputs(" ", o);
			bc_put_escaped(o, *sym ? sym : "Function", 0);
			return;
		}
		label(d, target, lab, sizeof(lab), 0);
		fputc(' ', o);
		bc_put_escaped(o, lab, 0);
		return;
	}
	case BC_TYPE_ARRAY: {
		const struct bc_type *elem = type_of(d, t->target_id);
		if (elem && elem->kind == BC_TYPE_BASE && elem->is_char) {
			print_char_array(d, t, elem, address);
			return;
		}
		label(d, elem, lab, sizeof(lab), 0);
		fprintf(o, "[%" PRIu64 "] ", t->count);
		bc_put_escaped(o, lab, 0);
		return;
	}
	case BC_TYPE_STRUCT:
	case BC_TYPE_CLASS:
	case BC_TYPE_UNION: {
		uint64_t flink, blink;
		if (t->name && !strcmp(t->name, "_LIST_ENTRY") &&
		    read_unsigned(d, address, d->ptr_size, &flink) &&
		    read_unsigned(d, address + d->ptr_size, d->ptr_size, &blink)) {
			fputs("[ ", o);
			put_ptr(d, flink);
			fputs(" - ", o);
			put_ptr(d, blink);
			fputs(" ]", o);
		} else {
			bc_put_escaped(o, t->name ? t->name : "<unnamed-tag>", 0);
		}
		if (depth < d->max_depth) {
			fputc('\n', o);
			print_fields(d, t, true, address, depth + 1);
			return;
		}
		return;
	}
	case BC_TYPE_VOID:
	case BC_TYPE_FUNCTION:
		label(d, t, lab, sizeof(lab), 0);
		bc_put_escaped(o, lab, 0);
		return;
	}
}

static void print_fields(struct dt *d, const struct bc_type *t, bool has_address,
			 uint64_t address, int depth)
{
	FILE *o = d->s->out;
	size_t width = 0;
	for (size_t i = 0; i < t->field_count; i++) {
		size_t n = t->fields[i].name ? strlen(t->fields[i].name) : 0;
		if (n > width)
			width = n;
	}
	for (size_t i = 0; i < t->field_count; i++) {
		const struct bc_type_field *f = &t->fields[i];
		const struct bc_type *ft = type_of(d, f->type_id);
		fprintf(o, "%*s+0x%03" PRIx64 " ", 3 + 3 * depth, "", f->offset);
		bc_put_escaped(o, f->name ? f->name : "<unnamed>", (int)width);
		fputs(" : ", o);
		if (!ft) {
			fputs("<unknown type>\n", o);
			continue;
		}
		if (has_address) {
			print_value(d, ft, address + f->offset, depth);
			if ((ft->kind == BC_TYPE_STRUCT || ft->kind == BC_TYPE_CLASS ||
			     ft->kind == BC_TYPE_UNION) && depth < d->max_depth)
				continue;  // print_value already expanded it, with its newline
		} else {
			char lab[256];
			label(d, ft, lab, sizeof(lab), 0);
			bc_put_escaped(o, lab, 0);
			if ((ft->kind == BC_TYPE_STRUCT || ft->kind == BC_TYPE_CLASS ||
			     ft->kind == BC_TYPE_UNION) && depth < d->max_depth && depth < DT_MAX_DEPTH) {
				fputc('\n', o);
				print_fields(d, ft, false, 0, depth + 1);
				continue;
			}
		}
		fputc('\n', o);
	}
}

static void print_enum(struct dt *d, const struct bc_type *t)
{
	for (size_t i = 0; i < t->enumerator_count; i++) {
		fputs("   ", d->s->out);
		bc_put_escaped(d->s->out, t->enumerators[i].name, 0);
		fprintf(d->s->out, " = 0n%" PRId64 "\n", t->enumerators[i].value);
	}
}

// A kernel type ("nt!_KTHREAD" or "_KTHREAD") from the Vergilius layout
// chosen for this dump's kernel (--types), when the kernel has no types of
// its own.
static bool vergilius_type(struct bc_session *s, const char *name, struct bc_symtab **tab_ret,
			   const struct bc_type **ret)
{
	const char *bang = strchr(name, '!');
	if (bang && (bang - name != 2 || strncasecmp(name, "nt", 2)))
		return false;
	struct bc_error *err = bc_target_vergilius_kernel(s->target, tab_ret, NULL);
	if (!err)
		err = bc_symtab_type_by_name(*tab_ret, bang ? bang + 1 : name, ret);
	bc_error_destroy(err);
	return !err;
}

int cmd_dt(struct bc_session *s, const char *cmd, const char *args)
{
	struct dt d = { .s = s, .ptr_size = bc_target_info(s->target)->pointer_size };
	char name[256] = "";
	const char *p = args;
	bool has_address = false;
	uint64_t address = 0;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p == '-') {
			p++;
			if (*p == 'r') {
				p++;
				d.max_depth = isdigit((unsigned char)*p) ? *p++ - '0' : 1;
			} else if (*p == 'v' || *p == 'b') {
				p++;  // accepted for WinDbg habits; the layout is already verbose
			} else {
				fputs("dt: unknown option; usage: dt [-r[N]] [module!]TYPE [ADDRESS]\n",
				      s->out);
				return 1;
			}
			continue;
		}
		if (!*name) {
			size_t n = strcspn(p, " \t");
			if (n >= sizeof(name)) {
				fputs("dt: type name too long\n", s->out);
				return 1;
			}
			memcpy(name, p, n);
			name[n] = 0;
			p += n;
			continue;
		}
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, p, &used, &address);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		has_address = true;
		p += used;
	}
	if (!*name) {
		fputs("usage: dt [-r[N]] [module!]TYPE [ADDRESS]\n", s->out);
		return 1;
	}
	const struct bc_type *t;
	struct bc_error *err = bc_target_find_type(s->target, name, &d.tab, &t, NULL);
	if (err && vergilius_type(s, name, &d.tab, &t)) {
		bc_error_destroy(err);
		err = NULL;
	}
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	if (t->kind == BC_TYPE_ENUM && !has_address) {
		print_enum(&d, t);
		return 0;
	}
	if (t->kind != BC_TYPE_STRUCT && t->kind != BC_TYPE_CLASS && t->kind != BC_TYPE_UNION) {
		fputs("   ", s->out);
		if (has_address)
			print_value(&d, t, address, 0);
		else {
			char lab[256];
			label(&d, t, lab, sizeof(lab), 0);
			bc_put_escaped(s->out, lab, 0);
		}
		fputc('\n', s->out);
		return 0;
	}
	if (d.max_depth > DT_MAX_DEPTH)
		d.max_depth = DT_MAX_DEPTH;
	print_fields(&d, t, has_address, address, 0);
	return 0;
}
