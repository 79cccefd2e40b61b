// Secondary data of small memory dumps (bugcheck/sysinfo.h): the
// "DumpBlob" list after the triage data. Walking it costs one header read
// per blob, at most MAX_BLOBS, never the blobs' bytes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "target_private.h"

enum {
	FILE_HEADER_SIZE = 0x10,  // "DumpBlob", HeaderSize, BuildNumber
	BLOB_HEADER_SIZE = 0x20,  // HeaderSize, Tag, DataSize, PrePad, PostPad
	MAX_BLOBS = 4096,
};

const struct bc_guid bc_tag_smbios = { {
	0x8f, 0x00, 0x5c, 0xbc, 0x3a, 0x1e, 0xd7, 0x44, 0x98, 0x8d, 0x86, 0xf6, 0x88, 0x4c, 0x67, 0x58,
} };
const struct bc_guid bc_tag_cpu_registry = { {
	0x89, 0xc3, 0x7a, 0x6c, 0x13, 0x43, 0xdc, 0x47, 0x9f, 0x34, 0xa8, 0x80, 0x0a, 0x0f, 0xb5, 0x6c,
} };

BC_PUBLIC void bc_guid_format(const struct bc_guid *g, char buf[39])
{
	const uint8_t *b = g->bytes;
	snprintf(buf, 39, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", bc_le32(b),
		 bc_le16(b + 4), bc_le16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

static void read_blobs(struct bc_target *t)
{
	t->blobs_read = true;
	struct bc_span f = t->file->bytes;
	uint64_t at = t->triage.size_of_dump;
	uint32_t header_size = 0;
	if (!bc_span_has(f, at, FILE_HEADER_SIZE) || memcmp(f.data + at, "DumpBlob", 8))
		return;  // no secondary data: nothing to list
	bc_span_u32(f, at + 8, &header_size);
	if (header_size < FILE_HEADER_SIZE) {
		snprintf(t->blob_note, sizeof(t->blob_note), "the secondary data header at file "
			 "offset 0x%llx says it is 0x%x bytes", (unsigned long long)at, header_size);
		return;
	}
	at += header_size;
	size_t cap = 0;
	for (size_t n = 0; n < MAX_BLOBS; n++) {
		uint32_t h = 0, size = 0, pre = 0, post = 0;
		if (!bc_span_u32(f, at, &h) || h == 0)
			return;  // the end of the file, or the zero fill after the last blob
		uint64_t data = at + (uint64_t)h, end;
		if (h < BLOB_HEADER_SIZE || !bc_span_has(f, at, BLOB_HEADER_SIZE)) {
			snprintf(t->blob_note, sizeof(t->blob_note), "blob %zu at file offset 0x%llx "
				 "has a header of 0x%x bytes", n, (unsigned long long)at, h);
			return;
		}
		bc_span_u32(f, at + 20, &size);
		bc_span_u32(f, at + 24, &pre);
		bc_span_u32(f, at + 28, &post);
		data += pre;
		end = data + size + post;
		if (!bc_span_has(f, data, size)) {
			snprintf(t->blob_note, sizeof(t->blob_note), "blob %zu at file offset 0x%llx "
				 "claims 0x%x bytes, past the end of the file", n,
				 (unsigned long long)at, size);
			return;
		}
		if (t->blob_count == cap) {
			size_t grown = cap ? cap * 2 : 32;
			struct bc_dump_blob *p = realloc(t->blobs, grown * sizeof(*p));
			if (!p)
				return;
			t->blobs = p;
			cap = grown;
		}
		struct bc_dump_blob *b = &t->blobs[t->blob_count++];
		memcpy(b->tag.bytes, f.data + at + 4, 16);
		b->header_offset = at;
		b->data = f.data + data;
		b->size = size;
		at = end;
	}
	snprintf(t->blob_note, sizeof(t->blob_note), "more than %d blobs: the rest are not listed",
		 MAX_BLOBS);
}

BC_PUBLIC struct bc_error *bc_target_blobs(struct bc_target *t, const struct bc_dump_blob **ret,
					   size_t *count)
{
	*ret = NULL;
	*count = 0;
	if (t->info.format != BC_DUMP_TRIAGE)
		return bc_error_create(BC_ERR_UNSUPPORTED, "secondary data is read from small memory "
				       "dumps only");
	if (!t->blobs_read)
		read_blobs(t);
	*ret = t->blobs;
	*count = t->blob_count;
	if (t->blob_note[0] && strncmp(t->blob_note, "more than", 9))
		return bc_error_create(BC_ERR_FORMAT, "damaged secondary data: %s", t->blob_note);
	return NULL;
}

BC_PUBLIC const struct bc_dump_blob *bc_target_find_blob(struct bc_target *t,
							 const struct bc_guid *tag)
{
	const struct bc_dump_blob *blobs;
	size_t n;
	bc_error_destroy(bc_target_blobs(t, &blobs, &n));
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(blobs[i].tag.bytes, tag->bytes, 16))
			return &blobs[i];
	}
	return NULL;
}

BC_PUBLIC const char *bc_target_blob_note(struct bc_target *t)
{
	return t->blob_note;
}
