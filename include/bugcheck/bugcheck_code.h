/*
 * bugcheck/bugcheck_code.h: bug check codes and what they are called.
 *
 * Names are Microsoft's identifiers (bugcodes.h and the bug check
 * reference). Codes with bit 28 set (0x1000007E, ...) are the same checks as
 * the base code and have their own "_M" names.
 */
#ifndef BUGCHECK_BUGCHECK_CODE_H
#define BUGCHECK_BUGCHECK_CODE_H

#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The name of bug check @code ("IRQL_NOT_LESS_OR_EQUAL"), or NULL if unknown. */
BC_PUBLIC const char *bc_bugcheck_name(uint32_t code);

#ifdef __cplusplus
}
#endif
#endif
