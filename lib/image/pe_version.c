// The version resource: a bounded walk of the resource tree to RT_VERSION,
// then VS_VERSIONINFO's VS_FIXEDFILEINFO and StringFileInfo strings, converted
// from UTF-16 to UTF-8 (bugcheck/pe.h; Microsoft's VS_VERSIONINFO,
// StringFileInfo, StringTable and String block documentation).
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf.h"
#include "image/pe_layout.h"
#include "image/pe_private.h"

struct pe_version {
	struct bc_pe_version pub;
	struct bc_pe_version_string *strings;
	size_t count, cap;
	char **owned;  // every string the entries point to
	size_t owned_count, owned_cap;
};

void pe_version_free(struct pe_version *ver)
{
	if (!ver)
		return;
	for (size_t i = 0; i < ver->owned_count; i++)
		free(ver->owned[i]);
	free(ver->owned);
	free(ver->strings);
	free(ver);
}

/* ---- The resource tree --------------------------------------------------------- */

enum { RESOURCE_LEVELS = 3 };  // type, name, language

// The first entry of the directory at @off (relative to the resource
// directory) whose ID is @id, or the first entry of all when @id is -1.
static struct bc_error *find_entry(struct bc_pe *pe, const struct bc_pe_directory *dir,
				   uint32_t off, int64_t id, uint32_t *target_ret)
{
	uint8_t hdr[PE_RESOURCE_DIRECTORY_SIZE];
	struct bc_error *err = pe_read(pe, (uint64_t)dir->rva + off, hdr, sizeof(hdr));
	if (err)
		return err;
	// Two 16-bit counts: at most 131070 entries of 8 bytes.
	size_t n = (size_t)bc_le16(hdr + PE_RD_NUMBER_OF_NAMED_ENTRIES) +
		   bc_le16(hdr + PE_RD_NUMBER_OF_ID_ENTRIES);
	uint8_t *entries;
	err = pe_read_alloc(pe, (uint64_t)dir->rva + off + sizeof(hdr),
			    (uint64_t)n * PE_RESOURCE_ENTRY_SIZE, &entries);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = entries + i * PE_RESOURCE_ENTRY_SIZE;
		uint32_t name = bc_le32(e + PE_RDE_NAME);
		if (id < 0 || (!(name & 0x80000000u) && name == id)) {
			*target_ret = bc_le32(e + PE_RDE_OFFSET_TO_DATA);
			free(entries);
			return NULL;
		}
	}
	free(entries);
	return &bc_not_found;
}

// The data (RVA and size) of the first resource of type @type: first name,
// first language. Exactly three levels are walked; a subdirectory that
// points back at a directory on the path is reported as a cycle.
static struct bc_error *find_resource(struct bc_pe *pe, uint32_t type, uint32_t *rva_ret,
				      uint32_t *size_ret)
{
	struct bc_pe_directory dir;
	if (!pe_directory(pe, BC_PE_DIR_RESOURCE, &dir))
		return pe_not_found(pe, "resource directory");
	uint32_t path[RESOURCE_LEVELS] = { 0 };
	uint32_t off = 0;
	for (int level = 0; level < RESOURCE_LEVELS; level++) {
		path[level] = off;
		uint32_t target = 0;
		struct bc_error *err = find_entry(pe, &dir, off, level ? -1 : (int64_t)type,
						  &target);
		if (err == &bc_not_found)
			return pe_not_found(pe, level ? "complete version resource" : "version resource");
		if (err)
			return err;
		bool is_dir = target & 0x80000000u;
		off = target & 0x7fffffffu;
		if (level < RESOURCE_LEVELS - 1) {
			if (!is_dir)
				return pe_corrupt("resource level %d entry at 0x%x is data, not a directory",
						  level + 1, off);
			for (int j = 0; j <= level; j++) {
				if (path[j] == off)
					return pe_corrupt("resource directory cycle: level %d points back at the directory at 0x%x",
							  level + 1, off);
			}
		} else if (is_dir) {
			return pe_corrupt("resource language entry points at a directory (0x%x), not data",
					  off);
		}
	}
	uint8_t data[PE_RESOURCE_DATA_ENTRY_SIZE];
	struct bc_error *err = pe_read(pe, (uint64_t)dir.rva + off, data, sizeof(data));
	if (err)
		return err;
	*rva_ret = bc_le32(data + PE_RDATA_OFFSET_TO_DATA);
	*size_ret = bc_le32(data + PE_RDATA_SIZE);
	return NULL;
}

/* ---- UTF-16 ------------------------------------------------------------------------ */

// Converts @units UTF-16LE code units to a new NUL-terminated UTF-8 string.
static char *utf16_to_utf8(const uint8_t *p, size_t units)
{
	char *out = malloc(units * 3 + 1);  // a unit makes at most 3 bytes (a pair: 4 for 2)
	if (!out)
		return NULL;
	bc_utf16le_to_utf8(p, units, out, false);
	return out;
}

/* ---- VS_VERSIONINFO blocks ------------------------------------------------------- */

// One block: wLength, wValueLength, wType, szKey, padding, Value, padding, Children.
struct vblock {
	size_t start, end;      // [start, end) in the resource
	const uint8_t *key;     // UTF-16, key_units units before its NUL
	size_t key_units;
	size_t value, value_end;  // the value's bytes (clamped to the block)
	size_t children;
};

static size_t align4(size_t v)
{
	return (v + 3) & ~(size_t)3;
}

// Parses the block at @off inside [.., @limit); false when it does not fit.
static bool parse_block(struct bc_span res, size_t off, size_t limit, struct vblock *b)
{
	uint16_t length, value_length, type;
	if (off + 6 > limit || !bc_span_u16(res, off + PE_VB_LENGTH, &length) ||
	    !bc_span_u16(res, off + PE_VB_VALUE_LENGTH, &value_length) ||
	    !bc_span_u16(res, off + PE_VB_TYPE, &type) || length < 6 || length > limit - off)
		return false;
	b->start = off;
	b->end = off + length;
	b->key = res.data + off + PE_VB_KEY;
	size_t p = off + PE_VB_KEY;
	while (p + 2 <= b->end && bc_le16(res.data + p))
		p += 2;
	b->key_units = (p - (off + PE_VB_KEY)) / 2;
	b->value = align4(p + 2);
	if (b->value > b->end)
		b->value = b->end;
	// Text values count UTF-16 units; binary ones count bytes.
	size_t value_bytes = type == 1 ? (size_t)value_length * 2 : value_length;
	b->value_end = value_bytes < b->end - b->value ? b->value + value_bytes : b->end;
	b->children = align4(b->value_end);
	if (b->children > b->end)
		b->children = b->end;
	return true;
}

static bool key_is(const struct vblock *b, const char *ascii)
{
	size_t n = strlen(ascii);
	if (b->key_units != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (bc_le16(b->key + i * 2) != (unsigned char)ascii[i])
			return false;
	}
	return true;
}

static char *own(struct pe_version *ver, char *s)
{
	if (!s)
		return NULL;
	if (ver->owned_count == ver->owned_cap) {
		size_t cap = ver->owned_cap ? ver->owned_cap * 2 : 32;
		char **p = realloc(ver->owned, cap * sizeof(*p));
		if (!p) {
			free(s);
			return NULL;
		}
		ver->owned = p;
		ver->owned_cap = cap;
	}
	ver->owned[ver->owned_count++] = s;
	return s;
}

static struct bc_error *add_string(struct pe_version *ver, struct bc_span res, const char *table,
				   const struct vblock *b)
{
	// The value runs to its NUL: wValueLength is not reliable across resource
	// compilers (some count bytes, some include the NUL).
	size_t units = 0;
	while (b->value + units * 2 + 2 <= b->end && bc_le16(res.data + b->value + units * 2))
		units++;
	char *key = own(ver, utf16_to_utf8(b->key, b->key_units));
	char *value = key ? own(ver, utf16_to_utf8(res.data + b->value, units)) : NULL;
	if (!value)
		return &bc_enomem;
	if (ver->count == ver->cap) {
		size_t cap = ver->cap ? ver->cap * 2 : 16;
		struct bc_pe_version_string *p = realloc(ver->strings, cap * sizeof(*p));
		if (!p)
			return &bc_enomem;
		ver->strings = p;
		ver->cap = cap;
	}
	ver->strings[ver->count++] = (struct bc_pe_version_string){ table, key, value };
	return NULL;
}

// Each child block advances by at least 8 bytes: loops end within 64 KiB / 8.
static struct bc_error *parse_string_file_info(struct pe_version *ver, struct bc_span res,
					       const struct vblock *sfi)
{
	struct vblock table, str;
	for (size_t t = sfi->children; parse_block(res, t, sfi->end, &table);
	     t = align4(table.end)) {
		char *name = own(ver, utf16_to_utf8(table.key, table.key_units));
		if (!name)
			return &bc_enomem;
		for (size_t s = table.children; parse_block(res, s, table.end, &str);
		     s = align4(str.end)) {
			struct bc_error *err = add_string(ver, res, name, &str);
			if (err)
				return err;
		}
	}
	return NULL;
}

static void parse_fixed(struct bc_pe_version *v, struct bc_span res, const struct vblock *root)
{
	struct bc_span f = bc_span_sub(res, root->value, root->value_end - root->value);
	uint32_t sig;
	if (f.size < PE_VS_FIXEDFILEINFO_SIZE || !bc_span_u32(f, PE_VFF_SIGNATURE, &sig) ||
	    sig != PE_VFF_SIGNATURE_VALUE)
		return;
	const uint8_t *p = f.data;
	uint32_t fms = bc_le32(p + PE_VFF_FILE_VERSION_MS), fls = bc_le32(p + PE_VFF_FILE_VERSION_LS);
	uint32_t pms = bc_le32(p + PE_VFF_PRODUCT_VERSION_MS);
	uint32_t pls = bc_le32(p + PE_VFF_PRODUCT_VERSION_LS);
	v->has_fixed = true;
	v->file_version[0] = (uint16_t)(fms >> 16);
	v->file_version[1] = (uint16_t)fms;
	v->file_version[2] = (uint16_t)(fls >> 16);
	v->file_version[3] = (uint16_t)fls;
	v->product_version[0] = (uint16_t)(pms >> 16);
	v->product_version[1] = (uint16_t)pms;
	v->product_version[2] = (uint16_t)(pls >> 16);
	v->product_version[3] = (uint16_t)pls;
	v->file_flags_mask = bc_le32(p + PE_VFF_FILE_FLAGS_MASK);
	v->file_flags = bc_le32(p + PE_VFF_FILE_FLAGS);
	v->file_os = bc_le32(p + PE_VFF_FILE_OS);
	v->file_type = bc_le32(p + PE_VFF_FILE_TYPE);
	v->file_subtype = bc_le32(p + PE_VFF_FILE_SUBTYPE);
}

static struct bc_error *parse_version_info(struct pe_version *ver, struct bc_span res)
{
	struct vblock root, child;
	if (!parse_block(res, 0, res.size, &root) || !key_is(&root, "VS_VERSION_INFO"))
		return pe_corrupt("the version resource does not start with a VS_VERSION_INFO block");
	parse_fixed(&ver->pub, res, &root);
	for (size_t c = root.children; parse_block(res, c, root.end, &child);
	     c = align4(child.end)) {
		if (!key_is(&child, "StringFileInfo"))
			continue;  // VarFileInfo: translations, not needed
		struct bc_error *err = parse_string_file_info(ver, res, &child);
		if (err)
			return err;
	}
	ver->pub.string_count = ver->count;
	ver->pub.strings = ver->strings;
	return NULL;
}

static struct bc_error *parse_version(struct bc_pe *pe, struct pe_version *ver)
{
	uint32_t rva = 0, size = 0;
	struct bc_error *err = find_resource(pe, PE_RT_VERSION, &rva, &size);
	if (err)
		return err;
	if (size > PE_MAX_VERSION_SIZE)
		size = PE_MAX_VERSION_SIZE;  // wLength cannot describe more
	uint8_t *data;
	if ((err = pe_read_alloc(pe, rva, size, &data)))
		return pe_context(err, "version resource data at rva 0x%x", rva);
	err = parse_version_info(ver, (struct bc_span){ data, size });
	free(data);
	return err;
}

BC_PUBLIC struct bc_error *bc_pe_version(struct bc_pe *pe, const struct bc_pe_version **ret)
{
	if (!pe->version) {
		struct pe_version *ver = calloc(1, sizeof(*ver));
		if (!ver)
			return &bc_enomem;
		struct bc_error *err = parse_version(pe, ver);
		if (err) {
			pe_version_free(ver);
			return pe_wrap(pe, err, "resource directory");
		}
		pe->version = ver;
	}
	*ret = &pe->version->pub;
	return NULL;
}

BC_PUBLIC const char *bc_pe_version_string(const struct bc_pe_version *version, const char *key)
{
	for (size_t i = 0; i < version->string_count; i++) {
		if (!strcasecmp(version->strings[i].key, key))
			return version->strings[i].value;
	}
	return NULL;
}
