/*
 * unwind/x86_frame_program.h: evaluating a PDB FrameData program string, the
 * postfix (RPN) recipe an x86 PDB gives for finding a function's caller
 * (UNWIND_AND_SYMBOLS.md 3.3).
 *
 * A program such as "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =" is a list
 * of whitespace-separated tokens: numbers (decimal, or 0x hex), variables
 * ($eip $esp $ebp $ebx $esi $edi $eax $ecx $edx, temporaries $T0..$T9, $L,
 * $P, .raSearch, .raSearchStart, .cbLocals, .cbParams, .cbSavedRegs,
 * .cbCalleeParams, and CodeView register numbers such as $20 for ebx, which
 * some linkers write), the binary operators + - * / % (unsigned 32-bit, as
 * the values are addresses) and @ (align the left operand down to the right,
 * a power of two), the unary ^ (read a dword from memory) and the assignment
 * "NAME VALUE =". Assigning a register gives the caller's value of it.
 *
 * The evaluator owns nothing: it works on a caller's struct of variables and
 * reads memory through a callback. Programs are hostile input: the token
 * count, token length and stack depth are bounded, and reading an undefined
 * variable, an unknown token, a stack underflow, leftover values, division by
 * zero or a bad alignment is an error (BC_ERR_FORMAT) naming the token.
 */
#ifndef BC_UNWIND_X86_FRAME_PROGRAM_H
#define BC_UNWIND_X86_FRAME_PROGRAM_H

#include <stdint.h>

#include "bugcheck/error.h"

enum bc_x86_var {
	BC_X86_EIP,
	BC_X86_ESP,
	BC_X86_EBP,
	BC_X86_EBX,
	BC_X86_ESI,
	BC_X86_EDI,
	BC_X86_EAX,
	BC_X86_ECX,
	BC_X86_EDX,
	BC_X86_T0,  ///< $T0 .. $T9 follow in order
	BC_X86_L = BC_X86_T0 + 10,
	BC_X86_P,
	BC_X86_RA_SEARCH,
	BC_X86_RA_SEARCH_START,
	BC_X86_CB_LOCALS,
	BC_X86_CB_PARAMS,
	BC_X86_CB_SAVED_REGS,
	BC_X86_CB_CALLEE_PARAMS,
	BC_X86_VAR_COUNT,
};

enum {
	BC_X86_PROGRAM_MAX_TOKENS = 512,  ///< longer programs are refused
	BC_X86_PROGRAM_MAX_DEPTH = 32,    ///< evaluation stack depth
	BC_X86_PROGRAM_MAX_TOKEN = 31,    ///< characters in one token
};

/** The variables a program reads and writes; bit i of a mask is enum bc_x86_var i. */
struct bc_x86_program_vars {
	uint32_t value[BC_X86_VAR_COUNT];
	uint32_t defined;   ///< values that may be read (set by the caller or assigned)
	uint32_t assigned;  ///< values the program assigned
};

/** Reads the dword at @address (a 32-bit address). */
typedef struct bc_error *bc_x86_read32_fn(void *arg, uint32_t address, uint32_t *ret);

/** Sets variable @var to @value and marks it defined. */
void bc_x86_program_set(struct bc_x86_program_vars *v, enum bc_x86_var var, uint32_t value);

/**
 * Runs @program over @vars. On error @vars holds what was assigned before
 * the failing token. Errors from @read are returned as they are.
 */
struct bc_error *bc_x86_program_run(const char *program, struct bc_x86_program_vars *vars,
				    bc_x86_read32_fn *read, void *arg);

#endif
