/*
 * unwind/unwind_x64.h: one x64 virtual unwind step (RtlVirtualUnwind's job).
 *
 * Given a CONTEXT stopped inside a function and that function's
 * RUNTIME_FUNCTION, computes the caller's CONTEXT: undoes the prolog codes of
 * UNWIND_INFO v1/v2 (respecting a partly executed prolog), follows chained
 * entries, recognises an epilog in progress by decoding it, and stops at a
 * machine frame (PUSH_MACHFRAME: trap and interrupt handlers). Leaf
 * functions (no RUNTIME_FUNCTION) pop the return address.
 *
 * The unwinder owns no data: memory and image bytes come through struct
 * bc_unwind_io, so the same code unwinds from dump memory, from an image
 * file found through the symbol path, or from a test's arrays. XMM registers
 * are not tracked (the context has none); their save codes are skipped.
 * All table walks are bounded (chain depth, code counts).
 */
#ifndef BC_UNWIND_UNWIND_X64_H
#define BC_UNWIND_UNWIND_X64_H

#include <stdbool.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"

struct bc_unwind_io {
	/** Reads stack (or any) virtual memory. */
	struct bc_error *(*read_memory)(void *arg, uint64_t address, void *buf, size_t size);
	/** Reads the image loaded at @image_base, at @rva (unwind data; code for epilogs). */
	struct bc_error *(*read_image)(void *arg, uint64_t image_base, uint64_t rva, void *buf,
				       size_t size);
	void *arg;
};

struct bc_x64_runtime_function {
	uint32_t begin, end, unwind_rva;
};

enum bc_unwind_x64_flag {
	BC_UNWIND_X64_LEAF = 1u << 0,           ///< no RUNTIME_FUNCTION: popped the return address
	BC_UNWIND_X64_EPILOG = 1u << 1,         ///< RIP was in an epilog, emulated
	BC_UNWIND_X64_MACHINE_FRAME = 1u << 2,  ///< PUSH_MACHFRAME: RIP/RSP from a machine frame
	BC_UNWIND_X64_IN_PROLOG = 1u << 3,      ///< RIP was inside the prolog
	BC_UNWIND_X64_CHAINED = 1u << 4,        ///< chained unwind info was followed
};

struct bc_unwind_x64_result {
	unsigned flags;
	uint64_t establisher_frame;   ///< the frame base of the function (for SEH and `kf`)
	uint64_t machine_frame;       ///< MACHINE_FRAME: address of the saved RIP (KTRAP_FRAME.Rip)
	bool machine_frame_error_code;  ///< MACHINE_FRAME: an error code was pushed first
};

/**
 * Unwinds @ctx by one frame. @rf may be NULL for a leaf function. @rf must be
 * the direct entry (indirect entries resolved by bc_unwind_x64_lookup()).
 * On error @ctx is unchanged.
 */
struct bc_error *bc_unwind_x64_step(const struct bc_unwind_io *io, uint64_t image_base,
				    const struct bc_x64_runtime_function *rf,
				    struct bc_context_x64 *ctx, struct bc_unwind_x64_result *ret);

/**
 * Finds the RUNTIME_FUNCTION covering @rva in the .pdata table at @pdata_rva
 * (@pdata_size bytes) of the image at @image_base, following indirect
 * entries (UnwindData bit 0). BC_ERR_NOT_FOUND when none covers @rva (a leaf).
 */
struct bc_error *bc_unwind_x64_lookup(const struct bc_unwind_io *io, uint64_t image_base,
				      uint32_t pdata_rva, uint32_t pdata_size, uint64_t rva,
				      struct bc_x64_runtime_function *ret);

#endif
