// Vergilius Project kernel layouts as a struct bc_symtab (bugcheck/vergilius.h).
//
// The files are YAML written by one generator, in a fixed shape:
//
//   buildnumber: 6.1.7601.17514        header keys at indent 0
//   arch: x86
//   types:
//     -                                one type per "-" at indent 2
//       name: _KTHREAD                 its keys at indent 4
//       id: 209
//       kind: STRUCT                   STRUCT UNION BASE POINTER ARRAY ENUM FUNCTION
//       sizeof: 512
//       data:
//         -                            one member per "-" at indent 6
//           name: Alertable:1          its keys at indent 8; ":1" makes a bitfield
//           id: 4
//           offset: 60
//           ordinal: 16
//
// What a member means depends on the type's kind: a pointer's single member
// ("pointee") names the target, an array's ("element") the element type with
// the element count as its "offset", an enum's members are the constants with
// their values as "offset", a function's the return and parameter types.
// Anonymous unions and structures are flattened into their parent (their
// members appear at the parent's level, overlapping), and bitfields carry no
// bit position: a bitfield starts where the previous bitfield at the same
// offset ended, or at bit 0.
//
// Only that subset is accepted (no quoting, flow collections, anchors, tabs),
// every number is range-checked and every count capped. The parsed types are
// translated into a Volatility ISF document in memory and opened by the ISF
// reader (sym/isf.c), so lookups, `dt` and kernel fields behave the same.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/vergilius.h"
#include "sym/isf_file.h"
#include "sym/symtab_private.h"

enum {
	MAX_TYPES = 1 << 20,           ///< "-" entries under types: (the largest file has ~3,800)
	MAX_MEMBERS = 1 << 22,         ///< members of all types together (largest: ~21,000)
	MAX_TYPE_MEMBERS = 1 << 16,    ///< members of one type
	MAX_ID = 1 << 24,              ///< type ids are small sequential numbers
	MAX_NAME = 255,
	MAX_DESCRIPTOR_DEPTH = 32,     ///< pointer to array of pointer to ...
};

enum vg_kind {
	VG_NONE = 0,
	VG_STRUCT,
	VG_UNION,
	VG_BASE,
	VG_POINTER,
	VG_ARRAY,
	VG_ENUM,
	VG_FUNCTION,
};

struct vg_member {
	const char *name;     ///< NULL when the file gives none (function parameters)
	uint32_t id;
	int64_t offset;       ///< bytes; an array's count; an enum constant's value
	unsigned line;
	bool has_id, has_offset;
};

struct vg_type {
	const char *name;     ///< NULL or "" when anonymous
	uint32_t id;
	enum vg_kind kind;
	uint64_t size;
	bool is_const, is_volatile;
	bool has_id, has_size, has_data;
	size_t first_member, member_count;
	unsigned line;
};

struct vg_parse {
	const char *what;
	struct vg_type *types;
	size_t type_count, type_capacity;
	struct vg_member *members;
	size_t member_count, member_capacity;
	struct bc_vergilius_info info;
	bool has_build, has_arch, in_types;
	// Translation state.
	uint32_t *index_of_id;   ///< id -> type index + 1 (0: no such id)
	uint32_t id_limit;
	json_t **descriptors;    ///< per type index: its ISF descriptor, once made
	uint8_t *visiting;       ///< per type index: being described (cycle check)
	unsigned pointer_size;
};

static struct bc_error *line_error(const struct vg_parse *p, unsigned line, const char *fmt,
				   const char *detail)
{
	char message[256];
	snprintf(message, sizeof(message), fmt, detail);
	return bc_error_format(UINT64_MAX, "%s: line %u: %s", p->what, line, message);
}

static bool parse_int(const char *text, int64_t min, int64_t max, int64_t *ret)
{
	if (!*text)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || *end || v < min || v > max || end == text ||
	    !((text[0] >= '0' && text[0] <= '9') || text[0] == '-'))
		return false;
	*ret = v;
	return true;
}

static struct bc_error *number(const struct vg_parse *p, unsigned line, const char *key,
			       const char *value, int64_t min, int64_t max, int64_t *ret)
{
	if (parse_int(value, min, max, ret))
		return NULL;
	char detail[160];
	snprintf(detail, sizeof(detail), "%s: \"%.40s\" is not a number in [%lld, %lld]", key, value,
		 (long long)min, (long long)max);
	return line_error(p, line, "%s", detail);
}

static enum vg_kind kind_named(const char *s)
{
	static const struct {
		const char *name;
		enum vg_kind kind;
	} kinds[] = {
		{ "STRUCT", VG_STRUCT }, { "UNION", VG_UNION },   { "BASE", VG_BASE },
		{ "POINTER", VG_POINTER }, { "ARRAY", VG_ARRAY }, { "ENUM", VG_ENUM },
		{ "FUNCTION", VG_FUNCTION },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(s, kinds[i].name))
			return kinds[i].kind;
	return VG_NONE;
}

static struct bc_error *boolean(const struct vg_parse *p, unsigned line, const char *value,
				bool *ret)
{
	if (!strcmp(value, "true") || !strcmp(value, "false")) {
		*ret = value[0] == 't';
		return NULL;
	}
	return line_error(p, line, "\"%.40s\" is not true or false", value);
}

static struct bc_error *parse_header_key(struct vg_parse *p, unsigned line, const char *key,
					 const char *value)
{
	struct bc_vergilius_info *info = &p->info;
	if (!strcmp(key, "types")) {
		if (*value)
			return line_error(p, line, "types: must start a list, not \"%.40s\"", value);
		p->in_types = true;
		return NULL;
	}
	if (!strcmp(key, "buildnumber")) {
		unsigned a, b, c, d;
		int used = 0;
		if (sscanf(value, "%5u.%5u.%7u.%7u%n", &a, &b, &c, &d, &used) != 4 ||
		    (size_t)used != strlen(value) || strlen(value) >= sizeof(info->build))
			return line_error(p, line, "buildnumber \"%.40s\" is not "
				       "major.minor.build.revision", value);
		snprintf(info->build, sizeof(info->build), "%s", value);
		info->major = a;
		info->minor = b;
		info->build_number = c;
		info->revision = d;
		p->has_build = true;
	} else if (!strcmp(key, "arch")) {
		if (!strcmp(value, "x86"))
			info->machine = BC_MACHINE_X86;
		else if (!strcmp(value, "x64"))
			info->machine = BC_MACHINE_X64;
		else
			return line_error(p, line, "arch \"%.40s\" is not x86 or x64", value);
		p->has_arch = true;
	} else if (!strcmp(key, "family")) {
		snprintf(info->family, sizeof(info->family), "%.63s", value);
	} else if (!strcmp(key, "timestamp")) {
		int64_t v;
		struct bc_error *err = number(p, line, key, value, 0, UINT32_MAX, &v);
		if (err)
			return err;
		info->timestamp = (uint64_t)v;
	}
	// osname, oldfamily, oldosname and keys of later generators: descriptive only.
	return NULL;
}

static struct bc_error *parse_type_key(struct vg_parse *p, unsigned line, const char *key,
				       const char *value)
{
	struct vg_type *t = &p->types[p->type_count - 1];
	int64_t v;
	struct bc_error *err = NULL;
	if (t->has_data)
		return line_error(p, line, "type key \"%s\" after the type's data: list", key);
	if (!strcmp(key, "name")) {
		t->name = value;
	} else if (!strcmp(key, "id")) {
		if (!(err = number(p, line, key, value, 1, MAX_ID, &v))) {
			t->id = (uint32_t)v;
			t->has_id = true;
		}
	} else if (!strcmp(key, "kind")) {
		t->kind = kind_named(value);
		if (!t->kind)
			err = line_error(p, line, "unknown kind \"%.40s\"", value);
	} else if (!strcmp(key, "sizeof")) {
		if (!(err = number(p, line, key, value, 0, UINT32_MAX, &v))) {
			t->size = (uint64_t)v;
			t->has_size = true;
		}
	} else if (!strcmp(key, "isConst")) {
		err = boolean(p, line, value, &t->is_const);
	} else if (!strcmp(key, "isVolatile")) {
		err = boolean(p, line, value, &t->is_volatile);
	} else if (!strcmp(key, "data")) {
		if (*value)
			err = line_error(p, line, "data: must start a list, not \"%.40s\"", value);
		t->has_data = true;
		t->first_member = p->member_count;
	} else {
		err = line_error(p, line, "unknown type key \"%.40s\"", key);
	}
	return err;
}

static struct bc_error *parse_member_key(struct vg_parse *p, unsigned line, const char *key,
					 const char *value)
{
	struct vg_member *m = &p->members[p->member_count - 1];
	int64_t v;
	struct bc_error *err = NULL;
	if (!strcmp(key, "name")) {
		m->name = value;
	} else if (!strcmp(key, "id")) {
		if (!(err = number(p, line, key, value, 1, MAX_ID, &v))) {
			m->id = (uint32_t)v;
			m->has_id = true;
		}
	} else if (!strcmp(key, "offset")) {
		// Enum constants are signed 64-bit; structure offsets are checked later.
		if (!(err = number(p, line, key, value, INT64_MIN, INT64_MAX, &v))) {
			m->offset = v;
			m->has_offset = true;
		}
	} else if (!strcmp(key, "ordinal")) {
		err = number(p, line, key, value, 0, MAX_TYPE_MEMBERS, &v);
	} else {
		err = line_error(p, line, "unknown member key \"%.40s\"", key);
	}
	return err;
}

static struct bc_error *check_type_complete(const struct vg_parse *p)
{
	if (!p->type_count)
		return NULL;
	const struct vg_type *t = &p->types[p->type_count - 1];
	const char *missing = !t->has_id ? "id" : !t->kind ? "kind" : !t->has_size ? "sizeof" : NULL;
	if (missing)
		return line_error(p, t->line, "the type starting here has no %s", missing);
	for (size_t i = t->first_member; i < t->first_member + t->member_count; i++) {
		const struct vg_member *m = &p->members[i];
		missing = !m->has_id ? "id" : !m->has_offset ? "offset" : NULL;
		if (missing)
			return line_error(p, m->line, "the member starting here has no %s", missing);
	}
	return NULL;
}

static struct bc_error *grow(void **array, size_t *capacity, size_t count, size_t element,
			     size_t limit, const struct vg_parse *p, unsigned line, const char *what)
{
	if (count < *capacity)
		return NULL;
	if (count >= limit)
		return line_error(p, line, "more than the %s this reader accepts", what);
	size_t cap = *capacity ? *capacity * 2 : 256;
	void *q = realloc(*array, cap * element);
	if (!q)
		return &bc_enomem;
	*array = q;
	*capacity = cap;
	return NULL;
}

static struct bc_error *start_type(struct vg_parse *p, unsigned line)
{
	struct bc_error *err = check_type_complete(p);
	if (!err)
		err = grow((void **)&p->types, &p->type_capacity, p->type_count, sizeof(*p->types),
			   MAX_TYPES, p, line, "1048576 types");
	if (err)
		return err;
	p->types[p->type_count++] = (struct vg_type){ .line = line };
	return NULL;
}

static struct bc_error *start_member(struct vg_parse *p, unsigned line)
{
	struct vg_type *t = p->type_count ? &p->types[p->type_count - 1] : NULL;
	if (!t || !t->has_data)
		return line_error(p, line, "%s", "a member outside a type's data: list");
	if (t->member_count >= MAX_TYPE_MEMBERS)
		return line_error(p, line, "%s", "more than 65536 members in one type");
	struct bc_error *err = grow((void **)&p->members, &p->member_capacity, p->member_count,
				    sizeof(*p->members), MAX_MEMBERS, p, line, "4194304 members");
	if (err)
		return err;
	p->members[p->member_count++] = (struct vg_member){ .line = line };
	t->member_count++;
	return NULL;
}

// Splits "key: value" in place; false when the line is not of that form.
static bool split_key(char *text, char **key, char **value)
{
	char *colon = strchr(text, ':');
	if (!colon || colon == text)
		return false;
	for (char *c = text; c < colon; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	if (colon[1] && colon[1] != ' ')
		return false;
	*colon = '\0';
	*key = text;
	*value = colon[1] ? colon + 2 : colon + 1;
	return true;
}

static struct bc_error *parse_line(struct vg_parse *p, unsigned line, char *text, size_t indent)
{
	if (!strcmp(text, "-")) {
		if (indent == 2 && p->in_types)
			return start_type(p, line);
		if (indent == 6)
			return start_member(p, line);
		return line_error(p, line, "%s", "a list item at an unexpected indentation");
	}
	char *key, *value;
	if (!split_key(text, &key, &value))
		return line_error(p, line, "\"%.60s\" is not \"key: value\"", text);
	if (strlen(value) > MAX_NAME)
		return line_error(p, line, "the value of %s is longer than 255 characters", key);
	for (const char *c = value; *c; c++)
		if (*c < 0x20 || *c > 0x7e)  // the generator writes ASCII identifiers and numbers
			return line_error(p, line, "%s: a character outside printable ASCII", key);
	if (strchr("\"'{[&*!|>%@`#", value[0]) && value[0])
		return line_error(p, line, "%s: quoted or structured YAML values are not supported",
				  key);
	switch (indent) {
	case 0:
		if (p->type_count)
			return line_error(p, line, "header key \"%.40s\" after the types", key);
		return parse_header_key(p, line, key, value);
	case 4:
		if (!p->type_count)
			return line_error(p, line, "type key \"%.40s\" outside a type", key);
		return parse_type_key(p, line, key, value);
	case 8: {
		const struct vg_type *t = p->type_count ? &p->types[p->type_count - 1] : NULL;
		if (!t || !t->member_count ||
		    t->first_member + t->member_count != p->member_count)
			return line_error(p, line, "member key \"%.40s\" outside a member", key);
		return parse_member_key(p, line, key, value);
	}
	default:
		return line_error(p, line, "unexpected indentation of %s spaces",
				  indent == 2 ? "2" : indent == 6 ? "6" : "an odd number of");
	}
}

// Parses @text (NUL-terminated, modified in place: names point into it).
static struct bc_error *parse(struct vg_parse *p, char *text, size_t size)
{
	unsigned line = 0;
	char *pos = text, *end = text + size;
	while (pos < end) {
		char *eol = memchr(pos, '\n', (size_t)(end - pos));
		if (!eol)
			eol = end;
		line++;
		if (memchr(pos, '\0', (size_t)(eol - pos)))
			return line_error(p, line, "%s", "a NUL byte (not a text file)");
		char *stop = eol;
		while (stop > pos && (stop[-1] == '\r' || stop[-1] == ' '))
			stop--;
		*stop = '\0';
		size_t indent = strspn(pos, " ");
		if (pos[indent] == '\t')
			return line_error(p, line, "%s", "a tab in the indentation");
		struct bc_error *err = pos[indent] && pos[indent] != '#'
				       ? parse_line(p, line, pos + indent, indent) : NULL;
		if (err)
			return err;
		pos = eol < end ? eol + 1 : end;
	}
	struct bc_error *err = check_type_complete(p);
	if (err)
		return err;
	if (!p->has_build || !p->has_arch)
		return bc_error_format(0, "%s: not a Vergilius kernel layout (no %s header)", p->what,
				       !p->has_build ? "buildnumber" : "arch");
	if (!p->in_types || !p->type_count)
		return bc_error_format(0, "%s: no types", p->what);
	p->info.type_count = p->type_count;
	return NULL;
}

// ---- Translation into an ISF document ----

static const struct vg_type *type_by_id(const struct vg_parse *p, uint32_t id)
{
	return id < p->id_limit && p->index_of_id[id] ? &p->types[p->index_of_id[id] - 1] : NULL;
}

static struct bc_error *index_ids(struct vg_parse *p)
{
	uint32_t max = 0;
	for (size_t i = 0; i < p->type_count; i++)
		if (p->types[i].id > max)
			max = p->types[i].id;
	p->id_limit = max + 1;
	p->index_of_id = calloc(p->id_limit, sizeof(*p->index_of_id));
	p->descriptors = calloc(p->type_count, sizeof(*p->descriptors));
	p->visiting = calloc(p->type_count, 1);
	if (!p->index_of_id || !p->descriptors || !p->visiting)
		return &bc_enomem;
	for (size_t i = 0; i < p->type_count; i++) {
		const struct vg_type *t = &p->types[i];
		if (p->index_of_id[t->id]) {
			char detail[64];
			snprintf(detail, sizeof(detail), "%u", t->id);
			return line_error(p, t->line, "type id %s is defined twice", detail);
		}
		p->index_of_id[t->id] = (uint32_t)i + 1;
	}
	return NULL;
}

static bool has_name(const struct vg_type *t)
{
	return t->name && *t->name;
}

// The name a struct, union or enum is filed under: its own, or one made
// from its id when the file gives none or one that many types share
// ("<unnamed-tag>", "__unnamed": the compiler's names for anonymous types).
static const char *filed_name(const struct vg_type *t, char *buf, size_t size)
{
	if (has_name(t) && t->name[0] != '<' && strncmp(t->name, "__unnamed", 9))
		return t->name;
	snprintf(buf, size, "<anonymous-%u>", t->id);
	return buf;
}

static struct bc_error *reference_error(const struct vg_parse *p, unsigned line, uint32_t id)
{
	char detail[32];
	snprintf(detail, sizeof(detail), "%u", id);
	return line_error(p, line, "refers to type id %s, which the file does not define", detail);
}

static json_t *named_descriptor(const char *kind, const char *name)
{
	return json_pack("{s:s, s:s}", "kind", kind, "name", name);
}

// The ISF type descriptor of type @id (new reference), built once per type.
static struct bc_error *descriptor(struct vg_parse *p, uint32_t id, unsigned line, int depth,
				   json_t **ret)
{
	const struct vg_type *t = type_by_id(p, id);
	if (!t)
		return reference_error(p, line, id);
	size_t index = (size_t)(t - p->types);
	if (p->descriptors[index]) {
		*ret = json_incref(p->descriptors[index]);
		return NULL;
	}
	if (depth > MAX_DESCRIPTOR_DEPTH || p->visiting[index]) {
		char detail[32];
		snprintf(detail, sizeof(detail), "%u", id);
		return line_error(p, t->line, "type id %s refers to itself through pointers or "
				  "arrays (a cycle)", detail);
	}
	char anonymous[32];
	json_t *d = NULL;
	struct bc_error *err = NULL;
	switch (t->kind) {
	case VG_BASE:
		d = named_descriptor("base", has_name(t) ? t->name : "VOID");
		break;
	case VG_STRUCT:
	case VG_UNION:
		d = named_descriptor(t->kind == VG_UNION ? "union" : "struct",
				     filed_name(t, anonymous, sizeof(anonymous)));
		break;
	case VG_ENUM:
		d = named_descriptor("enum", filed_name(t, anonymous, sizeof(anonymous)));
		break;
	case VG_FUNCTION:
		d = json_pack("{s:s}", "kind", "function");
		break;
	case VG_POINTER:
	case VG_ARRAY: {
		if (t->member_count != 1)
			return line_error(p, t->line, "%s", t->kind == VG_POINTER
					  ? "a pointer needs exactly one member (its pointee)"
					  : "an array needs exactly one member (its element)");
		const struct vg_member *m = &p->members[t->first_member];
		if (t->kind == VG_ARRAY && (m->offset < 0 || m->offset > UINT32_MAX))
			return line_error(p, m->line, "%s", "an array count out of range");
		json_t *sub;
		p->visiting[index] = 1;
		err = descriptor(p, m->id, m->line, depth + 1, &sub);
		p->visiting[index] = 0;
		if (err)
			return err;
		d = t->kind == VG_POINTER
		    ? json_pack("{s:s, s:o}", "kind", "pointer", "subtype", sub)
		    : json_pack("{s:s, s:I, s:o}", "kind", "array", "count", (json_int_t)m->offset,
				"subtype", sub);
		break;
	}
	case VG_NONE:
		break;
	}
	if (!d)
		return &bc_enomem;
	p->descriptors[index] = d;
	*ret = json_incref(d);
	return NULL;
}

// "Alertable:1" -> "Alertable", 1; false when @name has no width suffix.
static bool bitfield_width(const char *name, char *base, size_t size, unsigned *width)
{
	const char *colon = strrchr(name, ':');
	if (!colon || colon == name || !colon[1] || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strlen(colon + 1) > 3 || (size_t)(colon - name) >= size)
		return false;
	memcpy(base, name, (size_t)(colon - name));
	base[colon - name] = '\0';
	*width = (unsigned)atoi(colon + 1);
	return true;
}

struct bit_run {
	int64_t offset;       ///< where the current run of bitfields lives, -1: none
	unsigned used;        ///< bits of it the run's fields took so far
};

static struct bc_error *add_field(struct vg_parse *p, json_t *fields, const struct vg_type *owner,
				  const struct vg_member *m, size_t ordinal, struct bit_run *run)
{
	if (m->offset < 0 || (uint64_t)m->offset > owner->size)
		return line_error(p, m->line, "%s", "a member offset outside its structure");
	char name[MAX_NAME + 1];
	unsigned width = 0;
	bool is_bitfield = m->name && bitfield_width(m->name, name, sizeof(name), &width);
	if (!is_bitfield) {
		if (m->name && *m->name)
			snprintf(name, sizeof(name), "%s", m->name);
		else
			snprintf(name, sizeof(name), "<unnamed-%zu>", ordinal);
	}
	json_t *type;
	struct bc_error *err = descriptor(p, m->id, m->line, 0, &type);
	if (err)
		return err;
	if (is_bitfield) {
		const struct vg_type *underlying = type_by_id(p, m->id);
		uint64_t bits = underlying->size * 8;
		if (width == 0 || width > bits || bits > 64) {
			json_decref(type);
			return line_error(p, m->line, "bitfield \"%.60s\": its width does not fit its "
					  "type", m->name);
		}
		// The run continues while the fields share an offset and still fit.
		if (run->offset != m->offset || run->used + width > bits)
			*run = (struct bit_run){ .offset = m->offset, .used = 0 };
		type = json_pack("{s:s, s:i, s:i, s:o}", "kind", "bitfield", "bit_position",
				 (int)run->used, "bit_length", (int)width, "type", type);
		run->used += width;
		if (!type)
			return &bc_enomem;
	} else {
		run->offset = -1;
	}
	// A repeated name (never seen in real files) keeps its first definition.
	if (json_object_get(fields, name)) {
		json_decref(type);
		return NULL;
	}
	json_t *field = json_pack("{s:I, s:o}", "offset", (json_int_t)m->offset, "type", type);
	if (!field || json_object_set_new(fields, name, field))
		return &bc_enomem;
	return NULL;
}

static struct bc_error *add_user_type(struct vg_parse *p, json_t *user_types,
				      const struct vg_type *t)
{
	char anonymous[32];
	const char *name = filed_name(t, anonymous, sizeof(anonymous));
	if (json_object_get(user_types, name))
		return NULL;  // a struct and a union of one name: the first is kept
	json_t *fields = json_object();
	if (!fields)
		return &bc_enomem;
	struct bit_run run = { .offset = -1 };
	for (size_t i = 0; i < t->member_count; i++) {
		struct bc_error *err = add_field(p, fields, t, &p->members[t->first_member + i], i,
						 &run);
		if (err) {
			json_decref(fields);
			return err;
		}
	}
	json_t *def = json_pack("{s:s, s:I, s:o}", "kind", t->kind == VG_UNION ? "union" : "struct",
				"size", (json_int_t)t->size, "fields", fields);
	if (!def || json_object_set_new(user_types, name, def))
		return &bc_enomem;
	return NULL;
}

static struct bc_error *add_enum(struct vg_parse *p, json_t *enums, const struct vg_type *t)
{
	char anonymous[32];
	const char *name = filed_name(t, anonymous, sizeof(anonymous));
	if (json_object_get(enums, name))
		return NULL;
	json_t *constants = json_object();
	if (!constants)
		return &bc_enomem;
	const char *base = NULL;
	for (size_t i = 0; i < t->member_count; i++) {
		const struct vg_member *m = &p->members[t->first_member + i];
		const struct vg_type *value_type = type_by_id(p, m->id);
		if (!value_type) {
			json_decref(constants);
			return reference_error(p, m->line, m->id);
		}
		if (!base && value_type->kind == VG_BASE && has_name(value_type))
			base = value_type->name;
		if (m->name && *m->name && !json_object_get(constants, m->name) &&
		    json_object_set_new(constants, m->name, json_integer(m->offset))) {
			json_decref(constants);
			return &bc_enomem;
		}
	}
	json_t *def = json_pack("{s:I, s:o}", "size", (json_int_t)t->size, "constants", constants);
	if (def && base && json_object_set_new(def, "base", json_string(base))) {
		json_decref(def);
		return &bc_enomem;
	}
	if (!def || json_object_set_new(enums, name, def))
		return &bc_enomem;
	return NULL;
}

static struct bc_error *add_base(json_t *base_types, const struct vg_type *t)
{
	const char *name = has_name(t) ? t->name : "VOID";
	if (json_object_get(base_types, name))
		return NULL;
	// The generator spells base types as the DDK typedefs: CHAR, UCHAR, WCHAR,
	// SHORT ... ULONGLONG, HRESULT, VOID, float, double.
	const char *kind = !strcmp(name, "VOID") ? "void"
			   : !strcmp(name, "float") || !strcmp(name, "double") ? "float"
			   : !strcmp(name, "CHAR") || !strcmp(name, "WCHAR") ? "char" : "int";
	bool is_signed = name[0] != 'U' && strcmp(name, "WCHAR") && strcmp(name, "VOID");
	json_t *def = json_pack("{s:s, s:I, s:b, s:s}", "kind", kind, "size", (json_int_t)t->size,
				"signed", is_signed, "endian", "little");
	if (!def || json_object_set_new(base_types, name, def))
		return &bc_enomem;
	return NULL;
}

// Whether @a is a better definition of its name than @b. Files repeat a
// name for const and volatile copies, and for some structures also give a
// short partial definition beside the full one (10.0.19041.264-x64 has a
// 376-byte _KPCR next to the 45,184-byte one, whose size Microsoft's PDB
// confirms): unqualified first, then the larger, then the one with more
// members.
static bool better_definition(const struct vg_type *a, const struct vg_type *b)
{
	bool qa = a->is_const || a->is_volatile, qb = b->is_const || b->is_volatile;
	if (qa != qb)
		return !qa;
	if (a->size != b->size)
		return a->size > b->size;
	return a->member_count > b->member_count;
}

// name -> index of the definition each struct, union or enum name stands for.
static struct bc_error *choose_definitions(const struct vg_parse *p, json_t *chosen)
{
	for (size_t i = 0; i < p->type_count; i++) {
		const struct vg_type *t = &p->types[i];
		if (t->kind != VG_STRUCT && t->kind != VG_UNION && t->kind != VG_ENUM)
			continue;
		char anonymous[32];
		const char *name = filed_name(t, anonymous, sizeof(anonymous));
		json_t *best = json_object_get(chosen, name);
		if (best && !better_definition(t, &p->types[json_integer_value(best)]))
			continue;
		if (json_object_set_new(chosen, name, json_integer((json_int_t)i)))
			return &bc_enomem;
	}
	return NULL;
}

static struct bc_error *translate(struct vg_parse *p, json_t **ret)
{
	struct bc_error *err = index_ids(p);
	if (err)
		return err;
	p->pointer_size = p->info.machine == BC_MACHINE_X86 ? 4 : 8;
	json_t *user_types = json_object(), *enums = json_object(), *base_types = json_object();
	json_t *root = json_pack(
		"{s:{s:s, s:{s:{s:i}}}, s:{}, s:o, s:o, s:o}", "metadata", "format", "6.1.0",
		"windows", "pdb", "machine_type", p->info.machine == BC_MACHINE_X86 ? 0x14c : 0x8664,
		"symbols", "user_types", user_types, "enums", enums, "base_types", base_types);
	if (!root)
		return &bc_enomem;
	json_t *pointer = json_pack("{s:s, s:i, s:b, s:s}", "kind", "int", "size",
				    (int)p->pointer_size, "signed", 0, "endian", "little");
	if (!pointer || json_object_set_new(base_types, "pointer", pointer)) {
		json_decref(root);
		return &bc_enomem;
	}
	json_t *chosen = json_object();
	err = chosen ? choose_definitions(p, chosen) : &bc_enomem;
	for (size_t i = 0; i < p->type_count && !err; i++) {
		const struct vg_type *t = &p->types[i];
		char anonymous[32];
		if (t->kind == VG_STRUCT || t->kind == VG_UNION || t->kind == VG_ENUM) {
			json_t *best = json_object_get(chosen, filed_name(t, anonymous,
									  sizeof(anonymous)));
			if (json_integer_value(best) != (json_int_t)i)
				continue;
		}
		if (t->kind == VG_STRUCT || t->kind == VG_UNION)
			err = add_user_type(p, user_types, t);
		else if (t->kind == VG_ENUM)
			err = add_enum(p, enums, t);
		else if (t->kind == VG_BASE)
			err = add_base(base_types, t);
		else if (t->kind == VG_POINTER || t->kind == VG_ARRAY) {
			json_t *d;  // checks the chain (cycles, dangling ids) even if unused
			if (!(err = descriptor(p, t->id, t->line, 0, &d)))
				json_decref(d);
		}
	}
	json_decref(chosen);
	if (err) {
		json_decref(root);
		return err;
	}
	*ret = root;
	return NULL;
}

static void parse_free(struct vg_parse *p)
{
	for (size_t i = 0; p->descriptors && i < p->type_count; i++)
		json_decref(p->descriptors[i]);
	free(p->descriptors);
	free(p->visiting);
	free(p->index_of_id);
	free(p->types);
	free(p->members);
}

// Opens from @text (owned by the caller, modified in place).
static struct bc_error *open_text(char *text, size_t size, const char *what,
				  struct bc_symtab **ret, struct bc_vergilius_info *info)
{
	struct vg_parse p = { .what = what };
	json_t *root = NULL;
	struct bc_error *err = parse(&p, text, size);
	if (!err)
		err = translate(&p, &root);
	struct bc_vergilius_info facts = p.info;
	parse_free(&p);
	if (err)
		return err;
	struct bc_symtab *tab;
	err = bc_isf_open_document(root, what, &tab);
	if (err)
		return err;
	tab->kind = BC_SYMTAB_VERGILIUS;
	*ret = tab;
	if (info)
		*info = facts;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_vergilius_open_memory(const void *text, size_t size,
						    const char *what, struct bc_symtab **ret,
						    struct bc_vergilius_info *info)
{
	if (size > BC_ISF_MAX_TEXT)
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: larger than %d MiB",
				       what ? what : "<memory>", BC_ISF_MAX_TEXT >> 20);
	char *copy = malloc(size + 1);
	if (!copy)
		return &bc_enomem;
	memcpy(copy, text, size);
	copy[size] = '\0';
	struct bc_error *err = open_text(copy, size, what ? what : "<memory>", ret, info);
	free(copy);
	return err;
}

BC_PUBLIC struct bc_error *bc_vergilius_open(const char *path, struct bc_symtab **ret,
					     struct bc_vergilius_info *info)
{
	char *text;
	size_t size;
	struct bc_error *err = bc_isf_read_text(path, &text, &size);
	if (err)
		return err;
	err = open_text(text, size, path, ret, info);
	free(text);
	return err;
}
