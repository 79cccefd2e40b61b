// The debug directory and its CodeView record: which PDB an image was linked
// with (bugcheck/pe.h; UNWIND_AND_SYMBOLS.md 1.5).
#include <stdlib.h>
#include <string.h>

#include "image/pe_layout.h"
#include "image/pe_private.h"

struct pe_debug {
	struct bc_pe_debug_entry *entries;
	size_t count;
	bool has_codeview;
	struct bc_pe_codeview codeview;
	char *pdb_path;
};

void pe_debug_free(struct pe_debug *dbg)
{
	if (!dbg)
		return;
	free(dbg->entries);
	free(dbg->pdb_path);
	free(dbg);
}

static struct bc_error *parse_entries(struct bc_pe *pe, struct pe_debug *dbg)
{
	struct bc_pe_directory dir;
	if (!pe_directory(pe, BC_PE_DIR_DEBUG, &dir))
		return pe_not_found(pe, "debug directory");
	size_t n = dir.size / PE_DEBUG_DIRECTORY_SIZE;
	if (n > PE_MAX_DEBUG_ENTRIES)
		return pe_corrupt("the debug directory claims %zu entries, more than the %u this reader accepts",
				  n, (unsigned)PE_MAX_DEBUG_ENTRIES);
	uint8_t *raw;
	struct bc_error *err = pe_read_alloc(pe, dir.rva, (uint64_t)n * PE_DEBUG_DIRECTORY_SIZE,
					     &raw);
	if (err)
		return err;
	dbg->entries = calloc(n ? n : 1, sizeof(*dbg->entries));
	if (!dbg->entries) {
		free(raw);
		return &bc_enomem;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = raw + i * PE_DEBUG_DIRECTORY_SIZE;
		dbg->entries[i] = (struct bc_pe_debug_entry){
			.characteristics = bc_le32(d + PE_DD_CHARACTERISTICS),
			.timestamp = bc_le32(d + PE_DD_TIME_DATE_STAMP),
			.major_version = bc_le16(d + PE_DD_MAJOR_VERSION),
			.minor_version = bc_le16(d + PE_DD_MINOR_VERSION),
			.type = bc_le32(d + PE_DD_TYPE),
			.size_of_data = bc_le32(d + PE_DD_SIZE_OF_DATA),
			.address_of_raw_data = bc_le32(d + PE_DD_ADDRESS_OF_RAW_DATA),
			.pointer_to_raw_data = bc_le32(d + PE_DD_POINTER_TO_RAW_DATA),
		};
	}
	dbg->count = n;
	free(raw);
	return NULL;
}

static struct bc_error *load_entries(struct bc_pe *pe)
{
	if (pe->debug)
		return NULL;
	struct pe_debug *dbg = calloc(1, sizeof(*dbg));
	if (!dbg)
		return &bc_enomem;
	struct bc_error *err = parse_entries(pe, dbg);
	if (err) {
		pe_debug_free(dbg);
		return err;
	}
	pe->debug = dbg;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pe_debug_entries(struct bc_pe *pe,
					       const struct bc_pe_debug_entry **entries_ret,
					       size_t *count_ret)
{
	struct bc_error *err = load_entries(pe);
	if (err)
		return pe_wrap(pe, err, "debug directory");
	*entries_ret = pe->debug->entries;
	*count_ret = pe->debug->count;
	return NULL;
}

// The record's first @size bytes (at most what the entry holds): at its RVA,
// or in a file at its file offset when it is not mapped.
static struct bc_error *read_record(struct bc_pe *pe, const struct bc_pe_debug_entry *e,
				    uint8_t *buf, size_t size)
{
	if (e->address_of_raw_data)
		return pe_read(pe, e->address_of_raw_data, buf, size);
	if (!pe->file || !e->pointer_to_raw_data)
		return &bc_not_found;
	struct bc_span file = pe->file->bytes;
	if (!bc_span_has(file, e->pointer_to_raw_data, size))
		return bc_error_format(e->pointer_to_raw_data,
				       "the CodeView record at file offset 0x%x (0x%zx bytes) lies past the end of the file (0x%llx bytes)",
				       e->pointer_to_raw_data, size,
				       (unsigned long long)file.size);
	memcpy(buf, file.data + e->pointer_to_raw_data, size);
	return NULL;
}

// Decodes an RSDS or NB10 record; BC_ERR_NOT_FOUND for other signatures.
static struct bc_error *decode_record(struct pe_debug *dbg, const uint8_t *r, size_t size)
{
	struct bc_pe_codeview *cv = &dbg->codeview;
	uint32_t sig = size >= 4 ? bc_le32(r + PE_CV_SIGNATURE) : 0;
	size_t path_at;
	if (sig == BC_PE_CODEVIEW_RSDS && size >= PE_RSDS_PATH) {
		memcpy(cv->guid, r + PE_RSDS_GUID, 16);
		cv->age = bc_le32(r + PE_RSDS_AGE);
		path_at = PE_RSDS_PATH;
	} else if (sig == BC_PE_CODEVIEW_NB10 && size >= PE_NB10_PATH) {
		cv->signature = bc_le32(r + PE_NB10_SIGNATURE);
		cv->age = bc_le32(r + PE_NB10_AGE);
		path_at = PE_NB10_PATH;
	} else {
		return &bc_not_found;
	}
	cv->format = sig;
	// The path ends at its NUL, or at the end of the record when it has none.
	const uint8_t *nul = memchr(r + path_at, '\0', size - path_at);
	size_t len = nul ? (size_t)(nul - (r + path_at)) : size - path_at;
	if (!(dbg->pdb_path = malloc(len + 1)))
		return &bc_enomem;
	memcpy(dbg->pdb_path, r + path_at, len);
	dbg->pdb_path[len] = '\0';
	cv->pdb_path = dbg->pdb_path;
	dbg->has_codeview = true;
	return NULL;
}

static struct bc_error *find_codeview(struct bc_pe *pe, struct pe_debug *dbg)
{
	struct bc_error *first_failure = NULL;
	for (size_t i = 0; i < dbg->count; i++) {
		const struct bc_pe_debug_entry *e = &dbg->entries[i];
		if (e->type != BC_PE_DEBUG_CODEVIEW)
			continue;
		size_t size = e->size_of_data;
		if (size > PE_RSDS_PATH + PE_MAX_STRING)
			size = PE_RSDS_PATH + PE_MAX_STRING;
		uint8_t *r = malloc(size ? size : 1);
		if (!r) {
			bc_error_destroy(first_failure);
			return &bc_enomem;
		}
		struct bc_error *err = read_record(pe, e, r, size);
		if (!err)
			err = decode_record(dbg, r, size);
		free(r);
		if (!err) {
			bc_error_destroy(first_failure);
			return NULL;
		}
		if (err->code == BC_ERR_NOMEM) {
			bc_error_destroy(first_failure);
			return err;
		}
		// Another CodeView entry may still be readable; report the first failure.
		if (err->code == BC_ERR_NOT_FOUND)
			bc_error_destroy(err);
		else if (!first_failure)
			first_failure = pe_context(err, "CodeView record of debug entry %zu", i);
		else
			bc_error_destroy(err);
	}
	return first_failure ? first_failure : pe_not_found(pe, "RSDS or NB10 CodeView record");
}

BC_PUBLIC struct bc_error *bc_pe_codeview(struct bc_pe *pe, const struct bc_pe_codeview **ret)
{
	struct bc_error *err = load_entries(pe);
	if (err)
		return pe_wrap(pe, err, "debug directory");
	if (!pe->debug->has_codeview) {
		if ((err = find_codeview(pe, pe->debug)))
			return pe_wrap(pe, err, "debug directory");
	}
	*ret = &pe->debug->codeview;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pe_pdb_identity(struct bc_pe *pe, struct bc_pdb_identity *ret)
{
	const struct bc_pe_codeview *cv;
	struct bc_error *err = bc_pe_codeview(pe, &cv);
	if (err)
		return err;
	const char *name = cv->pdb_path;
	for (const char *p = cv->pdb_path; *p; p++) {
		if (*p == '\\' || *p == '/')
			name = p + 1;
	}
	struct bc_pdb_identity id = { .age = cv->age, .signature = cv->signature };
	size_t len = strlen(name);
	if (len >= sizeof(id.name))
		return bc_error_format(UINT64_MAX, "%s: the PDB name in the CodeView record is %zu bytes long, more than %zu",
				       pe->name, len, sizeof(id.name) - 1);
	memcpy(id.guid, cv->guid, sizeof(id.guid));
	memcpy(id.name, name, len + 1);
	*ret = id;
	return NULL;
}
