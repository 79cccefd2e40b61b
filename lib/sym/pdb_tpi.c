// PDB type records (the TPI stream) decoded on demand into struct bc_type
// (sym/pdb_private.h). Layout facts: ../shared/docs/UNWIND_AND_SYMBOLS.md 4.5.
//
// The stream is read once on the first type request and its records indexed
// by one pass over their lengths; a type is decoded when asked for and kept.
// Forward references resolve to the definition with the same unique name
// (or name), through a name index built on the first lookup by name.
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "sym/pdb_private.h"

enum {
	STREAM_TPI = 2,
	TPI_HEADER_MIN = 56,
	FIRST_COMPLEX = 0x1000,
	MAX_TYPES = 1 << 22,
	MAX_DEPTH = 16,
	MAX_FIELDS = 1 << 16,
	MAX_FIELD_LISTS = 256,  ///< LF_INDEX continuations followed for one type

	LF_MODIFIER = 0x1001, LF_POINTER = 0x1002, LF_PROCEDURE = 0x1008, LF_MFUNCTION = 0x1009,
	LF_FIELDLIST = 0x1203, LF_BITFIELD = 0x1205, LF_BCLASS = 0x1400, LF_VBCLASS = 0x1401,
	LF_IVBCLASS = 0x1402, LF_INDEX = 0x1404, LF_VFUNCTAB = 0x1409, LF_ENUMERATE = 0x1502,
	LF_ARRAY = 0x1503, LF_CLASS = 0x1504, LF_STRUCTURE = 0x1505, LF_UNION = 0x1506,
	LF_ENUM = 0x1507, LF_MEMBER = 0x150d, LF_STMEMBER = 0x150e, LF_METHOD = 0x150f,
	LF_NESTTYPE = 0x1510, LF_ONEMETHOD = 0x1511, LF_INTERFACE = 0x1519,

	PROP_FWDREF = 0x80, PROP_HAS_UNIQUE_NAME = 0x200,
};

struct tpi_name {
	const char *name;
	uint32_t index;
};

// A little-endian reader over one record, never past its end.
struct rec {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static uint16_t r16(struct rec *r)
{
	if (r->at + 2 > r->len) {
		r->bad = true;
		return 0;
	}
	uint16_t v = bc_le16(r->p + r->at);
	r->at += 2;
	return v;
}

static uint32_t r32(struct rec *r)
{
	if (r->at + 4 > r->len) {
		r->bad = true;
		return 0;
	}
	uint32_t v = bc_le32(r->p + r->at);
	r->at += 4;
	return v;
}

// A numeric leaf: a value below 0x8000 stands for itself, else a tagged number.
static int64_t rnum(struct rec *r)
{
	uint16_t tag = r16(r);
	if (tag < 0x8000)
		return tag;
	size_t n;
	bool sign;
	switch (tag) {
	case 0x8000: n = 1; sign = true; break;   // LF_CHAR
	case 0x8001: n = 2; sign = true; break;   // LF_SHORT
	case 0x8002: n = 2; sign = false; break;  // LF_USHORT
	case 0x8003: n = 4; sign = true; break;   // LF_LONG
	case 0x8004: n = 4; sign = false; break;  // LF_ULONG
	case 0x8009: n = 8; sign = true; break;   // LF_QUADWORD
	case 0x800a: n = 8; sign = false; break;  // LF_UQUADWORD
	default: r->bad = true; return 0;
	}
	if (r->at + n > r->len) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->at + i] << (8 * i);
	r->at += n;
	if (sign && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ull << (8 * n);
	return (int64_t)v;
}

// A NUL-terminated name inside the record ("" when it is not terminated).
static const char *rname(struct rec *r)
{
	if (r->at >= r->len)
		return "";
	const char *s = (const char *)r->p + r->at;
	size_t n = strnlen(s, r->len - r->at);
	if (n == r->len - r->at) {
		r->at = r->len;
		return "";
	}
	r->at += n + 1;
	return s;
}

// Field-list leaves are padded to 4 bytes with 0xF1..0xFF bytes.
static void skip_pad(struct rec *r)
{
	while (r->at < r->len && r->p[r->at] >= 0xf0)
		r->at++;
}

static struct bc_error *tpi_load(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what)
{
	uint8_t *data;
	uint32_t size;
	struct bc_error *err = msf->load(msf->arg, t->stream ? t->stream : STREAM_TPI, &data, &size);
	if (err)
		return err;
	t->data = data;
	t->size = size;
	if (size < TPI_HEADER_MIN)
		return bc_error_format(UINT64_MAX, "%s: the type stream is %u bytes, shorter than its "
				       "header", what, size);
	uint32_t header = bc_le32(data + 4);
	t->begin = bc_le32(data + 8);
	t->end = bc_le32(data + 12);
	if (header < TPI_HEADER_MIN || header > size || t->begin != FIRST_COMPLEX ||
	    t->end < t->begin || t->end - t->begin > MAX_TYPES)
		return bc_error_format(UINT64_MAX, "%s: the type stream header is corrupt (types "
				       "%#x..%#x)", what, t->begin, t->end);
	uint32_t count = t->end - t->begin;
	t->offsets = calloc(count ? count : 1, sizeof(*t->offsets));
	t->types = calloc(count ? count : 1, sizeof(*t->types));
	if (!t->offsets || !t->types)
		return &bc_enomem;
	uint64_t at = header;
	for (uint32_t i = 0; i < count; i++) {
		if (at + 4 > size)
			break;  // fewer records than announced: the rest stay unknown
		uint16_t len = bc_le16(data + at);
		if (len < 2 || at + 2 + len > size)
			break;
		t->offsets[i] = (uint32_t)at;
		at += 2u + len;
	}
	return NULL;
}

static bool record_of(const struct pdb_tpi *t, uint32_t index, uint16_t *kind, struct rec *r)
{
	if (index < t->begin || index >= t->end || !t->offsets[index - t->begin])
		return false;
	uint32_t at = t->offsets[index - t->begin];
	uint16_t len = bc_le16(t->data + at);
	*kind = bc_le16(t->data + at + 2);
	*r = (struct rec){ t->data + at + 4, (size_t)len - 2, 0, false };
	return true;
}

// Simple (built-in) types: index < 0x1000, low byte the kind, bits 8-10 the pointer mode.
static void simple_type(uint32_t index, struct bc_type *ty)
{
	unsigned kind = index & 0xff, mode = (index >> 8) & 7;
	*ty = (struct bc_type){ .id = index, .kind = BC_TYPE_BASE };
	if (mode) {
		ty->kind = BC_TYPE_POINTER;
		ty->size = mode == 4 || mode == 5 ? 4 : mode == 6 ? 8 : mode == 7 ? 16 : 2;
		ty->target_id = kind;
		return;
	}
	static const struct {
		uint8_t kind, size;
		bool sign, chr, flt;
		const char *name;
	} table[] = {
		{ 0x03, 0, false, false, false, "void" }, { 0x08, 4, true, false, false, "HRESULT" },
		{ 0x10, 1, true, true, false, "char" }, { 0x20, 1, false, true, false, "unsigned char" },
		{ 0x68, 1, true, false, false, "__int8" }, { 0x69, 1, false, false, false, "unsigned __int8" },
		{ 0x70, 1, true, true, false, "char" }, { 0x71, 2, false, true, false, "wchar_t" },
		{ 0x7a, 2, false, true, false, "char16_t" }, { 0x7b, 4, false, true, false, "char32_t" },
		{ 0x11, 2, true, false, false, "short" }, { 0x21, 2, false, false, false, "unsigned short" },
		{ 0x72, 2, true, false, false, "__int16" }, { 0x73, 2, false, false, false, "unsigned __int16" },
		{ 0x12, 4, true, false, false, "long" }, { 0x22, 4, false, false, false, "unsigned long" },
		{ 0x74, 4, true, false, false, "int" }, { 0x75, 4, false, false, false, "unsigned int" },
		{ 0x13, 8, true, false, false, "__int64" }, { 0x23, 8, false, false, false, "unsigned __int64" },
		{ 0x76, 8, true, false, false, "__int64" }, { 0x77, 8, false, false, false, "unsigned __int64" },
		{ 0x40, 4, true, false, true, "float" }, { 0x41, 8, true, false, true, "double" },
		{ 0x42, 10, true, false, true, "long double" }, { 0x30, 1, false, false, false, "bool" },
		{ 0x31, 2, false, false, false, "bool" }, { 0x32, 4, false, false, false, "bool" },
		{ 0x33, 8, false, false, false, "bool" },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].kind != kind)
			continue;
		ty->size = table[i].size;
		ty->is_signed = table[i].sign;
		ty->is_char = table[i].chr;
		ty->is_float = table[i].flt;
		ty->name = table[i].name;
		if (kind == 0x03)
			ty->kind = BC_TYPE_VOID;
		return;
	}
	ty->kind = BC_TYPE_VOID;  // an unknown or "no type" index
	ty->name = "<no type>";
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct tpi_name *)a)->name, ((const struct tpi_name *)b)->name);
}

// Names of defined (not forward-declared) structures, unions, classes and enums.
static struct bc_error *build_names(struct pdb_tpi *t)
{
	if (t->names)
		return NULL;
	uint32_t count = t->end - t->begin;
	t->names = malloc((size_t)(count ? count : 1) * 2 * sizeof(*t->names));
	if (!t->names)
		return &bc_enomem;
	for (uint32_t i = t->begin; i < t->end; i++) {
		uint16_t kind;
		struct rec r;
		if (!record_of(t, i, &kind, &r))
			continue;
		uint16_t prop;
		if (kind == LF_CLASS || kind == LF_STRUCTURE || kind == LF_INTERFACE) {
			r16(&r);
			prop = r16(&r);
			r.at += 12;
			rnum(&r);
		} else if (kind == LF_UNION) {
			r16(&r);
			prop = r16(&r);
			r.at += 4;
			rnum(&r);
		} else if (kind == LF_ENUM) {
			r16(&r);
			prop = r16(&r);
			r.at += 8;
		} else {
			continue;
		}
		if (r.bad || (prop & PROP_FWDREF))
			continue;
		const char *name = rname(&r);
		const char *unique = prop & PROP_HAS_UNIQUE_NAME ? rname(&r) : "";
		if (*name)
			t->names[t->name_count++] = (struct tpi_name){ name, i };
		if (*unique)
			t->names[t->name_count++] = (struct tpi_name){ unique, i };
	}
	qsort(t->names, t->name_count, sizeof(*t->names), cmp_name);
	return NULL;
}

static uint32_t find_name(const struct pdb_tpi *t, const char *name)
{
	struct tpi_name key = { name, 0 };
	const struct tpi_name *hit = bsearch(&key, t->names, t->name_count, sizeof(*t->names),
					     cmp_name);
	return hit ? hit->index : 0;
}

static struct bc_error *decode(struct pdb_tpi *t, uint32_t index, int depth,
			       const struct bc_type **ret);

static uint64_t size_of(struct pdb_tpi *t, uint32_t index, int depth)
{
	const struct bc_type *ty;
	struct bc_error *err = decode(t, index, depth + 1, &ty);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	return ty->size;
}

// The members of a structure or the constants of an enum, following LF_INDEX.
static struct bc_error *read_fields(struct pdb_tpi *t, uint32_t list, struct bc_type *ty)
{
	size_t cap = 16, n = 0;
	bool is_enum = ty->kind == BC_TYPE_ENUM;
	void *items = calloc(cap, is_enum ? sizeof(struct bc_type_enumerator)
					  : sizeof(struct bc_type_field));
	if (!items)
		return &bc_enomem;
	for (int hops = 0; list && hops < MAX_FIELD_LISTS; hops++) {
		uint16_t kind;
		struct rec r;
		if (!record_of(t, list, &kind, &r) || kind != LF_FIELDLIST)
			break;
		list = 0;
		while (r.at < r.len && !r.bad && n < MAX_FIELDS) {
			uint16_t leaf = r16(&r);
			const char *name = NULL;
			uint32_t type = 0;
			int64_t value = 0;
			switch (leaf) {
			case LF_MEMBER: r16(&r); type = r32(&r); value = rnum(&r); name = rname(&r); break;
			case LF_ENUMERATE: r16(&r); value = rnum(&r); name = rname(&r); break;
			case LF_BCLASS: r16(&r); r32(&r); rnum(&r); break;
			case LF_VBCLASS: case LF_IVBCLASS: r16(&r); r32(&r); r32(&r); rnum(&r); rnum(&r); break;
			case LF_INDEX: r16(&r); list = r32(&r); break;
			case LF_VFUNCTAB: r16(&r); r32(&r); break;
			case LF_NESTTYPE: r16(&r); r32(&r); rname(&r); break;
			case LF_STMEMBER: r16(&r); r32(&r); rname(&r); break;
			case LF_METHOD: r16(&r); r32(&r); rname(&r); break;
			case LF_ONEMETHOD: {
				uint16_t attr = r16(&r);
				r32(&r);
				unsigned mprop = (attr >> 2) & 7;
				if (mprop == 4 || mprop == 6)  // introducing virtual: a vtable offset follows
					r32(&r);
				rname(&r);
				break;
			}
			default:
				r.bad = true;  // an unknown leaf: its length is unknown, stop here
				continue;
			}
			skip_pad(&r);
			if (!name || r.bad)
				continue;
			if (n == cap) {
				size_t elem = is_enum ? sizeof(struct bc_type_enumerator)
						      : sizeof(struct bc_type_field);
				void *p = realloc(items, cap * 2 * elem);
				if (!p) {
					free(items);
					return &bc_enomem;
				}
				items = p;
				cap *= 2;
			}
			if (is_enum) {
				((struct bc_type_enumerator *)items)[n++] =
					(struct bc_type_enumerator){ name, value };
			} else {
				struct bc_type_field f = { name, (uint64_t)value, type, 0, 0 };
				uint16_t bkind;
				struct rec b;
				if (record_of(t, type, &bkind, &b) && bkind == LF_BITFIELD) {
					r32(&b);
					f.bit_length = b.at < b.len ? b.p[b.at] : 0;
					f.bit_position = b.at + 1 < b.len ? b.p[b.at + 1] : 0;
				}
				((struct bc_type_field *)items)[n++] = f;
			}
		}
	}
	if (is_enum) {
		ty->enumerators = items;
		ty->enumerator_count = n;
	} else {
		ty->fields = items;
		ty->field_count = n;
	}
	return NULL;
}

static struct bc_error *decode_record(struct pdb_tpi *t, uint32_t index, int depth,
				      struct bc_type *ty, bool *borrowed)
{
	uint16_t kind;
	struct rec r;
	if (!record_of(t, index, &kind, &r))
		return bc_error_format(UINT64_MAX, "type %#x is not in the type stream", index);
	*ty = (struct bc_type){ .id = index };
	uint32_t list = 0;
	switch (kind) {
	case LF_MODIFIER: {
		uint32_t target = r32(&r);
		uint16_t attrs = r16(&r);
		const struct bc_type *base;
		struct bc_error *err = decode(t, target, depth + 1, &base);
		if (err)
			return err;
		*ty = *base;  // const/volatile change nothing else; member lists are borrowed
		ty->id = index;
		ty->is_const = attrs & 1;
		ty->is_volatile = (attrs & 2) != 0;
		*borrowed = true;
		return NULL;
	}
	case LF_POINTER: {
		ty->kind = BC_TYPE_POINTER;
		ty->target_id = r32(&r);
		uint32_t attrs = r32(&r);
		ty->size = (attrs >> 13) & 0x3f;
		if (!ty->size)  // old PDBs leave the size out: the pointer kind says it
			ty->size = (attrs & 0x1f) == 0x0c ? 8 : (attrs & 0x1f) == 0x0a ? 4 : 0;
		break;
	}
	case LF_PROCEDURE:
	case LF_MFUNCTION:
		ty->kind = BC_TYPE_FUNCTION;
		ty->target_id = r32(&r);
		break;
	case LF_BITFIELD:
		ty->kind = BC_TYPE_BITFIELD;
		ty->target_id = r32(&r);
		ty->bit_length = r.at < r.len ? r.p[r.at] : 0;
		ty->bit_position = r.at + 1 < r.len ? r.p[r.at + 1] : 0;
		ty->size = size_of(t, ty->target_id, depth);
		break;
	case LF_ARRAY: {
		ty->kind = BC_TYPE_ARRAY;
		ty->target_id = r32(&r);
		r32(&r);
		ty->size = (uint64_t)rnum(&r);
		uint64_t elem = size_of(t, ty->target_id, depth);
		ty->count = elem ? ty->size / elem : 0;
		break;
	}
	case LF_CLASS:
	case LF_STRUCTURE:
	case LF_INTERFACE:
	case LF_UNION:
	case LF_ENUM: {
		r16(&r);
		uint16_t prop = r16(&r);
		if (kind == LF_ENUM) {
			ty->kind = BC_TYPE_ENUM;
			ty->target_id = r32(&r);
			list = r32(&r);
			ty->size = size_of(t, ty->target_id, depth);
		} else {
			ty->kind = kind == LF_UNION ? BC_TYPE_UNION : kind == LF_CLASS ? BC_TYPE_CLASS
											 : BC_TYPE_STRUCT;
			list = r32(&r);
			if (kind != LF_UNION)
				r.at += 8;  // derived, vshape
			ty->size = (uint64_t)rnum(&r);
		}
		ty->name = rname(&r);
		const char *unique = prop & PROP_HAS_UNIQUE_NAME ? rname(&r) : "";
		if (prop & PROP_FWDREF) {
			struct bc_error *err = build_names(t);
			if (err)
				return err;
			uint32_t def = find_name(t, *unique ? unique : ty->name);
			if (!def && *unique)
				def = find_name(t, ty->name);
			if (def && def != index) {
				const struct bc_type *full;
				err = decode(t, def, depth + 1, &full);
				if (err)
					return err;
				*ty = *full;  // the definition's members, borrowed
				ty->id = index;
				*borrowed = true;
				return NULL;
			}
			ty->incomplete = true;
			return NULL;
		}
		break;
	}
	default:
		ty->kind = BC_TYPE_VOID;
		ty->name = "<unsupported type record>";
		return NULL;
	}
	if (r.bad)
		return bc_error_format(UINT64_MAX, "type %#x: the record is shorter than its fields",
				       index);
	if (list)
		return read_fields(t, list, ty);
	return NULL;
}

static struct bc_error *decode(struct pdb_tpi *t, uint32_t index, int depth,
			       const struct bc_type **ret)
{
	if (depth > MAX_DEPTH)
		return bc_error_format(UINT64_MAX, "type %#x: types nested deeper than %d", index,
				       MAX_DEPTH);
	if (index < FIRST_COMPLEX) {
		struct bc_type **slot = &t->simple[index];
		if (!*slot) {
			*slot = calloc(1, sizeof(**slot));
			if (!*slot)
				return &bc_enomem;
			simple_type(index, *slot);
		}
		*ret = *slot;
		return NULL;
	}
	if (index >= t->end)
		return &bc_not_found;
	struct pdb_tpi_type **slot = &t->types[index - t->begin];
	if (*slot) {
		*ret = &(*slot)->t;
		return NULL;
	}
	struct pdb_tpi_type *tt = calloc(1, sizeof(*tt));
	if (!tt)
		return &bc_enomem;
	struct bc_error *err = decode_record(t, index, depth, &tt->t, &tt->borrowed);
	if (err) {
		if (!tt->borrowed) {
			free((void *)tt->t.fields);
			free((void *)tt->t.enumerators);
		}
		free(tt);
		return err;
	}
	*slot = tt;
	*ret = &tt->t;
	return NULL;
}

struct bc_error *pdb_tpi_type(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what,
			      uint32_t index, const struct bc_type **ret)
{
	if (!t->loaded) {
		t->loaded = true;
		t->load_error = tpi_load(t, msf, what);
	}
	if (t->load_error)
		return bc_error_create(t->load_error->code, "%s", t->load_error->message);
	return decode(t, index, 0, ret);
}

struct bc_error *pdb_tpi_type_by_name(struct pdb_tpi *t, const struct pdb_msf_view *msf,
				      const char *what, const char *name,
				      const struct bc_type **ret)
{
	const struct bc_type *unused;
	struct bc_error *err = pdb_tpi_type(t, msf, what, 0, &unused);  // loads the stream
	if (err)
		return err;
	err = build_names(t);
	if (err)
		return err;
	uint32_t index = find_name(t, name);
	return index ? decode(t, index, 0, ret) : &bc_not_found;
}

bool pdb_tpi_has_types(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what)
{
	const struct bc_type *unused;
	struct bc_error *err = pdb_tpi_type(t, msf, what, 0, &unused);
	bc_error_destroy(err);
	return t->data && !t->load_error && t->end > t->begin;
}

bool pdb_tpi_record(struct pdb_tpi *t, const struct pdb_msf_view *msf, const char *what,
		    uint32_t index, uint16_t *kind, const uint8_t **data, size_t *len)
{
	if (!t->loaded) {
		t->loaded = true;
		t->load_error = tpi_load(t, msf, what);
	}
	struct rec r;
	if (t->load_error || !record_of(t, index, kind, &r))
		return false;
	*data = r.p;
	*len = r.len;
	return true;
}

void pdb_tpi_free(struct pdb_tpi *t)
{
	uint32_t stream = t->stream;
	uint32_t count = t->types ? t->end - t->begin : 0;
	for (uint32_t i = 0; i < count; i++) {
		if (!t->types[i])
			continue;
		if (!t->types[i]->borrowed) {
			free((void *)t->types[i]->t.fields);
			free((void *)t->types[i]->t.enumerators);
		}
		free(t->types[i]);
	}
	for (size_t i = 0; i < FIRST_COMPLEX; i++)
		free(t->simple[i]);
	free(t->types);
	free(t->offsets);
	free(t->names);
	free(t->data);
	bc_error_destroy(t->load_error);
	*t = (struct pdb_tpi){ .stream = stream };
}
