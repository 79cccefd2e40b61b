/*
 * image/pe_private.h: the state behind struct bc_pe, shared by image/pe*.c.
 *
 * image/pe.c owns opening, the headers, the section table and reading at
 * RVAs; pe_exports.c, pe_debug.c, pe_pdata.c and pe_version.c each own one
 * cached reader and its free function, called from bc_pe_close().
 *
 * Error convention inside the module: helpers return errors without the
 * image's name; each public entry point wraps them once with pe_wrap(), which
 * prefixes "NAME: what: " and keeps the code, fault kind and address.
 */
#ifndef BC_IMAGE_PE_PRIVATE_H
#define BC_IMAGE_PE_PRIVATE_H

#include "base/bytes.h"
#include "base/file.h"
#include "bugcheck/pe.h"

// Limits on counts taken from the image (documented in bugcheck/pe.h).
enum {
	PE_MAX_EXPORTS = 1 << 20,        // NumberOfFunctions and NumberOfNames, each
	PE_MAX_STRING = 4096,            // an export name, forwarder, DLL name or PDB path
	PE_MAX_DEBUG_ENTRIES = 4096,
	PE_MAX_PDATA = 1 << 22,
	PE_MAX_VERSION_SIZE = 0x10000,   // VS_VERSIONINFO.wLength is 16 bits
	PE_MAX_E_LFANEW = 0x10000000,    // the Windows loader's own bound (256 MiB)
};

struct pe_exports;
struct pe_debug;
struct pe_pdata;
struct pe_version;

struct bc_pe {
	char *name;
	struct bc_file *file;      // file layout (owned); NULL for a mapped image
	bc_image_read_fn read;     // mapped layout
	void *read_arg;
	struct bc_pe_info info;
	struct bc_pe_section *sections;  // table order, checked ascending and disjoint
	// Readers parsed on first use.
	struct pe_exports *exports;
	struct pe_debug *debug;
	struct pe_pdata *pdata;
	struct pe_version *version;
};

void pe_exports_free(struct pe_exports *ex);
void pe_debug_free(struct pe_debug *dbg);
void pe_pdata_free(struct pe_pdata *pd);
void pe_version_free(struct pe_version *ver);

enum { PE_ESCAPED_NAME = 80 };
/**
 * Copies @in into @out (@size bytes) for an error message: bytes outside
 * printable ASCII and backslashes become \xNN, a long string ends in "...".
 * Returns @out.
 */
const char *pe_escape(const char *in, char *out, size_t size);

/** A BC_ERR_FORMAT error without the image's name (pe_wrap adds it). */
struct bc_error *pe_corrupt(const char *fmt, ...) BC_PRINTF(1, 2);
/** A BC_ERR_NOT_FOUND error "NAME has no ..." (already prefixed, not to be wrapped). */
struct bc_error *pe_not_found(const struct bc_pe *pe, const char *what);
/**
 * Returns a new error "NAME: CONTEXT: inner message" with @inner's code and
 * data, and destroys @inner. Singletons and NOT_FOUND errors pass unchanged.
 */
struct bc_error *pe_wrap(const struct bc_pe *pe, struct bc_error *inner, const char *fmt, ...)
	BC_PRINTF(3, 4);

/** "CONTEXT: inner message", same code and data; destroys @inner (NOT_FOUND passes). */
struct bc_error *pe_context(struct bc_error *inner, const char *fmt, ...) BC_PRINTF(2, 3);

/** Reads at an RVA (bc_pe_read without the name prefix). */
struct bc_error *pe_read(struct bc_pe *pe, uint64_t rva, void *buf, size_t size);
/** Reads @size bytes at @rva into a new buffer (the caller caps @size). */
struct bc_error *pe_read_alloc(struct bc_pe *pe, uint64_t rva, uint64_t size, uint8_t **ret);
/**
 * Reads the NUL-terminated string at @rva (at most @max bytes before the NUL)
 * into a new buffer. Stops reading at the NUL, so a string that ends just
 * before a missing page is still read.
 */
struct bc_error *pe_read_string(struct bc_pe *pe, uint64_t rva, size_t max, char **ret);
/** Whether data directory @index is present (non-zero RVA and size). */
bool pe_directory(const struct bc_pe *pe, unsigned index, struct bc_pe_directory *ret);

#endif
