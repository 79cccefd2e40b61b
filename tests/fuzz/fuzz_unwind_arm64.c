// Fuzz target: ARM64 unwind steps and stack walks over arbitrary .pdata,
// .xdata and stacks.
//
// Input layout: bytes [0, 0x2000) are an image mapped at IMAGE_BASE (its
// .pdata at rva 0x1800, 0x100 bytes: 32 entries), the rest is stack memory at
// STACK_BASE; the first 32 bytes of the stack also pick pc, sp, fp and lr.
#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "unwind/stackwalk.h"
#include "unwind/unwind_arm64.h"

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

static struct bc_error *find_image(void *arg, uint64_t address, uint64_t *base, uint32_t *rva,
				   uint32_t *pdata_size)
{
	(void)arg;
	if (address - IMAGE_BASE >= IMAGE_BYTES)
		return &bc_not_found;
	*base = IMAGE_BASE;
	*rva = PDATA_RVA;
	*pdata_size = PDATA_SIZE;
	return NULL;
}

static bool plausible_return(void *arg, uint64_t address)
{
	(void)arg;
	return address - IMAGE_BASE < IMAGE_BYTES && !(address & 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, NULL, size < IMAGE_BYTES ? size : IMAGE_BYTES, 0 };
	if (size > IMAGE_BYTES) {
		in.stack = data + IMAGE_BYTES;
		in.stack_size = size - IMAGE_BYTES;
	}
	struct bc_unwind_io io = { read_memory, read_image, &in };
	struct bc_context_arm64 c = { .pc = IMAGE_BASE, .sp = STACK_BASE + 32 };
	if (in.stack_size >= 32) {
		c.pc = IMAGE_BASE + (bc_le32(in.stack) % IMAGE_BYTES & ~3u);
		c.sp = STACK_BASE + 32 + bc_le32(in.stack + 8) % in.stack_size;
		c.fp = STACK_BASE + bc_le32(in.stack + 16) % in.stack_size;
		c.lr = IMAGE_BASE + bc_le32(in.stack + 24) % IMAGE_BYTES;
	}
	struct bc_context_arm64 start = c;
	for (int frame = 0; frame < MAX_FRAMES; frame++) {
		struct bc_arm64_runtime_function rf;
		struct bc_error *err = bc_unwind_arm64_lookup(&io, IMAGE_BASE, PDATA_RVA, PDATA_SIZE,
							      c.pc - IMAGE_BASE, &rf);
		bool leaf = err == &bc_not_found;
		if (err && !leaf) {
			bc_error_destroy(err);
			break;
		}
		struct bc_unwind_arm64_result r;
		err = bc_unwind_arm64_step(&io, IMAGE_BASE, leaf ? NULL : &rf, &c, &r);
		if (err) {
			bc_error_destroy(err);
			break;
		}
	}
	// Every packed word and .xdata record of the table, decoded.
	for (uint32_t i = 0; i < PDATA_SIZE / 8 && PDATA_RVA + 8 * i + 8 <= in.image_size; i++) {
		struct bc_arm64_runtime_function rf = { bc_le32(data + PDATA_RVA + 8 * i),
							bc_le32(data + PDATA_RVA + 8 * i + 4), 0 };
		static struct bc_unwind_arm64_record rec;
		bc_error_destroy(bc_unwind_arm64_decode(&io, IMAGE_BASE, &rf, &rec));
	}
	struct bc_stackwalk_env env = { io, find_image, plausible_return, NULL };
	struct bc_stack st;
	if (!bc_stackwalk_arm64(&env, &start, 32, &st))
		bc_stack_free(&st);
	return 0;
}
