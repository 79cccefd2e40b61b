// Volatility 3 ISF tables as a struct bc_symtab (bugcheck/isf.h).
//
// A kernel's table is megabytes of JSON, of which an analysis needs the
// symbols and a few dozen types, so the text is kept and walked by spans
// (sym/json_scan.h) rather than parsed whole: on open, the symbols go into a
// sorted index and each named type's definition is located (names decoded
// into an arena the table owns). A definition is parsed by jansson only when
// its type is first asked for. Types are made on demand: a named type gets an
// id when first referenced, its fields or constants only when that id is
// asked for; anonymous descriptors (pointers, arrays, bitfields) get an id
// each time a field refers to them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "bugcheck/isf.h"
#include "sym/isf_file.h"
#include "sym/json_scan.h"
#include "sym/symtab_private.h"

enum {
	MAX_DESCRIPTOR_DEPTH = 32,   ///< pointer to pointer to ... (hostile nesting)
	MAX_TYPES = 1 << 22,         ///< ids handed out per table
	MAX_FIELDS = 1 << 16,        ///< fields of one structure
};

struct isf_type {
	struct bc_type t;
	json_t *definition;  ///< user type / enum / base type object; NULL for anonymous ones
	char category;       ///< 'u' user type, 'e' enum, 'b' base type, 0 anonymous
	bool materialized;
};

// A named type's definition: where it is in the text, and its name.
struct isf_named {
	const char *name;           ///< decoded, in the arena
	struct bc_json_span definition;
};

enum { SECTION_USER, SECTION_ENUM, SECTION_BASE, SECTIONS };

struct isf {
	struct bc_symtab tab;
	const char *text;           ///< the table's JSON: owned_text, or owned_file's bytes
	char *owned_text;           ///< malloc'd text (decompressed, or a copy), or NULL
	struct bc_file *owned_file; ///< a mapped uncompressed file, or NULL
	size_t size;
	char *arena;                ///< decoded names (symbols' and types')
	size_t arena_used, arena_size;
	struct isf_named *named[SECTIONS];  ///< sorted by name
	size_t named_count[SECTIONS];
	json_t *parsed;             ///< the definitions parsed so far (an array that owns them)
	struct bc_symbol_index symbols;
	struct isf_type *types;  ///< id = index + 1 (0 means "no type")
	size_t type_count, type_capacity;
	json_t *ids;             ///< "u:_EPROCESS" -> id of named types already referenced
	unsigned pointer_size;
};

static struct isf *isf_of(struct bc_symtab *tab)
{
	return (struct isf *)tab;
}

static struct bc_error *new_type(struct isf *f, enum bc_type_kind kind, uint32_t *id_ret)
{
	if (f->type_count >= MAX_TYPES)
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: more than %d types referenced",
				       f->tab.source, MAX_TYPES);
	if (f->type_count == f->type_capacity) {
		size_t cap = f->type_capacity ? f->type_capacity * 2 : 1024;
		struct isf_type *p = realloc(f->types, cap * sizeof(*p));
		if (!p)
			return &bc_enomem;
		f->types = p;
		f->type_capacity = cap;
	}
	struct isf_type *it = &f->types[f->type_count++];
	*it = (struct isf_type){ .t = { .kind = kind } };
	it->t.id = (uint32_t)f->type_count;
	*id_ret = it->t.id;
	return NULL;
}

static struct isf_type *type_at(struct isf *f, uint32_t id)
{
	return id && id <= f->type_count ? &f->types[id - 1] : NULL;
}

static uint64_t int_value(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct isf_named *)a)->name, ((const struct isf_named *)b)->name);
}

static const struct isf_named *find_named(const struct isf *f, int section, const char *name)
{
	struct isf_named key = { .name = name };
	return f->named_count[section] ? bsearch(&key, f->named[section], f->named_count[section],
						 sizeof(key), cmp_named)
				       : NULL;
}

// The parsed definition of named type @name of @section (NULL when the table
// has none); parsed from its span on first use and kept in f->parsed.
static struct bc_error *definition(struct isf *f, int section, const char *name, json_t **ret)
{
	*ret = NULL;
	const struct isf_named *n = find_named(f, section, name);
	if (!n)
		return NULL;
	json_error_t je;
	json_t *def = json_loadb(f->text + n->definition.start,
				 n->definition.end - n->definition.start, JSON_REJECT_DUPLICATES, &je);
	if (!def)
		return bc_error_format((uint64_t)n->definition.start + (uint64_t)je.position,
				       "%s: the definition of %s is not JSON (%s)", f->tab.source, name,
				       je.text);
	if (json_array_append_new(f->parsed, def))
		return &bc_enomem;
	*ret = def;
	return NULL;
}

// The id of a named type ("u" user type, "e" enum, "b" base type), creating
// an unmaterialized entry on first reference.
static struct bc_error *named_id(struct isf *f, char category, const char *name, uint32_t *id_ret)
{
	char key[600];
	if (snprintf(key, sizeof(key), "%c:%s", category, name) >= (int)sizeof(key))
		return bc_error_format(UINT64_MAX, "%s: type name too long", f->tab.source);
	json_t *known = json_object_get(f->ids, key);
	if (known) {
		*id_ret = (uint32_t)json_integer_value(known);
		return NULL;
	}
	json_t *def = NULL;
	struct bc_error *err = definition(f, category == 'u' ? SECTION_USER : category == 'e'
					     ? SECTION_ENUM : SECTION_BASE, name, &def);
	if (err)
		return err;
	enum bc_type_kind kind = BC_TYPE_BASE;
	if (category == 'u') {
		const char *k = json_string_value(json_object_get(def, "kind"));
		kind = k && !strcmp(k, "union") ? BC_TYPE_UNION
		       : k && !strcmp(k, "class") ? BC_TYPE_CLASS : BC_TYPE_STRUCT;
	} else if (category == 'e') {
		kind = BC_TYPE_ENUM;
	}
	uint32_t id;
	err = new_type(f, kind, &id);
	if (err)
		return err;
	struct isf_type *it = type_at(f, id);
	it->definition = json_is_object(def) ? def : NULL;
	it->category = category;
	it->t.incomplete = !it->definition;
	if (json_object_set_new(f->ids, key, json_integer(id)))
		return &bc_enomem;
	// The name is kept by the ids map (its key, after the "u:" prefix).
	void *iter = json_object_iter_at(f->ids, key);
	it->t.name = iter ? json_object_iter_key(iter) + 2 : NULL;
	*id_ret = id;
	return NULL;
}

static struct bc_error *descriptor_id(struct isf *f, json_t *d, int depth, uint32_t *id_ret);

static struct bc_error *anonymous(struct isf *f, enum bc_type_kind kind, json_t *sub, int depth,
				  uint32_t *id_ret)
{
	uint32_t target = 0, id;
	struct bc_error *err = sub ? descriptor_id(f, sub, depth + 1, &target) : NULL;
	if (!err)
		err = new_type(f, kind, &id);
	if (err)
		return err;
	struct isf_type *it = type_at(f, id);
	it->t.target_id = target;
	it->materialized = true;
	*id_ret = id;
	return NULL;
}

static struct bc_error *descriptor_id(struct isf *f, json_t *d, int depth, uint32_t *id_ret)
{
	if (depth > MAX_DESCRIPTOR_DEPTH)
		return bc_error_format(UINT64_MAX, "%s: type descriptors nested deeper than %d",
				       f->tab.source, MAX_DESCRIPTOR_DEPTH);
	const char *kind = json_string_value(json_object_get(d, "kind"));
	const char *name = json_string_value(json_object_get(d, "name"));
	if (!kind)
		return bc_error_format(UINT64_MAX, "%s: a type descriptor without \"kind\"",
				       f->tab.source);
	if (!strcmp(kind, "base") && name)
		return named_id(f, 'b', name, id_ret);
	if ((!strcmp(kind, "struct") || !strcmp(kind, "union") || !strcmp(kind, "class")) && name)
		return named_id(f, 'u', name, id_ret);
	if (!strcmp(kind, "enum") && name)
		return named_id(f, 'e', name, id_ret);
	struct bc_error *err;
	if (!strcmp(kind, "pointer")) {
		err = anonymous(f, BC_TYPE_POINTER, json_object_get(d, "subtype"), depth, id_ret);
		if (!err)
			type_at(f, *id_ret)->t.size = f->pointer_size;
		return err;
	}
	if (!strcmp(kind, "array")) {
		err = anonymous(f, BC_TYPE_ARRAY, json_object_get(d, "subtype"), depth, id_ret);
		if (!err)
			type_at(f, *id_ret)->t.count = int_value(json_object_get(d, "count"));
		return err;
	}
	if (!strcmp(kind, "bitfield")) {
		err = anonymous(f, BC_TYPE_BITFIELD, json_object_get(d, "type"), depth, id_ret);
		if (!err) {
			struct isf_type *it = type_at(f, *id_ret);
			uint64_t pos = int_value(json_object_get(d, "bit_position"));
			uint64_t len = int_value(json_object_get(d, "bit_length"));
			it->t.bit_position = pos < 64 ? (uint8_t)pos : 63;
			it->t.bit_length = len <= 64 ? (uint8_t)len : 64;
		}
		return err;
	}
	if (!strcmp(kind, "function"))
		return anonymous(f, BC_TYPE_FUNCTION, NULL, depth, id_ret);
	return bc_error_format(UINT64_MAX, "%s: unknown type descriptor kind \"%s\"",
			       f->tab.source, kind);
}

static int cmp_field(const void *a, const void *b)
{
	const struct bc_type_field *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_enumerator(const void *a, const void *b)
{
	const struct bc_type_enumerator *x = a, *y = b;
	return x->value < y->value ? -1 : x->value > y->value;
}

static struct bc_error *materialize_user(struct isf *f, uint32_t id)
{
	json_t *def = type_at(f, id)->definition;
	json_t *fields = json_object_get(def, "fields");
	uint64_t size = int_value(json_object_get(def, "size"));
	size_t n = json_is_object(fields) ? json_object_size(fields) : 0;
	if (n > MAX_FIELDS)
		return bc_error_format(UINT64_MAX, "%s: %zu fields in one type", f->tab.source, n);
	struct bc_type_field *out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return &bc_enomem;
	size_t i = 0;
	const char *key;
	json_t *value;
	json_object_foreach(fields, key, value) {
		uint32_t tid = 0;
		struct bc_error *err = descriptor_id(f, json_object_get(value, "type"), 0, &tid);
		if (err) {
			free(out);
			return err;
		}
		out[i].name = key;
		out[i].offset = int_value(json_object_get(value, "offset"));
		out[i].type_id = tid;
		const struct isf_type *ft = type_at(f, tid);
		if (ft && ft->t.kind == BC_TYPE_BITFIELD) {
			out[i].bit_position = ft->t.bit_position;
			out[i].bit_length = ft->t.bit_length;
		}
		i++;
	}
	// JSON objects carry no order worth keeping: declaration order is offset order.
	qsort(out, i, sizeof(*out), cmp_field);
	struct isf_type *it = type_at(f, id);  // new_type may have moved the array
	it->t.size = size;
	it->t.fields = out;
	it->t.field_count = i;
	return NULL;
}

static struct bc_error *materialize_enum(struct isf *f, uint32_t id)
{
	json_t *def = type_at(f, id)->definition;
	json_t *constants = json_object_get(def, "constants");
	size_t n = json_is_object(constants) ? json_object_size(constants) : 0;
	if (n > MAX_FIELDS)
		return bc_error_format(UINT64_MAX, "%s: %zu constants in one enum", f->tab.source, n);
	struct bc_type_enumerator *out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return &bc_enomem;
	size_t i = 0;
	const char *key;
	json_t *value;
	json_object_foreach(constants, key, value) {
		out[i].name = key;
		out[i].value = json_is_integer(value) ? (int64_t)json_integer_value(value) : 0;
		i++;
	}
	qsort(out, i, sizeof(*out), cmp_enumerator);
	uint32_t base = 0;
	const char *base_name = json_string_value(json_object_get(def, "base"));
	struct bc_error *err = base_name ? named_id(f, 'b', base_name, &base) : NULL;
	if (err) {
		free(out);
		return err;
	}
	struct isf_type *it = type_at(f, id);
	it->t.size = int_value(json_object_get(def, "size"));
	it->t.target_id = base;
	it->t.enumerators = out;
	it->t.enumerator_count = i;
	return NULL;
}

static void materialize_base(struct isf_type *it)
{
	json_t *def = it->definition;
	const char *kind = json_string_value(json_object_get(def, "kind"));
	it->t.size = int_value(json_object_get(def, "size"));
	it->t.is_signed = json_is_true(json_object_get(def, "signed"));
	if (kind && !strcmp(kind, "void"))
		it->t.kind = BC_TYPE_VOID;
	it->t.is_float = kind && !strcmp(kind, "float");
	it->t.is_char = (kind && !strcmp(kind, "char")) ||
			(it->t.name && strstr(it->t.name, "wchar"));
}

static struct bc_error *isf_type(struct bc_symtab *tab, uint32_t id, const struct bc_type **ret)
{
	struct isf *f = isf_of(tab);
	struct isf_type *it = type_at(f, id);
	if (!it)
		return &bc_not_found;
	if (!it->materialized && it->definition) {
		struct bc_error *err = it->category == 'u' ? materialize_user(f, id)
				       : it->category == 'e' ? materialize_enum(f, id) : NULL;
		if (err)
			return err;
		it = type_at(f, id);
		if (it->category == 'b')
			materialize_base(it);
	}
	it->materialized = true;
	if (it->t.kind == BC_TYPE_ARRAY && !it->t.size && it->t.count) {
		// ISF descriptors give arrays a count, not a size: count x the element's
		// size, once the element is known (nesting is bounded by descriptor depth).
		const struct bc_type *element;
		uint32_t element_id = it->t.target_id;
		uint64_t count = it->t.count, size;
		if (element_id != id && !isf_type(tab, element_id, &element) &&
		    !__builtin_mul_overflow(element->size, count, &size)) {
			it = type_at(f, id);
			it->t.size = size;
		}
		it = type_at(f, id);
	}
	*ret = &it->t;
	return NULL;
}

static struct bc_error *isf_type_by_name(struct bc_symtab *tab, const char *name,
					 const struct bc_type **ret)
{
	struct isf *f = isf_of(tab);
	static const char categories[SECTIONS] = { 'u', 'e', 'b' };
	for (int i = 0; i < SECTIONS; i++) {
		if (!find_named(f, i, name))
			continue;
		uint32_t id;
		struct bc_error *err = named_id(f, categories[i], name, &id);
		return err ? err : isf_type(tab, id, ret);
	}
	return &bc_not_found;
}

static bool isf_has_types(struct bc_symtab *tab)
{
	return isf_of(tab)->named_count[SECTION_USER] > 0;
}

static struct bc_error *isf_lookup_name(struct bc_symtab *tab, const char *name,
					struct bc_symbol *ret)
{
	return bc_symbol_index_lookup_name(&isf_of(tab)->symbols, name, ret);
}

static struct bc_error *isf_lookup_rva(struct bc_symtab *tab, uint64_t rva, struct bc_symbol *ret)
{
	return bc_symbol_index_lookup_rva(&isf_of(tab)->symbols, rva, ret);
}

static struct bc_error *isf_each(struct bc_symtab *tab, const char *pattern,
				 bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg)
{
	return bc_symbol_index_each(&isf_of(tab)->symbols, pattern, fn, arg);
}

static size_t isf_symbol_count(struct bc_symtab *tab)
{
	return isf_of(tab)->symbols.count;
}

static void isf_destroy(struct bc_symtab *tab)
{
	struct isf *f = isf_of(tab);
	for (size_t i = 0; i < f->type_count; i++) {
		free((void *)f->types[i].t.fields);
		free((void *)f->types[i].t.enumerators);
	}
	free(f->types);
	json_decref(f->ids);
	json_decref(f->parsed);
	for (int i = 0; i < SECTIONS; i++)
		free(f->named[i]);
	free(f->arena);
	free(f->owned_text);
	bc_file_close(f->owned_file);
	bc_symbol_index_deinit(&f->symbols);
	bc_symtab_deinit(&f->tab);
	free(f);
}

static const struct bc_symtab_ops isf_ops = {
	.lookup_name = isf_lookup_name,
	.lookup_rva = isf_lookup_rva,
	.each = isf_each,
	.symbol_count = isf_symbol_count,
	.has_types = isf_has_types,
	.type_by_name = isf_type_by_name,
	.type = isf_type,
	.destroy = isf_destroy,
};

// Decodes the key @raw into the arena; NULL when it is not a valid string.
static const char *arena_name(struct isf *f, struct bc_json_span raw)
{
	size_t need = raw.end - raw.start + 1;
	if (need > f->arena_size - f->arena_used)
		return NULL;  // cannot happen: keys are disjoint parts of the text
	char *out = f->arena + f->arena_used;
	if (!bc_json_decode_string(f->text, raw, out))
		return NULL;
	f->arena_used += strlen(out) + 1;
	return out;
}

struct walk {
	struct isf *f;
	struct bc_error *err;
	int section;
	size_t cap;
};

static bool bad_key(struct walk *w, struct bc_json_span key)
{
	w->err = bc_error_format(key.start, "%s: not a JSON symbol table (a bad key at byte %zu)",
				 w->f->tab.source, key.start);
	return false;
}

static bool add_named(void *arg, struct bc_json_span key, struct bc_json_span value)
{
	struct walk *w = arg;
	struct isf *f = w->f;
	const char *name = arena_name(f, key);
	if (!name)
		return bad_key(w, key);
	size_t *count = &f->named_count[w->section];
	if (*count == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct isf_named *p = realloc(f->named[w->section], cap * sizeof(*p));
		if (!p) {
			w->err = &bc_enomem;
			return false;
		}
		f->named[w->section] = p;
		w->cap = cap;
	}
	f->named[w->section][(*count)++] = (struct isf_named){ name, value };
	return true;
}

static bool add_symbol(void *arg, struct bc_json_span key, struct bc_json_span value)
{
	struct walk *w = arg;
	struct isf *f = w->f;
	struct bc_json_span address, type, kind;
	int64_t rva;
	// Constants and absolute values (no address, or a negative one) are not
	// addresses in the image.
	if (!bc_json_member(f->text, value, "address", &address) ||
	    !bc_json_integer(f->text, address, &rva) || rva < 0)
		return true;
	const char *name = arena_name(f, key);
	if (!name)
		return bad_key(w, key);
	// String literals ("??_C@_1DO@..."): an ISF table keeps only some of the
	// kernel's functions, so a literal placed among them would name return
	// addresses in the functions it lacks ("nt!??_C@...+0x34703").
	if (!strncmp(name, "??_C@", 5))
		return true;
	struct bc_symbol sym = {
		.name = name,
		.rva = (uint64_t)rva,
		.kind = BC_SYMBOL_PUBLIC,
		.is_function = bc_json_member(f->text, value, "type", &type) &&
			       bc_json_member(f->text, type, "kind", &kind) &&
			       bc_json_string_is(f->text, kind, "function"),
	};
	w->err = bc_symbol_index_add(&f->symbols, &sym);
	return !w->err;
}

static struct bc_error *not_isf(const char *what)
{
	return bc_error_format(0, "%s: JSON, but not a Volatility ISF table (no \"metadata\" and "
			       "\"symbols\" objects)", what);
}

static bool is_object(const char *text, struct bc_json_span v)
{
	return v.end > v.start && text[v.start] == '{';
}

// The members of the document's top level that a table is read from.
enum { TOP_METADATA, TOP_SYMBOLS, TOP_USER_TYPES, TOP_ENUMS, TOP_BASE_TYPES, TOP_COUNT };

struct top {
	const char *text;
	struct bc_json_span span[TOP_COUNT];
	bool has[TOP_COUNT];
};

static bool take_top(void *arg, struct bc_json_span key, struct bc_json_span value)
{
	static const char *const names[TOP_COUNT] = { "metadata", "symbols", "user_types", "enums",
						      "base_types" };
	struct top *t = arg;
	for (int i = 0; i < TOP_COUNT; i++)
		if (key.end - key.start == strlen(names[i]) &&
		    !memcmp(t->text + key.start, names[i], key.end - key.start)) {
			t->span[i] = value;
			t->has[i] = true;
		}
	return true;
}

// Releases what open_text was given when it fails before the table owns it.
static void drop_source(char *owned_text, struct bc_file *owned_file)
{
	free(owned_text);
	bc_file_close(owned_file);
}

// Opens the JSON @text of @size bytes, which is @owned_text (malloc'd) or the
// bytes of @owned_file (mapped); the table takes whichever it is.
static struct bc_error *open_text(const char *text, size_t size, char *owned_text,
				  struct bc_file *owned_file, const char *what,
				  struct bc_symtab **ret)
{
	struct bc_json_span root, metadata, symbols;
	// (SECTION_USER, _ENUM, _BASE follow TOP_USER_TYPES in the same order.)
	size_t after = 0;
	bool json = bc_json_value(text, size, 0, &root);
	if (json) {
		after = root.end;
		while (after < size && (text[after] == ' ' || text[after] == '\n' ||
					text[after] == '\r' || text[after] == '\t'))
			after++;
	}
	if (!json || after != size) {
		drop_source(owned_text, owned_file);
		return bc_error_format(json ? after : 0, "%s: not a JSON symbol table (not one "
				       "well-formed JSON value)", what);
	}
	// The top-level members, in one pass.
	struct top top = { .text = text };
	if (!is_object(text, root) || !bc_json_members(text, root, take_top, &top) ||
	    !top.has[TOP_METADATA] || !top.has[TOP_SYMBOLS] ||
	    !is_object(text, top.span[TOP_METADATA]) || !is_object(text, top.span[TOP_SYMBOLS])) {
		drop_source(owned_text, owned_file);
		return not_isf(what);
	}
	metadata = top.span[TOP_METADATA];
	symbols = top.span[TOP_SYMBOLS];
	struct isf *f = calloc(1, sizeof(*f));
	if (!f) {
		drop_source(owned_text, owned_file);
		return &bc_enomem;
	}
	f->text = text;
	f->owned_text = owned_text;
	f->owned_file = owned_file;
	f->size = size;
	f->arena_size = size + 1;
	f->arena = malloc(f->arena_size);
	f->ids = json_object();
	f->parsed = json_array();
	struct bc_error *err = f->arena && f->ids && f->parsed
				       ? bc_symtab_init(&f->tab, &isf_ops, BC_SYMTAB_ISF, what)
				       : &bc_enomem;
	if (err) {
		json_decref(f->ids);
		json_decref(f->parsed);
		free(f->arena);
		drop_source(owned_text, owned_file);
		free(f);
		return err;
	}
	// The identity, from the metadata object alone.
	json_t *meta = json_loadb(text + metadata.start, metadata.end - metadata.start, 0, NULL);
	json_t *doc = meta ? json_pack("{so}", "metadata", meta) : NULL;
	bc_isf_identity(doc, &f->tab.identity, &f->tab.machine);
	json_decref(doc);
	// Where each named type is defined.
	static const char *const sections[SECTIONS] = { "user_types", "enums", "base_types" };
	_Static_assert(TOP_ENUMS - TOP_USER_TYPES == SECTION_ENUM &&
		       TOP_BASE_TYPES - TOP_USER_TYPES == SECTION_BASE, "section order");
	for (int i = 0; i < SECTIONS && !err; i++) {
		struct bc_json_span section = top.span[TOP_USER_TYPES + i];
		if (!top.has[TOP_USER_TYPES + i] || !is_object(text, section))
			continue;
		struct walk w = { f, NULL, i, 0 };
		if (!bc_json_members(text, section, add_named, &w) && !w.err)
			w.err = bc_error_format(section.start, "%s: not a JSON symbol table (%s)",
						what, sections[i]);
		err = w.err;
		if (!err && f->named_count[i]) {
			qsort(f->named[i], f->named_count[i], sizeof(struct isf_named), cmp_named);
			for (size_t k = 1; k < f->named_count[i] && !err; k++)
				if (!strcmp(f->named[i][k - 1].name, f->named[i][k].name))
					err = bc_error_format(f->named[i][k].definition.start,
							      "%s: not a JSON symbol table (%s "
							      "defined twice)", what,
							      f->named[i][k].name);
		}
	}
	// Pointer size: the "pointer" base type, else the machine.
	json_t *pointer = NULL;
	if (!err)
		err = definition(f, SECTION_BASE, "pointer", &pointer);
	uint64_t ptr = int_value(json_object_get(pointer, "size"));
	f->pointer_size = ptr == 4 || ptr == 8 ? (unsigned)ptr
			  : f->tab.machine == 0x14c ? 4 : 8;
	// Tables converted from a bare PDB may say machine_type 0: the pointer size tells x86.
	if (!f->tab.machine && (ptr == 4 || ptr == 8))
		f->tab.machine = ptr == 4 ? 0x14c : 0x8664;
	if (!err) {
		struct walk w = { f, NULL, 0, 0 };
		if (!bc_json_members(text, symbols, add_symbol, &w) && !w.err)
			w.err = bc_error_format(symbols.start, "%s: not a JSON symbol table (symbols)",
						what);
		err = w.err ? w.err : bc_symbol_index_finish(&f->symbols);
	}
	// A name twice is a malformed table (JSON objects have unique keys).
	const struct bc_symbol_index *idx = &f->symbols;
	for (size_t k = 1; !err && k < idx->count; k++) {
		const char *name = idx->by_rva[idx->by_name[k]].name;
		if (!strcmp(idx->by_rva[idx->by_name[k - 1]].name, name))
			err = bc_error_format(symbols.start, "%s: not a JSON symbol table (symbol %s "
					      "defined twice)", what, name);
	}
	if (err) {
		isf_destroy(&f->tab);
		return err;
	}
	*ret = &f->tab;
	return NULL;
}

struct bc_error *bc_isf_open_document(json_t *root, const char *what, struct bc_symtab **ret)
{
	// Documents built in memory (Vergilius layouts translated to ISF) take
	// the same path as files: their text.
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return &bc_enomem;
	return open_text(text, strlen(text), text, NULL, what, ret);
}

BC_PUBLIC struct bc_error *bc_isf_open_memory(const void *json, size_t size, const char *what,
					      struct bc_symtab **ret)
{
	if (size > BC_ISF_MAX_TEXT)
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: larger than %d MiB",
				       what ? what : "<memory>", BC_ISF_MAX_TEXT >> 20);
	char *text = malloc(size + 1);
	if (!text)
		return &bc_enomem;
	memcpy(text, json, size);
	text[size] = 0;
	return open_text(text, size, text, NULL, what ? what : "<memory>", ret);
}

// An uncompressed table (or a cached text) is read where it is mapped.
static struct bc_error *open_mapped(const char *path, const char *what, struct bc_symtab **ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_open(path, &file);
	if (err)
		return err;
	if (file->bytes.size > BC_ISF_MAX_TEXT) {
		bc_file_close(file);
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: larger than %d MiB", path,
				       BC_ISF_MAX_TEXT >> 20);
	}
	return open_text((const char *)file->bytes.data, (size_t)file->bytes.size, NULL, file,
			 what, ret);
}

static bool is_xz(const char *path)
{
	size_t n = strlen(path);
	return n >= 3 && !strcmp(path + n - 3, ".xz");
}

BC_PUBLIC struct bc_error *bc_isf_open(const char *path, struct bc_symtab **ret)
{
	if (!is_xz(path))
		return open_mapped(path, path, ret);
	char *text;
	size_t size;
	struct bc_error *err = bc_isf_read_text(path, &text, &size);
	return err ? err : open_text(text, size, text, NULL, path, ret);
}

// CACHE/isf-json/<directory>-<file without .xz>-<size>-<mtime>.json: the
// table's text as it decompresses, named after the file's size and time so
// that a replaced table is never read stale. Characters other than letters,
// digits, '.', '-' and '_' become '_'.
static bool cached_text_path(const char *path, const char *cache_dir, const struct stat *st,
			     char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dir_end = base > path ? base - 1 : path, *dir = dir_end;
	while (dir > path && dir[-1] != '/')
		dir--;
	char name[512];
	int n = snprintf(name, sizeof(name), "%.*s-%.*s-%lld-%lld", (int)(dir_end - dir), dir,
			 (int)(strlen(base) - 3), base, (long long)st->st_size,
			 (long long)st->st_mtime);
	if (n < 0 || (size_t)n >= sizeof(name))
		return false;
	for (char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '-' || *c == '_'))
			*c = '_';
	n = snprintf(buf, size, "%s/isf-json/%s", cache_dir, name);
	return n > 0 && (size_t)n < size;
}

// Writes @text to @cached through a temporary name; a failure leaves no file.
static void save_text(const char *cache_dir, const char *cached, const char *text, size_t size)
{
	char dir[4200], tmp[4300];
	if (snprintf(dir, sizeof(dir), "%s/isf-json", cache_dir) >= (int)sizeof(dir) ||
	    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", cached, (long)getpid()) >= (int)sizeof(tmp))
		return;
	(void)mkdir(cache_dir, 0755);
	(void)mkdir(dir, 0755);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return;  // no cache: the next run decompresses again
	bool ok = fwrite(text, 1, size, f) == size;
	if (fclose(f) || !ok || rename(tmp, cached))
		unlink(tmp);
}

struct bc_error *bc_isf_open_cached(const char *path, const char *cache_dir,
				    struct bc_symtab **ret)
{
	struct stat st;
	char cached[4300];
	if (!cache_dir || !*cache_dir || !is_xz(path) || stat(path, &st) ||
	    !cached_text_path(path, cache_dir, &st, cached, sizeof(cached)))
		return bc_isf_open(path, ret);
	if (!access(cached, R_OK)) {
		struct bc_error *err = open_mapped(cached, path, ret);
		if (!err)
			return NULL;
		bc_error_destroy(err);  // a damaged cache file: decompress again below
		unlink(cached);
	}
	char *text;
	size_t size;
	struct bc_error *err = bc_isf_read_text(path, &text, &size);
	if (err)
		return err;
	save_text(cache_dir, cached, text, size);
	return open_text(text, size, text, NULL, path, ret);
}
