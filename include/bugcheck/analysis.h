/*
 * bugcheck/analysis.h: !analyze, the verdict on a crash.
 *
 * This module owns the analysis of an opened kernel dump: which stack failed
 * (the CONTEXT or KTRAP_FRAME a bug check parameter points at, else the
 * bug-checking thread's own stack, crossing trap frames), what each frame of
 * it is and what the triage rules (bugcheck/triage.h) make of it, the frame
 * and module blamed, WinDbg's fields (SYMBOL_NAME, MODULE_NAME, IMAGE_NAME,
 * FAILURE_BUCKET_ID, FAILURE_ID_HASH, STACK_COMMAND, ...), and, beyond
 * WinDbg, the evidence for the verdict, a confidence level and advice.
 *
 * An analysis never fails for what the dump lacks: a missing stack, unknown
 * symbols or unreadable structures give a partial verdict with notes saying
 * what was missing. Only allocation failure is an error.
 *
 * Ownership: struct bc_analysis is the caller's (bc_analysis_free()); its
 * strings are copies, safe after the target is closed, and, like every
 * string from a dump, not sanitised: escape before printing.
 */
#ifndef BUGCHECK_ANALYSIS_H
#define BUGCHECK_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/bugcheck_kb.h"
#include "bugcheck/context.h"
#include "bugcheck/error.h"
#include "bugcheck/stack.h"
#include "bugcheck/target.h"
#include "bugcheck/triage.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The version of the analysis's JSON document (docs/JSON.md). */
#define BC_ANALYSIS_SCHEMA_VERSION 1

/** Where the failing stack starts. */
enum bc_failure_source {
	BC_FAILURE_NONE = 0,         ///< no register context at all: no stack
	BC_FAILURE_THREAD,           ///< the bug-checking thread (the dump's context)
	BC_FAILURE_CONTEXT_RECORD,   ///< a CONTEXT a parameter points at (.cxr)
	BC_FAILURE_TRAP_FRAME,       ///< a KTRAP_FRAME a parameter points at (.trap)
};

/** What a fact of the evidence is about. */
enum bc_evidence_kind {
	BC_EVIDENCE_FAULT_IN_MODULE = 1,  ///< the faulting instruction lies in the blamed module
	BC_EVIDENCE_PARAMETER,            ///< a bug check parameter points into a module
	BC_EVIDENCE_FRAME,                ///< the blamed frame: depth, how it was found, the rule
	BC_EVIDENCE_SCAN_ONLY,            ///< the blamed frame was found only by scanning the stack
	BC_EVIDENCE_VERIFIER,             ///< Driver Verifier was on / its frames are on the stack
	BC_EVIDENCE_IMAGE_AGE,            ///< the image is years older than the OS build
	BC_EVIDENCE_KNOWN_PROBLEM,        ///< the image is on the known-problem list
	BC_EVIDENCE_PROCESSORS,           ///< other processors' state (frozen by IPI, ...)
	BC_EVIDENCE_HARDWARE,             ///< WHEA, a pointer one bit from a valid one
	BC_EVIDENCE_BUGCHECK,             ///< what the bug check itself says
	BC_EVIDENCE_POOL,                 ///< pool headers a pool bug check points at, their tags
};

enum bc_confidence {
	BC_CONFIDENCE_LOW = 1,     ///< a guess: no frame decided it, or only a stack scan did
	BC_CONFIDENCE_MEDIUM,      ///< a rule decided on an unwound stack, nothing confirms it
	BC_CONFIDENCE_HIGH,        ///< the fault address or a parameter is in the blamed module too
};

enum { BC_ANALYSIS_MAX_LINES = 24, BC_ANALYSIS_LINE = 512, BC_ANALYSIS_MAX_FRAMES = 64 };

/** One fact for the verdict. */
struct bc_evidence {
	enum bc_evidence_kind kind;
	char text[BC_ANALYSIS_LINE];   ///< a sentence, module names as in the dump
};

/** One frame of the failing stack, as !analyze reads it. */
struct bc_analysis_frame {
	struct bc_stack_frame frame;  ///< as the unwinder gave it
	bool has_module;
	char module[64];              ///< WinDbg's short name ("nt", "iaStor"), "" without module
	char image[64];               ///< the image's base name ("iaStor.sys")
	char function[256];           ///< the symbol, "" when the module has none there
	uint64_t displacement;        ///< from the symbol, else from the module base
	struct bc_triage_match match; ///< the rule deciding this frame (strings copied below)
	char owner[64], rule[128], rule_source[128];
};

struct bc_analysis {
	uint32_t code;
	uint64_t params[4];
	bool has_name;
	char name[96];                 ///< "UNEXPECTED_KERNEL_MODE_TRAP"
	enum bc_machine machine;

	// The failing context.
	enum bc_failure_source source;
	uint64_t source_address;       ///< CONTEXT/KTRAP_FRAME address (0 for THREAD)
	unsigned source_param;         ///< 1-4: the parameter holding it (0 for THREAD)
	struct bc_context context;     ///< where the failing stack starts
	uint64_t trap_frame;           ///< TRAP_FRAME: the parameter's, or the first on the stack; 0: none
	uint64_t exception_record;     ///< EXCEPTION_RECORD from a parameter; 0: none
	bool has_faulting_ip;
	uint64_t faulting_ip;          ///< FAULTING_IP: the failing context's pc
	uint64_t thread, process;      ///< bug-checking thread and process (0: unknown)
	char process_name[32];         ///< PROCESS_NAME ("" unknown)
	char stack_command[160];       ///< bugcheck commands that show the same stack

	// The failing stack.
	struct bc_analysis_frame *frames;
	size_t frame_count;
	bool stack_scanned;            ///< some frames came from scanning the stack
	char stack_note[256];          ///< why the walk ended early ("" normally)

	// The verdict.
	size_t blamed;                 ///< index into frames, SIZE_MAX: none
	bool has_culprit;
	struct bc_analysis_frame culprit;  ///< the blamed frame (a copy), or the faulting instruction
	bool culprit_is_fault;         ///< the culprit is the faulting instruction, which the
				       ///< stack could not be unwound to (blamed is SIZE_MAX)
	size_t scan_alternative;       ///< a frame found only by scanning that a rule owns
				       ///< outright, in another module than the culprit's; SIZE_MAX: none
	bool inbox_image;              ///< the culprit's image ships with Windows (data/inbox_drivers.txt)
	char followup[64];             ///< the owner (FOLLOWUP), "MachineOwner" by default
	char symbol_name[384];         ///< SYMBOL_NAME: "iaStor+2a235", "nt!KiPageFault+474"
	char module_name[64];          ///< MODULE_NAME: "iaStor"
	char image_name[64];           ///< IMAGE_NAME: "iaStor.sys"
	size_t module_index;           ///< of the blamed module; SIZE_MAX when none
	bool has_image_timestamp;
	uint32_t image_timestamp;      ///< PE TimeDateStamp of the blamed image
	bool image_timestamp_is_hash;  ///< it cannot be a date (bc_target_timestamp_kind():
				       ///< after the crash, before 1993): a reproducible build's hash
	char image_version[48];        ///< IMAGE_VERSION from its version resource ("" unknown)
	bool has_func_offset;
	uint64_t func_offset;          ///< BUCKET_ID_FUNC_OFFSET
	char bucket[640];              ///< FAILURE_BUCKET_ID
	char failure_hash[40];         ///< FAILURE_ID_HASH, "{xxxxxxxx-...}"
	char os_version[48];           ///< "10.0.19041" (+ ".revision" when the kernel image says)
	bool verifier_enabled;         ///< Driver Verifier was on (MmVerifierData.Level != 0)
	bool module_verified;          ///< ... and the blamed module was on its list
	uint32_t verifier_level;

	enum bc_confidence confidence;
	char summary[1024];            ///< the verdict in a sentence or two, an expert's words
	struct bc_evidence evidence[BC_ANALYSIS_MAX_LINES];
	size_t evidence_count;
	char advice[BC_ANALYSIS_MAX_LINES][BC_ANALYSIS_LINE];  ///< next steps
	size_t advice_count;
	char notes[BC_ANALYSIS_MAX_LINES][BC_ANALYSIS_LINE];   ///< what the analysis lacked
	size_t note_count;
};

/**
 * Analyzes @target's bug check. @rules decide blame (bc_triage_rules_default()
 * or the user's); @kb explains parameters (may be NULL: the context is then
 * taken from the bug-checking thread only). On success *@ret is the caller's.
 */
BC_PUBLIC struct bc_error *bc_target_analyze(struct bc_target *target,
					     const struct bc_triage_rules *rules,
					     const struct bc_bugcheck_kb *kb,
					     struct bc_analysis **ret);
BC_PUBLIC void bc_analysis_free(struct bc_analysis *analysis);

/**
 * WinDbg's FAILURE_ID_HASH of @bucket: the MD5 of "km:" and the bucket in
 * lower case, as UTF-16LE, written as a GUID ("{417877c2-a27e-...}").
 * @buf needs 39 bytes.
 */
BC_PUBLIC void bc_failure_id_hash(const char *bucket, char *buf, size_t size);

/**
 * Reads the CONTEXT record at @address in the target's machine layout.
 * (`.cxr ADDRESS`, CONTEXT in !analyze.)
 */
BC_PUBLIC struct bc_error *bc_target_read_context_record(struct bc_target *target,
							 uint64_t address,
							 struct bc_context *ret);

/** "thread", "context record", "trap frame", "none". */
BC_PUBLIC const char *bc_failure_source_name(enum bc_failure_source source);
/** "low", "medium", "high". */
BC_PUBLIC const char *bc_confidence_name(enum bc_confidence confidence);
/** "fault", "parameter", "frame", ... (the JSON names). */
BC_PUBLIC const char *bc_evidence_kind_name(enum bc_evidence_kind kind);

#ifdef __cplusplus
}
#endif

#endif
