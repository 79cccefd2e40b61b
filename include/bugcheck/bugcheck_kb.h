/*
 * bugcheck/bugcheck_kb.h: what a bug check means.
 *
 * This module owns the bug check knowledge base: for each bug check code its
 * name, an explanation, and what each of its four parameters means, including
 * sub-codes (a parameter whose value changes what the others mean, as 0x1A's
 * Arg1 does) and named values (0x7F's Arg1 8 is EXCEPTION_DOUBLE_FAULT); and
 * the names of common NTSTATUS codes. The text lives in data/bugcheck_kb.txt
 * and data/ntstatus_names.txt (their format is described at their top), is
 * compiled into the library and parsed on demand into a caller-owned object,
 * so nothing is read from disk at run time. The explanations are the
 * project's own words; the facts come from Microsoft's bug check reference.
 *
 * Codes with bit 28 set (0x1000007E, ...) are the base code's check: they
 * keep their own "_M" name and use the base code's explanation and parameters.
 * All strings returned point into the knowledge base and live until it is
 * closed.
 */
#ifndef BUGCHECK_BUGCHECK_KB_H
#define BUGCHECK_BUGCHECK_KB_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What kind of value a bug check parameter holds, so it can be shown well. */
enum bc_bugcheck_arg_kind {
	BC_BUGCHECK_ARG_UNKNOWN = 0,  ///< the reference says nothing about it
	BC_BUGCHECK_ARG_VALUE,        ///< a plain number (count, size, index, PFN)
	BC_BUGCHECK_ARG_ADDRESS,      ///< an address (code or data): show as module!symbol+off
	BC_BUGCHECK_ARG_NTSTATUS,     ///< an NTSTATUS or exception code: show its name
	BC_BUGCHECK_ARG_IRQL,         ///< an interrupt request level
	BC_BUGCHECK_ARG_CODE,         ///< a sub-code or named value (see value_label)
	BC_BUGCHECK_ARG_BITS,         ///< a bit field
	BC_BUGCHECK_ARG_POINTER,      ///< the address of a structure named by pointee
	BC_BUGCHECK_ARG_RESERVED,     ///< reserved or unused
};

/** One parameter as it applies to the values given. */
struct bc_bugcheck_arg {
	enum bc_bugcheck_arg_kind kind;
	const char *pointee;      ///< POINTER: "CONTEXT", "KTRAP_FRAME", "IRP", ...; else NULL
	const char *text;         ///< what it means ("" when undocumented)
	const char *value_label;  ///< the name of this value ("EXCEPTION_DOUBLE_FAULT", "read",
				  ///< "STATUS_ACCESS_VIOLATION"), or NULL
	const char *value_note;   ///< a longer explanation of that value, or NULL
};

/** A bug check as the knowledge base explains it. */
struct bc_bugcheck_info {
	uint32_t code;            ///< the code asked about
	uint32_t described_code;  ///< the code whose explanation is used (0x7E for 0x1000007E)
	const char *name;         ///< "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"
	const char *explanation;  ///< one or more lines separated by '\n', no trailing newline
	struct bc_bugcheck_arg args[4];
};

struct bc_bugcheck_kb;

/** Parses the compiled-in knowledge base. Close it with bc_bugcheck_kb_close(). */
BC_PUBLIC struct bc_error *bc_bugcheck_kb_open(struct bc_bugcheck_kb **ret);
BC_PUBLIC void bc_bugcheck_kb_close(struct bc_bugcheck_kb *kb);

/**
 * Explains bug check @code. With @params (the four parameter values, or NULL)
 * sub-codes and named values are selected; without, each parameter's general
 * meaning is given. BC_ERR_NOT_FOUND for a code the knowledge base lacks.
 */
BC_PUBLIC struct bc_error *bc_bugcheck_kb_lookup(const struct bc_bugcheck_kb *kb, uint32_t code,
						 const uint64_t *params,
						 struct bc_bugcheck_info *ret);

/** The name of NTSTATUS @status ("STATUS_ACCESS_VIOLATION"), or NULL if not known. */
BC_PUBLIC const char *bc_bugcheck_kb_ntstatus_name(const struct bc_bugcheck_kb *kb,
						   uint32_t status);

/**
 * The text shown after a parameter's value ("Arg1: 0000000000000008, <this>"):
 * the value's name for a sub-code ("EXCEPTION_DOUBLE_FAULT"), "meaning: name"
 * for other named values ("access type: read"), else the meaning; "" when
 * nothing is known. Written to @buf (always NUL-terminated); returns @buf.
 */
BC_PUBLIC const char *bc_bugcheck_arg_text(const struct bc_bugcheck_arg *arg, char *buf,
					   size_t size);

#ifdef __cplusplus
}
#endif
#endif
