/*
 * analysis/md5.h: MD5 (RFC 1321), for WinDbg's FAILURE_ID_HASH only. Not for
 * anything that needs a secure hash.
 */
#ifndef BC_ANALYSIS_MD5_H
#define BC_ANALYSIS_MD5_H

#include <stddef.h>
#include <stdint.h>

/** The 16-byte MD5 digest of @size bytes at @data. */
void bc_md5(const void *data, size_t size, uint8_t digest[16]);

#endif
