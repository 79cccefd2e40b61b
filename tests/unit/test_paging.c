// The page-table walkers (lib/arch/paging*.c) over a fake physical memory of
// a few hand-built table pages, and the physical page maps (lib/mem/physmap.c)
// against naive scans. Table contents follow KERNEL_DUMP_FORMAT.md 3.2-3.5
// and the ARM64 descriptor rules; every expected address is computed here
// from the entries written, not taken from the walker.
#include <stdlib.h>

#include "arch/paging.h"
#include "base/bytes.h"
#include "mem/physmap.h"
#include "test.h"

enum { MAX_PAGES = 16 };

struct fake_memory {
	struct {
		uint64_t pfn;
		uint8_t bytes[0x1000];
	} pages[MAX_PAGES];
	int count;
	int reads;
};

static uint8_t *fake_page(struct fake_memory *m, uint64_t pa, bool create)
{
	for (int i = 0; i < m->count; i++) {
		if (m->pages[i].pfn == pa >> 12)
			return m->pages[i].bytes;
	}
	if (!create || m->count == MAX_PAGES)
		return NULL;
	m->pages[m->count].pfn = pa >> 12;
	memset(m->pages[m->count].bytes, 0, 0x1000);
	return m->pages[m->count++].bytes;
}

static bool fake_read(void *arg, uint64_t address, unsigned size, uint64_t *ret)
{
	struct fake_memory *m = arg;
	m->reads++;
	uint8_t *p = fake_page(m, address, false);
	if (!p || (address & 0xfff) + size > 0x1000)
		return false;
	*ret = size == 8 ? bc_le64(p + (address & 0xfff)) : bc_le32(p + (address & 0xfff));
	return true;
}

static void put64(struct fake_memory *m, uint64_t pa, uint64_t v)
{
	bc_put_le64(fake_page(m, pa, true) + (pa & 0xfff), v);
}

static void put32(struct fake_memory *m, uint64_t pa, uint32_t v)
{
	bc_put_le32(fake_page(m, pa, true) + (pa & 0xfff), v);
}

static uint64_t idx(uint64_t va, unsigned shift)
{
	return (va >> shift) & 0x1ff;
}

static void expect_pa(struct fake_memory *m, enum bc_paging_mode mode, uint64_t dtb, uint64_t va,
		      uint64_t want_pa, uint64_t want_size)
{
	uint64_t pa = 0, size = 0;
	m->reads = 0;
	struct bc_error *err = bc_paging_translate(mode, dtb, va, fake_read, m, &pa, &size);
	if (err) {
		TEST_FAIL_AT("%s %#" PRIx64 ": %s", bc_paging_mode_name(mode), va, err->message);
		bc_error_destroy(err);
		return;
	}
	if (pa != want_pa || size != want_size)
		TEST_FAIL_AT("%s %#" PRIx64 " -> %#" PRIx64 " (%#" PRIx64 "), expected %#" PRIx64
			     " (%#" PRIx64 ")", bc_paging_mode_name(mode), va, pa, size, want_pa,
			     want_size);
	CHECK(m->reads <= 5);
}

static void expect_fault(struct fake_memory *m, enum bc_paging_mode mode, uint64_t dtb,
			 uint64_t va, enum bc_fault_kind kind)
{
	uint64_t pa = 0;
	struct bc_error *err = bc_paging_translate(mode, dtb, va, fake_read, m, &pa, NULL);
	if (!err) {
		TEST_FAIL_AT("%s %#" PRIx64 " translated to %#" PRIx64 ", expected %s",
			     bc_paging_mode_name(mode), va, pa, bc_fault_kind_name(kind));
		return;
	}
	if (err->code != BC_ERR_FAULT || err->fault != kind || err->address != va)
		TEST_FAIL_AT("%s %#" PRIx64 ": \"%s\" (%s at %#" PRIx64 "), expected %s",
			     bc_paging_mode_name(mode), va, err->message,
			     bc_fault_kind_name(err->fault), err->address, bc_fault_kind_name(kind));
	bc_error_destroy(err);
}

// x64: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; CR3 carries PCID 2.
TEST(x64_4level)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t cr3 = 0x1000 | 0x2, T = 0x63;
	const uint64_t va = 0xfffff80312345678ull;
	put64(&m, 0x1000 + 8 * idx(va, 39), 0x2000 | T);
	put64(&m, 0x2000 + 8 * idx(va, 30), 0x3000 | T);
	put64(&m, 0x3000 + 8 * idx(va, 21), 0x4000 | T);
	// NX and the global bit must not leak into the address.
	put64(&m, 0x4000 + 8 * idx(va, 12), 0x8000000abcdef163ull);
	expect_pa(&m, BC_PAGING_X64_4LEVEL, cr3, va, 0xabcdef678, 0x1000);

	// 2 MiB page with the PAT bit (12) set: not an address bit (the offset
	// below has bit 12 clear, so a walker that kept it would show).
	const uint64_t va2m = (va & ~0x1fffffull) + 0x200000 + 0xe678;
	put64(&m, 0x3000 + 8 * idx(va2m, 21), 0x80000001234001e3ull | 0x1000);
	expect_pa(&m, BC_PAGING_X64_4LEVEL, cr3, va2m, 0x123400000 | (va2m & 0x1fffff), 0x200000);

	// 1 GiB page in the PDPT.
	const uint64_t va1g = 0xfffff80400000000ull + 0x12345678;
	put64(&m, 0x2000 + 8 * idx(va1g, 30), 0x00000050000001e3ull);
	expect_pa(&m, BC_PAGING_X64_4LEVEL, cr3, va1g, 0x5000000000 | 0x12345678, 0x40000000);

	// Transition PTE: the page is still in RAM; high software bits are not address.
	const uint64_t vat = va + 0x1000;
	put64(&m, 0x4000 + 8 * idx(vat, 12), 0x0004000123456880ull);
	expect_pa(&m, BC_PAGING_X64_4LEVEL, cr3, vat, 0x123456000 | (vat & 0xfff), 0x1000);

	const uint64_t vap = va + 0x2000, vax = va + 0x3000, vaz = va + 0x4000, vac = va + 0x5000;
	put64(&m, 0x4000 + 8 * idx(vap, 12), 0xffffa00012340400ull);  // prototype
	put64(&m, 0x4000 + 8 * idx(vax, 12), 0x0000123400000082ull);  // page file
	put64(&m, 0x4000 + 8 * idx(vac, 12), 0x0000000012345c00ull);  // prototype wins over transition
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, vap, BC_FAULT_PROTOTYPE);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, vax, BC_FAULT_PAGED_OUT);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, vaz, BC_FAULT_NOT_PRESENT);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, vac, BC_FAULT_PROTOTYPE);

	// A PDE naming a page table that is not in memory.
	const uint64_t vam = va + 0x400000;
	put64(&m, 0x3000 + 8 * idx(vam, 21), 0x9000 | T);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, vam, BC_FAULT_PAGE_TABLE);
	// The page table itself in transition: the walk continues through it
	// (va + 6 MiB has the same PTE index, so it lands on va's PTE).
	const uint64_t vtt = va + 0x600000;
	put64(&m, 0x3000 + 8 * idx(vtt, 21), 0x4000 | 0x800 | 0x80);
	expect_pa(&m, BC_PAGING_X64_4LEVEL, cr3, vtt, 0xabcdef678, 0x1000);

	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, 0x0000000000010000ull, BC_FAULT_NOT_PRESENT);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, 0x0000800000000000ull, BC_FAULT_NON_CANONICAL);
	expect_fault(&m, BC_PAGING_X64_4LEVEL, cr3, 0xff7ff80312345678ull, BC_FAULT_NON_CANONICAL);
	// The CR3 page itself missing.
	expect_fault(&m, BC_PAGING_X64_4LEVEL, 0xa000, va, BC_FAULT_PAGE_TABLE);
	// page_size_ret may be NULL.
	uint64_t pa;
	REQUIRE_OK(bc_paging_translate(BC_PAGING_X64_4LEVEL, cr3, va, fake_read, &m, &pa, NULL));
	CHECK_EQ(pa, 0xabcdef678);
}

// Windows' self-map: one PML4 entry points at the PML4. A walk through it
// four times lands on the PML4 page itself and must stop there.
TEST(x64_self_map)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t self = 0x1ed;
	put64(&m, 0x1000 + 8 * self, 0x1000 | 0x63);
	uint64_t va = 0xffff000000000000ull | self << 39 | self << 30 | self << 21 | self << 12 | 0x18;
	expect_pa(&m, BC_PAGING_X64_4LEVEL, 0x1000, va, 0x1018, 0x1000);
	// Five times through the same entry for LA57 (bit 56 set: upper bits all ones).
	uint64_t va5 = 0xfe00000000000000ull | self << 48 | (va & 0x0000ffffffffffffull);
	expect_pa(&m, BC_PAGING_X64_5LEVEL, 0x1000, va5, 0x1018, 0x1000);
}

TEST(x64_5level)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t va = 0xff7ff80312345678ull, T = 0x63;
	put64(&m, 0x1000 + 8 * ((va >> 48) & 0x1ff), 0x2000 | T);
	put64(&m, 0x2000 + 8 * idx(va, 39), 0x3000 | T);
	put64(&m, 0x3000 + 8 * idx(va, 30), 0x4000 | T);
	put64(&m, 0x4000 + 8 * idx(va, 21), 0x5000 | T);
	put64(&m, 0x5000 + 8 * idx(va, 12), 0x0000007654321163ull);
	expect_pa(&m, BC_PAGING_X64_5LEVEL, 0x1000, va, 0x7654321678, 0x1000);
	put64(&m, 0x4000 + 8 * idx(va + 0x200000, 21), 0x00000000a00001e3ull);
	expect_pa(&m, BC_PAGING_X64_5LEVEL, 0x1000, va + 0x200000, 0xa0000000 | (va & 0x1fffff),
		  0x200000);
	// Canonical for 57 bits means bits 63:57 equal bit 56.
	expect_fault(&m, BC_PAGING_X64_5LEVEL, 0x1000, 0x0100000000000000ull, BC_FAULT_NON_CANONICAL);
	expect_fault(&m, BC_PAGING_X64_5LEVEL, 0x1000, 0x00ff000000000000ull, BC_FAULT_NOT_PRESENT);
	expect_fault(&m, BC_PAGING_X64_5LEVEL, 0x1000, va + 0x400000, BC_FAULT_NOT_PRESENT);
}

// PAE: the PDPT is 32-byte aligned inside its page (CR3 = 0x5440).
TEST(x86_pae)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t cr3 = 0x5440;
	const uint64_t va = 0xffffffff82745abcull;  // sign-extended, as KDBG stores it
	put64(&m, 0x5440 + 8 * ((va >> 30) & 3), 0x6000 | 1);
	put64(&m, 0x6000 + 8 * idx(va, 21), 0x7000 | 0x63);
	put64(&m, 0x7000 + 8 * idx(va, 12), 0x800000f12345163ull);  // above 4 GiB, NX
	expect_pa(&m, BC_PAGING_X86_PAE, cr3, va, 0xf12345abc, 0x1000);
	expect_pa(&m, BC_PAGING_X86_PAE, cr3, va & 0xffffffff, 0xf12345abc, 0x1000);
	const uint64_t va2m = va + 0x200000;
	put64(&m, 0x6000 + 8 * idx(va2m, 21), 0x00000002a00001e3ull);
	expect_pa(&m, BC_PAGING_X86_PAE, cr3, va2m, 0x2a0000000 | (va2m & 0x1fffff), 0x200000);
	const uint64_t vat = va + 0x1000;
	put64(&m, 0x7000 + 8 * idx(vat, 12), 0x33333880);
	expect_pa(&m, BC_PAGING_X86_PAE, cr3, vat, 0x33333abc, 0x1000);
	put64(&m, 0x7000 + 8 * idx(va + 0x2000, 12), 0x0000123400000082ull);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, va + 0x2000, BC_FAULT_PAGED_OUT);
	put64(&m, 0x7000 + 8 * idx(va + 0x3000, 12), 0x81234400);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, va + 0x3000, BC_FAULT_PROTOTYPE);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, va + 0x4000, BC_FAULT_NOT_PRESENT);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, 0x10000, BC_FAULT_NOT_PRESENT);  // PDPTE 0 clear
	put64(&m, 0x6000 + 8 * idx(va + 0x400000, 21), 0xe000 | 0x63);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, va + 0x400000, BC_FAULT_PAGE_TABLE);
	expect_fault(&m, BC_PAGING_X86_PAE, cr3, 0x100000000ull, BC_FAULT_NON_CANONICAL);
}

TEST(x86_nonpae)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t cr3 = 0x7000;
	const uint64_t va = 0xffffffff82745abcull;
	put32(&m, 0x7000 + 4 * ((va >> 22) & 0x3ff), 0x8000 | 0x63);
	put32(&m, 0x8000 + 4 * ((va >> 12) & 0x3ff), 0x12345163);
	expect_pa(&m, BC_PAGING_X86, cr3, va, 0x12345abc, 0x1000);
	expect_pa(&m, BC_PAGING_X86, cr3, 0x82745abc, 0x12345abc, 0x1000);
	// 4 MiB page: PDE bits 31:22 are the frame.
	const uint64_t va4m = 0x90612345;
	put32(&m, 0x7000 + 4 * (va4m >> 22), 0x0fc001e3);
	expect_pa(&m, BC_PAGING_X86, cr3, va4m, 0x0fc00000 | (va4m & 0x3fffff), 0x400000);
	put32(&m, 0x8000 + 4 * (((va + 0x1000) >> 12) & 0x3ff), 0x23456880);
	expect_pa(&m, BC_PAGING_X86, cr3, va + 0x1000, 0x23456abc, 0x1000);
	put32(&m, 0x8000 + 4 * (((va + 0x2000) >> 12) & 0x3ff), 0x12345082);
	expect_fault(&m, BC_PAGING_X86, cr3, va + 0x2000, BC_FAULT_PAGED_OUT);
	put32(&m, 0x8000 + 4 * (((va + 0x3000) >> 12) & 0x3ff), 0x81234400);
	expect_fault(&m, BC_PAGING_X86, cr3, va + 0x3000, BC_FAULT_PROTOTYPE);
	expect_fault(&m, BC_PAGING_X86, cr3, va + 0x4000, BC_FAULT_NOT_PRESENT);
	put32(&m, 0x7000 + 4 * (0xa0000000 >> 22), 0xf000 | 0x63);
	expect_fault(&m, BC_PAGING_X86, cr3, 0xa0000000, BC_FAULT_PAGE_TABLE);
	expect_fault(&m, BC_PAGING_X86, cr3, 0x10000, BC_FAULT_NOT_PRESENT);
	expect_fault(&m, BC_PAGING_X86, cr3, 0x123456789ull, BC_FAULT_NON_CANONICAL);
}

// ARM64, 4 KiB granule: 0b11 table/page, 0b01 block (L1 1 GiB, L2 2 MiB).
TEST(arm64)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	const uint64_t ttbr = 0x0001000000009000ull;  // ASID in bits 63:48
	const uint64_t va = 0xfffff80312345678ull;
	put64(&m, 0x9000 + 8 * idx(va, 39), 0xa000 | 3);
	put64(&m, 0xa000 + 8 * idx(va, 30), 0xb000 | 3);
	put64(&m, 0xb000 + 8 * idx(va, 21), 0xc000 | 3);
	// UXN/PXN, AF, SH and AP bits around the output address.
	put64(&m, 0xc000 + 8 * idx(va, 12), 0x0060000abcdef703ull);
	expect_pa(&m, BC_PAGING_ARM64_4K, ttbr, va, 0xabcdef678, 0x1000);
	const uint64_t va2m = va + 0x200000;
	put64(&m, 0xb000 + 8 * idx(va2m, 21), 0x0060000123400701ull);
	expect_pa(&m, BC_PAGING_ARM64_4K, ttbr, va2m, 0x123400000 | (va2m & 0x1fffff), 0x200000);
	const uint64_t va1g = 0xfffff80400000000ull + 0x2345678;
	put64(&m, 0xa000 + 8 * idx(va1g, 30), 0x0060008040000701ull);
	expect_pa(&m, BC_PAGING_ARM64_4K, ttbr, va1g, 0x8040000000 | 0x2345678, 0x40000000);
	// Invalid descriptors: software bits mean "not resident", zero "not mapped".
	put64(&m, 0xc000 + 8 * idx(va + 0x1000, 12), 0x0000123400000082ull);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, va + 0x1000, BC_FAULT_PAGED_OUT);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, va + 0x2000, BC_FAULT_NOT_PRESENT);
	// 0b01 at L3 is reserved; a block at L0 does not exist.
	put64(&m, 0xc000 + 8 * idx(va + 0x3000, 12), 0x0000000012345701ull);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, va + 0x3000, BC_FAULT_NOT_PRESENT);
	const uint64_t va_l0 = 0xffff000000000000ull;
	put64(&m, 0x9000 + 8 * idx(va_l0, 39), 0x0000000080000701ull);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, va_l0, BC_FAULT_NOT_PRESENT);
	put64(&m, 0xb000 + 8 * idx(va + 0x400000, 21), 0xf000 | 3);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, va + 0x400000, BC_FAULT_PAGE_TABLE);
	expect_fault(&m, BC_PAGING_ARM64_4K, ttbr, 0x00ff000000000000ull, BC_FAULT_NON_CANONICAL);
	// User addresses index the same root.
	const uint64_t user = 0x0000000012345000ull;
	put64(&m, 0x9000 + 8 * idx(user, 39), 0xd000 | 3);
	put64(&m, 0xd000 + 8 * idx(user, 30), 0x0000000040000701ull);
	expect_pa(&m, BC_PAGING_ARM64_4K, ttbr, user, 0x40000000 | (user & 0x3fffffff), 0x40000000);
}

TEST(no_paging)
{
	static struct fake_memory m;
	memset(&m, 0, sizeof(m));
	expect_fault(&m, BC_PAGING_NONE, 0, 0xfffff80312345678ull, BC_FAULT_NO_TRANSLATION);
	CHECK_STR(bc_paging_mode_name(BC_PAGING_X86_PAE), "x86 PAE");
}

// Runs: the map's answer for every PFN equals a linear search of the input.
TEST(physmap_runs)
{
	const struct bc_phys_run input[] = {
		{ 0x100, 0x300, 0x2000 + 0x9f000 },
		{ 0x1, 0x9f, 0x2000 },
		{ 0x40000, 0x8, 0x2000 + 0x39f000 },
		{ 0x7fff8, 0x8, 0x2000 + 0x3a7000 },
	};
	size_t n = sizeof(input) / sizeof(input[0]);
	struct bc_phys_run *runs = malloc(sizeof(input));
	REQUIRE(runs);
	memcpy(runs, input, sizeof(input));
	struct bc_physmap map;
	uint64_t file_size = 0x2000 + 0x3af000;
	REQUIRE_OK(bc_physmap_init_runs(&map, runs, n, file_size, "test runs"));
	CHECK_EQ(bc_physmap_page_count(&map), 0x9f + 0x300 + 0x8 + 0x8);
	for (uint64_t pfn = 0; pfn < 0x80010; pfn++) {
		if (pfn > 0x500 && pfn < 0x3fff0)
			pfn = 0x3fff0;
		uint64_t want = 0;
		bool in = false;
		for (size_t i = 0; i < n; i++) {
			if (pfn >= input[i].base_pfn && pfn < input[i].base_pfn + input[i].page_count) {
				in = true;
				want = input[i].file_offset + (pfn - input[i].base_pfn) * 0x1000;
			}
		}
		uint64_t off = 0;
		bool got = bc_physmap_lookup(&map, pfn, &off);
		if (got != in || (in && off != want)) {
			TEST_FAIL_AT("PFN %#" PRIx64 ": %d %#" PRIx64 ", expected %d %#" PRIx64, pfn,
				     got, off, in, want);
			break;
		}
	}
	bc_physmap_deinit(&map);
}

static void expect_runs_error(const struct bc_phys_run *input, size_t n, uint64_t file_size,
			      const char *words)
{
	struct bc_phys_run *runs = malloc(n * sizeof(*runs));
	if (!runs)
		return;
	memcpy(runs, input, n * sizeof(*runs));
	struct bc_physmap map;
	struct bc_error *err = bc_physmap_init_runs(&map, runs, n, file_size, "test runs");
	if (!err) {
		TEST_FAIL_AT("runs accepted, expected an error with \"%s\"", words);
		bc_physmap_deinit(&map);
		return;
	}
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, words);
	bc_error_destroy(err);
}

TEST(physmap_runs_errors)
{
	const struct bc_phys_run overlap[] = { { 0x10, 0x10, 0x1000 }, { 0x18, 0x4, 0x11000 } };
	expect_runs_error(overlap, 2, 0x100000, "overlap");
	const struct bc_phys_run past_end[] = { { 0x10, 0x10, 0x1000 } };
	expect_runs_error(past_end, 1, 0x10000, "truncated");
	const struct bc_phys_run huge[] = { { 0x10, 1ull << 60, 0x1000 } };
	expect_runs_error(huge, 1, 0x10000, "impossibly large");
	const struct bc_phys_run beyond_52[] = { { (1ull << 52) - 1, 2, 0x1000 } };
	expect_runs_error(beyond_52, 1, 0x10000, "impossibly large");
}

static uint64_t seed_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

// Bitmaps of awkward sizes and densities against a naive rank.
TEST(physmap_bitmap_rank)
{
	static const uint64_t sizes[] = { 1, 7, 8, 63, 511, 512, 513, 4099, 100003 };
	static const unsigned density[] = { 0, 1, 50, 99, 100 };  // percent set
	uint64_t seed = 0x1234567;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t d = 0; d < sizeof(density) / sizeof(density[0]); d++) {
			uint64_t bits = sizes[s], bytes = (bits + 7) / 8;
			uint8_t *bitmap = calloc(1, bytes);
			REQUIRE(bitmap);
			uint64_t present = 0;
			for (uint64_t b = 0; b < bits; b++) {
				if (seed_next(&seed) % 100 < density[d]) {
					bitmap[b >> 3] |= (uint8_t)(1u << (b & 7));
					present++;
				}
			}
			// Bits past the count in the last byte are not pages.
			if (bits & 7)
				bitmap[bytes - 1] |= (uint8_t)(0xff << (bits & 7));
			const uint64_t first = 0x3000;
			struct bc_physmap map;
			bc_physmap_init_bitmap(&map, (struct bc_span){ bitmap, bytes }, bits, first,
					       present, first + present * 0x1000);
			struct bc_error *err = bc_physmap_check(&map);
			if (err) {
				TEST_FAIL_AT("%" PRIu64 " bits: %s", bits, err->message);
				bc_error_destroy(err);
			}
			CHECK_EQ(bc_physmap_page_count(&map), present);
			uint64_t rank = 0;
			for (uint64_t pfn = 0; pfn < bits + 16; pfn++) {
				bool set = pfn < bits && (bitmap[pfn >> 3] >> (pfn & 7)) & 1;
				uint64_t off = 0;
				bool got = bc_physmap_lookup(&map, pfn, &off);
				if (got != set || (set && off != first + rank * 0x1000)) {
					TEST_FAIL_AT("%" PRIu64 " bits, PFN %#" PRIx64 ": %d %#" PRIx64
						     ", expected %d %#" PRIx64, bits, pfn, got, off,
						     set, first + rank * 0x1000);
					break;
				}
				rank += set;
			}
			bc_physmap_deinit(&map);
			free(bitmap);
		}
	}
}

TEST(physmap_bitmap_inconsistent)
{
	uint8_t bitmap[128];
	memset(bitmap, 0xa5, sizeof(bitmap));  // 4 of 8 bits: 512 pages
	struct bc_physmap map;
	// Declared count disagrees with the bits.
	bc_physmap_init_bitmap(&map, (struct bc_span){ bitmap, sizeof(bitmap) }, 1024, 0x2000, 511,
			       0x2000 + 512 * 0x1000);
	struct bc_error *err = bc_physmap_check(&map);
	REQUIRE(err);
	CHECK_EQ(err->code, BC_ERR_FORMAT);
	CHECK_CONTAINS(err->message, "0x200 pages present");
	bc_error_destroy(err);
	uint64_t off;
	CHECK(!bc_physmap_lookup(&map, 0, &off));
	err = bc_physmap_check(&map);  // stays failed
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	bc_physmap_deinit(&map);
	// The pages do not fit in the file.
	bc_physmap_init_bitmap(&map, (struct bc_span){ bitmap, sizeof(bitmap) }, 1024, 0x2000, 512,
			       0x2000 + 511 * 0x1000);
	err = bc_physmap_check(&map);
	REQUIRE(err);
	CHECK_CONTAINS(err->message, "truncated");
	bc_error_destroy(err);
	CHECK(!bc_physmap_lookup(&map, 0, &off));
	bc_physmap_deinit(&map);
}

TEST_MAIN()
