/*
 * bugcheck/kobj.h: kernel structures read by type name and field path.
 *
 * Owns the question "where is _KPRCB.CurrentThread in this kernel, how wide
 * is it, and who says so". The answer comes from the best source at hand:
 *
 *   1. the kernel's own types: its PDB, or the ISF table identified for it
 *      (bugcheck/symbols.h);
 *   2. a Vergilius Project layout of the same architecture and build whose
 *      offsets agree with every KDDEBUGGER_DATA64 offset and size it knows
 *      (bugcheck/vergilius.h; only when a directory of them is given);
 *   3. the offsets the kernel wrote into its KDDEBUGGER_DATA64 block
 *      (OffsetPrcbCurrentThread, OffsetKThreadApcProcess, SizePrcb, ...),
 *      which every dump carries, small memory dumps included;
 *   4. otherwise BC_ERR_NEEDS_SYMBOLS with a message naming the field
 *      ("needs symbols for _KPRCB.IpiFrozen"): never a guessed offset.
 *
 * Paths name fields through embedded structures: "ApcState.Process",
 * "ProcessorState.ContextFrame", "Pcb.DirectoryTableBase". Members of
 * anonymous unions and structures are found as if they were the parent's.
 * A path never follows a pointer: that is a second read.
 */
#ifndef BUGCHECK_KOBJ_H
#define BUGCHECK_KOBJ_H

#include <stdbool.h>
#include <stdint.h>

#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bc_layout_source {
	BC_LAYOUT_TYPES = 1,  ///< the kernel's PDB or ISF types
	BC_LAYOUT_KDBG,       ///< an offset from KDDEBUGGER_DATA64
	BC_LAYOUT_VERGILIUS,  ///< a Vergilius Project layout checked against KDDEBUGGER_DATA64
};

/** One field of a kernel structure, as found. */
struct bc_kfield {
	uint64_t offset;          ///< bytes from the start of the outermost type
	uint64_t size;            ///< bytes (a bitfield: its underlying integer's)
	uint8_t bit_position;     ///< bitfields: first bit
	uint8_t bit_length;       ///< bitfields: width; 0 for whole fields
	bool is_pointer;
	bool is_signed;
	uint32_t type_id;         ///< the field's type in the kernel's symtab; 0 from KDBG
	enum bc_layout_source source;
};

/**
 * Finds @path in the kernel structure @type ("_KPRCB"; "nt!" is implied).
 * BC_ERR_NEEDS_SYMBOLS when neither the kernel's types nor KDDEBUGGER_DATA64
 * know it; BC_ERR_NOT_FOUND when the types exist and have no such field.
 */
BC_PUBLIC struct bc_error *bc_kernel_field(struct bc_target *target, const char *type,
					   const char *path, struct bc_kfield *ret);

/** sizeof(@type) (types, else SizePrcb/SizeEThread/SizeEProcess/SizePcr). */
BC_PUBLIC struct bc_error *bc_kernel_type_size(struct bc_target *target, const char *type,
					       uint64_t *size_ret,
					       enum bc_layout_source *source_ret);

/**
 * Reads the integer, enum, bitfield or pointer field @path of the @type at
 * @object. Pointers of 32-bit kernels are sign-extended (as WinDbg shows
 * them), signed integers sign-extended, bitfields extracted. Fields wider
 * than 8 bytes are refused (read them at object + offset instead).
 */
BC_PUBLIC struct bc_error *bc_kernel_read_field(struct bc_target *target, uint64_t object,
						const char *type, const char *path,
						uint64_t *value_ret);

/**
 * The KPRCB address of @processor, from nt!KiProcessorBlock. A small memory
 * dump holds no other processor's KPRCB: a BC_FAULT_NOT_IN_DUMP fault saying
 * "not in this dump (small memory dump)".
 */
BC_PUBLIC struct bc_error *bc_target_prcb(struct bc_target *target, uint32_t processor,
					  uint64_t *ret);

/**
 * The registers @processor stopped with: the dump's own context for the
 * bug-checking one; for the others, the CONTEXT KPRCB.Context points at
 * (Windows 7+), else KPRCB.ProcessorState.ContextFrame.
 */
BC_PUBLIC struct bc_error *bc_target_processor_context(struct bc_target *target,
						       uint32_t processor,
						       struct bc_context *ret);

/** A kernel thread as `!thread` shows it; each has_ flag says whether a layout source gave the field. */
enum { BC_THREAD_MAX_WAIT_OBJECTS = 8 };

struct bc_thread_info {
	uint64_t address;
	bool has_state, has_process, has_processor, has_wait_reason, has_cid, has_teb;
	bool has_win32_thread, has_initial_stack, has_kernel_stack, has_stack_base;
	bool has_stack_limit, has_wait_time, has_context_switches, has_priority;
	bool has_base_priority, has_win32_start, has_image;
	uint8_t state;            ///< KTHREAD_STATE: 2 running, 5 waiting...
	uint8_t wait_reason;      ///< KWAIT_REASON
	uint32_t processor;       ///< NextProcessor: where it runs or will run
	uint64_t process;         ///< KTHREAD.ApcState.Process
	uint64_t pid, tid;        ///< ETHREAD.Cid
	uint64_t teb, win32_thread;
	uint64_t initial_stack, kernel_stack, stack_base, stack_limit;
	uint32_t wait_time, context_switches;
	int8_t priority, base_priority;
	uint64_t win32_start;
	char image[16];           ///< the owning process's EPROCESS.ImageFileName
	// A waiting thread: KernelMode/UserMode, whether an APC may end the
	// wait, and what it waits on (KTHREAD.WaitBlockList, WaitBlockCount
	// _KWAIT_BLOCKs, each Object's _DISPATCHER_HEADER.Type).
	bool has_wait_mode, has_alertable;
	uint8_t wait_mode;        ///< 0 KernelMode, 1 UserMode
	bool alertable;
	size_t wait_object_count;
	struct {
		uint64_t address;
		bool has_type;
		uint8_t type;     ///< KOBJECTS: 0 NotificationEvent ... 9 SynchronizationTimer
	} wait_objects[BC_THREAD_MAX_WAIT_OBJECTS];
};

/**
 * Reads @thread's facts. Fails only when KTHREAD.State cannot be read (no
 * layout source, or the address is not in the dump); every other field is
 * optional.
 */
BC_PUBLIC struct bc_error *bc_target_thread_info(struct bc_target *target, uint64_t thread,
						 struct bc_thread_info *ret);
/** "RUNNING", "WAIT", ... (KTHREAD_STATE), NULL when out of range. */
BC_PUBLIC const char *bc_thread_state_name(uint8_t state);
/** A dispatcher object's type as !thread names it ("SynchronizationEvent", "QueueObject"); NULL if unknown. */
BC_PUBLIC const char *bc_dispatcher_object_name(uint8_t type);
/** "Executive", "WrQueue", ... (KWAIT_REASON), NULL when out of range. */
BC_PUBLIC const char *bc_wait_reason_name(uint8_t reason);

/** A process as `!process 0 0` shows it; has_ flags say which fields a layout source gave. */
struct bc_process_info {
	uint64_t address;
	bool has_pid, has_parent, has_peb, has_dtb, has_object_table, has_session, has_image;
	bool image_unreadable;  ///< the layout is known, the bytes are not in the dump
	uint64_t pid, parent, peb, dtb, object_table, session;
	char image[16];     ///< EPROCESS.ImageFileName
};

/** Reads @process's facts; fails only when none of them can be read. */
BC_PUBLIC struct bc_error *bc_target_process_info(struct bc_target *target, uint64_t process,
						  struct bc_process_info *ret);

/**
 * Calls @fn with each EPROCESS on nt!PsActiveProcessHead, in list order,
 * until it returns false. The walk is capped, detects cycles and entries
 * whose Blink does not point back, and stops at memory the dump lacks;
 * why it stopped early goes to @note ("" when it came back to the head).
 * An error only when the walk cannot start (no head, no layout).
 */
BC_PUBLIC struct bc_error *bc_target_each_process(struct bc_target *target,
						  bool (*fn)(void *arg, uint64_t process),
						  void *arg, char *note, size_t note_size);

enum { BC_KERNEL_LIST_MAX = 1 << 16 };  ///< entries any list walk visits at most

/**
 * Walks the LIST_ENTRY list at @head, calling @fn with each entry's object
 * (the entry's address minus @entry_offset) until it returns false. Capped
 * at BC_KERNEL_LIST_MAX; a cycle that misses the head, an entry whose Blink
 * does not point back, and an unreadable entry end the walk with @note
 * saying why ("" when it came back to the head). An error only when @head
 * itself cannot be read.
 */
BC_PUBLIC struct bc_error *bc_kernel_list_walk(struct bc_target *target, uint64_t head,
					       uint64_t entry_offset,
					       bool (*fn)(void *arg, uint64_t object), void *arg,
					       char *note, size_t note_size);

/** Each ETHREAD of @process (KPROCESS.ThreadListHead), as bc_kernel_list_walk. */
BC_PUBLIC struct bc_error *bc_target_each_thread(struct bc_target *target, uint64_t process,
						 bool (*fn)(void *arg, uint64_t thread),
						 void *arg, char *note, size_t note_size);

enum { BC_VERIFIER_MAX_DRIVERS = 64, BC_VERIFIER_NAME = 64, BC_VERIFIER_COUNTERS = 10 };

/** Driver Verifier as the dump saw it (`!verifier`). */
struct bc_verifier_info {
	uint32_t level;                       ///< MmVerifierData.Level: the enabled checks; 0: off
	const char *counter_names[BC_VERIFIER_COUNTERS];  ///< _MM_DRIVER_VERIFIER_DATA fields
	uint64_t counters[BC_VERIFIER_COUNTERS];
	bool has_counter[BC_VERIFIER_COUNTERS];
	bool has_drivers;                     ///< VfSuspectDriversList could be walked
	size_t driver_count;
	char drivers[BC_VERIFIER_MAX_DRIVERS][BC_VERIFIER_NAME];  ///< UTF-8 base names
	char drivers_note[256];               ///< why the list is missing or incomplete
};

/**
 * Reads Driver Verifier's state. Fails when MmVerifierData or its Level
 * cannot be read (no layout, not in the dump); the counters and the
 * driver list are optional.
 */
BC_PUBLIC struct bc_error *bc_target_verifier(struct bc_target *target,
					      struct bc_verifier_info *ret);

/** The memory manager's counters `!vm` shows, in pages. */
enum bc_vm_counter {
	BC_VM_PHYSICAL_PAGES,     ///< pages of RAM the kernel manages
	BC_VM_AVAILABLE_PAGES,    ///< zeroed + free + standby
	BC_VM_RESIDENT_AVAILABLE, ///< pages that could still be locked down
	BC_VM_MODIFIED_PAGES,     ///< the modified list, waiting to be written
	BC_VM_COMMITTED_PAGES,    ///< commit charge
	BC_VM_COMMIT_LIMIT,       ///< RAM + paging files
	BC_VM_PEAK_COMMITMENT,
	BC_VM_COUNTERS,
};

/** Virtual memory use as the dump saw it (`!vm`). */
struct bc_vm_info {
	const char *source;                   ///< "nt!MiSystemPartition" or "KDDEBUGGER_DATA64"
	uint64_t pages[BC_VM_COUNTERS];
	bool known[BC_VM_COUNTERS];
	char why[BC_VM_COUNTERS][96];         ///< for an unknown counter: why
};

/** WinDbg's label for a counter ("Physical Memory", "Commit limit"). */
BC_PUBLIC const char *bc_vm_counter_label(enum bc_vm_counter c);

/**
 * Reads the counters: from nt!MiSystemPartition (_MI_PARTITION.Vp, Windows
 * 10 and later, with the kernel's types), else from the variables
 * KDDEBUGGER_DATA64 names (MmNumberOfPhysicalPages, MmAvailablePages, ...,
 * which Windows 10 leaves 0). Fails only when neither source exists; a
 * counter the dump does not hold is unknown, with the reason.
 */
BC_PUBLIC struct bc_error *bc_target_vm(struct bc_target *target, struct bc_vm_info *ret);

/**
 * `.process`: user-mode addresses are translated through @process's
 * DirectoryTableBase from now on (0: back to the dump header's). Refused
 * when the value does not map the kernel as the header's does, and in
 * small memory dumps, which have no page tables.
 */
BC_PUBLIC struct bc_error *bc_target_set_process(struct bc_target *target, uint64_t process);
/** The process set by bc_target_set_process, else the bug-checking one (0 if unknown). */
BC_PUBLIC uint64_t bc_target_implicit_process(const struct bc_target *target);

/** KPRCB.IpiFrozen's state by name ("Running", "Frozen", "Owner"...); NULL if unknown. Bit 0x20 is FreezeActive. */
BC_PUBLIC const char *bc_ipi_frozen_name(uint32_t value);

/**
 * bc_kernel_read_field() for optional fields: true with the value, or false
 * (and 0) whatever the reason it could not be read.
 */
BC_PUBLIC bool bc_kernel_read_optional(struct bc_target *target, uint64_t object,
				       const char *type, const char *path, uint64_t *value_ret);

/** "types", "vergilius", "KDDEBUGGER_DATA64". */
BC_PUBLIC const char *bc_layout_source_name(enum bc_layout_source source);

#ifdef __cplusplus
}
#endif
#endif
