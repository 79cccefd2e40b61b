// KDDEBUGGER_DATA64: recovering an encoded block without its keys
// (lib/nt/kdbg.c, KERNEL_DUMP_FORMAT.md 4.3), parsing by Size, and what the
// open does when the block is missing, unreadable or undecodable.
//
// The encoder here is the inverse of the kernel's decode formula of section
// 4.3, written for this test; each encoded block is first checked by running
// the formula forward.
#include <stdlib.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "target_private.h"
#include "test.h"

static uint64_t rol(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v << r) | (v >> (64 - r)) : v;
}

static uint64_t ror(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v >> r) | (v << (64 - r)) : v;
}

struct key {
	uint64_t never, always, block_va;
};

// What nt!KdCopyDataBlock computes per word (4.3).
static uint64_t kernel_decode(const struct key *k, uint64_t w)
{
	uint64_t t = rol(w ^ k->never, (unsigned)(k->never & 0xff));
	t ^= k->block_va | 0xffff000000000000ull;
	return __builtin_bswap64(t) ^ k->always;
}

static uint64_t encode(const struct key *k, uint64_t p)
{
	uint64_t t = __builtin_bswap64(p ^ k->always) ^ (k->block_va | 0xffff000000000000ull);
	return ror(t, (unsigned)(k->never & 0xff)) ^ k->never;
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum { BLOCK = 0x380 };
static const uint64_t MODULES = 0xfffff80312c00010ull, PROCESSES = 0xfffff80312c00020ull;

static void plain_block(uint8_t *b, uint64_t *s)
{
	for (size_t o = 0; o < BLOCK; o += 8)
		bc_put_le64(b + o, next(s));
	bc_put_le64(b, 0xfffff80312c00000ull);
	bc_put_le64(b + 8, 0xfffff80312c00000ull);
	memcpy(b + 0x10, "KDBG", 4);
	bc_put_le32(b + 0x14, BLOCK);
	bc_put_le64(b + 0x18, 0xfffff80312000000ull);
	bc_put_le64(b + 0x48, MODULES);
	bc_put_le64(b + 0x50, PROCESSES);
}

static bool encode_block(const struct key *k, const uint8_t *plain, uint8_t *out)
{
	for (size_t o = 0; o < BLOCK; o += 8) {
		uint64_t w = encode(k, bc_le64(plain + o));
		if (kernel_decode(k, w) != bc_le64(plain + o))
			return false;
		bc_put_le64(out + o, w);
	}
	return true;
}

TEST(decode_without_keys)
{
	uint64_t s = 0x243f6a8885a308d3ull;
	static uint8_t plain[BLOCK], enc[BLOCK];
	for (int i = 0; i < 600; i++) {
		struct key k = { next(&s), next(&s), 0xfffff80312c00000ull | (next(&s) & 0xffff8) };
		// Every rotation, including the ones that are 0 mod 64.
		k.never = (k.never & ~0xffull) | (uint64_t)(i % 256);
		plain_block(plain, &s);
		REQUIRE(encode_block(&k, plain, enc));
		if (!bc_nt_kdbg_decode(enc, BLOCK, MODULES, PROCESSES)) {
			TEST_FAIL_AT("key %d (N %#" PRIx64 ") was not recovered", i, k.never);
			continue;
		}
		if (memcmp(enc, plain, BLOCK))
			TEST_FAIL_AT("key %d (N %#" PRIx64 "): decoded block differs", i, k.never);
	}
}

TEST(decode_refuses_wrong_plaintext)
{
	uint64_t s = 0x13198a2e03707344ull;
	static uint8_t plain[BLOCK], enc[BLOCK], copy[BLOCK];
	struct key k = { 0x5a5a1234deadbe13ull, 0x0123456789abcdefull, 0xfffff80312c0a108ull };
	plain_block(plain, &s);
	REQUIRE(encode_block(&k, plain, enc));
	memcpy(copy, enc, BLOCK);
	// The wrong list heads, equal heads, or too few bytes: no key, block untouched.
	CHECK(!bc_nt_kdbg_decode(copy, BLOCK, MODULES + 0x10, PROCESSES));
	CHECK(!bc_nt_kdbg_decode(copy, BLOCK, MODULES, MODULES));
	CHECK(!bc_nt_kdbg_decode(copy, 0x50, MODULES, PROCESSES));
	CHECK(!memcmp(copy, enc, BLOCK));
	// A key that fits the list heads but not the "KDBG" tag is rejected too.
	memcpy(plain + 0x10, "GBDK", 4);
	REQUIRE(encode_block(&k, plain, copy));
	CHECK(!bc_nt_kdbg_decode(copy, BLOCK, MODULES, PROCESSES));
	// So is a decoded Size below any real kernel's.
	memcpy(plain + 0x10, "KDBG", 4);
	bc_put_le32(plain + 0x14, 0x100);
	REQUIRE(encode_block(&k, plain, copy));
	CHECK(!bc_nt_kdbg_decode(copy, BLOCK, MODULES, PROCESSES));
}

TEST(parse_respects_size)
{
	static uint8_t raw[BLOCK];
	uint64_t s = 99;
	plain_block(raw, &s);
	bc_put_le16(raw + 0x2a0, 0xb8);    // OffsetKThreadApcProcess
	bc_put_le16(raw + 0x2b0, 0x1100);  // SizePrcb
	bc_put_le16(raw + 0x338, 0x1060);  // OffsetPrcbContext
	bc_put_le64(raw + 0x360, 0xffffb68000000000ull);
	static struct bc_kdbg k;
	bc_put_le32(raw + 0x14, 0x2b0);    // ends right before SizePrcb
	bc_nt_kdbg_parse(&k, raw, 0x2b0, true);
	CHECK_EQ(k.size, 0x2b0);
	CHECK_EQ(k.raw_size, 0x2b0);
	CHECK_EQ(k.kern_base, 0xfffff80312000000ull);
	CHECK_EQ(k.ps_loaded_module_list, MODULES);
	CHECK_EQ(k.offset_kthread_apc_process, 0xb8);
	CHECK_EQ(k.size_prcb, 0);
	CHECK_EQ(k.offset_prcb_context, 0);
	CHECK_EQ(k.pte_base, 0);
	bc_put_le32(raw + 0x14, BLOCK);
	bc_nt_kdbg_parse(&k, raw, BLOCK, true);
	CHECK_EQ(k.size_prcb, 0x1100);
	CHECK_EQ(k.offset_prcb_context, 0x1060);
	CHECK_EQ(k.pte_base, 0xffffb68000000000ull);
}

struct dump {
	struct bc_fixture_expect ex;
	uint8_t *bytes;
	size_t size;
};

static struct dump *build(const struct bc_fixture_spec *spec)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	struct bc_error *err = bc_fixture_build(spec, &d->ex, &d->bytes, &d->size);
	if (err) {
		TEST_FAIL_AT("fixture: %s", err->message);
		bc_error_destroy(err);
		free(d);
		return NULL;
	}
	return d;
}

static void dump_free(struct dump *d)
{
	if (d)
		free(d->bytes);
	free(d);
}

static bool has_warning(struct bc_target *t, const char *words)
{
	for (size_t i = 0; i < bc_target_warning_count(t); i++) {
		if (strstr(bc_target_warning(t, i), words))
			return true;
	}
	return false;
}

// Opens @d and checks that the KDBG is absent with a warning naming @words,
// while the module list still comes from the header's PsLoadedModuleList.
static void expect_no_kdbg(struct dump *d, const char *words)
{
	struct bc_target *t;
	REQUIRE_OK(bc_target_open_memory(d->bytes, d->size, "kdbg", &t));
	const struct bc_kdbg *k = bc_target_kdbg(t);
	CHECK(!k->present);
	CHECK(!k->was_encoded);
	CHECK_EQ(bc_target_info(t)->kernel_base, 0);
	if (!has_warning(t, words))
		TEST_FAIL_AT("no warning with \"%s\" (%zu warnings)", words,
			     bc_target_warning_count(t));
	CHECK_EQ(bc_target_module_count(t), d->ex.module_count);
	CHECK_STR(bc_target_module_source(t), "PsLoadedModuleList");
	bc_target_close(t);
}

TEST(encoded_block_with_wrong_header_heads)
{
	// The header's PsActiveProcessHead is the known plaintext; damage it.
	struct dump *d = build(&(struct bc_fixture_spec){ .encoded_kdbg = true });
	REQUIRE(d);
	bc_put_le64(d->bytes + 0x28, d->ex.ps_active_process_head + 0x40);
	expect_no_kdbg(d, "neither plain");
	dump_free(d);
}

TEST(kdbg_pointer_damaged)
{
	static const enum bc_fixture_machine machines[] = { BC_FIXTURE_X64, BC_FIXTURE_X86_PAE };
	for (size_t i = 0; i < 2; i++) {
		struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_FULL,
								  .machine = machines[i] });
		REQUIRE(d);
		bool is64 = d->ex.pointer_size == 8;
		uint8_t *field = d->bytes + (is64 ? 0x80 : 0x60);
		// Garbage where the block should be: a pattern page.
		uint64_t garbage = d->ex.mappings[1].va & ~0xfffull;
		if (is64)
			bc_put_le64(field, garbage);
		else
			bc_put_le32(field, (uint32_t)garbage);
		expect_no_kdbg(d, "neither plain");
		// An address that does not translate.
		uint64_t hole = d->ex.faults[0].va;
		if (is64)
			bc_put_le64(field, hole);
		else
			bc_put_le32(field, (uint32_t)hole);
		expect_no_kdbg(d, "not readable");
		if (is64)
			bc_put_le64(field, 0);
		else
			bc_put_le32(field, 0);
		expect_no_kdbg(d, "names no KdDebuggerDataBlock");
		dump_free(d);
	}
}

TEST(triage_copy_is_plain)
{
	struct dump *d = build(&(struct bc_fixture_spec){ .format = BC_FIXTURE_TRIAGE,
							  .machine = BC_FIXTURE_ARM64 });
	REQUIRE(d);
	struct bc_target *t;
	REQUIRE_OK(bc_target_open_memory(d->bytes, d->size, "triage", &t));
	const struct bc_kdbg *k = bc_target_kdbg(t);
	CHECK(k->present);
	CHECK(!k->was_encoded);
	CHECK_EQ(k->kern_base, d->ex.kern_base);
	CHECK_EQ(k->size_ethread, d->ex.size_ethread);
	bc_target_close(t);
	dump_free(d);
}

TEST_MAIN()
