// Fuzz target: KDDEBUGGER_DATA64 decoding and parsing. The input is a block
// (after two 8-byte known-plaintext values); decoding must never read or
// write outside the block, and parsing must respect the block's own Size.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "target_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 16)
		return 0;
	uint64_t p1 = bc_le64(data), p2 = bc_le64(data + 8);
	size_t n = size - 16;
	uint8_t *block = malloc(n ? n : 1);
	if (!block)
		return 0;
	memcpy(block, data + 16, n);
	bool decoded = bc_nt_kdbg_decode(block, n, p1, p2);
	if ((decoded || n >= 0x18) && n >= 0x18) {
		struct bc_kdbg kd;
		bc_nt_kdbg_parse(&kd, block, n < sizeof(kd.raw) ? n : sizeof(kd.raw), true);
	}
	free(block);
	return 0;
}
