// ISF file text and identity (sym/isf_file.h).
#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/words.h"
#include "base/file.h"
#include "sym/isf_file.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static struct bc_error *decompress_xz(const char *path, const uint8_t *in, size_t in_size,
				      char **text_ret, size_t *size_ret)
{
	lzma_stream z = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return &bc_enomem;
	// JSON compresses about tenfold: room for 16x means no growth (and no
	// copy) for real tables; the final realloc only gives the rest back.
	size_t cap = in_size * 16 + 4096, len = 0;
	char *out = NULL;
	struct bc_error *err = NULL;
	z.next_in = in;
	z.avail_in = in_size;
	for (;;) {
		if (cap > BC_ISF_MAX_TEXT + 1)
			cap = BC_ISF_MAX_TEXT + 1;
		char *p = realloc(out, cap);
		if (!p) {
			err = &bc_enomem;
			break;
		}
		out = p;
		z.next_out = (uint8_t *)out + len;
		z.avail_out = cap - len;
		lzma_ret r = lzma_code(&z, LZMA_FINISH);
		len = cap - z.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
			err = bc_error_format(UINT64_MAX, "%s: corrupt xz data (liblzma error %d)",
					      path, (int)r);
			break;
		}
		if (r == LZMA_BUF_ERROR && z.avail_in == 0) {
			err = bc_error_format(in_size, "%s: truncated xz data", path);
			break;
		}
		if (len > BC_ISF_MAX_TEXT) {
			err = bc_error_create(BC_ERR_UNSUPPORTED, "%s: decompresses to more than %d MiB",
					      path, BC_ISF_MAX_TEXT >> 20);
			break;
		}
		if (z.avail_out == 0)
			cap *= 2;
	}
	lzma_end(&z);
	if (err) {
		free(out);
		return err;
	}
	char *p = realloc(out, len + 1);
	if (!p) {
		free(out);
		return &bc_enomem;
	}
	p[len] = 0;
	*text_ret = p;
	*size_ret = len;
	return NULL;
}

struct bc_error *bc_isf_read_text(const char *path, char **text_ret, size_t *size_ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_open(path, &file);
	if (err)
		return err;
	struct bc_span bytes = file->bytes;
	if (ends_with(path, ".xz")) {
		err = decompress_xz(path, bytes.data, (size_t)bytes.size, text_ret, size_ret);
	} else if (bytes.size > BC_ISF_MAX_TEXT) {
		err = bc_error_create(BC_ERR_UNSUPPORTED, "%s: larger than %d MiB", path,
				      BC_ISF_MAX_TEXT >> 20);
	} else {
		char *text = malloc((size_t)bytes.size + 1);
		if (!text) {
			err = &bc_enomem;
		} else {
			memcpy(text, bytes.data, (size_t)bytes.size);
			text[bytes.size] = 0;
			*text_ret = text;
			*size_ret = (size_t)bytes.size;
		}
	}
	bc_file_close(file);
	return err;
}

struct bc_error *bc_isf_parse(const char *text, size_t size, const char *what, json_t **ret)
{
	json_error_t je;
	json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return bc_error_format((uint64_t)je.position,
				       "%s: not a JSON symbol table (line %d, column %d: %s)", what,
				       je.line, je.column, je.text);
	if (!json_is_object(root) || !json_is_object(json_object_get(root, "symbols")) ||
	    !json_is_object(json_object_get(root, "metadata"))) {
		json_decref(root);
		return bc_error_format(0, "%s: JSON, but not a Volatility ISF table (no \"metadata\" "
				       "and \"symbols\" objects)", what);
	}
	*ret = root;
	return NULL;
}

void bc_isf_identity(json_t *root, struct bc_pdb_identity *id, uint32_t *machine)
{
	*id = (struct bc_pdb_identity){ 0 };
	*machine = 0;
	json_t *pdb = json_object_get(json_object_get(json_object_get(root, "metadata"), "windows"),
				      "pdb");
	const char *guid = json_string_value(json_object_get(pdb, "GUID"));
	const char *db = json_string_value(json_object_get(pdb, "database"));
	json_t *age = json_object_get(pdb, "age"), *mt = json_object_get(pdb, "machine_type");
	if (json_is_integer(age) && json_integer_value(age) >= 0 &&
	    json_integer_value(age) <= UINT32_MAX)
		id->age = (uint32_t)json_integer_value(age);
	if (json_is_integer(mt) && json_integer_value(mt) >= 0 && json_integer_value(mt) <= 0xffff)
		*machine = (uint32_t)json_integer_value(mt);
	if (db)
		snprintf(id->name, sizeof(id->name), "%s", db);
	// The text form is the symbol server's: Data1, Data2, Data3 as numbers,
	// then Data4's bytes. Stored form: Data1..3 little-endian.
	uint8_t text_order[16];
	if (!guid || strlen(guid) != 32)
		return;
	for (int i = 0; i < 16; i++) {
		int hi = bc_hex_digit(guid[2 * i]), lo = bc_hex_digit(guid[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return;
		text_order[i] = (uint8_t)(hi << 4 | lo);
	}
	static const int stored_from_text[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
						  8, 9, 10, 11, 12, 13, 14, 15 };
	for (int i = 0; i < 16; i++)
		id->guid[i] = text_order[stored_from_text[i]];
}
