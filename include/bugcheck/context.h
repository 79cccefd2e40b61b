/*
 * bugcheck/context.h: processor register state (CONTEXT) of x64, x86, ARM64.
 *
 * struct bc_context is a decoded CONTEXT record, tagged by machine. Decoding
 * is done by bc_context_decode() from the raw Windows CONTEXT bytes, so the
 * same code serves the dump header, .cxr records and (later) KPRCB copies.
 * Registers are also reachable by name (bc_context_register), which is what
 * the expression evaluator's "@rip" and the `r reg` command use.
 */
#ifndef BUGCHECK_CONTEXT_H
#define BUGCHECK_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bc_machine {
	BC_MACHINE_UNKNOWN = 0,
	BC_MACHINE_X86,
	BC_MACHINE_X64,
	BC_MACHINE_ARM64,
};

/** "x86", "x64", "arm64" (the JSON names), or "unknown". */
BC_PUBLIC const char *bc_machine_name(enum bc_machine machine);

/** x64 CONTEXT (0x4d0 bytes in the dump). */
struct bc_context_x64 {
	uint32_t context_flags, mxcsr;
	uint16_t cs, ds, es, fs, gs, ss;
	uint32_t eflags;
	uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
};

/** x86 CONTEXT (0x2cc bytes in the dump). */
struct bc_context_x86 {
	uint32_t context_flags;
	uint32_t dr0, dr1, dr2, dr3, dr6, dr7;
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebx, edx, ecx, eax, ebp, eip, cs, eflags, esp, ss;
};

/** ARM64 CONTEXT (0x390 bytes in the dump). */
struct bc_context_arm64 {
	uint32_t context_flags, cpsr;
	uint64_t x[29];      ///< x0..x28
	uint64_t fp, lr, sp, pc;
	uint32_t fpcr, fpsr;
};

struct bc_context {
	enum bc_machine machine;
	union {
		struct bc_context_x64 x64;
		struct bc_context_x86 x86;
		struct bc_context_arm64 arm64;
	};
};

/** Size of a raw CONTEXT record for @machine (0 if unknown). */
BC_PUBLIC size_t bc_context_raw_size(enum bc_machine machine);

/** Decodes a raw CONTEXT of @size bytes (must be >= bc_context_raw_size). */
BC_PUBLIC struct bc_error *bc_context_decode(enum bc_machine machine, const void *raw,
					     size_t size, struct bc_context *ret);

/** Program counter, stack pointer and frame pointer of any machine. */
BC_PUBLIC uint64_t bc_context_pc(const struct bc_context *ctx);
BC_PUBLIC uint64_t bc_context_sp(const struct bc_context *ctx);
BC_PUBLIC uint64_t bc_context_fp(const struct bc_context *ctx);

/**
 * Looks a register up by name, case-insensitive ("rip", "eax", "x19", "sp",
 * "efl"). Sub-registers of x64 are supported ("eax", "ax", "al" on x64).
 * Returns BC_ERR_NOT_FOUND for an unknown name.
 */
BC_PUBLIC struct bc_error *bc_context_register(const struct bc_context *ctx, const char *name,
					       uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
