/*
 * bugcheck/frame_params.h: the parameters of a stack frame's function, with
 * their values (`kp`, `kP`, `--json`).
 *
 * The function comes from the private PDB of the module holding the frame's
 * instruction pointer (bc_symtab_procedure_at); each parameter's location is
 * evaluated with the registers recovered for that frame (frame N's context
 * from bc_target_stack: the procedure running in frame N uses frame N's
 * registers) and its value read from dump memory. A register the walk did not
 * recover for the frame (a volatile one above frame 0), a location that does
 * not cover the instruction, a frame-relative location whose frame register
 * is unknown, and memory the dump lacks all make the value unavailable,
 * as WinDbg prints "<value unavailable>".
 *
 * Ownership: names and types are borrowed from the module's symbol table;
 * release the array with bc_frame_params_free().
 */
#ifndef BUGCHECK_FRAME_PARAMS_H
#define BUGCHECK_FRAME_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/stack.h"
#include "bugcheck/symtab.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { BC_FRAME_PARAM_TYPE_NAME = 160, BC_FRAME_PARAM_LOCATION = 48 };

struct bc_frame_param {
	const struct bc_parameter *param;    ///< name, type id, every location
	const struct bc_type *type;          ///< NULL when the type cannot be read
	char type_name[BC_FRAME_PARAM_TYPE_NAME];  ///< "unsigned long", "struct _IRP *"
	const struct bc_param_location *location;  ///< the one used; NULL when none covers the ip
	char location_text[BC_FRAME_PARAM_LOCATION];  ///< "[rsp+0x28]", "rcx", "" when none
	bool available;          ///< value (or, for aggregates, address) is known
	bool in_memory;          ///< the value lives at address (else in a register)
	uint64_t address;        ///< in_memory: where (also when the read failed)
	uint64_t value;          ///< scalars up to 8 bytes, zero-extended; 0 for aggregates
	unsigned size;           ///< bytes of the value (from the type)
	const char *why;         ///< when unavailable: a static reason in words
};

struct bc_frame_params {
	struct bc_symtab *symtab;               ///< the module's table
	const struct bc_procedure *procedure;
	size_t count;
	struct bc_frame_param *params;
};

/**
 * The parameters of frame @index of @stack. BC_ERR_NOT_FOUND (&bc_not_found)
 * when the frame's module has no private symbols covering its instruction
 * pointer (the frame then prints as `k` prints it). Other errors name the
 * symbol file and what is wrong in it.
 */
BC_PUBLIC struct bc_error *bc_target_frame_params(struct bc_target *target,
						  const struct bc_stack *stack, size_t index,
						  struct bc_frame_params *ret);
BC_PUBLIC void bc_frame_params_free(struct bc_frame_params *params);

#ifdef __cplusplus
}
#endif
#endif
