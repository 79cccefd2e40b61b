// KTRAP_FRAME decoding (bc_target_read_trap_frame) on synthetic dumps whose
// trap frames are planted at the offsets of KERNEL_DUMP_FORMAT.md 5.3 (x64)
// and of the Windows 7 SP1 x86 _KTRAP_FRAME (Vergilius): every register must
// come from its own slot, and an x86 kernel-mode trap's ESP is the address
// where HardwareEsp would be. ARM64 frames are planted at the offsets of
// Microsoft's ARM64_KTRAP_FRAME (Spsr 0x90, Esr 0x94, Sp 0x98, X0-X18 from
// 0xa0, Lr 0x138, Fp 0x140, Pc 0x148).
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "bugcheck/stack.h"
#include "mkdump.h"
#include "test.h"

static uint8_t page[0x1000];

static struct bc_target *open_with_page(enum bc_fixture_machine machine, uint64_t va,
					uint8_t **bytes)
{
	struct bc_fixture_blob blob = { va, page, sizeof(page) };
	struct bc_fixture_spec spec = { .machine = machine, .blobs = &blob, .blob_count = 1 };
	size_t size;
	struct bc_target *t = NULL;
	struct bc_error *err = bc_fixture_build(&spec, NULL, bytes, &size);
	if (!err)
		err = bc_target_open_memory(*bytes, size, "trap.dmp", &t);
	if (err) {
		bc_error_destroy(err);
		return NULL;
	}
	return t;
}

TEST(x64_registers_come_from_their_slots)
{
	memset(page, 0, sizeof(page));
	const uint64_t va = 0xffff8a0012345000ull, frame = va + 0x200;
	uint8_t *f = page + 0x200;
	// Each slot holds a value naming it.
	const struct { unsigned off; uint64_t v; } q[] = {
		{ 0x30, 0xa0a0 }, { 0x38, 0xc0c0 }, { 0x40, 0xd0d0 }, { 0x48, 0x0808 },
		{ 0x50, 0x0909 }, { 0x58, 0x1010 }, { 0x60, 0x1111 }, { 0x140, 0xb0b0 },
		{ 0x148, 0xd1d1 }, { 0x150, 0x5151 }, { 0x158, 0xbebe }, { 0x160, 0x2 },
		{ 0x168, 0xfffff80412345678ull }, { 0x180, 0xffff8a0012346000ull },
	};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		bc_put_le64(f + q[i].off, q[i].v);
	bc_put_le16(f + 0x170, 0x10);
	bc_put_le32(f + 0x178, 0x10246);
	bc_put_le16(f + 0x188, 0x18);
	uint8_t *bytes = NULL;
	struct bc_target *t = open_with_page(BC_FIXTURE_X64, va, &bytes);
	REQUIRE(t != NULL);
	struct bc_trap_frame tf;
	REQUIRE_OK(bc_target_read_trap_frame(t, frame, &tf));
	const struct bc_context_x64 *c = &tf.context.x64;
	CHECK_EQ(c->rax, 0xa0a0);
	CHECK_EQ(c->rcx, 0xc0c0);
	CHECK_EQ(c->rdx, 0xd0d0);
	CHECK_EQ(c->r8, 0x0808);
	CHECK_EQ(c->r9, 0x0909);
	CHECK_EQ(c->r10, 0x1010);
	CHECK_EQ(c->r11, 0x1111);
	CHECK_EQ(c->rbx, 0xb0b0);
	CHECK_EQ(c->rdi, 0xd1d1);
	CHECK_EQ(c->rsi, 0x5151);
	CHECK_EQ(c->rbp, 0xbebe);
	CHECK_EQ(c->r12, 0);  // not in a trap frame
	CHECK_EQ(tf.error_code, 2);
	CHECK_EQ(c->rip, 0xfffff80412345678ull);
	CHECK_EQ(c->rsp, 0xffff8a0012346000ull);
	CHECK_EQ(c->cs, 0x10);
	CHECK_EQ(c->ss, 0x18);
	CHECK_EQ(c->eflags, 0x10246);
	CHECK(tf.kernel_mode);
	// A frame running off the mapped page cannot be read.
	struct bc_error *err = bc_target_read_trap_frame(t, va + 0xf00, &tf);
	CHECK(err != NULL);
	bc_error_destroy(err);
	bc_target_close(t);
	free(bytes);
}

static void plant_x86(uint8_t *f, uint32_t cs, uint32_t esp)
{
	const struct { unsigned off; uint32_t v; } d[] = {
		{ 0x3c, 0xedd }, { 0x40, 0xecc }, { 0x44, 0xeaa }, { 0x54, 0xed1 },
		{ 0x58, 0xe51 }, { 0x5c, 0xebb }, { 0x60, 0x8f001e00 }, { 0x64, 0x10 },
		{ 0x68, 0x82a1b2c3 }, { 0x6c, cs }, { 0x70, 0x10282 }, { 0x74, esp }, { 0x78, 0x23 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		bc_put_le32(f + d[i].off, d[i].v);
}

TEST(x86_kernel_and_user_mode_traps)
{
	memset(page, 0, sizeof(page));
	const uint64_t va = 0x8f001000, kernel = va + 0x100, user = va + 0x400;
	plant_x86(page + 0x100, 0x8, 0xdeadbeef);  // kernel: HardwareEsp is not a pushed value
	plant_x86(page + 0x400, 0x1b, 0x0012f000);
	uint8_t *bytes = NULL;
	struct bc_target *t = open_with_page(BC_FIXTURE_X86_PAE, va, &bytes);
	REQUIRE(t != NULL);
	struct bc_trap_frame tf;
	REQUIRE_OK(bc_target_read_trap_frame(t, kernel, &tf));
	const struct bc_context_x86 *c = &tf.context.x86;
	CHECK_EQ(c->edx, 0xedd);
	CHECK_EQ(c->ecx, 0xecc);
	CHECK_EQ(c->eax, 0xeaa);
	CHECK_EQ(c->edi, 0xed1);
	CHECK_EQ(c->esi, 0xe51);
	CHECK_EQ(c->ebx, 0xebb);
	CHECK_EQ(c->ebp, 0x8f001e00);
	CHECK_EQ(c->eip, 0x82a1b2c3);
	CHECK_EQ(tf.error_code, 0x10);
	CHECK(tf.kernel_mode);
	CHECK_EQ(c->esp, (uint32_t)kernel + 0x74);
	REQUIRE_OK(bc_target_read_trap_frame(t, user, &tf));
	CHECK(!tf.kernel_mode);
	CHECK_EQ(tf.context.x86.esp, 0x0012f000);
	CHECK_EQ(tf.context.x86.ss, 0x23);
	bc_target_close(t);
	free(bytes);
}

TEST(arm64_registers_come_from_their_slots)
{
	memset(page, 0, sizeof(page));
	const uint64_t va = 0xffff8a0012345000ull, kernel = va + 0x200, user = va + 0x600;
	uint8_t *f = page + 0x200;
	for (int i = 0; i <= 18; i++)
		bc_put_le64(f + 0xa0 + 8 * i, 0xa64000000000ull + (uint64_t)i);
	bc_put_le64(f + 0x138, 0xfffff80612345678ull);  // Lr
	bc_put_le64(f + 0x140, 0xffff8a0012346f00ull);  // Fp
	bc_put_le64(f + 0x148, 0xfffff80612340abcull);  // Pc
	bc_put_le64(f + 0x98, 0xffff8a0012346e00ull);   // Sp
	bc_put_le32(f + 0x90, 0x600003c5);              // Spsr: EL1h
	bc_put_le32(f + 0x94, 0x96000045);              // Esr: a data abort
	bc_put_le32(page + 0x600 + 0x90, 0x80000000);   // a trap from EL0
	uint8_t *bytes = NULL;
	struct bc_target *t = open_with_page(BC_FIXTURE_ARM64, va, &bytes);
	REQUIRE(t != NULL);
	struct bc_trap_frame tf;
	REQUIRE_OK(bc_target_read_trap_frame(t, kernel, &tf));
	REQUIRE(tf.context.machine == BC_MACHINE_ARM64);
	const struct bc_context_arm64 *c = &tf.context.arm64;
	for (int i = 0; i <= 18; i++)
		CHECK_EQ(c->x[i], 0xa64000000000ull + (uint64_t)i);
	for (int i = 19; i < 29; i++)
		CHECK_EQ(c->x[i], 0);  // nonvolatile: not in a trap frame
	CHECK_EQ(c->lr, 0xfffff80612345678ull);
	CHECK_EQ(c->fp, 0xffff8a0012346f00ull);
	CHECK_EQ(c->pc, 0xfffff80612340abcull);
	CHECK_EQ(c->sp, 0xffff8a0012346e00ull);
	CHECK_EQ(c->cpsr, 0x600003c5);
	CHECK_EQ(tf.error_code, 0x96000045);
	CHECK(tf.kernel_mode);
	REQUIRE_OK(bc_target_read_trap_frame(t, user, &tf));
	CHECK(!tf.kernel_mode);
	bc_target_close(t);
	free(bytes);
}

TEST_MAIN()
