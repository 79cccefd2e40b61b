/*
 * symsrv/symsrv_private.h: what the symbol-path modules share:
 * sympath.c parses, store.c looks in local stores and directories,
 * http.c downloads, cab.c decompresses.
 */
#ifndef BC_SYMSRV_PRIVATE_H
#define BC_SYMSRV_PRIVATE_H

#include "bugcheck/sympath.h"

struct bc_sympath {
	struct bc_sympath_entry *entries;
	size_t count;
};

/** A name fit to be one path component: no separators, "..", control characters. */
bool bc_symsrv_plain_name(const char *name);

/**
 * Downloads @url to @path (created; a temporary name, not yet verified).
 * BC_ERR_NOT_FOUND for HTTP 404/410; *@http_status_ret gets the status.
 */
struct bc_error *bc_symsrv_http_get(const char *url, const char *path,
				    const struct bc_symsrv_options *opt, const char *name,
				    long *http_status_ret);

#endif
