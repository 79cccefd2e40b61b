/*
 * bugcheck/stack.h: call stacks.
 *
 * A stack is a list of frames, innermost first, each with the registers the
 * unwinder recovered for it and how it was found: from the starting context,
 * by unwind data (.pdata/UNWIND_INFO, ARM64 .pdata/.xdata), by an x86 PDB's
 * FPO/FrameData record, as a leaf, across a machine (trap)
 * frame, or by scanning the stack for return addresses when nothing better
 * was available (WinDbg's "Following frames may be wrong").
 *
 * Ownership: struct bc_stack owns its frames; release with bc_stack_free().
 */
#ifndef BUGCHECK_STACK_H
#define BUGCHECK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bc_frame_source {
	BC_FRAME_CONTEXT = 1,   ///< frame 0: the starting context
	BC_FRAME_UNWIND,        ///< the callee's unwind data gave this frame
	BC_FRAME_LEAF,          ///< the callee had no unwind data: [rsp] was the return address
	BC_FRAME_TRAP,          ///< a machine frame (trap/interrupt) gave RIP and RSP
	BC_FRAME_SCAN,          ///< found by scanning the stack: may be wrong
	BC_FRAME_FPO,           ///< x86: the callee's PDB FPO/FrameData record gave this frame
};

enum bc_stack_end {
	BC_STACK_END_NONE = 0,      ///< still going when the frame limit was reached
	BC_STACK_END_ZERO_IP,       ///< the return address was 0 or below 0x1000 (normal end)
	BC_STACK_END_USER_MODE,     ///< reached a user-mode address (end of the kernel stack)
	BC_STACK_END_NOT_CANONICAL, ///< an impossible address
	BC_STACK_END_SP_BACKWARDS,  ///< the stack pointer did not grow
	BC_STACK_END_LOOP,          ///< a frame repeated
	BC_STACK_END_READ_FAILED,   ///< stack or unwind data could not be read
	BC_STACK_END_NO_MODULE,     ///< the instruction pointer is in no known module
	BC_STACK_END_BAD_UNWIND,    ///< unwind data is corrupt
};

/** x86: the PDB frame record of a frame's function, what `kv` shows as "(FPO: ...)". */
struct bc_frame_fpo {
	bool present;           ///< a record covered the frame's address
	bool frame_data;        ///< a FrameData record (else FPO_DATA)
	bool non_fpo;           ///< a standard EBP frame: FPO_DATA cbFrame NONFPO, or a
	                        ///< FrameData program that starts from $ebp
	bool uses_bp;           ///< FPO_DATA fUseBP: EBP allocated as a general register
	uint8_t frame_type;     ///< FPO_DATA cbFrame (enum bc_x86_frame_type in bugcheck/pdb.h)
	uint32_t params, locals, saved_regs;  ///< in dwords, as kv shows them
};

struct bc_stack_frame {
	uint64_t ip;              ///< instruction pointer in this frame
	uint64_t sp;              ///< stack pointer in this frame (WinDbg's Child-SP)
	uint64_t return_address;  ///< where this frame returns (the next frame's ip), 0 if unknown
	enum bc_frame_source source;
	uint64_t trap_frame;      ///< BC_FRAME_TRAP on the caller side: KTRAP_FRAME address, else 0
	struct bc_context context;  ///< registers as recovered (volatile ones may be stale)
	struct bc_frame_fpo fpo;    ///< x86 only; zero elsewhere
};

struct bc_stack {
	struct bc_stack_frame *frames;
	size_t count;
	enum bc_stack_end end;
	char note[256];           ///< why the walk ended, in words ("" when it ended normally)
};

/**
 * Walks the stack from @start (e.g. the dump's context or one from .cxr),
 * at most @max_frames frames. Unwind data comes from each module's image in
 * dump memory, else from its image file found through the symbol path.
 * Failing to go on is not an error: the walk ends with a reason and note.
 * x64 and ARM64 by unwind data, x86 by each module's PDB FPO/FrameData
 * records where the PDB is found, else by the EBP chain; BC_ERR_UNSUPPORTED
 * for other machines.
 */
BC_PUBLIC struct bc_error *bc_target_stack(struct bc_target *target, const struct bc_context *start,
					   size_t max_frames, struct bc_stack *ret);

/** Frees the frames (the struct itself is the caller's). */
BC_PUBLIC void bc_stack_free(struct bc_stack *stack);

/** "unwind", "leaf", "trap", "scan", "context", "fpo". */
BC_PUBLIC const char *bc_frame_source_name(enum bc_frame_source source);

/**
 * The registers kernel thread @thread (an ETHREAD address) resumes with, for
 * `.thread`: the dump's own context for the bug-checking thread; for a
 * switched-out thread, the return address found in the switch frame at
 * KTHREAD.KernelStack and the stack pointer above it (other registers zero,
 * for the unwinder to recover). BC_ERR_UNSUPPORTED for a thread running on
 * another processor; BC_ERR_NEEDS_SYMBOLS when KernelStack's offset is
 * unknown; a fault when the stack is not in the dump.
 */
BC_PUBLIC struct bc_error *bc_target_thread_context(struct bc_target *target, uint64_t thread,
						    struct bc_context *ret);

/** A KTRAP_FRAME decoded into registers (`.trap`, TRAP_FRAME in !analyze). */
struct bc_trap_frame {
	struct bc_context context;  ///< what the frame holds; registers it lacks are zero
	uint64_t error_code;        ///< x64 ErrorCode, x86 ErrCode
	bool kernel_mode;           ///< the trap came from kernel mode (CS privilege 0)
	bool from_symbols;          ///< offsets from the kernel's _KTRAP_FRAME type, else built in
};

/**
 * Reads the KTRAP_FRAME at @address (x64, x86 or ARM64). Field offsets come from
 * the kernel's _KTRAP_FRAME type when its symbols have types, else from the
 * layout Windows has kept since Vista (KERNEL_DUMP_FORMAT.md 5.3). x64 trap
 * frames hold no R12-R15 (left zero, as WinDbg shows them); on x86 a trap
 * from kernel mode pushed no ESP, which is then the address of HardwareEsp.
 */
BC_PUBLIC struct bc_error *bc_target_read_trap_frame(struct bc_target *target, uint64_t address,
						     struct bc_trap_frame *ret);

#ifdef __cplusplus
}
#endif
#endif
