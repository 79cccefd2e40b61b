/*
 * emu_support.h: what the emulated-stack tests (tests/emu) share: loading a
 * fixture DLL from BUILD/unwind-fixtures as the loader lays it out, turning
 * the pages a run wrote into dump blobs, and writing and opening the
 * synthetic dump with that DLL as a loaded driver.
 */
#ifndef BC_TEST_EMU_SUPPORT_H
#define BC_TEST_EMU_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "bugcheck/bugcheck.h"
#include "mkdump.h"

enum { EMU_PAGE = 0x1000 };

/** A fixture DLL as mapped at its preferred base. */
struct emu_image {
	const char *file;       ///< "callchain-x64.dll" (static string)
	uint64_t base;
	uint8_t *bytes;         ///< SizeOfImage bytes, headers and sections at their RVAs
	uint32_t size, timestamp, checksum;
};

/** An export the test needs: its name and where its address goes. */
struct emu_export {
	const char *name;
	uint64_t *address;
};

/**
 * Loads BUILD/unwind-fixtures/@file, which must be built for @base, and
 * resolves @exports. On failure prints "# skipped: ..." and returns false
 * (the fixture was not built: clang or lld-link missing).
 */
bool emu_load_image(const char *file, uint64_t base, const struct emu_export *exports,
		    size_t export_count, struct emu_image *ret);
void emu_free_image(struct emu_image *img);

/**
 * Appends to @blobs (now holding @count, room for @max) each page of
 * [@low, @high) that the run left non-zero, copied into @pages (room for
 * @max pages, indexed like @blobs). Returns the new count.
 */
size_t emu_written_pages(uc_engine *uc, uint64_t low, uint64_t high, struct bc_fixture_blob *blobs,
			 size_t count, size_t max, uint8_t *pages);

/** A synthetic dump built from an emulated machine, and the target over it. */
struct emu_dump {
	uint8_t *bytes;
	size_t size;
	struct bc_target *target;
};

/**
 * Builds a @format dump of @machine holding @blobs, with @img listed as a
 * loaded driver and @context as the crashing processor's registers, and
 * opens it.
 */
struct bc_error *emu_open_dump(enum bc_fixture_format format, enum bc_fixture_machine machine,
			       const struct emu_image *img, const struct bc_fixture_blob *blobs,
			       size_t blob_count, const struct bc_context *context,
			       struct emu_dump *ret);
void emu_close_dump(struct emu_dump *d);

#endif
