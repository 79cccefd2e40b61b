// PDB (MSF 7.00) public symbols as a symtab (bugcheck/pdb.h). Layout facts:
// ../shared/docs/UNWIND_AND_SYMBOLS.md section 4 and LLVM's PDB documentation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/file.h"
#include "bugcheck/pdb.h"
#include "sym/pdb_private.h"
#include "sym/symtab_private.h"

static const char msf7_magic[] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0";
static const char msf2_magic[] = "Microsoft C/C++ program database 2.00\r\n\x1a" "JG\0\0";

enum {
	STREAM_INFO = 1,
	STREAM_DBI = 3,
	STREAM_IPI = 4,
	MAX_STREAMS = 1 << 16,
	MAX_STREAM_BYTES = 1u << 30,
	DBI_HEADER_SIZE = 64,
	S_PUB32 = 0x110e,
	S_LDATA32 = 0x110c,
	S_GDATA32 = 0x110d,
	S_LPROC32 = 0x110f,
	S_GPROC32 = 0x1110,
	S_PROCREF = 0x1125,
	S_LPROCREF = 0x1127,
	// Optional debug header slots (DBI): stream indices.
	DBG_FPO = 0,
	DBG_OMAP_FROM_SRC = 4,
	DBG_SECTION_HDR = 5,
	DBG_NEW_FPO = 9,
	DBG_ORIGINAL_SECTION_HDR = 10,
};

struct msf {
	struct bc_span file;
	const char *what;
	uint32_t block_size, block_count;
	uint32_t stream_count;
	const uint8_t *sizes;       ///< stream sizes in the directory copy
	uint32_t *first_block;      ///< index into blocks[] of each stream's first block
	uint32_t *blocks;           ///< all streams' block numbers, in order
	uint8_t *directory;         ///< the directory, reassembled
};

struct omap {
	uint8_t *data;
	uint32_t count;
};

struct pdb {
	struct bc_symtab tab;
	struct bc_file *file;      ///< NULL for memory opens (bytes in @copy)
	uint8_t *copy;
	struct msf msf;
	uint16_t symbol_stream, dbg_streams[11];
	bool have_dbg;
	bool undecorate;           ///< an x86 PDB: strip "_name@N" decorations
	bool symbols_loaded;
	struct bc_symbol_index symbols;
	char *names;               ///< all public names, NUL-separated (the index borrows them)
	struct pdb_tpi tpi;        ///< type records, loaded on the first type request
	struct pdb_frames frames;  ///< x86 FPO/FrameData records, loaded on the first lookup
	struct pdb_tpi ipi;        ///< function ids (S_GPROC32_ID), for parameters
	struct pdb_msf_view view;
	uint8_t *sections;         ///< section headers, kept to place module symbols
	uint32_t sections_size;
	struct omap omap;
	struct pdb_params params;  ///< procedures with parameters, by module
};

static uint64_t blocks_for(uint64_t bytes, uint32_t block_size)
{
	return (bytes + block_size - 1) / block_size;
}

static uint32_t stream_size(const struct msf *m, uint32_t s)
{
	uint32_t size = bc_le32(m->sizes + 4 * s);
	return size == UINT32_MAX ? 0 : size;  // nil streams read as empty
}

// Copies @len bytes at @off of stream @s into @out, block by block.
static struct bc_error *stream_read(const struct msf *m, uint32_t s, uint64_t off, void *out,
				    size_t len)
{
	if (s >= m->stream_count || off > stream_size(m, s) || len > stream_size(m, s) - off)
		return bc_error_format(UINT64_MAX, "%s: read of %zu bytes at %#llx past the end of "
				       "stream %u", m->what, len, (unsigned long long)off, s);
	uint8_t *o = out;
	while (len) {
		uint64_t b = off / m->block_size, in = off % m->block_size;
		uint32_t block = m->blocks[m->first_block[s] + b];
		size_t chunk = m->block_size - in < len ? (size_t)(m->block_size - in) : len;
		uint64_t at = (uint64_t)block * m->block_size + in;
		if (!bc_span_has(m->file, at, chunk))
			return bc_error_format(at, "%s: stream %u block %u lies past the end of the file",
					       m->what, s, block);
		memcpy(o, m->file.data + at, chunk);
		o += chunk;
		off += chunk;
		len -= chunk;
	}
	return NULL;
}

// A whole stream, malloc'd (at most MAX_STREAM_BYTES).
static struct bc_error *stream_load(const struct msf *m, uint32_t s, uint8_t **ret, uint32_t *size)
{
	*size = s < m->stream_count ? stream_size(m, s) : 0;
	*ret = malloc(*size ? *size : 1);
	if (!*ret)
		return &bc_enomem;
	struct bc_error *err = stream_read(m, s, 0, *ret, *size);
	if (err) {
		free(*ret);
		*ret = NULL;
	}
	return err;
}

static void msf_deinit(struct msf *m)
{
	free(m->directory);
	free(m->first_block);
	free(m->blocks);
}

static struct bc_error *msf_open(struct msf *m, struct bc_span file, const char *what)
{
	*m = (struct msf){ .file = file, .what = what };
	if (file.size >= sizeof(msf2_magic) - 1 &&
	    !memcmp(file.data, msf2_magic, sizeof(msf2_magic) - 1))
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: a PDB in the old 2.00 format "
				       "(\"JG\", Visual C++ 6 and earlier), which bugcheck does not "
				       "read", what);
	if (file.size < 0x38 || memcmp(file.data, msf7_magic, sizeof(msf7_magic) - 1))
		return bc_error_format(0, "%s: not a PDB (no \"Microsoft C/C++ MSF 7.00\" signature)",
				       what);
	m->block_size = bc_le32(file.data + 0x20);
	m->block_count = bc_le32(file.data + 0x28);
	uint32_t dir_bytes = bc_le32(file.data + 0x2c), map_block = bc_le32(file.data + 0x34);
	if (m->block_size != 512 && m->block_size != 1024 && m->block_size != 2048 &&
	    m->block_size != 4096)
		return bc_error_format(0x20, "%s: block size %u is not a PDB's", what, m->block_size);
	if ((uint64_t)m->block_count * m->block_size > file.size)
		return bc_error_format(file.size, "truncated PDB: %s declares %u blocks of %u bytes, "
				       "the file has %llu bytes", what, m->block_count, m->block_size,
				       (unsigned long long)file.size);
	if (dir_bytes < 4 || dir_bytes > MAX_STREAM_BYTES)
		return bc_error_format(0x2c, "%s: stream directory of %u bytes", what, dir_bytes);
	uint64_t dir_blocks = blocks_for(dir_bytes, m->block_size);
	uint64_t map_at = (uint64_t)map_block * m->block_size;
	if (map_block >= m->block_count || !bc_span_has(file, map_at, dir_blocks * 4))
		return bc_error_format(0x34, "%s: the directory's block map is outside the file", what);
	m->directory = malloc(dir_blocks * m->block_size);
	if (!m->directory)
		return &bc_enomem;
	for (uint64_t i = 0; i < dir_blocks; i++) {
		uint32_t b = bc_le32(file.data + map_at + 4 * i);
		if (b >= m->block_count)
			return bc_error_format(map_at + 4 * i, "%s: directory block %u is outside the "
					       "file", what, b);
		memcpy(m->directory + i * m->block_size, file.data + (uint64_t)b * m->block_size,
		       m->block_size);
	}
	struct bc_span dir = { m->directory, dir_bytes };
	uint32_t n;
	if (!bc_span_u32(dir, 0, &n) || n > MAX_STREAMS || !bc_span_has(dir, 4, 4ull * n))
		return bc_error_format(UINT64_MAX, "%s: the stream directory is corrupt", what);
	m->stream_count = n;
	m->sizes = m->directory + 4;
	uint64_t total = 0;
	for (uint32_t s = 0; s < n; s++)
		total += blocks_for(stream_size(m, s), m->block_size);
	uint64_t list_at = 4 + 4ull * n;
	if (!bc_span_has(dir, list_at, total * 4))
		return bc_error_format(UINT64_MAX, "%s: the stream directory lists %llu blocks it does "
				       "not hold", what, (unsigned long long)total);
	m->first_block = calloc(n ? n : 1, sizeof(*m->first_block));
	m->blocks = malloc((total ? total : 1) * sizeof(*m->blocks));
	if (!m->first_block || !m->blocks)
		return &bc_enomem;
	uint64_t k = 0;
	for (uint32_t s = 0; s < n; s++) {
		m->first_block[s] = (uint32_t)k;
		for (uint64_t b = 0; b < blocks_for(stream_size(m, s), m->block_size); b++, k++) {
			m->blocks[k] = bc_le32(m->directory + list_at + 4 * k);
			if (m->blocks[k] >= m->block_count)
				return bc_error_format(UINT64_MAX, "%s: stream %u uses block %u, outside "
						       "the file", what, s, m->blocks[k]);
		}
	}
	return NULL;
}

// GUID, signature and age (the info stream's and the DBI header's).
static struct bc_error *read_identity(struct msf *m, struct bc_pdb_identity *id,
				      uint32_t *machine, uint16_t *symbol_stream,
				      uint16_t dbg[11], bool *have_dbg)
{
	uint8_t info[28];
	struct bc_error *err = stream_read(m, STREAM_INFO, 0, info, sizeof(info));
	if (err)
		return err;
	id->signature = bc_le32(info + 4);
	id->age = bc_le32(info + 8);
	memcpy(id->guid, info + 12, 16);
	uint8_t h[DBI_HEADER_SIZE];
	if (stream_size(m, STREAM_DBI) < DBI_HEADER_SIZE)
		return NULL;  // no DBI: the info stream's age stands
	err = stream_read(m, STREAM_DBI, 0, h, sizeof(h));
	if (err)
		return err;
	id->age = bc_le32(h + 8);
	*symbol_stream = bc_le16(h + 20);
	*machine = bc_le16(h + 0x3a);
	uint64_t at = DBI_HEADER_SIZE;
	static const int sizes[] = { 0x18, 0x1c, 0x20, 0x24, 0x28, 0x34 };  // substreams before it
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		at += bc_le32(h + sizes[i]);
	uint32_t dbg_size = bc_le32(h + 0x30);
	uint8_t raw[22] = { 0 };
	size_t n = dbg_size < sizeof(raw) ? dbg_size : sizeof(raw);
	err = n ? stream_read(m, STREAM_DBI, at, raw, n) : &bc_not_found;
	if (!err) {
		for (size_t i = 0; i < 11; i++)
			dbg[i] = 2 * i + 2 <= n ? bc_le16(raw + 2 * i) : UINT16_MAX;
		*have_dbg = true;
	}
	bc_error_destroy(err);  // no debug header: publics are placed without section headers
	return NULL;
}

static struct pdb *pdb_of(struct bc_symtab *tab)
{
	return (struct pdb *)tab;
}

static uint64_t omap_map(const struct omap *o, uint64_t rva)
{
	uint32_t lo = 0, hi = o->count;
	while (lo < hi) {  // greatest entry with from <= rva
		uint32_t mid = lo + (hi - lo) / 2;
		if (bc_le32(o->data + 8 * mid) <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	uint32_t from = bc_le32(o->data + 8 * (lo - 1)), to = bc_le32(o->data + 8 * (lo - 1) + 4);
	return to ? to + (rva - from) : 0;
}

// x86 C names carry the calling convention: "_KiTrap0E", "_KeBugCheckEx@20",
// "@KfAcquireSpinLock@4". WinDbg shows them without it (C++ names, "?...",
// stay as they are).
static void undecorate(char *name)
{
	if (name[0] == '?')
		return;
	if (name[0] == '_' || name[0] == '@')
		memmove(name, name + 1, strlen(name));
	char *at = strrchr(name, '@');
	if (at && at != name && at[1]) {
		const char *d = at + 1;
		while (*d >= '0' && *d <= '9')
			d++;
		if (!*d)
			*at = 0;
	}
}

// Where section:offset lands in the image, through OMAP when there is one.
struct placement {
	const uint8_t *sections;
	uint32_t sections_size;
	const struct omap *omap;
};

static bool place(const struct placement *w, uint16_t seg, uint32_t off, uint64_t *rva)
{
	if (!seg || (uint64_t)seg * 40 > w->sections_size)
		return false;
	*rva = (uint64_t)bc_le32(w->sections + (seg - 1) * 40 + 12) + off;
	if (w->omap->count)
		*rva = omap_map(w->omap, *rva);
	return true;
}

// Copies a record's NUL-terminated name into p->names (undecorated on x86).
static const char *keep_name(struct pdb *p, size_t *used, const uint8_t *name, size_t max)
{
	size_t n = strnlen((const char *)name, max);
	if (!n || n == max)
		return NULL;
	char *copy = p->names + *used;
	memcpy(copy, name, n + 1);
	*used += n + 1;
	if (p->undecorate)
		undecorate(copy);
	return copy;
}

// S_PROCREF: a procedure's record lives in a module's symbol stream.
struct procref {
	uint16_t module;   ///< 1-based
	uint32_t offset;   ///< of the S_GPROC32/S_LPROC32 record in the module stream
};

struct procrefs {
	struct procref *v;
	size_t count, cap;
};

static struct bc_error *note_procref(struct procrefs *r, uint32_t offset, uint16_t module,
				     const uint8_t *name, size_t max)
{
	(void)name;
	(void)max;
	if (!module)
		return NULL;
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct procref *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return &bc_enomem;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->count++] = (struct procref){ module, offset };
	return NULL;
}

static int cmp_procref(const void *a, const void *b)
{
	const struct procref *x = a, *y = b;
	if (x->module != y->module)
		return x->module < y->module ? -1 : 1;
	return (x->offset > y->offset) - (x->offset < y->offset);
}

// The symbol stream of every module, from the DBI's module information.
static struct bc_error *module_streams(struct pdb *p, uint16_t **ret, size_t *count)
{
	*ret = NULL;
	*count = 0;
	uint8_t *dbi;
	uint32_t size;
	struct bc_error *err = stream_load(&p->msf, STREAM_DBI, &dbi, &size);
	if (err)
		return err;
	uint64_t mod_size = size >= DBI_HEADER_SIZE ? bc_le32(dbi + 0x18) : 0;
	uint64_t at = DBI_HEADER_SIZE, end = DBI_HEADER_SIZE + mod_size;
	if (end > size)
		end = size;
	size_t cap = 0;
	while (at + 64 <= end) {
		if (*count == cap) {
			cap = cap ? cap * 2 : 64;
			uint16_t *v = realloc(*ret, cap * sizeof(*v));
			if (!v) {
				free(dbi);
				return &bc_enomem;
			}
			*ret = v;
		}
		(*ret)[(*count)++] = bc_le16(dbi + at + 34);
		uint64_t s = at + 64;
		for (int k = 0; k < 2; k++) {  // module name, object file name
			while (s < end && dbi[s])
				s++;
			s++;
		}
		at = (s + 3) & ~3ull;
	}
	free(dbi);
	return NULL;
}

// Procedures with their code sizes and types (full PDBs only: public PDBs
// have no S_PROCREF). Each module stream is read once.
static struct bc_error *load_procedures(struct pdb *p, struct procrefs *refs,
					const struct placement *where, size_t *names_used)
{
	if (!refs->count)
		return NULL;
	qsort(refs->v, refs->count, sizeof(*refs->v), cmp_procref);
	uint16_t *streams;
	size_t stream_count;
	struct bc_error *err = module_streams(p, &streams, &stream_count);
	if (err)
		return err;
	uint8_t *mod = NULL;
	uint32_t mod_size = 0;
	uint16_t loaded = 0;
	for (size_t i = 0; i < refs->count && !err; i++) {
		const struct procref *r = &refs->v[i];
		if (r->module > stream_count)
			continue;
		if (r->module != loaded) {
			free(mod);
			mod = NULL;
			loaded = r->module;
			struct bc_error *e = stream_load(&p->msf, streams[r->module - 1], &mod, &mod_size);
			if (e) {
				bc_error_destroy(e);  // one unreadable module costs its procedures only
				mod_size = 0;
				continue;
			}
		}
		uint64_t at = r->offset;
		if (!mod || at + 4 + 35 > mod_size)
			continue;
		uint16_t len = bc_le16(mod + at), kind = bc_le16(mod + at + 2);
		uint64_t end = at + 2 + len;
		if ((kind != S_GPROC32 && kind != S_LPROC32) || end > mod_size || len < 2 + 35 + 1)
			continue;
		struct bc_symbol sym = {
			.kind = BC_SYMBOL_FUNCTION,
			.is_function = true,
			.size = bc_le32(mod + at + 16),
			.type_id = bc_le32(mod + at + 28),
		};
		if (!place(where, bc_le16(mod + at + 36), bc_le32(mod + at + 32), &sym.rva))
			continue;
		// The name buffer holds every symbol record's size: procedure names
		// come from module streams, so check room first.
		size_t max = (size_t)(end - (at + 39));
		size_t n = strnlen((const char *)mod + at + 39, max);
		if (n == max || !n)
			continue;
		uintptr_t old = (uintptr_t)p->names;
		char *grown = realloc(p->names, *names_used + n + 1);
		if (!grown) {
			err = &bc_enomem;
			break;
		}
		if ((uintptr_t)grown != old) {
			// Names already in the index point into the old buffer: rebase them.
			for (size_t k = 0; k < p->symbols.count; k++)
				p->symbols.by_rva[k].name =
					grown + ((uintptr_t)p->symbols.by_rva[k].name - old);
		}
		p->names = grown;
		sym.name = keep_name(p, names_used, mod + at + 39, max);
		if (sym.name && sym.rva)
			err = bc_symbol_index_add(&p->symbols, &sym);
	}
	free(mod);
	free(streams);
	return err;
}

static struct bc_error *load_publics(struct pdb *p)
{
	struct msf *m = &p->msf;
	uint8_t *recs = NULL, *sections = NULL;
	uint32_t recs_size = 0, sections_size = 0;
	struct omap omap = { 0 };
	struct procrefs refs = { 0 };
	struct bc_error *err = NULL;
	uint16_t sec_stream = UINT16_MAX, omap_stream = UINT16_MAX;
	// Kept after loading: parameters are placed the same way (sym/pdb_params.c).
	free(p->sections);
	free(p->omap.data);
	p->sections = NULL;
	p->omap = (struct omap){ 0 };
	if (p->have_dbg) {
		omap_stream = p->dbg_streams[DBG_OMAP_FROM_SRC];
		sec_stream = p->dbg_streams[DBG_SECTION_HDR];
		// A rearranged (OMAP) image places symbols by its original sections.
		if (omap_stream != UINT16_MAX && omap_stream < m->stream_count &&
		    p->dbg_streams[DBG_ORIGINAL_SECTION_HDR] != UINT16_MAX)
			sec_stream = p->dbg_streams[DBG_ORIGINAL_SECTION_HDR];
	}
	if (p->symbol_stream >= m->stream_count)
		goto done;  // no publics at all: an empty table
	err = stream_load(m, p->symbol_stream, &recs, &recs_size);
	if (!err && sec_stream < m->stream_count)
		err = stream_load(m, sec_stream, &sections, &sections_size);
	if (!err && omap_stream < m->stream_count) {
		uint32_t size;
		err = stream_load(m, omap_stream, &omap.data, &size);
		omap.count = size / 8;
	}
	if (err)
		goto done;
	// Every name is copied from a record once: the records' size bounds them all.
	p->names = malloc(recs_size ? recs_size : 1);
	if (!p->names) {
		err = &bc_enomem;
		goto done;
	}
	size_t names_used = 0;
	struct placement where = { sections, sections_size, &omap };
	for (uint64_t at = 0; at + 4 <= recs_size;) {
		uint16_t len = bc_le16(recs + at), kind = bc_le16(recs + at + 2);
		uint64_t end = at + 2 + len;
		if (len < 2 || end > recs_size)
			break;  // a truncated record ends the stream
		struct bc_symbol sym = { 0 };
		uint64_t name_at = 0;
		uint16_t seg = 0;
		uint32_t off = 0;
		if (kind == S_PUB32 && len >= 2 + 10 + 1) {
			sym.kind = BC_SYMBOL_PUBLIC;
			sym.is_function = (bc_le32(recs + at + 4) & 3) != 0;
			off = bc_le32(recs + at + 8);
			seg = bc_le16(recs + at + 12);
			name_at = at + 14;
		} else if ((kind == S_GDATA32 || kind == S_LDATA32) && len >= 2 + 10 + 1) {
			sym.kind = BC_SYMBOL_DATA;
			sym.type_id = bc_le32(recs + at + 4);
			off = bc_le32(recs + at + 8);
			seg = bc_le16(recs + at + 12);
			name_at = at + 14;
		} else if ((kind == S_PROCREF || kind == S_LPROCREF) && len >= 2 + 10 + 1) {
			err = note_procref(&refs, bc_le32(recs + at + 8), bc_le16(recs + at + 12),
					   recs + at + 14, (size_t)(end - (at + 14)));
			if (err)
				goto done;
		}
		if (name_at && place(&where, seg, off, &sym.rva)) {
			sym.name = keep_name(p, &names_used, recs + name_at, (size_t)(end - name_at));
			if (sym.name && sym.rva && (err = bc_symbol_index_add(&p->symbols, &sym)))
				goto done;
		}
		at = (end + 3) & ~3ull;  // records are 4-byte aligned
	}
	err = load_procedures(p, &refs, &where, &names_used);
done:
	free(refs.v);
	free(recs);
	p->sections = sections;
	p->sections_size = sections_size;
	p->omap = omap;
	if (!err)
		err = bc_symbol_index_finish(&p->symbols);
	if (!err)
		p->symbols_loaded = true;
	return err;
}

static struct bc_error *ensure_publics(struct pdb *p)
{
	return p->symbols_loaded ? NULL : load_publics(p);
}

static struct bc_error *pdb_lookup_name(struct bc_symtab *tab, const char *name,
					struct bc_symbol *ret)
{
	struct bc_error *err = ensure_publics(pdb_of(tab));
	return err ? err : bc_symbol_index_lookup_name(&pdb_of(tab)->symbols, name, ret);
}

static struct bc_error *pdb_lookup_rva(struct bc_symtab *tab, uint64_t rva, struct bc_symbol *ret)
{
	struct bc_error *err = ensure_publics(pdb_of(tab));
	return err ? err : bc_symbol_index_lookup_rva(&pdb_of(tab)->symbols, rva, ret);
}

static struct bc_error *pdb_each(struct bc_symtab *tab, const char *pattern,
				 bool (*fn)(void *arg, const struct bc_symbol *sym), void *arg)
{
	struct bc_error *err = ensure_publics(pdb_of(tab));
	return err ? err : bc_symbol_index_each(&pdb_of(tab)->symbols, pattern, fn, arg);
}

static size_t pdb_symbol_count(struct bc_symtab *tab)
{
	struct bc_error *err = ensure_publics(pdb_of(tab));
	bc_error_destroy(err);
	return pdb_of(tab)->symbols.count;
}

static struct bc_error *view_load(void *arg, uint32_t stream, uint8_t **data, uint32_t *size)
{
	return stream_load(arg, stream, data, size);
}

static bool pdb_has_types(struct bc_symtab *tab)
{
	struct pdb *p = pdb_of(tab);
	return pdb_tpi_has_types(&p->tpi, &p->view, p->tab.source);
}

static struct bc_error *pdb_type_by_name(struct bc_symtab *tab, const char *name,
					 const struct bc_type **ret)
{
	struct pdb *p = pdb_of(tab);
	return pdb_tpi_type_by_name(&p->tpi, &p->view, p->tab.source, name, ret);
}

static struct bc_error *pdb_type(struct bc_symtab *tab, uint32_t id, const struct bc_type **ret)
{
	struct pdb *p = pdb_of(tab);
	return pdb_tpi_type(&p->tpi, &p->view, p->tab.source, id, ret);
}

static bool place_for_params(void *arg, uint16_t seg, uint32_t off, uint64_t *rva)
{
	struct pdb *p = arg;
	struct placement where = { p->sections, p->sections_size, &p->omap };
	return place(&where, seg, off, rva);
}

static struct bc_error *pdb_procedure_at(struct bc_symtab *tab, uint64_t rva,
					 const struct bc_procedure **ret)
{
	struct pdb *p = pdb_of(tab);
	struct bc_error *err = ensure_publics(p);  // loads the section headers
	if (err)
		return err;
	const struct pdb_params_source src = {
		.msf = &p->view, .what = p->tab.source, .machine = p->tab.machine,
		.tpi = &p->tpi, .ipi = &p->ipi, .place = place_for_params, .place_arg = p,
	};
	return pdb_params_procedure_at(&p->params, &src, rva, ret);
}

static void pdb_destroy(struct bc_symtab *tab)
{
	struct pdb *p = pdb_of(tab);
	pdb_params_free(&p->params);
	pdb_tpi_free(&p->ipi);
	free(p->sections);
	free(p->omap.data);
	pdb_tpi_free(&p->tpi);
	pdb_frames_free(&p->frames);
	msf_deinit(&p->msf);
	bc_symbol_index_deinit(&p->symbols);
	free(p->names);
	bc_file_close(p->file);
	free(p->copy);
	bc_symtab_deinit(&p->tab);
	free(p);
}

static const struct bc_symtab_ops pdb_ops = {
	.lookup_name = pdb_lookup_name,
	.lookup_rva = pdb_lookup_rva,
	.each = pdb_each,
	.symbol_count = pdb_symbol_count,
	.has_types = pdb_has_types,
	.type_by_name = pdb_type_by_name,
	.type = pdb_type,
	.procedure_at = pdb_procedure_at,
	.destroy = pdb_destroy,
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static struct bc_error *open_span(struct pdb *p, struct bc_span bytes, const char *what,
				  struct bc_symtab **ret)
{
	p->view = (struct pdb_msf_view){ view_load, &p->msf };
	p->ipi.stream = STREAM_IPI;
	struct bc_error *err = bc_symtab_init(&p->tab, &pdb_ops, BC_SYMTAB_PDB, what);
	if (!err)
		err = msf_open(&p->msf, bytes, p->tab.source);
	if (!err)
		err = read_identity(&p->msf, &p->tab.identity, &p->tab.machine, &p->symbol_stream,
				    p->dbg_streams, &p->have_dbg);
	if (err) {
		pdb_destroy(&p->tab);
		return err;
	}
	snprintf(p->tab.identity.name, sizeof(p->tab.identity.name), "%s", base_name(what));
	// x86 or unknown (old DBI headers say 0): 64-bit names are never decorated.
	p->undecorate = p->tab.machine != 0x8664 && p->tab.machine != 0xaa64;
	*ret = &p->tab;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pdb_open(const char *path, struct bc_symtab **ret)
{
	struct pdb *p = calloc(1, sizeof(*p));
	if (!p)
		return &bc_enomem;
	p->symbol_stream = UINT16_MAX;
	struct bc_error *err = bc_file_open(path, &p->file);
	if (err) {
		free(p);
		return err;
	}
	return open_span(p, p->file->bytes, path, ret);
}

BC_PUBLIC struct bc_error *bc_pdb_open_memory(const void *data, size_t size, const char *what,
					      struct bc_symtab **ret)
{
	struct pdb *p = calloc(1, sizeof(*p));
	if (!p)
		return &bc_enomem;
	p->symbol_stream = UINT16_MAX;
	p->copy = malloc(size ? size : 1);
	if (!p->copy) {
		free(p);
		return &bc_enomem;
	}
	memcpy(p->copy, data, size);
	return open_span(p, (struct bc_span){ p->copy, size }, what ? what : "<memory>", ret);
}

// The frame records, loaded on first use; BC_ERR_UNSUPPORTED for other symtabs.
static struct bc_error *frames_of(struct bc_symtab *tab, struct pdb **ret)
{
	if (bc_symtab_kind(tab) != BC_SYMTAB_PDB)
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: not a PDB, so no x86 frame records",
				       bc_symtab_source(tab));
	struct pdb *p = pdb_of(tab);
	*ret = p;
	uint16_t fpo = p->have_dbg ? p->dbg_streams[DBG_FPO] : UINT16_MAX;
	uint16_t data = p->have_dbg ? p->dbg_streams[DBG_NEW_FPO] : UINT16_MAX;
	return pdb_frames_ensure(&p->frames, &p->view, p->tab.source, fpo, data);
}

BC_PUBLIC struct bc_error *bc_pdb_x86_frame(struct bc_symtab *tab, uint64_t rva,
					    struct bc_x86_frame_info *ret)
{
	struct pdb *p;
	struct bc_error *err = frames_of(tab, &p);
	return err ? err : pdb_frames_find(&p->frames, rva, ret);
}

BC_PUBLIC struct bc_error *bc_pdb_x86_frame_each(struct bc_symtab *tab,
						 bool (*fn)(void *arg,
							    const struct bc_x86_frame_info *info),
						 void *arg)
{
	struct pdb *p;
	struct bc_error *err = frames_of(tab, &p);
	if (err)
		return err;
	size_t n = p->frames.data_count + p->frames.fpo_count;
	for (size_t i = 0; i < n; i++)
		if (!fn(arg, &p->frames.records[i]))
			break;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pdb_read_identity(const char *path, struct bc_pdb_identity *ret)
{
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open(path, &tab);  // opening reads only the identity
	if (err)
		return err;
	*ret = *bc_symtab_identity(tab);
	bc_symtab_destroy(tab);
	return NULL;
}
