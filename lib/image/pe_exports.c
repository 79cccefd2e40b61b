// The export directory (IMAGE_EXPORT_DIRECTORY): names, ordinals, RVAs and
// forwarders (bugcheck/pe.h; UNWIND_AND_SYMBOLS.md 1.4).
#include <stdlib.h>
#include <string.h>

#include "image/pe_layout.h"
#include "image/pe_private.h"

// All names and forwarder strings of one image together: a hostile table of
// 2^20 names all pointing at one 4 KiB string must not cost 4 GiB.
enum { PE_MAX_EXPORT_STRING_BYTES = 64 << 20 };

struct pe_exports {
	struct bc_pe_exports pub;  // first: bc_pe_export_by_name() casts back
	struct bc_pe_export *entries;
	size_t count;
	uint32_t *by_name;         // indexes of named entries, sorted by strcmp
	size_t named;
	char *strings;             // every string, NUL-separated; entries point into it
	size_t strings_len, strings_cap;
};

void pe_exports_free(struct pe_exports *ex)
{
	if (!ex)
		return;
	free(ex->entries);
	free(ex->by_name);
	free(ex->strings);
	free(ex);
}

// The directory's raw tables.
struct export_tables {
	struct bc_pe_directory dir;
	uint32_t timestamp, base, nfunc, nnames, name_rva;
	uint8_t *functions, *names, *ordinals;  // u32[nfunc], u32[nnames], u16[nnames]
};

static void tables_free(struct export_tables *t)
{
	free(t->functions);
	free(t->names);
	free(t->ordinals);
}

static struct bc_error *read_tables(struct bc_pe *pe, struct export_tables *t)
{
	uint8_t d[PE_EXPORT_DIRECTORY_SIZE];
	struct bc_error *err = pe_read(pe, t->dir.rva, d, sizeof(d));
	if (err)
		return err;
	t->timestamp = bc_le32(d + PE_ED_TIME_DATE_STAMP);
	t->name_rva = bc_le32(d + PE_ED_NAME);
	t->base = bc_le32(d + PE_ED_BASE);
	t->nfunc = bc_le32(d + PE_ED_NUMBER_OF_FUNCTIONS);
	t->nnames = bc_le32(d + PE_ED_NUMBER_OF_NAMES);
	if (t->nfunc > PE_MAX_EXPORTS || t->nnames > PE_MAX_EXPORTS)
		return pe_corrupt("the directory claims %u functions and %u names, more than the %u this reader accepts",
				  t->nfunc, t->nnames, (unsigned)PE_MAX_EXPORTS);
	if ((uint64_t)t->base + t->nfunc > UINT32_MAX + 1ull)
		return pe_corrupt("ordinal base %u + %u functions overflows 32 bits", t->base, t->nfunc);
	uint32_t funcs_rva = bc_le32(d + PE_ED_ADDRESS_OF_FUNCTIONS);
	uint32_t names_rva = bc_le32(d + PE_ED_ADDRESS_OF_NAMES);
	uint32_t ords_rva = bc_le32(d + PE_ED_ADDRESS_OF_NAME_ORDINALS);
	if ((err = pe_read_alloc(pe, funcs_rva, (uint64_t)t->nfunc * 4, &t->functions)))
		return pe_context(err, "address table");
	if ((err = pe_read_alloc(pe, names_rva, (uint64_t)t->nnames * 4, &t->names)))
		return pe_context(err, "name table");
	if ((err = pe_read_alloc(pe, ords_rva, (uint64_t)t->nnames * 2, &t->ordinals)))
		return pe_context(err, "name ordinal table");
	return NULL;
}

static struct bc_error *add_bytes(struct pe_exports *ex, const char *s, size_t len,
				  size_t *off_ret)
{
	if (ex->strings_len + len > PE_MAX_EXPORT_STRING_BYTES)
		return pe_corrupt("export names and forwarders take more than %u MiB",
				  PE_MAX_EXPORT_STRING_BYTES >> 20);
	if (ex->strings_len + len > ex->strings_cap) {
		size_t cap = ex->strings_cap ? ex->strings_cap * 2 : 4096;
		while (cap < ex->strings_len + len)
			cap *= 2;
		char *p = realloc(ex->strings, cap);
		if (!p)
			return &bc_enomem;
		ex->strings = p;
		ex->strings_cap = cap;
	}
	memcpy(ex->strings + ex->strings_len, s, len);
	*off_ret = ex->strings_len;
	ex->strings_len += len;
	return NULL;
}

// Appends the string at @rva to the arena; *@off_ret is its offset.
static struct bc_error *add_string(struct bc_pe *pe, struct pe_exports *ex, uint32_t rva,
				   size_t *off_ret)
{
	char *s;
	struct bc_error *err = pe_read_string(pe, rva, PE_MAX_STRING, &s);
	if (err)
		return err;
	err = add_bytes(ex, s, strlen(s) + 1, off_ret);
	free(s);
	return err;
}

// While building, entry strings hold arena offsets + 1 (0 = none) cast to
// pointers; fix_pointers() turns them into real pointers once the arena stops moving.
static const char *offset_tag(size_t off)
{
	return (const char *)(uintptr_t)(off + 1);
}

static const char *offset_untag(const char *arena, const char *tag)
{
	return tag ? arena + ((uintptr_t)tag - 1) : NULL;
}

static struct bc_error *add_entry(struct bc_pe *pe, struct pe_exports *ex,
				  const struct export_tables *t, uint32_t index, uint32_t name_rva)
{
	struct bc_pe_export e = { .ordinal = t->base + index,
				  .rva = bc_le32(t->functions + (size_t)index * 4) };
	size_t off;
	struct bc_error *err;
	if (name_rva) {
		if ((err = add_string(pe, ex, name_rva, &off)))
			return pe_context(err, "name of ordinal %u", e.ordinal);
		e.name = offset_tag(off);
	}
	// An address inside the export directory is a forwarder string, not code.
	if (e.rva >= t->dir.rva && e.rva - t->dir.rva < t->dir.size) {
		if ((err = add_string(pe, ex, e.rva, &off)))
			return pe_context(err, "forwarder of ordinal %u", e.ordinal);
		e.forwarder = offset_tag(off);
	}
	ex->entries[ex->count++] = e;
	return NULL;
}

static struct bc_error *collect_entries(struct bc_pe *pe, struct pe_exports *ex,
					const struct export_tables *t)
{
	ex->entries = malloc(((size_t)t->nfunc + t->nnames + 1) * sizeof(*ex->entries));
	uint8_t *has_name = calloc((size_t)t->nfunc + 1, 1);
	struct bc_error *err = NULL;
	if (!ex->entries || !has_name) {
		free(has_name);
		return &bc_enomem;
	}
	for (uint32_t i = 0; i < t->nnames && !err; i++) {
		uint32_t index = bc_le16(t->ordinals + (size_t)i * 2);
		if (index >= t->nfunc) {
			err = pe_corrupt("name %u has ordinal index %u, beyond the %u functions", i,
					 index, t->nfunc);
			break;
		}
		has_name[index] = 1;
		// Unused slots (address 0) export nothing, named or not.
		if (bc_le32(t->functions + (size_t)index * 4))
			err = add_entry(pe, ex, t, index, bc_le32(t->names + (size_t)i * 4));
	}
	for (uint32_t i = 0; i < t->nfunc && !err; i++) {
		if (!has_name[i] && bc_le32(t->functions + (size_t)i * 4))
			err = add_entry(pe, ex, t, i, 0);
	}
	free(has_name);
	return err;
}

static int cmp_by_ordinal(const void *a, const void *b)
{
	const struct bc_pe_export *x = a, *y = b;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	if (!x->name || !y->name)
		return !!x->name - !!y->name;
	return strcmp(x->name, y->name);
}

// qsort has no context argument: the name index sorts pointers to entries.
static int cmp_entry_names(const void *a, const void *b)
{
	const struct bc_pe_export *x = *(const struct bc_pe_export *const *)a;
	const struct bc_pe_export *y = *(const struct bc_pe_export *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x > y) - (x < y);
}

static struct bc_error *build_indexes(struct pe_exports *ex)
{
	for (size_t i = 0; i < ex->count; i++) {
		ex->entries[i].name = offset_untag(ex->strings, ex->entries[i].name);
		ex->entries[i].forwarder = offset_untag(ex->strings, ex->entries[i].forwarder);
	}
	qsort(ex->entries, ex->count, sizeof(*ex->entries), cmp_by_ordinal);
	const struct bc_pe_export **named = malloc((ex->count + 1) * sizeof(*named));
	ex->by_name = malloc((ex->count + 1) * sizeof(*ex->by_name));
	if (!named || !ex->by_name) {
		free(named);
		return &bc_enomem;
	}
	for (size_t i = 0; i < ex->count; i++) {
		if (ex->entries[i].name)
			named[ex->named++] = &ex->entries[i];
	}
	qsort(named, ex->named, sizeof(*named), cmp_entry_names);
	for (size_t i = 0; i < ex->named; i++)
		ex->by_name[i] = (uint32_t)(named[i] - ex->entries);
	free(named);
	return NULL;
}

static struct bc_error *parse_exports(struct bc_pe *pe, struct pe_exports *ex)
{
	struct export_tables t = { 0 };
	if (!pe_directory(pe, BC_PE_DIR_EXPORT, &t.dir))
		return pe_not_found(pe, "export directory");
	struct bc_error *err = read_tables(pe, &t);
	if (!err)
		err = collect_entries(pe, ex, &t);
	size_t dll_name = 0;
	if (!err && t.name_rva) {
		if ((err = add_string(pe, ex, t.name_rva, &dll_name)))
			err = pe_context(err, "DLL name");
	} else if (!err) {
		err = add_bytes(ex, "", 1, &dll_name);
	}
	tables_free(&t);
	if (err)
		return err;
	if ((err = build_indexes(ex)))
		return err;
	ex->pub = (struct bc_pe_exports){
		.dll_name = ex->strings + dll_name,
		.timestamp = t.timestamp,
		.ordinal_base = t.base,
		.function_count = t.nfunc,
		.name_count = t.nnames,
		.count = ex->count,
		.entries = ex->entries,
	};
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pe_exports(struct bc_pe *pe, const struct bc_pe_exports **ret)
{
	if (!pe->exports) {
		struct pe_exports *ex = calloc(1, sizeof(*ex));
		if (!ex)
			return &bc_enomem;
		struct bc_error *err = parse_exports(pe, ex);
		if (err) {
			pe_exports_free(ex);
			return pe_wrap(pe, err, "export directory");
		}
		pe->exports = ex;
	}
	*ret = &pe->exports->pub;
	return NULL;
}

BC_PUBLIC const struct bc_pe_export *bc_pe_export_by_name(const struct bc_pe_exports *exports,
							  const char *name)
{
	const struct pe_exports *ex = (const struct pe_exports *)exports;
	size_t lo = 0, hi = ex->named;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ex->entries[ex->by_name[mid]].name, name);
		if (c == 0)
			return &ex->entries[ex->by_name[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

BC_PUBLIC const struct bc_pe_export *bc_pe_export_by_ordinal(const struct bc_pe_exports *exports,
							     uint32_t ordinal)
{
	size_t lo = 0, hi = exports->count;
	while (lo < hi) {  // first entry with ordinal >= @ordinal
		size_t mid = lo + (hi - lo) / 2;
		if (exports->entries[mid].ordinal < ordinal)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < exports->count && exports->entries[lo].ordinal == ordinal)
		return &exports->entries[lo];
	return NULL;
}
