// The knowledge base's parser, exposed for tests that feed it bad text.
#ifndef BC_NT_BUGCHECK_KB_PRIVATE_H
#define BC_NT_BUGCHECK_KB_PRIVATE_H

#include <stddef.h>

#include "bugcheck/bugcheck_kb.h"

/**
 * Parses a knowledge base (data/bugcheck_kb.txt's format) and an NTSTATUS
 * name list (data/ntstatus_names.txt's). The texts are copied; they need not
 * be NUL-terminated. A BC_ERR_FORMAT error names the file, line and problem;
 * its file_offset is the offset of the bad line.
 */
struct bc_error *bc_bugcheck_kb_parse(const char *kb_text, size_t kb_size,
				      const char *status_text, size_t status_size,
				      struct bc_bugcheck_kb **ret);

#endif
