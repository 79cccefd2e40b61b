// x86 frame records of a PDB (bugcheck/pdb.h): FPO_DATA (16 bytes, the DBI
// optional debug header's slot 0, "Old FPO Data" in llvm-pdbutil) and
// FrameData (32 bytes, slot 9, "New FPO Data"), whose programs are strings in
// the /names stream. Layouts: UNWIND_AND_SYMBOLS.md 3.2, 3.3, 4.2; the slot
// numbers were checked against llvm-pdbutil on real PDBs (tests/real).
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "sym/pdb_private.h"

enum {
	STREAM_INFO = 1,
	FPO_SIZE = 16,
	FRAMEDATA_SIZE = 32,
	MAX_RECORDS = 1 << 22,        ///< per stream; the largest real kernels have ~10^5
	NAMES_SIGNATURE = 0xeffeeffe,
	LOOKBACK = 64,                ///< earlier records tried when the nearest does not cover
};

// The stream index the info stream's named-stream map gives @name
// (UNWIND_AND_SYMBOLS.md 4.2); UINT32_MAX when absent.
static struct bc_error *named_stream(const struct pdb_msf_view *msf, const char *what,
				     const char *name, uint32_t *ret)
{
	*ret = UINT32_MAX;
	uint8_t *info;
	uint32_t size;
	struct bc_error *err = msf->load(msf->arg, STREAM_INFO, &info, &size);
	if (err)
		return err;
	struct bc_span s = { info, size };
	uint32_t strbuf_len, count, capacity, words;
	uint64_t at = 0x1c;
	bool ok = bc_span_u32(s, at, &strbuf_len) && bc_span_has(s, at + 4, strbuf_len);
	uint64_t strbuf = at + 4;
	at = strbuf + strbuf_len;
	ok = ok && bc_span_u32(s, at, &count) && bc_span_u32(s, at + 4, &capacity);
	at += 8;
	for (int v = 0; ok && v < 2; v++) {  // the present and deleted bit vectors
		ok = bc_span_u32(s, at, &words) && bc_span_has(s, at + 4, 4ull * words);
		at += 4 + 4ull * words;
	}
	ok = ok && bc_span_has(s, at, 8ull * count);
	for (uint32_t i = 0; ok && i < count; i++) {
		uint32_t key = bc_le32(info + at + 8 * i), value = bc_le32(info + at + 8 * i + 4);
		size_t n = strlen(name);
		if (key < strbuf_len && strbuf_len - key > n &&
		    !memcmp(info + strbuf + key, name, n + 1)) {
			*ret = value;
			break;
		}
	}
	free(info);
	if (!ok)
		return bc_error_format(UINT64_MAX, "%s: the PDB info stream's named-stream map is "
				       "corrupt", what);
	return NULL;
}

// The /names stream, checked: signature, version, and a buffer inside it.
static struct bc_error *load_names(struct pdb_frames *f, const struct pdb_msf_view *msf,
				   const char *what, uint32_t *buffer_size)
{
	uint32_t stream;
	struct bc_error *err = named_stream(msf, what, "/names", &stream);
	if (err)
		return err;
	if (stream == UINT32_MAX)
		return bc_error_format(UINT64_MAX, "%s: FrameData records but no /names stream for "
				       "their programs", what);
	uint32_t size;
	err = msf->load(msf->arg, stream, &f->names, &size);
	if (err)
		return err;
	struct bc_span s = { f->names, size };
	uint32_t sig, version, bytes;
	if (!bc_span_u32(s, 0, &sig) || !bc_span_u32(s, 4, &version) || !bc_span_u32(s, 8, &bytes) ||
	    sig != NAMES_SIGNATURE || !bc_span_has(s, 12, bytes))
		return bc_error_format(UINT64_MAX, "%s: the /names stream (stream %u) is corrupt",
				       what, stream);
	*buffer_size = bytes;
	return NULL;
}

static struct bc_error *decode_fpo(const uint8_t *r, const char *what, uint32_t index,
				   struct bc_x86_frame_info *ret)
{
	uint32_t locals = bc_le32(r + 8);
	uint16_t params = bc_le16(r + 12), bits = bc_le16(r + 14);
	// winnt.h bit positions: cbProlog 0-7, cbRegs 8-10, fHasSEH 11, fUseBP 12, cbFrame 14-15.
	*ret = (struct bc_x86_frame_info){
		.kind = BC_X86_FRAME_FPO,
		.rva = bc_le32(r),
		.size = bc_le32(r + 4),
		.locals = locals * 4,
		.params = (uint32_t)params * 4,
		.saved_regs = ((bits >> 8) & 7) * 4u,
		.prolog = bits & 0xff,
		.has_seh = (bits >> 11) & 1,
		.uses_bp = (bits >> 12) & 1,
		.frame_type = (uint8_t)(bits >> 14),
	};
	if (locals > UINT32_MAX / 4 || (uint64_t)ret->rva + ret->size > UINT32_MAX)
		return bc_error_format(UINT64_MAX, "%s: FPO record %u (rva %#x) has impossible "
				       "sizes", what, index, ret->rva);
	return NULL;
}

static struct bc_error *decode_framedata(const uint8_t *r, const char *what, uint32_t index,
					 const uint8_t *names, uint32_t names_size,
					 struct bc_x86_frame_info *ret)
{
	uint32_t flags = bc_le32(r + 28), program = bc_le32(r + 20);
	*ret = (struct bc_x86_frame_info){
		.kind = BC_X86_FRAME_DATA,
		.rva = bc_le32(r),
		.size = bc_le32(r + 4),
		.locals = bc_le32(r + 8),
		.params = bc_le32(r + 12),
		.max_stack = bc_le32(r + 16),
		.prolog = bc_le16(r + 24),
		.saved_regs = bc_le16(r + 26),
		.has_seh = flags & 1,
		.has_eh = (flags >> 1) & 1,
		.function_start = (flags >> 2) & 1,
	};
	if ((uint64_t)ret->rva + ret->size > UINT32_MAX)
		return bc_error_format(UINT64_MAX, "%s: FrameData record %u (rva %#x) runs past 4 GiB",
				       what, index, ret->rva);
	// The program must be a NUL-terminated string inside the /names buffer.
	if (program >= names_size || !memchr(names + program, 0, names_size - program))
		return bc_error_format(UINT64_MAX, "%s: FrameData record %u (rva %#x) names a program "
				       "at %#x, outside the /names buffer of %u bytes", what, index,
				       ret->rva, program, names_size);
	ret->program = (const char *)names + program;
	return NULL;
}

// Sorting indexes needs the records: qsort has no argument, so sort pairs.
struct key {
	uint32_t rva, index;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static struct bc_error *sort_index(const struct bc_x86_frame_info *recs, size_t count,
				   uint32_t **ret)
{
	*ret = malloc((count ? count : 1) * sizeof(**ret));
	struct key *keys = malloc((count ? count : 1) * sizeof(*keys));
	if (!*ret || !keys) {
		free(keys);
		return &bc_enomem;
	}
	for (size_t i = 0; i < count; i++)
		keys[i] = (struct key){ recs[i].rva, (uint32_t)i };
	qsort(keys, count, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < count; i++)
		(*ret)[i] = keys[i].index;
	free(keys);
	return NULL;
}

// Loads one stream of @rec_size-byte records (after @skip bytes) into f->records.
static struct bc_error *load_stream(struct pdb_frames *f, const struct pdb_msf_view *msf,
				    const char *what, uint16_t stream, bool framedata)
{
	if (stream == UINT16_MAX)
		return NULL;
	const char *label = framedata ? "New FPO (FrameData)" : "Old FPO";
	uint32_t rec_size = framedata ? FRAMEDATA_SIZE : FPO_SIZE, names_size = 0;
	uint8_t *data;
	uint32_t size;
	struct bc_error *err = msf->load(msf->arg, stream, &data, &size);
	if (err)
		return err;
	uint32_t skip = 0;
	if (framedata && size % rec_size == 4)
		skip = 4;  // a relocation word some producers put first (UNWIND_AND_SYMBOLS.md 3.3 [U])
	uint32_t count = (size - skip) / rec_size;
	if ((size - skip) % rec_size)
		err = bc_error_format(UINT64_MAX, "%s: the %s stream (stream %u) has %u bytes, not a "
				      "whole number of %u-byte records", what, label, stream, size,
				      rec_size);
	else if (count > MAX_RECORDS)
		err = bc_error_format(UINT64_MAX, "%s: the %s stream (stream %u) holds %u records, "
				      "more than %u", what, label, stream, count, MAX_RECORDS);
	else if (framedata && count)
		err = load_names(f, msf, what, &names_size);
	size_t have = f->data_count + f->fpo_count;
	struct bc_x86_frame_info *grown = NULL;
	if (!err) {
		grown = realloc(f->records, (have + count + 1) * sizeof(*grown));
		if (!grown)
			err = &bc_enomem;
		else
			f->records = grown;
	}
	for (uint32_t i = 0; !err && i < count; i++) {
		const uint8_t *r = data + skip + (uint64_t)i * rec_size;
		err = framedata ? decode_framedata(r, what, i, f->names + 12, names_size,
						   &f->records[have + i])
				: decode_fpo(r, what, i, &f->records[have + i]);
	}
	free(data);
	if (err)
		return err;
	if (framedata)
		f->data_count = count;
	else
		f->fpo_count = count;
	return NULL;
}

static struct bc_error *load(struct pdb_frames *f, const struct pdb_msf_view *msf, const char *what,
			     uint16_t fpo_stream, uint16_t data_stream)
{
	// FrameData first: records[0, data_count) are FrameData.
	struct bc_error *err = load_stream(f, msf, what, data_stream, true);
	if (!err)
		err = load_stream(f, msf, what, fpo_stream, false);
	if (!err)
		err = sort_index(f->records, f->data_count, &f->data_sorted);
	if (!err)
		err = sort_index(f->records + f->data_count, f->fpo_count, &f->fpo_sorted);
	return err;
}

struct bc_error *pdb_frames_ensure(struct pdb_frames *f, const struct pdb_msf_view *msf,
				   const char *what, uint16_t fpo_stream, uint16_t data_stream)
{
	if (!f->loaded) {
		f->loaded = true;
		f->load_error = load(f, msf, what, fpo_stream, data_stream);
		if (f->load_error) {
			// Keep nothing half-loaded: lookups on a failed load find nothing.
			free(f->records);
			free(f->data_sorted);
			free(f->fpo_sorted);
			free(f->names);
			f->records = NULL;
			f->data_sorted = f->fpo_sorted = NULL;
			f->names = NULL;
			f->data_count = f->fpo_count = 0;
		}
	}
	if (f->load_error)
		return bc_error_create(f->load_error->code, "%s", f->load_error->message);
	return NULL;
}

// The record of @recs (sorted by @sorted) covering @rva: the nearest start at
// or below it, or, when that one ends too early, an earlier one enclosing it
// (FrameData gives one record per prolog stage, nested in the function's).
static const struct bc_x86_frame_info *find_in(const struct bc_x86_frame_info *recs,
					       const uint32_t *sorted, size_t count, uint64_t rva)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (recs[sorted[mid]].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo, tried = 0; k > 0 && tried < LOOKBACK; k--, tried++) {
		const struct bc_x86_frame_info *r = &recs[sorted[k - 1]];
		if (rva - r->rva < r->size)
			return r;
	}
	return NULL;
}

struct bc_error *pdb_frames_find(const struct pdb_frames *f, uint64_t rva,
				 struct bc_x86_frame_info *ret)
{
	const struct bc_x86_frame_info *r = find_in(f->records, f->data_sorted, f->data_count, rva);
	if (!r)
		r = find_in(f->records + f->data_count, f->fpo_sorted, f->fpo_count, rva);
	if (!r)
		return &bc_not_found;
	*ret = *r;
	return NULL;
}

void pdb_frames_free(struct pdb_frames *f)
{
	bc_error_destroy(f->load_error);
	free(f->records);
	free(f->data_sorted);
	free(f->fpo_sorted);
	free(f->names);
	*f = (struct pdb_frames){ 0 };
}
