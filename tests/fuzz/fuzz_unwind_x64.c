// Fuzz target: x64 unwind steps over arbitrary unwind tables and stacks.
//
// Input layout: bytes [0, 0x2000) are an image mapped at IMAGE_BASE (its
// .pdata at rva 0x1800, 0x100 bytes), the rest is stack memory at
// STACK_BASE; the first 16 bytes of the stack also pick RIP and RSP.
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "unwind/unwind_x64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { IMAGE_BYTES = 0x2000, PDATA_RVA = 0x1800, PDATA_SIZE = 0x100, MAX_FRAMES = 16 };
static const uint64_t IMAGE_BASE = 0xfffff80000000000ull, STACK_BASE = 0xffffa00000000000ull;

struct input {
	const uint8_t *image, *stack;
	size_t image_size, stack_size;
};

static struct bc_error *read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	const struct input *in = arg;
	if (address < STACK_BASE || address - STACK_BASE > in->stack_size ||
	    size > in->stack_size - (address - STACK_BASE))
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "not in the stack");
	memcpy(buf, in->stack + (address - STACK_BASE), size);
	return NULL;
}

static struct bc_error *read_image(void *arg, uint64_t base, uint64_t rva, void *buf, size_t size)
{
	const struct input *in = arg;
	if (base != IMAGE_BASE || rva > in->image_size || size > in->image_size - rva)
		return bc_error_fault(base + rva, BC_FAULT_NOT_IN_DUMP, "not in the image");
	memcpy(buf, in->image + rva, size);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, NULL, size < IMAGE_BYTES ? size : IMAGE_BYTES, 0 };
	if (size > IMAGE_BYTES) {
		in.stack = data + IMAGE_BYTES;
		in.stack_size = size - IMAGE_BYTES;
	}
	struct bc_unwind_io io = { read_memory, read_image, &in };
	struct bc_context_x64 c = { .rip = IMAGE_BASE, .rsp = STACK_BASE + 16 };
	if (in.stack_size >= 16) {
		c.rip = IMAGE_BASE + bc_le32(in.stack) % IMAGE_BYTES;
		c.rsp = STACK_BASE + 16 + bc_le32(in.stack + 8) % in.stack_size;
	}
	for (int frame = 0; frame < MAX_FRAMES; frame++) {
		struct bc_x64_runtime_function rf;
		struct bc_error *err = bc_unwind_x64_lookup(&io, IMAGE_BASE, PDATA_RVA, PDATA_SIZE,
							    c.rip - IMAGE_BASE, &rf);
		bool leaf = err == &bc_not_found;
		if (err && !leaf) {
			bc_error_destroy(err);
			break;
		}
		struct bc_unwind_x64_result r;
		err = bc_unwind_x64_step(&io, IMAGE_BASE, leaf ? NULL : &rf, &c, &r);
		if (err) {
			bc_error_destroy(err);
			break;
		}
	}
	return 0;
}
