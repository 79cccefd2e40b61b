// Fuzz target: x86 frame records and their programs. The input's first byte
// picks the part: even, the bytes are a PDB whose FPO/FrameData streams are
// read and looked up (bc_pdb_x86_frame, bc_pdb_x86_frame_each); odd, the rest
// is a FrameData program run over fixed registers and a small memory.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/pdb.h"
#include "unwind/x86_frame_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool count(void *arg, const struct bc_x86_frame_info *info)
{
	size_t *n = arg;
	(*n)++;
	return info->program == NULL || strlen(info->program) < (size_t)-1;
}

static struct bc_error *read32(void *arg, uint32_t address, uint32_t *ret)
{
	const uint8_t *mem = arg;
	if (address < 0x1000 || address > 0x1000 + 256 - 4)
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "outside");
	memcpy(ret, mem + (address - 0x1000), 4);
	return NULL;
}

static void run_program(const uint8_t *data, size_t size)
{
	char *program = malloc(size + 1);
	if (!program)
		return;
	memcpy(program, data, size);
	program[size] = 0;
	uint8_t mem[256];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 7);
	struct bc_x86_program_vars v = { 0 };
	bc_x86_program_set(&v, BC_X86_ESP, 0x1010);
	bc_x86_program_set(&v, BC_X86_EBP, 0x1040);
	bc_x86_program_set(&v, BC_X86_RA_SEARCH, 0x1020);
	bc_x86_program_set(&v, BC_X86_CB_LOCALS, 8);
	bc_error_destroy(bc_x86_program_run(program, &v, read32, mem));
	free(program);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1) {
		run_program(data + 1, size - 1);
		return 0;
	}
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open_memory(data + 1, size - 1, "fuzz.pdb", &tab);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	struct bc_x86_frame_info info;
	static const uint32_t rvas[] = { 0, 0x1000, 0x1001, 0x1010, 0x2000, 0xffffffff };
	for (size_t i = 0; i < sizeof(rvas) / sizeof(rvas[0]); i++)
		bc_error_destroy(bc_pdb_x86_frame(tab, rvas[i], &info));
	size_t n = 0;
	bc_error_destroy(bc_pdb_x86_frame_each(tab, count, &n));
	bc_symtab_destroy(tab);
	return 0;
}
