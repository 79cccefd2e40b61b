/*
 * unwind/unwind_arm64.h: one ARM64 virtual unwind step (RtlVirtualUnwind's
 * job on Windows on ARM64).
 *
 * ARM64 .pdata entries are 8 bytes: BeginAddress, then a word whose low two
 * bits (Flag) say how to read the rest: 0, the RVA of an .xdata record; 1, a
 * packed description of a canonical prolog and epilog; 2, the same for a
 * fragment without prolog or epilog; 3 is reserved. Packed words are turned
 * into the unwind code sequence their canonical prolog stands for, so one
 * engine runs both kinds.
 *
 * The engine executes unwind codes (Microsoft's "ARM64 exception handling":
 * alloc_s/m/l, save_r19r20_x, save_fplr[_x], save_regp[_x], save_reg[_x],
 * save_lrpair, save_fregp[_x], save_freg[_x], save_any_reg, set_fp, add_fp,
 * nop, end, end_c, save_next, pac_sign_lr and the kernel's custom codes
 * MSFT_OP_TRAP_FRAME, MSFT_OP_MACHINE_FRAME, MSFT_OP_CONTEXT and
 * MSFT_OP_CLEAR_UNWOUND_TO_CALL). A pc inside the prolog undoes only the
 * codes already executed; a pc inside an epilog (the E bit's single epilog
 * at the end of the function, or an epilog scope) runs the epilog's codes
 * from the instruction reached. The caller's pc is the restored lr (with its
 * pointer-authentication bits stripped when the function signed it), except
 * after a trap frame, machine frame or CONTEXT, which give pc themselves.
 * Functions without a .pdata entry are leaves: pc = lr, sp unchanged.
 *
 * Floating-point registers are not tracked (the context has none): their
 * save codes only move sp when they write back. Memory and image bytes come
 * through struct bc_unwind_io (unwind/unwind_x64.h). All loops are bounded
 * by the record's size; corrupt records give BC_ERR_FORMAT.
 */
#ifndef BC_UNWIND_UNWIND_ARM64_H
#define BC_UNWIND_UNWIND_ARM64_H

#include <stdbool.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "unwind/unwind_x64.h"  // struct bc_unwind_io

/** An ARM64 .pdata entry (IMAGE_ARM64_RUNTIME_FUNCTION_ENTRY). */
struct bc_arm64_runtime_function {
	uint32_t begin;    ///< BeginAddress (RVA)
	uint32_t unwind;   ///< the second word: Flag in bits 0-1, .xdata RVA or packed fields
	uint32_t length;   ///< function length in bytes (packed word or .xdata header)
};

enum {
	BC_ARM64_MAX_CODE_BYTES = 4 * 255,  ///< Code Words is at most 255 (extended header)
	BC_ARM64_KTRAP_FRAME_SIZE = 0x150,
};

/** A decoded unwind record (packed words expanded to codes). */
struct bc_unwind_arm64_record {
	uint8_t flag;                 ///< the .pdata Flag: 0 .xdata, 1 packed, 2 packed fragment
	uint32_t function_length;     ///< bytes
	struct {
		uint8_t reg_f, reg_i, h, cr;
		uint32_t frame_size;  ///< bytes (FrameSize * 16)
	} packed;                     ///< flag 1 and 2: the fields as stored
	bool exception_data;          ///< X: a handler RVA follows the codes
	bool epilog_in_header;        ///< E: one epilog, at the end of the function
	uint32_t epilog_index;        ///< E: code byte index of that epilog's codes
	uint32_t epilog_scopes;       ///< !E: number of epilog scope words
	uint64_t scopes_rva;          ///< !E: RVA of the first epilog scope word
	uint32_t handler_rva;         ///< X: the exception handler
	uint32_t code_size;           ///< bytes in codes[] (4 * Code Words for .xdata)
	uint8_t codes[BC_ARM64_MAX_CODE_BYTES];
};

enum bc_unwind_arm64_flag {
	BC_UNWIND_ARM64_LEAF = 1u << 0,          ///< no .pdata entry: pc = lr
	BC_UNWIND_ARM64_EPILOG = 1u << 1,        ///< pc was in an epilog
	BC_UNWIND_ARM64_IN_PROLOG = 1u << 2,     ///< pc was inside the prolog
	BC_UNWIND_ARM64_CHAINED = 1u << 3,       ///< end_c: the parent region's codes were run too
	BC_UNWIND_ARM64_PACKED = 1u << 4,        ///< packed .pdata word
	BC_UNWIND_ARM64_PAC = 1u << 5,           ///< lr had been signed: its PAC bits were stripped
	BC_UNWIND_ARM64_TRAP_FRAME = 1u << 6,    ///< MSFT_OP_TRAP_FRAME: registers from a KTRAP_FRAME
	BC_UNWIND_ARM64_MACHINE_FRAME = 1u << 7, ///< MSFT_OP_MACHINE_FRAME: sp and pc from the stack
	BC_UNWIND_ARM64_CONTEXT = 1u << 8,       ///< MSFT_OP_CONTEXT: registers from a CONTEXT
	BC_UNWIND_ARM64_NOT_CALL = 1u << 9,      ///< the new pc was interrupted, not a return address
};

struct bc_unwind_arm64_result {
	unsigned flags;
	uint64_t establisher_frame;  ///< the caller's sp (what RtlVirtualUnwind reports)
	uint64_t machine_frame;      ///< trap/machine frame or CONTEXT: its address on the stack
};

/**
 * Decodes the unwind record of @rf (reading .xdata through @io, or expanding
 * a packed word). BC_ERR_FORMAT for reserved flags and versions, impossible
 * packed fields and out-of-range indexes.
 */
struct bc_error *bc_unwind_arm64_decode(const struct bc_unwind_io *io, uint64_t image_base,
					const struct bc_arm64_runtime_function *rf,
					struct bc_unwind_arm64_record *ret);

/**
 * Unwinds @ctx by one frame. @rf may be NULL for a leaf function (no .pdata
 * entry). On error @ctx is unchanged.
 */
struct bc_error *bc_unwind_arm64_step(const struct bc_unwind_io *io, uint64_t image_base,
				      const struct bc_arm64_runtime_function *rf,
				      struct bc_context_arm64 *ctx, struct bc_unwind_arm64_result *ret);

/**
 * Finds the entry covering @rva in the ARM64 .pdata table at @pdata_rva
 * (@pdata_size bytes) of the image at @image_base by binary search; fills
 * the function length. BC_ERR_NOT_FOUND (&bc_not_found) when none covers
 * @rva (a leaf); BC_ERR_FORMAT for a reserved Flag of 3.
 */
struct bc_error *bc_unwind_arm64_lookup(const struct bc_unwind_io *io, uint64_t image_base,
					uint32_t pdata_rva, uint32_t pdata_size, uint64_t rva,
					struct bc_arm64_runtime_function *ret);

/**
 * Removes pointer-authentication bits from a code address: bits 48-63 become
 * copies of bit 55 (set for kernel addresses, clear for user ones).
 */
uint64_t bc_arm64_strip_pac(uint64_t address);

#endif
