/*
 * disasm_private.h: the one interface every disassembler backend implements.
 *
 * A backend is one file that alone includes its vendor's headers
 * (disasm_zydis.c: Zydis, disasm_capstone.c: Capstone) and fills a
 * struct bc_insn with WinDbg-like text. disasm.c picks the backend by
 * machine and does everything that is not vendor-specific (reading the
 * bytes from a target, naming addresses, the final line layout).
 *
 * To add a backend:
 *  1. write lib/disasm/disasm_<vendor>.c defining a
 *     `const struct bc_disasm_backend bc_disasm_<vendor>` whose decode
 *     function accepts the machines it lists;
 *  2. declare it below and route its machines to it in disasm.c;
 *  3. link the vendor library to bugcheck_obj in CMakeLists.txt and add
 *     byte sequences with their expected text to tests/unit/test_disasm.c.
 */
#ifndef BC_DISASM_PRIVATE_H
#define BC_DISASM_PRIVATE_H

#include "bugcheck/disasm.h"

struct bc_disasm_backend {
	const char *name;
	/**
	 * Decodes one instruction; @options is never NULL. Fills every field of
	 * @ret (bytes, length, text, flags, target, memory) on success only.
	 */
	struct bc_error *(*decode)(enum bc_machine machine, uint64_t address, const uint8_t *code,
				   size_t size, const struct bc_disasm_options *options,
				   struct bc_insn *ret);
	/**
	 * The length of the instruction at @code (@size bytes available), 0 when
	 * the bytes are not a whole valid instruction: what decode's length would
	 * be, without its operands and text (bc_disasm_back calls it for every
	 * byte of its window). NULL: decode is used.
	 */
	unsigned (*length)(enum bc_machine machine, const uint8_t *code, size_t size);
};

extern const struct bc_disasm_backend bc_disasm_zydis;     ///< x86, x64
extern const struct bc_disasm_backend bc_disasm_capstone;  ///< ARM64

/**
 * Writes a branch target the WinDbg way: "name (fffff804`8b58335d)" when
 * @options names it, else "fffff804`8b58335d" (8 digits on 32-bit machines).
 */
void bc_disasm_put_address(const struct bc_disasm_options *options, uint64_t address,
			   unsigned pointer_size, char *buf, size_t size);

/** Appends @s to the NUL-terminated @buf of @size bytes, truncating. */
void bc_disasm_append(char *buf, size_t size, const char *s);

#endif
