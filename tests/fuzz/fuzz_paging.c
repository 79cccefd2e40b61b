// Fuzz target: the page-table walkers. The input is a tiny physical memory
// (the bytes after a 17-byte prefix of mode, DTB and VA); every walker must
// terminate with a translation or a FAULT error, whatever the tables say.
#include <stdint.h>
#include <string.h>

#include "arch/paging.h"
#include "base/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_memory {
	const uint8_t *bytes;
	size_t size;
};

// Physical memory repeats the input every `size` bytes, so any address reads something.
static bool read_fake(void *arg, uint64_t address, unsigned width, uint64_t *ret)
{
	struct fake_memory *m = arg;
	if (!m->size || address > (1ull << 52))
		return false;
	uint8_t b[8] = { 0 };
	for (unsigned i = 0; i < width; i++)
		b[i] = m->bytes[(address + i) % m->size];
	*ret = width == 8 ? bc_le64(b) : bc_le32(b);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 17)
		return 0;
	static const enum bc_paging_mode modes[] = { BC_PAGING_X64_4LEVEL, BC_PAGING_X64_5LEVEL,
						      BC_PAGING_X86_PAE, BC_PAGING_X86,
						      BC_PAGING_ARM64_4K, BC_PAGING_NONE };
	enum bc_paging_mode mode = modes[data[0] % (sizeof(modes) / sizeof(modes[0]))];
	uint64_t dtb = bc_le64(data + 1), va = bc_le64(data + 9);
	struct fake_memory m = { data + 17, size - 17 };
	uint64_t pa, page;
	bc_error_destroy(bc_paging_translate(mode, dtb, va, read_fake, &m, &pa, &page));
	return 0;
}
