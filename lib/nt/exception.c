// EXCEPTION_RECORD64 / EXCEPTION_RECORD32 decoding (KERNEL_DUMP_FORMAT.md 1.4),
// shared by the dump headers and by records read from memory (the 0x7E / 0x1E
// bug check parameters point at one).
#include "target_private.h"

enum { EXR64_SIZE = 0x98, EXR32_SIZE = 0x50 };

size_t bc_exception_record_size(unsigned pointer_size)
{
	return pointer_size == 8 ? EXR64_SIZE : EXR32_SIZE;
}

void bc_exception_record_decode(unsigned pointer_size, const uint8_t *p,
				struct bc_exception_record *e)
{
	bool is64 = pointer_size == 8;
	e->code = bc_le32(p + 0x00);
	e->flags = bc_le32(p + 0x04);
	e->record = is64 ? bc_le64(p + 0x08) : bc_le32(p + 0x08);
	e->address = is64 ? bc_le64(p + 0x10) : bc_le32(p + 0x0c);
	e->number_parameters = bc_le32(p + (is64 ? 0x18 : 0x10));
	for (int i = 0; i < 15; i++)
		e->information[i] = is64 ? bc_le64(p + 0x20 + 8 * i) : bc_le32(p + 0x14 + 4 * i);
}

BC_PUBLIC struct bc_error *bc_target_read_exception_record(struct bc_target *t, uint64_t address,
							   struct bc_exception_record *ret)
{
	uint8_t raw[EXR64_SIZE];
	size_t size = bc_exception_record_size(t->info.pointer_size);
	struct bc_error *err = bc_target_read(t, address, raw, size);
	if (err)
		return err;
	bc_exception_record_decode(t->info.pointer_size, raw, ret);
	return NULL;
}
