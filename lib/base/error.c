// Error objects: see include/bugcheck/error.h.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/error.h"

BC_PUBLIC struct bc_error bc_enomem = {
	.code = BC_ERR_NOMEM, .file_offset = UINT64_MAX, .message = "out of memory",
};
BC_PUBLIC struct bc_error bc_not_found = {
	.code = BC_ERR_NOT_FOUND, .file_offset = UINT64_MAX, .message = "not found",
};
BC_PUBLIC struct bc_error bc_stop = {
	.code = BC_ERR_STOP, .file_offset = UINT64_MAX, .message = "stop",
};

static struct bc_error *error_vcreate(enum bc_error_code code, const char *fmt, va_list ap)
{
	struct bc_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &bc_enomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &bc_enomem;
	}
	err->code = code;
	err->needs_destroy = true;
	err->file_offset = UINT64_MAX;
	return err;
}

BC_PUBLIC struct bc_error *bc_error_create(enum bc_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

BC_PUBLIC struct bc_error *bc_error_format(uint64_t file_offset, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = error_vcreate(BC_ERR_FORMAT, fmt, ap);
	va_end(ap);
	if (err->needs_destroy)
		err->file_offset = file_offset;
	return err;
}

BC_PUBLIC struct bc_error *bc_error_fault(uint64_t address, enum bc_fault_kind kind,
					  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = error_vcreate(BC_ERR_FAULT, fmt, ap);
	va_end(ap);
	if (err->needs_destroy) {
		err->address = address;
		err->fault = kind;
	}
	return err;
}

BC_PUBLIC struct bc_error *bc_error_io(int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct bc_error *err = error_vcreate(BC_ERR_IO, fmt, ap);
	va_end(ap);
	if (err->needs_destroy)
		err->errnum = errnum;
	return err;
}

BC_PUBLIC void bc_error_destroy(struct bc_error *err)
{
	if (!err || !err->needs_destroy)
		return;
	free(err->message);
	free(err);
}

BC_PUBLIC bool bc_error_catch(struct bc_error **errp, enum bc_error_code code)
{
	if (!*errp || (*errp)->code != code)
		return false;
	bc_error_destroy(*errp);
	*errp = NULL;
	return true;
}

BC_PUBLIC const char *bc_fault_kind_name(enum bc_fault_kind kind)
{
	switch (kind) {
	case BC_FAULT_NOT_IN_DUMP: return "not in dump";
	case BC_FAULT_NOT_PRESENT: return "not present";
	case BC_FAULT_PAGED_OUT: return "paged out";
	case BC_FAULT_PROTOTYPE: return "prototype PTE";
	case BC_FAULT_NON_CANONICAL: return "non-canonical address";
	case BC_FAULT_NO_TRANSLATION: return "not saved in this small memory dump";
	case BC_FAULT_PAGE_TABLE: return "page table not in dump";
	case BC_FAULT_NONE: break;
	}
	return "unreadable";
}
