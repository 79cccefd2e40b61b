// PE images: opening (file or mapped layout), headers, the section table and
// reads at RVAs (bugcheck/pe.h, image/pe_private.h).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/pe_layout.h"
#include "image/pe_private.h"

/* ---- Errors ---------------------------------------------------------------- */

struct bc_error *pe_corrupt(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return &bc_enomem;
	struct bc_error *err = bc_error_format(UINT64_MAX, "%s", msg);
	free(msg);
	return err;
}

struct bc_error *pe_not_found(const struct bc_pe *pe, const char *what)
{
	return bc_error_create(BC_ERR_NOT_FOUND, "%s has no %s", pe->name, what);
}

static struct bc_error *rewrap(struct bc_error *inner, const char *prefix, const char *context)
{
	struct bc_error *err = bc_error_create(inner->code, "%s%s: %s", prefix, context,
					       inner->message);
	if (!err->needs_destroy)
		return inner;  // keep the original error rather than lose it
	err->errnum = inner->errnum;
	err->fault = inner->fault;
	err->address = inner->address;
	err->file_offset = inner->file_offset;
	bc_error_destroy(inner);
	return err;
}

struct bc_error *pe_context(struct bc_error *inner, const char *fmt, ...)
{
	if (!inner || !inner->needs_destroy || inner->code == BC_ERR_NOT_FOUND)
		return inner;
	char *context = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&context, fmt, ap);
	va_end(ap);
	if (n < 0)
		return inner;
	struct bc_error *err = rewrap(inner, "", context);
	free(context);
	return err;
}

struct bc_error *pe_wrap(const struct bc_pe *pe, struct bc_error *inner, const char *fmt, ...)
{
	if (!inner || !inner->needs_destroy || inner->code == BC_ERR_NOT_FOUND)
		return inner;
	char *context = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&context, fmt, ap);
	va_end(ap);
	char *prefix = NULL;
	if (n < 0 || asprintf(&prefix, "%s: ", pe->name) < 0) {
		free(context);
		return inner;
	}
	struct bc_error *err = rewrap(inner, prefix, context);
	free(prefix);
	free(context);
	return err;
}

const char *pe_escape(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (; *in && o + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (*in && o + 3 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---- Reading at RVAs ------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t alignment)
{
	return (v + alignment - 1) & ~(alignment - 1);
}

// How many bytes of the image a section covers once mapped: VirtualSize (or
// SizeOfRawData when that is 0, as old linkers wrote), rounded up to the
// section alignment: the loader zero-fills the rest of the last page.
static uint64_t section_span(const struct bc_pe *pe, const struct bc_pe_section *s)
{
	uint64_t vsize = s->virtual_size ? s->virtual_size : s->raw_size;
	return align_up(vsize, pe->info.section_alignment);
}

// The loader rounds PointerToRawData down to 512 when FileAlignment is at
// least 512 (images with a smaller FileAlignment are mapped as they are).
static uint64_t section_raw_start(const struct bc_pe *pe, const struct bc_pe_section *s)
{
	if (pe->info.file_alignment >= 0x200)
		return s->raw_offset & ~(uint64_t)0x1ff;
	return s->raw_offset;
}

// The last section starting at or below @rva (sections are ascending), or -1.
static ptrdiff_t section_below(const struct bc_pe *pe, uint64_t rva)
{
	size_t lo = 0, hi = pe->info.section_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pe->sections[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

// A run of bytes at an RVA in a file-layout image: file bytes or zero fill.
struct extent {
	bool zero;
	uint64_t offset;  // file offset when !zero
	uint64_t len;     // > 0
};

static struct bc_error *file_extent(const struct bc_pe *pe, uint64_t rva, struct extent *ret)
{
	ptrdiff_t i = section_below(pe, rva);
	uint64_t next_start = (size_t)(i + 1) < pe->info.section_count
				      ? pe->sections[i + 1].rva : UINT64_MAX;
	if (i >= 0) {
		const struct bc_pe_section *s = &pe->sections[i];
		uint64_t in = rva - s->rva, span = section_span(pe, s);
		if (in < span) {
			uint64_t raw = s->raw_size < span ? s->raw_size : span;
			if (in < raw)
				*ret = (struct extent){ false, section_raw_start(pe, s) + in, raw - in };
			else
				*ret = (struct extent){ true, 0, span - in };
			return NULL;
		}
	}
	// Headers are mapped at RVA = file offset, their last page zero-filled.
	uint64_t hdr = pe->info.size_of_headers;
	uint64_t hdr_span = align_up(hdr, pe->info.section_alignment);
	if (rva < hdr_span && rva < next_start) {
		uint64_t end = hdr_span < next_start ? hdr_span : next_start;
		if (rva < hdr)
			*ret = (struct extent){ false, rva, (hdr < end ? hdr : end) - rva };
		else
			*ret = (struct extent){ true, 0, end - rva };
		return NULL;
	}
	return pe_corrupt("rva 0x%llx lies in no section", (unsigned long long)rva);
}

static struct bc_error *read_file_layout(struct bc_pe *pe, uint64_t rva, uint8_t *buf,
					 size_t size)
{
	// Each extent ends at a section or header boundary: at most
	// section_count + 2 rounds.
	while (size) {
		struct extent ext = { 0 };
		struct bc_error *err = file_extent(pe, rva, &ext);
		if (err)
			return err;
		size_t n = ext.len < size ? (size_t)ext.len : size;
		if (ext.zero) {
			memset(buf, 0, n);
		} else {
			struct bc_span file = pe->file->bytes;
			if (!bc_span_has(file, ext.offset, n))
				return bc_error_format(ext.offset,
						       "rva 0x%llx (file offset 0x%llx, 0x%zx bytes) lies past the end of the file (0x%llx bytes)",
						       (unsigned long long)rva,
						       (unsigned long long)ext.offset, n,
						       (unsigned long long)file.size);
			memcpy(buf, file.data + ext.offset, n);
		}
		buf += n;
		rva += n;
		size -= n;
	}
	return NULL;
}

struct bc_error *pe_read(struct bc_pe *pe, uint64_t rva, void *buf, size_t size)
{
	uint64_t end;
	if (!bc_add_ok(rva, size, &end) || end > pe->info.size_of_image)
		return pe_corrupt("rva 0x%llx + 0x%zx lies outside the image (SizeOfImage 0x%x)",
				  (unsigned long long)rva, size, pe->info.size_of_image);
	if (!size)
		return NULL;
	if (pe->file)
		return read_file_layout(pe, rva, buf, size);
	return pe->read(pe->read_arg, rva, buf, size);
}

BC_PUBLIC struct bc_error *bc_pe_read(struct bc_pe *pe, uint64_t rva, void *buf, size_t size)
{
	struct bc_error *err = pe_read(pe, rva, buf, size);
	return err ? pe_wrap(pe, err, "reading 0x%zx bytes at rva 0x%llx", size,
			     (unsigned long long)rva) : NULL;
}

struct bc_error *pe_read_alloc(struct bc_pe *pe, uint64_t rva, uint64_t size, uint8_t **ret)
{
	if (size > pe->info.size_of_image)
		return pe_corrupt("0x%llx bytes at rva 0x%llx do not fit in the image (SizeOfImage 0x%x)",
				  (unsigned long long)size, (unsigned long long)rva,
				  pe->info.size_of_image);
	uint8_t *buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return &bc_enomem;
	struct bc_error *err = pe_read(pe, rva, buf, (size_t)size);
	if (err) {
		free(buf);
		return err;
	}
	*ret = buf;
	return NULL;
}

struct bc_error *pe_read_string(struct bc_pe *pe, uint64_t rva, size_t max, char **ret)
{
	char *s = malloc(max + 1);
	if (!s)
		return &bc_enomem;
	size_t len = 0;
	for (;;) {
		// Small chunks that never cross a page: the string's own pages only.
		uint64_t at = rva + len;
		size_t chunk = 64 - (size_t)(at & 63);
		if (chunk > max + 1 - len)
			chunk = max + 1 - len;
		if (at + chunk > pe->info.size_of_image && at < pe->info.size_of_image)
			chunk = (size_t)(pe->info.size_of_image - at);
		struct bc_error *err = pe_read(pe, at, s + len, chunk);
		if (err) {
			free(s);
			return err;
		}
		char *nul = memchr(s + len, '\0', chunk);
		if (nul) {
			*ret = s;
			return NULL;
		}
		len += chunk;
		if (len > max) {
			free(s);
			return pe_corrupt("the string at rva 0x%llx is longer than %zu bytes",
					  (unsigned long long)rva, max);
		}
	}
}

bool pe_directory(const struct bc_pe *pe, unsigned index, struct bc_pe_directory *ret)
{
	if (index >= pe->info.directory_count)
		return false;
	*ret = pe->info.directories[index];
	return ret->rva && ret->size;
}

/* ---- Headers ----------------------------------------------------------------- */

// Header bytes: file offset = RVA in both layouts (SizeOfHeaders is not known yet).
static struct bc_error *read_header(struct bc_pe *pe, uint64_t off, void *buf, size_t size,
				    const char *what)
{
	if (pe->file) {
		struct bc_span s = pe->file->bytes;
		if (!bc_span_has(s, off, size))
			return bc_error_format(off, "%s at 0x%llx (0x%zx bytes) lies past the end of the file (0x%llx bytes)",
					       what, (unsigned long long)off, size,
					       (unsigned long long)s.size);
		memcpy(buf, s.data + off, size);
		return NULL;
	}
	return pe->read(pe->read_arg, off, buf, size);
}

static void parse_optional_header(struct bc_pe_info *info, const uint8_t *oh)
{
	info->linker_major = oh[PE_OH_MAJOR_LINKER_VERSION];
	info->linker_minor = oh[PE_OH_MINOR_LINKER_VERSION];
	info->entry_point_rva = bc_le32(oh + PE_OH_ADDRESS_OF_ENTRY_POINT);
	info->image_base = info->is_64bit ? bc_le64(oh + PE_OH64_IMAGE_BASE)
					  : bc_le32(oh + PE_OH32_IMAGE_BASE);
	info->section_alignment = bc_le32(oh + PE_OH_SECTION_ALIGNMENT);
	info->file_alignment = bc_le32(oh + PE_OH_FILE_ALIGNMENT);
	info->os_major = bc_le16(oh + PE_OH_MAJOR_OS_VERSION);
	info->os_minor = bc_le16(oh + PE_OH_MINOR_OS_VERSION);
	info->image_major = bc_le16(oh + PE_OH_MAJOR_IMAGE_VERSION);
	info->image_minor = bc_le16(oh + PE_OH_MINOR_IMAGE_VERSION);
	info->subsystem_major = bc_le16(oh + PE_OH_MAJOR_SUBSYSTEM_VERSION);
	info->subsystem_minor = bc_le16(oh + PE_OH_MINOR_SUBSYSTEM_VERSION);
	info->size_of_image = bc_le32(oh + PE_OH_SIZE_OF_IMAGE);
	info->size_of_headers = bc_le32(oh + PE_OH_SIZE_OF_HEADERS);
	info->checksum = bc_le32(oh + PE_OH_CHECKSUM);
	info->subsystem = bc_le16(oh + PE_OH_SUBSYSTEM);
	info->dll_characteristics = bc_le16(oh + PE_OH_DLL_CHARACTERISTICS);
}

// Reads the optional header (@size bytes at @off) into pe->info.
static struct bc_error *read_optional_header(struct bc_pe *pe, uint64_t off, uint16_t size)
{
	uint8_t *oh = malloc(size ? size : 1);
	if (!oh)
		return &bc_enomem;
	struct bc_error *err = read_header(pe, off, oh, size, "the optional header");
	if (err) {
		free(oh);
		return err;
	}
	struct bc_pe_info *info = &pe->info;
	uint16_t magic = size >= 2 ? bc_le16(oh + PE_OH_MAGIC) : 0;
	if (magic != PE_OH_MAGIC_PE32 && magic != PE_OH_MAGIC_PE32_PLUS) {
		free(oh);
		return bc_error_format(off, "optional header magic 0x%x is neither PE32 (0x10b) nor PE32+ (0x20b)",
				       magic);
	}
	info->is_64bit = magic == PE_OH_MAGIC_PE32_PLUS;
	unsigned dir_off = info->is_64bit ? PE_OH64_DATA_DIRECTORY : PE_OH32_DATA_DIRECTORY;
	if (size < dir_off) {
		free(oh);
		return bc_error_format(off, "SizeOfOptionalHeader 0x%x is too small for a %s optional header (0x%x)",
				       size, info->is_64bit ? "PE32+" : "PE32", dir_off);
	}
	parse_optional_header(info, oh);
	uint32_t declared = bc_le32(oh + (info->is_64bit ? PE_OH64_NUMBER_OF_RVA_AND_SIZES
							 : PE_OH32_NUMBER_OF_RVA_AND_SIZES));
	uint32_t fits = (uint32_t)(size - dir_off) / PE_DATA_DIRECTORY_SIZE;
	uint32_t n = declared < fits ? declared : fits;
	info->directory_count = n < BC_PE_DIR_COUNT ? n : BC_PE_DIR_COUNT;
	for (uint32_t i = 0; i < info->directory_count; i++) {
		const uint8_t *d = oh + dir_off + i * PE_DATA_DIRECTORY_SIZE;
		info->directories[i] = (struct bc_pe_directory){ bc_le32(d), bc_le32(d + 4) };
	}
	free(oh);
	return NULL;
}

static bool is_power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

// Sections must be ascending and disjoint, as the Windows loader requires:
// RVA lookups then have one answer and a binary search finds it.
static struct bc_error *check_sections(struct bc_pe *pe)
{
	uint64_t prev_end = 0, prev_rva = 0;
	for (size_t i = 0; i < pe->info.section_count; i++) {
		const struct bc_pe_section *s = &pe->sections[i];
		uint64_t span = section_span(pe, s);
		char name[PE_ESCAPED_NAME];
		if (s->rva < prev_rva)
			return pe_corrupt("section %zu (%s) at rva 0x%x comes after one at 0x%llx: sections are not in ascending order",
					  i, pe_escape(s->name, name, sizeof(name)), s->rva,
					  (unsigned long long)prev_rva);
		prev_rva = s->rva;
		if (s->rva < prev_end)
			return pe_corrupt("section %zu (%s) at rva 0x%x overlaps the one before it, which ends at 0x%llx",
					  i, pe_escape(s->name, name, sizeof(name)), s->rva,
					  (unsigned long long)prev_end);
		if (span)
			prev_end = s->rva + span;
	}
	return NULL;
}

static struct bc_error *read_sections(struct bc_pe *pe, uint64_t off)
{
	size_t n = pe->info.section_count;
	uint8_t *raw = malloc(n ? n * PE_SECTION_HEADER_SIZE : 1);
	pe->sections = calloc(n ? n : 1, sizeof(*pe->sections));
	if (!raw || !pe->sections) {
		free(raw);
		return &bc_enomem;
	}
	struct bc_error *err = read_header(pe, off, raw, n * PE_SECTION_HEADER_SIZE,
					   "the section table");
	if (err) {
		free(raw);
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *h = raw + i * PE_SECTION_HEADER_SIZE;
		struct bc_pe_section *s = &pe->sections[i];
		memcpy(s->name, h + PE_SH_NAME, 8);
		s->name[8] = '\0';
		s->virtual_size = bc_le32(h + PE_SH_VIRTUAL_SIZE);
		s->rva = bc_le32(h + PE_SH_VIRTUAL_ADDRESS);
		s->raw_size = bc_le32(h + PE_SH_SIZE_OF_RAW_DATA);
		s->raw_offset = bc_le32(h + PE_SH_POINTER_TO_RAW_DATA);
		s->characteristics = bc_le32(h + PE_SH_CHARACTERISTICS);
	}
	free(raw);
	return check_sections(pe);
}

static struct bc_error *parse_headers(struct bc_pe *pe)
{
	uint8_t dos[PE_DOS_HEADER_SIZE];
	struct bc_error *err = read_header(pe, 0, dos, sizeof(dos), "the DOS header");
	if (err)
		return err;
	if (bc_le16(dos + PE_DOS_E_MAGIC) != PE_DOS_MAGIC)
		return bc_error_format(0, "not a PE image: no \"MZ\" signature");
	uint32_t lfanew = bc_le32(dos + PE_DOS_E_LFANEW);
	if (lfanew > PE_MAX_E_LFANEW)
		return bc_error_format(PE_DOS_E_LFANEW, "e_lfanew 0x%x is beyond 256 MiB", lfanew);
	uint8_t nt[PE_NT_OPTIONAL_HEADER];
	if ((err = read_header(pe, lfanew, nt, sizeof(nt), "the NT headers")))
		return err;
	if (bc_le32(nt + PE_NT_SIGNATURE) != PE_NT_SIGNATURE_VALUE)
		return bc_error_format(lfanew, "no \"PE\\0\\0\" signature at e_lfanew 0x%x", lfanew);
	struct bc_pe_info *info = &pe->info;
	info->machine = bc_le16(nt + PE_FH_MACHINE);
	info->section_count = bc_le16(nt + PE_FH_NUMBER_OF_SECTIONS);
	info->timestamp = bc_le32(nt + PE_FH_TIME_DATE_STAMP);
	info->characteristics = bc_le16(nt + PE_FH_CHARACTERISTICS);
	uint16_t oh_size = bc_le16(nt + PE_FH_SIZE_OF_OPTIONAL_HEADER);
	uint64_t oh_off = (uint64_t)lfanew + PE_NT_OPTIONAL_HEADER;
	if ((err = read_optional_header(pe, oh_off, oh_size)))
		return err;
	if (!is_power_of_two(info->section_alignment))
		return bc_error_format(oh_off + PE_OH_SECTION_ALIGNMENT,
				       "SectionAlignment 0x%x is not a power of two",
				       info->section_alignment);
	if (!info->size_of_image)
		return bc_error_format(oh_off + PE_OH_SIZE_OF_IMAGE, "SizeOfImage is 0");
	if (info->size_of_headers > info->size_of_image)
		return bc_error_format(oh_off + PE_OH_SIZE_OF_HEADERS,
				       "SizeOfHeaders 0x%x is larger than SizeOfImage 0x%x",
				       info->size_of_headers, info->size_of_image);
	return read_sections(pe, oh_off + oh_size);
}

/* ---- Opening and closing ----------------------------------------------------- */

static struct bc_error *pe_create(const char *name, struct bc_pe **ret)
{
	struct bc_pe *pe = calloc(1, sizeof(*pe));
	if (!pe || !(pe->name = strdup(name))) {
		free(pe);
		return &bc_enomem;
	}
	*ret = pe;
	return NULL;
}

static struct bc_error *pe_finish_open(struct bc_pe *pe, struct bc_pe **ret)
{
	struct bc_error *err = parse_headers(pe);
	if (err) {
		err = pe_wrap(pe, err, "PE headers");
		bc_pe_close(pe);
		return err;
	}
	*ret = pe;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_pe_open_file(const char *path, struct bc_pe **ret)
{
	struct bc_pe *pe;
	struct bc_error *err = pe_create(path, &pe);
	if (err)
		return err;
	if ((err = bc_file_open(path, &pe->file))) {
		bc_pe_close(pe);
		return err;
	}
	return pe_finish_open(pe, ret);
}

BC_PUBLIC struct bc_error *bc_pe_open_memory(const void *data, size_t size, const char *what,
					     struct bc_pe **ret)
{
	struct bc_pe *pe;
	struct bc_error *err = pe_create(what ? what : "<memory>", &pe);
	if (err)
		return err;
	if ((err = bc_file_from_memory(data, size, pe->name, &pe->file))) {
		bc_pe_close(pe);
		return err;
	}
	return pe_finish_open(pe, ret);
}

BC_PUBLIC struct bc_error *bc_pe_open_image(bc_image_read_fn read, void *arg, uint64_t base,
					    const char *what, struct bc_pe **ret)
{
	if (!read)
		return bc_error_create(BC_ERR_INVALID_ARG, "bc_pe_open_image: no read function");
	struct bc_pe *pe;
	struct bc_error *err = pe_create(what ? what : "<image>", &pe);
	if (err)
		return err;
	pe->read = read;
	pe->read_arg = arg;
	pe->info.load_base = base;
	return pe_finish_open(pe, ret);
}

BC_PUBLIC void bc_pe_close(struct bc_pe *pe)
{
	if (!pe)
		return;
	pe_exports_free(pe->exports);
	pe_debug_free(pe->debug);
	pe_pdata_free(pe->pdata);
	pe_version_free(pe->version);
	bc_file_close(pe->file);
	free(pe->sections);
	free(pe->name);
	free(pe);
}

BC_PUBLIC const char *bc_pe_name(const struct bc_pe *pe)
{
	return pe->name;
}

BC_PUBLIC const struct bc_pe_info *bc_pe_info(const struct bc_pe *pe)
{
	return &pe->info;
}

BC_PUBLIC size_t bc_pe_section_count(const struct bc_pe *pe)
{
	return pe->info.section_count;
}

BC_PUBLIC const struct bc_pe_section *bc_pe_section(const struct bc_pe *pe, size_t i)
{
	return i < pe->info.section_count ? &pe->sections[i] : NULL;
}

BC_PUBLIC const struct bc_pe_section *bc_pe_section_at(const struct bc_pe *pe, uint64_t rva)
{
	// Empty sections share their RVA with the next one: look back past them.
	for (ptrdiff_t i = section_below(pe, rva); i >= 0; i--) {
		const struct bc_pe_section *s = &pe->sections[i];
		uint64_t size = s->virtual_size ? s->virtual_size : s->raw_size;
		if (rva - s->rva < size)
			return s;
		if (size)
			break;
	}
	return NULL;
}

BC_PUBLIC void bc_pe_image_key(uint32_t timestamp, uint32_t size_of_image,
			       char buf[BC_PE_IMAGE_KEY_SIZE])
{
	snprintf(buf, BC_PE_IMAGE_KEY_SIZE, "%08X%x", timestamp, size_of_image);
}
