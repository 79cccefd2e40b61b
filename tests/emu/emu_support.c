// Shared pieces of the emulated-stack tests: see emu_support.h.
#include "emu_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pe.h"

static struct bc_error *read_image(const char *path, uint64_t base,
				   const struct emu_export *exports, size_t export_count,
				   struct emu_image *img)
{
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_file(path, &pe);
	if (err)
		return err;
	const struct bc_pe_info *info = bc_pe_info(pe);
	img->size = info->size_of_image;
	img->timestamp = info->timestamp;
	img->checksum = info->checksum;
	img->bytes = calloc(1, img->size);
	if (!img->bytes || info->image_base != base)
		err = bc_error_create(BC_ERR_FORMAT, "%s: not the expected fixture image", path);
	// Headers and sections at their RVAs, as the loader maps them.
	if (!err)
		err = bc_pe_read(pe, 0, img->bytes, info->size_of_headers);
	for (size_t i = 0; !err && i < bc_pe_section_count(pe); i++) {
		const struct bc_pe_section *s = bc_pe_section(pe, i);
		uint32_t n = s->virtual_size < s->raw_size ? s->virtual_size : s->raw_size;
		if (s->rva < img->size && n <= img->size - s->rva)
			err = bc_pe_read(pe, s->rva, img->bytes + s->rva, n);
	}
	const struct bc_pe_exports *ex = NULL;
	if (!err)
		err = bc_pe_exports(pe, &ex);
	for (size_t i = 0; !err && i < export_count; i++) {
		const struct bc_pe_export *e = bc_pe_export_by_name(ex, exports[i].name);
		if (!e)
			err = bc_error_create(BC_ERR_FORMAT, "%s: no export %s", path,
					      exports[i].name);
		else
			*exports[i].address = base + e->rva;
	}
	bc_pe_close(pe);
	return err;
}

bool emu_load_image(const char *file, uint64_t base, const struct emu_export *exports,
		    size_t export_count, struct emu_image *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->file = file;
	ret->base = base;
	const char *dir = getenv("BC_BINARY_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/unwind-fixtures/%s", dir ? dir : "build", file);
	struct bc_error *err = read_image(path, base, exports, export_count, ret);
	if (!err)
		return true;
	printf("# skipped: %s (built by tests/fixtures/unwind with clang and lld-link)\n",
	       err->message);
	bc_error_destroy(err);
	emu_free_image(ret);
	return false;
}

void emu_free_image(struct emu_image *img)
{
	free(img->bytes);
	img->bytes = NULL;
}

size_t emu_written_pages(uc_engine *uc, uint64_t low, uint64_t high, struct bc_fixture_blob *blobs,
			 size_t count, size_t max, uint8_t *pages)
{
	static const uint8_t zero_page[EMU_PAGE];
	for (uint64_t va = low; va < high && count < max; va += EMU_PAGE) {
		uint8_t *page = pages + count * EMU_PAGE;
		if (uc_mem_read(uc, va, page, EMU_PAGE) != UC_ERR_OK ||
		    !memcmp(page, zero_page, EMU_PAGE))
			continue;  // never touched: not in the dump
		blobs[count++] = (struct bc_fixture_blob){ va, page, EMU_PAGE };
	}
	return count;
}

struct bc_error *emu_open_dump(enum bc_fixture_format format, enum bc_fixture_machine machine,
			       const struct emu_image *img, const struct bc_fixture_blob *blobs,
			       size_t blob_count, const struct bc_context *context,
			       struct emu_dump *ret)
{
	memset(ret, 0, sizeof(*ret));
	// The driver's entry as the loader keeps it; "path" is a static string
	// for the fixture writer, so it is built once per file name here.
	static char path[128];
	snprintf(path, sizeof(path), "\\SystemRoot\\System32\\drivers\\%s", img->file);
	struct bc_fixture_module module = {
		img->file, path, img->base, img->size, img->timestamp, img->checksum,
		0x49104000, true, false,
	};
	struct bc_fixture_spec spec = {
		.format = format,
		.machine = machine,
		.blobs = blobs,
		.blob_count = blob_count,
		.extra_modules = &module,
		.extra_module_count = 1,
		.context = context,
	};
	struct bc_error *err = bc_fixture_build(&spec, NULL, &ret->bytes, &ret->size);
	if (!err)
		err = bc_target_open_memory(ret->bytes, ret->size, img->file, &ret->target);
	return err;
}

void emu_close_dump(struct emu_dump *d)
{
	bc_target_close(d->target);
	free(d->bytes);
	memset(d, 0, sizeof(*d));
}
