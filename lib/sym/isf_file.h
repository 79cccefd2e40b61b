/*
 * sym/isf_file.h: reading an ISF file's text (plain or xz-compressed) and its
 * PDB identity, shared by the ISF symtab (sym/isf.c) and the kernel index
 * (sym/kernel_ident.c).
 */
#ifndef BC_SYM_ISF_FILE_H
#define BC_SYM_ISF_FILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/symtab.h"

/** Largest decompressed table accepted (the biggest kernels are ~30 MiB). */
enum { BC_ISF_MAX_TEXT = 256 << 20 };

/** Reads @path, decompressing ".xz"; *@text_ret is malloc'd, NUL-terminated. */
struct bc_error *bc_isf_read_text(const char *path, char **text_ret, size_t *size_ret);
/** Parses JSON text into a document; errors name @what and the line/column. */
struct bc_error *bc_isf_parse(const char *text, size_t size, const char *what, json_t **ret);
/**
 * Makes a parsed ISF document a symtab (sym/isf.c); takes @root's reference
 * even on failure. Other type sources (sym/vergilius.c) translate into ISF
 * and open through here.
 */
struct bc_error *bc_isf_open_document(json_t *root, const char *what, struct bc_symtab **ret);
/**
 * bc_isf_open(), keeping an .xz table's decompressed text in
 * @cache_dir/isf-json (named after the file's size and time) so later runs
 * skip the decompression; without @cache_dir, or for other files, plain
 * bc_isf_open(). A damaged cache file is replaced.
 */
struct bc_error *bc_isf_open_cached(const char *path, const char *cache_dir,
				    struct bc_symtab **ret);
/** metadata.windows.pdb -> identity and machine (0 when absent). */
void bc_isf_identity(json_t *root, struct bc_pdb_identity *id, uint32_t *machine);

#endif
