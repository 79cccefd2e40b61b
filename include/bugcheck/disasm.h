/*
 * bugcheck/disasm.h: one machine instruction, decoded into WinDbg-like text.
 *
 * x86 and x64 are decoded by Zydis, ARM64 by Capstone; callers see only
 * struct bc_insn. The text follows WinDbg's conventions as far as a
 * symbol-less dump allows: Intel syntax in lower case, operand-size
 * keywords ("dword ptr [r9+r8]"), no blank after commas, MASM numbers
 * ("0E0h", small values as plain digits), WinDbg's condition names
 * ("jne", "cmove"), and direct branch and RIP-relative targets as
 * "name (fffff804`8b58335d)" when the caller can name the address, else the
 * bare backticked address. ARM64 keeps Capstone's operand syntax
 * ("[x8, #0xa40]" becomes "[x8,#0xa40]") with fp/lr for x29/x30.
 *
 * Decoding never reads memory by itself: bc_disasm_decode() takes bytes,
 * bc_disasm_read() reads them from a target first. Nothing is allocated that
 * outlives a call, and struct bc_insn is plain caller-owned storage.
 */
#ifndef BUGCHECK_DISASM_H
#define BUGCHECK_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an instruction does to control flow and memory (struct bc_insn.flags). */
enum bc_insn_flag {
	BC_INSN_CALL = 1u << 0,
	BC_INSN_RETURN = 1u << 1,
	BC_INSN_BRANCH = 1u << 2,       ///< a jump (not a call), conditional or not
	BC_INSN_CONDITIONAL = 1u << 3,  ///< the branch may fall through
	BC_INSN_HAS_TARGET = 1u << 4,   ///< @target is valid
	BC_INSN_HAS_MEMORY = 1u << 5,   ///< @memory describes an explicit memory access
};

enum {
	BC_INSN_MAX_BYTES = 16,     ///< x86 instructions are at most 15 bytes, ARM64 4
	BC_INSN_TEXT_SIZE = 192,    ///< room for @operands, with symbols
	BC_INSN_LINE_SIZE = 256,    ///< room for bc_disasm_format() output
};

/**
 * The memory operand an instruction reads or writes (x86/x64 only), so a
 * caller with registers can compute the effective address as WinDbg's `r`
 * does: base + index * scale + disp. RIP-relative operands have no base and
 * the absolute address in @disp. Register names are bc_context_register()
 * names.
 */
struct bc_insn_memory {
	char segment[4];  ///< "ds", "ss", "gs", ...
	char base[8];     ///< "" if none
	char index[8];    ///< "" if none
	unsigned scale;   ///< 1, 2, 4 or 8 (0 without index)
	int64_t disp;
	unsigned size;    ///< bytes accessed; 0 if not a plain size (e.g. string ops)
};

struct bc_insn {
	enum bc_machine machine;
	uint64_t address;
	unsigned length;                   ///< bytes used (1-15; 4 on ARM64)
	uint8_t bytes[BC_INSN_MAX_BYTES];  ///< the first @length are the instruction
	char mnemonic[32];                 ///< "mov", "rep stosb", "b.ne"
	char operands[BC_INSN_TEXT_SIZE];  ///< "dword ptr [r9+r8],edx"; "" if none
	unsigned flags;                    ///< enum bc_insn_flag bits
	uint64_t target;                   ///< BC_INSN_HAS_TARGET: branch destination or
					   ///< the address of a RIP-relative operand
	struct bc_insn_memory memory;      ///< BC_INSN_HAS_MEMORY
};

/**
 * Names @address for branch targets ("amdppm+0x335d"): writes a
 * NUL-terminated name into @buf (@size bytes) and returns true, or returns
 * false to show the address alone.
 */
typedef bool bc_disasm_symbol_fn(uint64_t address, char *buf, size_t size, void *arg);

struct bc_disasm_options {
	bc_disasm_symbol_fn *symbol;  ///< NULL: addresses only
	void *symbol_arg;             ///< passed to @symbol
};

/**
 * Decodes the instruction at the start of @code (@size bytes, more than the
 * instruction needs is fine) that lives at @address.
 *
 * @param options  may be NULL
 * @param ret      receives the instruction (written only on success)
 *
 * Errors: BC_ERR_INVALID_ARG when the bytes are not a valid instruction or
 * end inside one (the message says which), BC_ERR_UNSUPPORTED for
 * BC_MACHINE_UNKNOWN.
 */
BC_PUBLIC struct bc_error *bc_disasm_decode(enum bc_machine machine, uint64_t address,
					    const void *code, size_t size,
					    const struct bc_disasm_options *options,
					    struct bc_insn *ret);

/**
 * Reads the instruction at @address from @target's memory and decodes it
 * for the target's machine, naming branch targets after the modules that
 * contain them ("amdppm+0x335d", "nt+0x1234").
 *
 * Errors: BC_ERR_FAULT when the first byte is not in the dump, or when the
 * instruction runs into bytes that are not (address and reason of the first
 * missing byte); otherwise as bc_disasm_decode().
 */
BC_PUBLIC struct bc_error *bc_disasm_read(struct bc_target *target, uint64_t address,
					  struct bc_insn *ret);

/**
 * Backward disassembly (WinDbg's ub): where the @count instructions that end
 * exactly at @end begin. @code holds the @size bytes just before @end
 * ([@end - @size, @end)), at most BC_DISASM_BACK_MAX bytes are used (the
 * last ones).
 *
 * ARM64 instructions are 4 bytes: the answer is @end - 4 * @count. x86 code
 * has no fixed boundaries, but decodings from slightly different starts
 * converge: among all starts in the window that decode cleanly onto @end,
 * the boundary @count instructions back that most of them agree on wins.
 * @function_start (0: unknown), when it is inside the window and decodes onto
 * @end with at least @count instructions, is believed first. When nothing
 * decodes onto @end, the answer is @end - @count.
 *
 * Nothing is allocated; no error is possible today (the return value leaves
 * room for one).
 */
enum { BC_DISASM_BACK_MAX = 15 * 64 };
BC_PUBLIC struct bc_error *bc_disasm_back(enum bc_machine machine, const void *code, size_t size,
					  uint64_t end, uint64_t count, uint64_t function_start,
					  uint64_t *start_ret);

/**
 * Writes the instruction as WinDbg prints it after the address and bytes:
 * the mnemonic padded to 7 columns plus a blank, then the operands
 * ("mov     dword ptr [r9+r8],edx"; ARM64 pads to 11: "add         x0,x19,#0x40").
 * Returns @buf; output is truncated to @size (BC_INSN_LINE_SIZE always fits).
 */
BC_PUBLIC const char *bc_disasm_format(const struct bc_insn *insn, char *buf, size_t size);

/**
 * Writes the instruction's encoding as WinDbg shows it: x86/x64 bytes in
 * order ("43891401"), ARM64 the 32-bit instruction word ("91010260").
 * Returns @buf; @size of 2 * BC_INSN_MAX_BYTES + 1 always fits.
 */
BC_PUBLIC const char *bc_disasm_format_bytes(const struct bc_insn *insn, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
