/*
 * bugcheck/error.h: the one error type of libbugcheck.
 *
 * Every library function that can fail returns `struct bc_error *`; NULL means
 * success. An error carries a code, a human-readable message, and code-specific
 * data: the faulting address and why it is missing (BC_ERR_FAULT), the file
 * offset of bad bytes (BC_ERR_FORMAT), or errno (BC_ERR_IO).
 *
 * Ownership: the caller owns a returned error and releases it with
 * bc_error_destroy(). The preallocated singletons (bc_enomem, bc_not_found,
 * bc_stop) may be passed to bc_error_destroy(), which ignores them, so running
 * out of memory never needs an allocation. The library never prints an error;
 * the caller formats it (message already says what and where).
 */
#ifndef BUGCHECK_ERROR_H
#define BUGCHECK_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BC_PUBLIC __attribute__((visibility("default")))
#define BC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BC_PUBLIC
#define BC_PRINTF(a, b)
#endif

enum bc_error_code {
	BC_ERR_NOMEM = 1,    ///< allocation failed
	BC_ERR_IO,           ///< the operating system refused (errnum, path)
	BC_ERR_FORMAT,       ///< bad bytes in a file (file_offset)
	BC_ERR_FAULT,        ///< an address could not be read (address, fault)
	BC_ERR_NOT_FOUND,    ///< a lookup found nothing (try the next provider)
	BC_ERR_UNSUPPORTED,  ///< a valid input this version cannot handle
	BC_ERR_INVALID_ARG,  ///< the caller passed something unusable
	BC_ERR_STOP,         ///< iteration ended on purpose
	BC_ERR_NEEDS_SYMBOLS,  ///< a kernel layout is unknown without the kernel's types
};

/** Why a memory read failed (BC_ERR_FAULT). */
enum bc_fault_kind {
	BC_FAULT_NONE = 0,
	BC_FAULT_NOT_IN_DUMP,     ///< the page exists but the dump did not save it
	BC_FAULT_NOT_PRESENT,     ///< a page-table entry says "not present" (never mapped)
	BC_FAULT_PAGED_OUT,       ///< the page is in the page file, not in RAM
	BC_FAULT_PROTOTYPE,       ///< a prototype PTE (shared section) we do not resolve
	BC_FAULT_NON_CANONICAL,   ///< the address is not canonical for this machine
	BC_FAULT_NO_TRANSLATION,  ///< the dump has no page tables (small memory dump)
	BC_FAULT_PAGE_TABLE,      ///< a page-table page itself is missing from the dump
};

struct bc_error {
	enum bc_error_code code;
	bool needs_destroy;        ///< false for the preallocated singletons
	int errnum;                ///< BC_ERR_IO: errno
	enum bc_fault_kind fault;  ///< BC_ERR_FAULT: why
	uint64_t address;          ///< BC_ERR_FAULT: first address that could not be read
	uint64_t file_offset;      ///< BC_ERR_FORMAT: where the bad bytes are (or UINT64_MAX)
	char *message;             ///< complete sentence fragment, no trailing newline
};

BC_PUBLIC extern struct bc_error bc_enomem;
BC_PUBLIC extern struct bc_error bc_not_found;
BC_PUBLIC extern struct bc_error bc_stop;

/** Creates an error with a printf-style message. Returns &bc_enomem on OOM. */
BC_PUBLIC struct bc_error *bc_error_create(enum bc_error_code code, const char *fmt, ...)
	BC_PRINTF(2, 3);
/** A BC_ERR_FORMAT error pointing at @file_offset. */
BC_PUBLIC struct bc_error *bc_error_format(uint64_t file_offset, const char *fmt, ...)
	BC_PRINTF(2, 3);
/** A BC_ERR_FAULT error for @address with the given reason. */
BC_PUBLIC struct bc_error *bc_error_fault(uint64_t address, enum bc_fault_kind kind,
					  const char *fmt, ...) BC_PRINTF(3, 4);
/** A BC_ERR_IO error from errno @errnum. */
BC_PUBLIC struct bc_error *bc_error_io(int errnum, const char *fmt, ...) BC_PRINTF(2, 3);

/** Frees @err; NULL and the singletons are accepted. */
BC_PUBLIC void bc_error_destroy(struct bc_error *err);

/**
 * If *@errp has @code, destroys it, sets *@errp to NULL and returns true:
 * "this failure was expected, carry on".
 */
BC_PUBLIC bool bc_error_catch(struct bc_error **errp, enum bc_error_code code);

/** A short name of a fault kind: "not in dump", "paged out", ... */
BC_PUBLIC const char *bc_fault_kind_name(enum bc_fault_kind kind);

#ifdef __cplusplus
}
#endif
#endif
