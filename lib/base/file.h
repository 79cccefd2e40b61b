/*
 * base/file.h: a read-only file mapped into memory.
 *
 * Opening maps the whole file without reading it (the kernel pages it in on
 * demand), so opening a 16 GiB dump costs the same as opening a 4 KiB one.
 * The mapping is read-only and private; a file that shrinks underneath us
 * would raise SIGBUS, which is why every access is bounds-checked against the
 * size seen at open and the CLI documents that dumps must not be modified
 * while open. Empty files are represented without a mapping.
 */
#ifndef BC_BASE_FILE_H
#define BC_BASE_FILE_H

#include "base/bytes.h"
#include "bugcheck/error.h"

struct bc_file {
	char *path;
	struct bc_span bytes;  ///< the whole file
	void *map;             ///< NULL for an empty file
	uint64_t map_size;
};

/** Maps @path; on success *@ret owns the mapping (bc_file_close). */
struct bc_error *bc_file_open(const char *path, struct bc_file **ret);
void bc_file_close(struct bc_file *file);

/** Wraps caller-owned bytes (for tests and fuzzers); nothing is copied. */
struct bc_error *bc_file_from_memory(const void *data, uint64_t size, const char *name,
				     struct bc_file **ret);

#endif
