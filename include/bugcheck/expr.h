/*
 * bugcheck/expr.h: WinDbg MASM expressions ("poi(@rsp+8)", "amdppm+0x334c").
 *
 * The evaluator reads the same syntax WinDbg's default (MASM) evaluator does,
 * as far as a dump without symbols allows:
 *
 *  - numbers are hex by default, with an optional backtick between digit
 *    groups ("fffff804`8b58334c"); prefixes 0x (hex), 0n (decimal),
 *    0t (octal) and 0y (binary) choose the radix;
 *  - operators, loosest first: `or` `|`; `xor` `^`; `and` `&`;
 *    `=` `==` `!=` `<` `<=` `>` `>=`; `<<` `>>` `>>>` (arithmetic);
 *    `+` `-`; `*` `/` `%` `mod`; unary `-` `+` `not` `hi` `low`
 *    `by` `wo` `dwo` `qwo` `poi`; parentheses or brackets group;
 *  - `poi(x)` reads a pointer at x from the dump (sign-extended on 32-bit
 *    targets), `by`/`wo`/`dwo`/`qwo` read 1/2/4/8 bytes zero-extended;
 *  - `@name` is a register of @ctx (bc_context_register names: `@rip`,
 *    `@eax`, `@x19`) or a pseudo-register (`$ip`, `$csp`, `$ptrsize`);
 *  - a bare word is, in this order (WinDbg's rule for names without `@`):
 *    a hex number if every character is a hex digit or a backtick ("add",
 *    "cdd" and "beef" are numbers), else a module's base address
 *    (bc_target_module_named: "nt", "amdppm"), else a register ("rsp",
 *    "esp", "x0"), else an error. `@name` skips the number and module
 *    look-ups (no x86, x64 or ARM64 register name is all hex digits, so
 *    the order matters only for modules named like registers), else a
 *    symbol of any loaded module (bc_target_resolve_symbol: the kernel first).
 *  - `module!symbol` is the symbol's address (loading that module's symbols
 *    through the symbol path on first use).
 *
 * Arithmetic is 64-bit unsigned and wraps (no undefined behaviour for any
 * input); `/`, `%` and the comparisons are unsigned; division by zero is an
 * error. A number literal wider than 64 bits is an error rather than being
 * truncated. Nesting (parentheses and unary operators) is limited to
 * BC_EXPR_MAX_DEPTH levels, so hostile input cannot exhaust the stack.
 *
 * Errors: BC_ERR_INVALID_ARG for syntax or names that resolve to nothing,
 * with the 1-based column of the offending character in the message;
 * BC_ERR_FAULT (address and reason of the underlying read) when a memory
 * operator reads an address that is not in the dump; BC_ERR_NOT_FOUND (with
 * the column) for a `module!symbol` that no symbols name. The library evaluates; formatting the result ("Evaluate
 * expression: ...") is the caller's job.
 */
#ifndef BUGCHECK_EXPR_H
#define BUGCHECK_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Deepest nesting of parentheses and unary operators accepted. */
enum { BC_EXPR_MAX_DEPTH = 100 };

/**
 * Evaluates all of @text.
 *
 * @param target  memory and module names; may be NULL (then poi() and
 *                module names fail with BC_ERR_INVALID_ARG)
 * @param ctx     registers for @reg and bare register names; may be NULL
 * @param text    the expression, NUL-terminated; surrounding blanks are allowed
 * @param ret     receives the value (written only on success)
 */
BC_PUBLIC struct bc_error *bc_expr_eval(struct bc_target *target, const struct bc_context *ctx,
					const char *text, uint64_t *ret);

/**
 * Evaluates the longest expression at the start of @text and stops before
 * the first token that cannot continue it, so that a command can parse
 * "@rsp L20" as the expression "@rsp" followed by " L20".
 *
 * @param len_ret receives the number of characters consumed (leading blanks
 *                and the expression, not the blanks after it)
 * @param ret     receives the value
 *
 * Fails like bc_expr_eval() when @text does not start with an expression.
 */
BC_PUBLIC struct bc_error *bc_expr_eval_prefix(struct bc_target *target,
					       const struct bc_context *ctx, const char *text,
					       size_t *len_ret, uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
