// Type names in the C-like spelling WinDbg uses for parameters and locals
// (`kp`, `dv`): "void *", "struct _IRP *", "unsigned int64", "_POOL_TYPE" (enums bare),
// built from any provider's types (bugcheck/symtab.h). `dt` has its own
// spelling ("Ptr64 Void") and does not use this.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bugcheck/symtab.h"

enum { MAX_DEPTH = 12 };

// Appends @s to @buf (cut, never overflowed).
static void put(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);
	if (n + 1 < size)
		snprintf(buf + n, size - n, "%s", s);
}

// 64-bit integers as WinDbg's kp spells them ("unsigned int64 * aTransactionId"
// in real kp output), whatever the provider calls them.
static const char *base_name(const char *name)
{
	static const struct { const char *from, *to; } names[] = {
		{ "__int64", "int64" },           { "unsigned __int64", "unsigned int64" },
		{ "long long", "int64" },         { "unsigned long long", "unsigned int64" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].from))
			return names[i].to;
	return name;
}

static void spell(struct bc_symtab *tab, uint32_t id, char *buf, size_t size, int depth)
{
	const struct bc_type *t;
	struct bc_error *err = depth > MAX_DEPTH ? &bc_not_found : bc_symtab_type(tab, id, &t);
	if (err) {
		bc_error_destroy(err);
		put(buf, size, "<unknown type>");
		return;
	}
	char num[32];
	switch (t->kind) {
	case BC_TYPE_VOID:
		put(buf, size, t->name && *t->name ? t->name : "void");
		return;
	case BC_TYPE_BASE:
		put(buf, size, t->name ? base_name(t->name) : "<base type>");
		return;
	case BC_TYPE_POINTER: {
		const struct bc_type *target;
		struct bc_error *e = bc_symtab_type(tab, t->target_id, &target);
		if (!e && target->kind == BC_TYPE_FUNCTION) {
			put(buf, size, "<function> *");
			return;
		}
		bc_error_destroy(e);
		spell(tab, t->target_id, buf, size, depth + 1);
		// Pointers to pointers read "void **", as WinDbg writes them.
		size_t n = strlen(buf);
		put(buf, size, n && buf[n - 1] == '*' ? "*" : " *");
		return;
	}
	case BC_TYPE_ARRAY:
		spell(tab, t->target_id, buf, size, depth + 1);
		snprintf(num, sizeof(num), " [%" PRIu64 "]", t->count);
		put(buf, size, num);
		return;
	case BC_TYPE_STRUCT: put(buf, size, "struct "); break;
	case BC_TYPE_CLASS: put(buf, size, "class "); break;
	case BC_TYPE_UNION: put(buf, size, "union "); break;
	case BC_TYPE_ENUM: break;  // "host_mode_t mode = apphost (0n2)": no "enum" in kp
	case BC_TYPE_FUNCTION: put(buf, size, "<function>"); return;
	case BC_TYPE_BITFIELD: spell(tab, t->target_id, buf, size, depth + 1); return;
	}
	put(buf, size, t->name && *t->name ? t->name : "<unnamed-tag>");
}

BC_PUBLIC const char *bc_symtab_type_c_name(struct bc_symtab *tab, uint32_t id, char *buf,
					    size_t size)
{
	if (!size)
		return buf;
	buf[0] = 0;
	spell(tab, id, buf, size, 0);
	return buf;
}
