/*
 * unwind/stackwalk.h: walking a thread's stack frame by frame (x64 and ARM64
 * by unwind data, x86 by PDB FPO/FrameData records and the EBP chain).
 *
 * The walker repeats unwind steps (unwind/unwind_x64.h, unwind_arm64.h) from a starting
 * context and records every frame with how it was found. It knows nothing of
 * modules or files: struct bc_stackwalk_env says, for an address, which image
 * holds it and where that image's function table is; the caller (target
 * wiring in unwind/stack_target.c) answers from dump memory or from image
 * files found through the symbol path.
 *
 * Stopping rules (each recorded as the walk's end reason): an instruction
 * pointer below 0x1000 or not canonical, a stack pointer that does not grow
 * (allowed across a machine frame, which may switch stacks: IST, DPC, ISR),
 * a repeated (ip, sp) pair, a user-mode address (the kernel stack ends
 * there), unreadable stack memory, or the frame limit.
 *
 * Where a frame's unwind data cannot be read (its image is neither in the
 * dump nor found through the symbol path), the walker scans the stack above
 * it for a plausible return address, marks that frame BC_FRAME_SCAN, and
 * resumes ordinary unwinding from there when that module's data is readable.
 */
#ifndef BC_UNWIND_STACKWALK_H
#define BC_UNWIND_STACKWALK_H

#include "bugcheck/pdb.h"
#include "bugcheck/stack.h"
#include "unwind/unwind_arm64.h"
#include "unwind/unwind_x64.h"

struct bc_stackwalk_env {
	struct bc_unwind_io io;
	/**
	 * The image containing @address: its base and .pdata (rva, size; size 0
	 * when it has none). BC_ERR_NOT_FOUND when no module holds @address; a
	 * fault when the image's headers cannot be read from anywhere.
	 */
	struct bc_error *(*find_image)(void *arg, uint64_t address, uint64_t *base_ret,
				       uint32_t *pdata_rva_ret, uint32_t *pdata_size_ret);
	/**
	 * Whether a value found on the stack can be a return address (inside a
	 * module; just after a call instruction where the code is readable).
	 * Used when unwind data is missing; NULL: never scan.
	 */
	bool (*plausible_return)(void *arg, uint64_t address);
	void *arg;
	/**
	 * x86 only: the PDB frame record (FPO_DATA or FrameData) covering
	 * @address, from the symbols of the module holding it. &bc_not_found when
	 * there is none (no module, no PDB, no record); other errors (a corrupt
	 * stream) make the walk use the EBP chain there. NULL: EBP chain only.
	 */
	struct bc_error *(*x86_frame)(void *arg, uint64_t address, struct bc_x86_frame_info *ret);
	/**
	 * The thread's kernel stack [stack_low, stack_high) (KTHREAD StackLimit,
	 * StackBase) when known, else 0, 0: a scan that starts inside it stops
	 * at its base. Unwinding is not bounded by it: kernel stack expansion
	 * and callouts legitimately return to another stack.
	 */
	uint64_t stack_low, stack_high;
};

/**
 * Walks from @start, writing up to @max frames. Always succeeds (a walk that
 * cannot go on ends with the reason in @ret->end); BC_ERR_NOMEM aside.
 */
struct bc_error *bc_stackwalk_x64(const struct bc_stackwalk_env *env,
				  const struct bc_context_x64 *start, size_t max,
				  struct bc_stack *ret);

/**
 * Walks an ARM64 stack from @start with the x64 walk's stopping rules, with
 * two differences: the stack pointer may stay the same from one frame to the
 * next (leaf and frameless functions do not move it; a repeated (pc, sp)
 * still ends the walk), and where unwind data is missing the frame-pointer
 * chain (fp -> {caller's fp, return address}) is tried before scanning the
 * stack. Return addresses found on the stack are stripped of PAC bits.
 * .pdata entries are 8 bytes (unwind/unwind_arm64.h).
 */
struct bc_error *bc_stackwalk_arm64(const struct bc_stackwalk_env *env,
				    const struct bc_context_arm64 *start, size_t max,
				    struct bc_stack *ret);

enum {
	BC_STACKWALK_MAX_FRAMES = 1024,   ///< any walk's frame cap
	BC_STACKWALK_SCAN_BYTES = 0x2000, ///< how far up the stack one scan looks
	BC_STACKWALK_MAX_SCANNED = 64,    ///< frames found by scanning before a walk gives up
};

/**
 * Starts a walk: zeroes @ret, caps *@max at BC_STACKWALK_MAX_FRAMES and
 * allocates that many frames (none when *@max is 0). BC_ERR_NOMEM only.
 */
struct bc_error *bc_stackwalk_start(struct bc_stack *ret, size_t *max);

/**
 * Scans 8-byte words upwards from @from (rounded down to 8) for one that
 * @accept takes (it may rewrite the value, e.g. strip PAC bits), within
 * BC_STACKWALK_SCAN_BYTES and the stack's readable part. On success
 * *@value_ret is the accepted value and *@slot_ret where it was.
 */
bool bc_stackwalk_scan(const struct bc_stackwalk_env *env, uint64_t from,
		       bool (*accept)(const struct bc_stackwalk_env *env, uint64_t *value),
		       uint64_t *value_ret, uint64_t *slot_ret);

/**
 * Ends a walk: sets @s->end and a note from @fmt (one %ll value) followed by
 * @err's message; destroys @err.
 */
void bc_stackwalk_end(struct bc_stack *s, enum bc_stack_end end, struct bc_error *err,
		      const char *fmt, unsigned long long value);

/**
 * Walks an x86 stack from @start. Each frame's caller comes from the PDB
 * record covering the frame's address (@env->x86_frame; the return address
 * minus 1 for every frame but the first, so a call that ends a function is
 * looked up in it): a FrameData program, else FPO_DATA sizes; and from the
 * EBP chain where there is no record or the record says the function keeps
 * an EBP frame (unwind/stackwalk_x86.c). A frame's sp is WinDbg's ChildEBP:
 * its EBP for EBP frames, and for the others the same place relative to the
 * return address (return address slot - 4), where the arguments start 8
 * bytes above. Reads stack memory through @env->io.read_memory; find_image
 * is not used.
 */
struct bc_error *bc_stackwalk_x86(const struct bc_stackwalk_env *env,
				  const struct bc_context_x86 *start, size_t max,
				  struct bc_stack *ret);

#endif
