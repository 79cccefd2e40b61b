// Vergilius Project layouts (bugcheck/vergilius.h) against sources that do
// not depend on them or on us:
//
// - for the two x64 kernels, the Volatility ISF table of the same build
//   (converted from Microsoft's PDB by Volatility's pdbconv, a different
//   tool chain from Vergilius'), field by field: offset, bit position and
//   width, size, for the structures bugcheck reads and more. The ISF tables
//   at hand are later revisions of those builds (19041.3570 for Vergilius'
//   19041.264, 7601.24540 for 7601.17514), so the comparison is of layouts
//   that servicing may have changed; differences are printed, and the test
//   asserts exactly which structures agree in full.
// - for the x86 kernels, offsets published independently (ReactOS's
//   ks386.inc-style assembler offsets and the tables of Windows internals
//   references: _KPCR.PrcbData 0x120, _KPRCB.CurrentThread 0x4,
//   _KTHREAD.ApcState.Process 0x44 on XP SP3 and 0x50 on 7 SP1 ...).
// - the real small memory dumps in ../shared/dumps/kernel: each 19041
//   kernel's own KDDEBUGGER_DATA64 (written by Windows, whatever its
//   revision) must agree with every offset and size it shares with the
//   19041.264 file (30 of them), and the 17763 kernels must be refused;
// - WinDbg's `!thread` beside eolaruhagen's dump (WinDbg had Microsoft's
//   PDB; no ISF table matches that kernel): with the 19041.264 layout, the
//   fields KDDEBUGGER_DATA64 lacks (Cid, Win32Thread, priorities, counts,
//   start address, image name) must read as WinDbg printed them;
// - selection over a synthetic x86 7601 dump: the writer's KDDEBUGGER_DATA64
//   does not describe the real 7601 layout, so the real file must be refused
//   naming the field; with the block patched to the real offsets it is taken.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "bugcheck/isf.h"
#include "bugcheck/kobj.h"
#include "bugcheck/symbols.h"
#include "bugcheck/vergilius.h"
#include "mkdump.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "symbols/vergilius");
}

#define NEED_SHARED()                                                             \
	do {                                                                      \
		if (!have_shared())                                               \
			SKIP("skipped: ../shared/symbols/vergilius not found");   \
	} while (0)

static struct bc_symtab *open_vergilius(const char *name, struct bc_vergilius_info *info)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/symbols/vergilius/%s", shared, name);
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_vergilius_open(path, &tab, info);
	if (err) {
		printf("# %s\n", err->message);
		bc_error_destroy(err);
	}
	return tab;
}

static struct bc_symtab *open_isf(const char *guid_age)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/symbols/isf/ntkrnlmp.pdb/%s.json.xz", shared, guid_age);
	struct bc_symtab *tab = NULL;
	struct bc_error *err = bc_isf_open(path, &tab);
	if (err) {
		printf("# %s\n", err->message);
		bc_error_destroy(err);
	}
	return tab;
}

static uint64_t field_size(struct bc_symtab *tab, const struct bc_type_field *f)
{
	const struct bc_type *t;
	if (bc_symtab_type(tab, f->type_id, &t))
		return UINT64_MAX;
	if (t->kind == BC_TYPE_BITFIELD && !bc_symtab_type(tab, t->target_id, &t))
		return t->size;
	return t->size;
}

static const struct bc_type_field *field_named(const struct bc_type *t, const char *name)
{
	for (size_t i = 0; i < t->field_count; i++)
		if (!strcmp(t->fields[i].name, name))
			return &t->fields[i];
	return NULL;
}

// Differences between the two readings of @type: size, fields present in
// one only, and each common field's offset, bits and size. Printed.
static unsigned differences(struct bc_symtab *verg, struct bc_symtab *isf, const char *type,
			    unsigned *fields_compared)
{
	const struct bc_type *v, *i;
	if (bc_symtab_type_by_name(verg, type, &v) || bc_symtab_type_by_name(isf, type, &i)) {
		printf("#   %s: missing from one reading\n", type);
		return 1;
	}
	unsigned diff = 0;
	if (v->size != i->size) {
		printf("#   sizeof(%s): vergilius %#" PRIx64 ", isf %#" PRIx64 "\n", type, v->size,
		       i->size);
		diff++;
	}
	for (size_t k = 0; k < v->field_count; k++) {
		const struct bc_type_field *fv = &v->fields[k], *fi = field_named(i, fv->name);
		if (!fi) {
			printf("#   %s.%s: only in vergilius\n", type, fv->name);
			diff++;
			continue;
		}
		(*fields_compared)++;
		uint64_t sv = field_size(verg, fv), si = field_size(isf, fi);
		if (fv->offset != fi->offset || fv->bit_position != fi->bit_position ||
		    fv->bit_length != fi->bit_length || sv != si) {
			printf("#   %s.%s: vergilius %#" PRIx64 " bits %u:%u size %#" PRIx64
			       ", isf %#" PRIx64 " bits %u:%u size %#" PRIx64 "\n", type, fv->name,
			       fv->offset, fv->bit_position, fv->bit_length, sv, fi->offset,
			       fi->bit_position, fi->bit_length, si);
			diff++;
		}
	}
	for (size_t k = 0; k < i->field_count; k++)
		if (!field_named(v, i->fields[k].name)) {
			printf("#   %s.%s: only in isf\n", type, i->fields[k].name);
			diff++;
		}
	return diff;
}

static const char *const compared_types[] = {
	"_KPRCB", "_KTHREAD", "_ETHREAD", "_EPROCESS", "_KPROCESS", "_KPCR", "_KAPC_STATE",
	"_DISPATCHER_HEADER", "_KTRAP_FRAME", "_CONTEXT", "_KPROCESSOR_STATE",
	"_KSPECIAL_REGISTERS", "_LIST_ENTRY", "_UNICODE_STRING", "_LDR_DATA_TABLE_ENTRY",
	"_KDPC", "_KAPC", "_CLIENT_ID", "_EX_FAST_REF", "_MMPTE_HARDWARE", "_KEXCEPTION_FRAME",
	"_MM_DRIVER_VERIFIER_DATA", "_KTIMER", "_KWAIT_BLOCK",
};

struct pair_result {
	unsigned fields;
	unsigned differing_types;
	char differing[1024];
};

static void compare_pair(const char *vergilius, const char *isf, struct pair_result *r)
{
	memset(r, 0, sizeof(*r));
	struct bc_symtab *v = open_vergilius(vergilius, NULL), *i = open_isf(isf);
	if (v && i) {
		for (size_t k = 0; k < sizeof(compared_types) / sizeof(compared_types[0]); k++) {
			if (!differences(v, i, compared_types[k], &r->fields))
				continue;
			r->differing_types++;
			size_t n = strlen(r->differing);
			snprintf(r->differing + n, sizeof(r->differing) - n, "%s%s", n ? " " : "",
				 compared_types[k]);
		}
		printf("# %s vs %s: %u fields compared; differing: %s\n", vergilius, isf, r->fields,
		       r->differing[0] ? r->differing : "none");
	}
	bc_symtab_destroy(v);
	bc_symtab_destroy(i);
}

TEST(x64_19041_against_isf)
{
	NEED_SHARED();
	struct pair_result r;
	// ISF 606FF669...-1: ntkrnlmp 10.0.19041.3570 (MANIFEST.tsv).
	compare_pair("10.0.19041.264-x64.yml.xz", "606FF669409B00F7FC8C61A9C1670129-1", &r);
	CHECK(r.fields > 1000);
	// 19041.264 -> .3570 servicing: the speculation-control ("Bpb") bits of
	// _KPRCB and its Legacy* renames, _KTHREAD.ResourceIndex moved into the
	// end padding (Spare31), new _EPROCESS fields at its end, _KAPC's
	// SpareByte0 becoming AllFlags. Everything else agrees in full, bitfield
	// positions included.
	CHECK_STR(r.differing, "_KPRCB _KTHREAD _EPROCESS _KAPC");
}

TEST(x64_7601_against_isf)
{
	NEED_SHARED();
	struct pair_result r;
	// ISF 339E7413...-1: ntkrnlmp 6.1.7601.24540 (MANIFEST.tsv).
	compare_pair("6.1.7601.17514-x64.yml.xz", "339E74133576439CBCDF7E0229DA3773-1", &r);
	CHECK(r.fields > 800);
	// 7601.17514 -> .24540: the 2018 kernel page-table isolation update grew
	// _KPRCB (0x4d00 -> 0x6f00: KernelDirectoryTableBase, RspBaseShadow...),
	// _KTHREAD (StateSaveArea: 0x360 -> 0x368, which moves every _ETHREAD
	// field), _KPROCESS (UserDirectoryTableBase) and _EPROCESS, and changed
	// _KTRAP_FRAME. Exactly why a Vergilius file is accepted for a dump only
	// when KDDEBUGGER_DATA64 agrees with it.
	CHECK_STR(r.differing,
		  "_KPRCB _KTHREAD _ETHREAD _EPROCESS _KPROCESS _KPCR _KTRAP_FRAME");
}

// The offset of a dotted @path inside @type, through embedded structures.
static uint64_t offset_of(struct bc_symtab *tab, const char *type, const char *path)
{
	const struct bc_type *t;
	if (bc_symtab_type_by_name(tab, type, &t))
		return UINT64_MAX;
	uint64_t offset = 0;
	char copy[128];
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *name = strtok(copy, "."); name; name = strtok(NULL, ".")) {
		const struct bc_type_field *f = field_named(t, name);
		if (!f)
			return UINT64_MAX;
		offset += f->offset;
		if (bc_symtab_type(tab, f->type_id, &t))
			return UINT64_MAX;
	}
	return offset;
}

static uint64_t size_of(struct bc_symtab *tab, const char *type)
{
	const struct bc_type *t;
	return bc_symtab_type_by_name(tab, type, &t) ? UINT64_MAX : t->size;
}

TEST(x86_7601_published_offsets)
{
	NEED_SHARED();
	struct bc_vergilius_info info;
	struct bc_symtab *tab = open_vergilius("6.1.7601.17514-x86.yml.xz", &info);
	REQUIRE(tab);
	CHECK_EQ(info.machine, BC_MACHINE_X86);
	CHECK_EQ(info.build_number, 7601);
	CHECK_EQ(info.revision, 17514);
	CHECK_EQ(bc_symtab_machine(tab), 0x14c);
	CHECK_EQ(bc_symtab_kind(tab), BC_SYMTAB_VERGILIUS);
	// fs:[0x124] is the current thread on every x86 NT: PrcbData + CurrentThread.
	CHECK_EQ(offset_of(tab, "_KPCR", "PrcbData"), 0x120);
	CHECK_EQ(offset_of(tab, "_KPCR", "PrcbData.CurrentThread"), 0x124);
	CHECK_EQ(offset_of(tab, "_KPCR", "SelfPcr"), 0x1c);       // libintro's i386 KPCR_SELF
	CHECK_EQ(offset_of(tab, "_KPCR", "Prcb"), 0x20);          // ... KPCR_CURRENT_PRCB
	CHECK_EQ(offset_of(tab, "_KPRCB", "IdleThread"), 0xc);    // ... KPRCB_IDLE_THREAD
	// WinDbg's `dt _KTHREAD` of Windows 7 x86 as published (dandilab.tistory.com):
	CHECK_EQ(offset_of(tab, "_KTHREAD", "InitialStack"), 0x28);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "KernelStack"), 0x30);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "ApcState"), 0x40);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "ApcState.Process"), 0x50);  // token-stealing shellcode's [eax+0x50]
	CHECK_EQ(offset_of(tab, "_KTHREAD", "NextProcessor"), 0x58);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "State"), 0x68);
	const struct bc_type *kthread;
	REQUIRE_OK(bc_symtab_type_by_name(tab, "_KTHREAD", &kthread));
	const struct bc_type_field *alertable = field_named(kthread, "Alertable");
	const struct bc_type_field *reserved = field_named(kthread, "Reserved");
	REQUIRE(alertable && reserved);
	CHECK_EQ(alertable->offset, 0x3c);  // "+0x03c Alertable : Pos 5, 1 Bit"
	CHECK_EQ(alertable->bit_position, 5);
	CHECK_EQ(alertable->bit_length, 1);
	CHECK_EQ(reserved->bit_position, 14);  // "+0x03c Reserved : Pos 14, 18 Bits"
	CHECK_EQ(reserved->bit_length, 18);
	// EPROCESS (qtrace's Windows 7 profile; libintro's ActiveProcessLinks 0xb8).
	CHECK_EQ(offset_of(tab, "_EPROCESS", "UniqueProcessId"), 0xb4);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "ActiveProcessLinks"), 0xb8);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "ImageFileName"), 0x16c);
	CHECK_EQ(size_of(tab, "_KTHREAD"), 0x200);
	bc_symtab_destroy(tab);
}

TEST(x86_2600_published_offsets)
{
	NEED_SHARED();
	struct bc_vergilius_info info;
	struct bc_symtab *tab = open_vergilius("5.1.2600.5512-x86.yml.xz", &info);
	REQUIRE(tab);
	CHECK_EQ(info.build_number, 2600);
	CHECK_STR(info.build, "5.1.2600.5512");
	CHECK_EQ(offset_of(tab, "_KPCR", "PrcbData.CurrentThread"), 0x124);
	CHECK_EQ(offset_of(tab, "_KPCR", "SelfPcr"), 0x1c);
	CHECK_EQ(offset_of(tab, "_KPCR", "Prcb"), 0x20);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "ApcState"), 0x34);
	CHECK_EQ(offset_of(tab, "_KTHREAD", "ApcState.Process"), 0x44);  // XP's [eax+0x44]
	// WinDbg's `dt _EPROCESS` of XP SP3 (in Useful-Stuff/yasi's internal.h)
	// and qtrace's XP SP3 profile (ETHREAD.Cid).
	CHECK_EQ(offset_of(tab, "_EPROCESS", "UniqueProcessId"), 0x84);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "ActiveProcessLinks"), 0x88);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "Token"), 0xc8);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "InheritedFromUniqueProcessId"), 0x14c);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "ImageFileName"), 0x174);
	CHECK_EQ(offset_of(tab, "_EPROCESS", "ThreadListHead"), 0x190);
	CHECK_EQ(offset_of(tab, "_ETHREAD", "Cid"), 0x1ec);
	bc_symtab_destroy(tab);
}

// ---- Selection over a synthetic x86 7601 dump ----

static char *write_temp(const uint8_t *bytes, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	static char path[4200];
	snprintf(path, sizeof(path), "%s/bc-vergilius-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	bool ok = write(fd, bytes, size) == (ssize_t)size;
	close(fd);
	return ok ? path : NULL;
}

// KDDEBUGGER_DATA64 inside the dump's bytes: "KDBG" at +0x10, its size at +0x14.
static uint8_t *find_kdbg(uint8_t *bytes, size_t size, uint32_t kdbg_size)
{
	for (size_t i = 0x10; i + 8 <= size; i += 4)
		if (!memcmp(bytes + i, "KDBG", 4) && bc_le32(bytes + i + 4) == kdbg_size &&
		    i - 0x10 + kdbg_size <= size)
			return bytes + i - 0x10;
	return NULL;
}

static struct bc_target *open_with_vergilius(const char *path)
{
	struct bc_target *t = NULL;
	if (bc_target_open(path, &t))
		return NULL;
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/symbols/vergilius", shared);
	struct bc_symbol_options opt = { .vergilius_dir = dir };
	struct bc_error *err = bc_target_set_symbol_options(t, &opt);
	if (err) {
		bc_error_destroy(err);
		bc_target_close(t);
		return NULL;
	}
	return t;
}

// A synthetic x86 (PAE) 7601 dump, written to a temporary file (*@path_ret)
// and opened with the Vergilius directory. With @as_windows_writes, its
// KDDEBUGGER_DATA64 is first corrected where the writer's invented offsets
// contradict 7601: InitialStack as Windows 7 SP1 x86 writes it (the
// published 0x28 above); the KPRCB offsets and size, for which we have no
// independent 7601 x86 value, are cleared ("not filled in", as a kernel that
// does not know them leaves them).
static struct bc_target *synthetic_x86_7601(bool as_windows_writes, char **path_ret,
					    struct bc_fixture_expect *ex)
{
	struct bc_fixture_spec spec = { .machine = BC_FIXTURE_X86_PAE, .build = 7601 };
	uint8_t *bytes;
	size_t size;
	struct bc_error *err = bc_fixture_build(&spec, ex, &bytes, &size);
	if (err) {
		printf("# %s\n", err->message);
		bc_error_destroy(err);
		return NULL;
	}
	uint8_t *kdbg = find_kdbg(bytes, size, ex->kdbg_size);
	if (as_windows_writes && kdbg) {
		bc_put_le16(kdbg + 0x29e, 0x28);  // OffsetKThreadInitialStack
		bc_put_le16(kdbg + 0x2b0, 0);     // SizePrcb
		bc_put_le16(kdbg + 0x338, 0);     // OffsetPrcbContext
	}
	*path_ret = kdbg ? write_temp(bytes, size) : NULL;
	free(bytes);
	return *path_ret ? open_with_vergilius(*path_ret) : NULL;
}

TEST(selection_refuses_a_layout_kdbg_contradicts)
{
	NEED_SHARED();
	struct bc_fixture_expect ex;
	char *path = NULL;
	struct bc_target *t = synthetic_x86_7601(false, &path, &ex);
	REQUIRE(t);
	// The writer's x86 KDDEBUGGER_DATA64 is its own invention, not 7601's:
	// InitialStack 0x18 (7601 x86: 0x28, published).
	CHECK_EQ(ex.offset_kthread_initial_stack, 0x18);
	struct bc_symtab *tab = NULL;
	const char *note = NULL;
	struct bc_error *err = bc_target_vergilius_kernel(t, &tab, &note);
	CHECK(err != NULL);
	CHECK(err && err->code == BC_ERR_NOT_FOUND);
	bc_error_destroy(err);
	printf("# %s\n", note);
	CHECK_CONTAINS(note, "vergilius 6.1.7601.17514-x86: _KTHREAD.InitialStack at 0x28, "
			     "KDDEBUGGER_DATA64 says 0x18");
	CHECK_CONTAINS(note, "vergilius 6.1.7601.17514-x64: for x64, the dump is x86");
	CHECK_CONTAINS(note, "vergilius 5.1.2600.5512-x86: build 2600, the dump's is 7601");
	// So kernel fields still come from KDDEBUGGER_DATA64, and one it lacks needs symbols
	// and says why the layout was refused.
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_KTHREAD", "ApcState.Process", &f));
	CHECK_EQ(f.source, BC_LAYOUT_KDBG);
	err = bc_kernel_field(t, "_KPCR", "PrcbData", &f);
	CHECK(err && err->code == BC_ERR_NEEDS_SYMBOLS);
	if (err)
		CHECK_CONTAINS(err->message, "_KTHREAD.InitialStack at 0x28");
	bc_error_destroy(err);
	bc_target_close(t);
	unlink(path);
}

TEST(selection_takes_a_layout_kdbg_confirms)
{
	NEED_SHARED();
	struct bc_fixture_expect ex;
	char *path = NULL;
	struct bc_target *t = synthetic_x86_7601(true, &path, &ex);
	REQUIRE(t);
	struct bc_symtab *tab = NULL;
	const char *note = NULL;
	struct bc_error *err = bc_target_vergilius_kernel(t, &tab, &note);
	printf("# %s\n", note);
	CHECK(!err);
	bc_error_destroy(err);
	CHECK_CONTAINS(note, "vergilius 6.1.7601.17514-x86: ");
	CHECK_CONTAINS(note, "KDDEBUGGER_DATA64 offsets and sizes agree");
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_KTHREAD", "ApcState.Process", &f));
	CHECK_EQ(f.offset, 0x50);
	CHECK_EQ(f.size, 4);
	CHECK(f.is_pointer);
	CHECK_EQ(f.source, BC_LAYOUT_VERGILIUS);
	REQUIRE_OK(bc_kernel_field(t, "_KPCR", "PrcbData", &f));  // not in KDDEBUGGER_DATA64
	CHECK_EQ(f.offset, 0x120);
	CHECK_EQ(f.source, BC_LAYOUT_VERGILIUS);
	REQUIRE_OK(bc_kernel_field(t, "_KTHREAD", "Alertable", &f));
	CHECK_EQ(f.offset, 0x3c);
	CHECK_EQ(f.bit_position, 5);
	CHECK_EQ(f.bit_length, 1);
	uint64_t prcb_size;
	enum bc_layout_source source;
	REQUIRE_OK(bc_kernel_type_size(t, "_KPRCB", &prcb_size, &source));
	CHECK_EQ(source, BC_LAYOUT_VERGILIUS);
	REQUIRE_OK(bc_kernel_type_size(t, "_KTHREAD", &prcb_size, &source));
	CHECK_EQ(prcb_size, 0x200);  // Windows 7 x86 KTHREAD size (Geoff Chappell's KTHREAD pages)
	bc_target_close(t);
	unlink(path);
}

TEST(real_dumps_confirm_19041)
{
	NEED_SHARED();
	static const struct {
		const char *dump;
		bool taken;
	} dumps[] = {
		{ "daimuvg__102622-12000-01.dmp", true }, { "eolaruhagen__083125-14875-01.dmp", true },
		{ "nhdell__033124-5078-01.dmp", true },   { "ojusha__100623-6156-01.dmp", true },
		{ "rizintb__triage_x64.dmp", true },      { "proxyrule__011620-8250-01.dmp", false },
	};
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		char path[4300];
		snprintf(path, sizeof(path), "%s/dumps/kernel/%s", shared, dumps[i].dump);
		struct stat st;
		if (stat(path, &st)) {
			printf("# %s: not in ../shared\n", dumps[i].dump);
			continue;
		}
		struct bc_target *t = open_with_vergilius(path);
		REQUIRE(t);
		struct bc_symtab *tab;
		const char *note;
		struct bc_error *err = bc_target_vergilius_kernel(t, &tab, &note);
		printf("# %s: %s\n", dumps[i].dump, note);
		CHECK_EQ(err == NULL, dumps[i].taken);
		bc_error_destroy(err);
		if (dumps[i].taken) {
			CHECK_CONTAINS(note, "vergilius 10.0.19041.264-x64: 30 KDDEBUGGER_DATA64 "
					     "offsets and sizes agree");
		} else {
			CHECK_CONTAINS(note, "vergilius 10.0.19041.264-x64: build 19041, the dump's is "
					     "17763");
		}
		bc_target_close(t);
	}
}

TEST(eolaruhagen_thread_as_windbg_shows_it)
{
	NEED_SHARED();
	char path[4300];
	snprintf(path, sizeof(path), "%s/dumps/kernel/eolaruhagen__083125-14875-01.dmp", shared);
	struct stat st;
	if (stat(path, &st))
		SKIP("skipped: ../shared/dumps/kernel/eolaruhagen__083125-14875-01.dmp not found");
	struct bc_target *t = open_with_vergilius(path);
	REQUIRE(t);
	// eolaruhagen__083125-14875-01.dmp.windbg-thread.txt:
	//   THREAD ffffd20bfc13c080  Cid 0cac.11b8  Teb: 0000007d48790000
	//     Win32Thread: ffffd20bfcfe25f0 RUNNING on processor 0
	//   Owning Process ffffd20bfc53e080  Image: notmyfault64.e
	//   Wait Start TickCount 31683, Context Switch Count 2419
	//   Win32 Start Address 0x00007ff727f74848, Priority 12  BasePriority 8
	struct bc_thread_info ti;
	REQUIRE_OK(bc_target_thread_info(t, 0xffffd20bfc13c080ull, &ti));
	CHECK(ti.has_cid && ti.has_win32_thread && ti.has_wait_time && ti.has_context_switches);
	CHECK(ti.has_priority && ti.has_base_priority && ti.has_win32_start && ti.has_image);
	CHECK_EQ(ti.pid, 0xcac);
	CHECK_EQ(ti.tid, 0x11b8);
	CHECK_EQ(ti.teb, 0x7d48790000ull);
	CHECK_EQ(ti.win32_thread, 0xffffd20bfcfe25f0ull);
	CHECK_EQ(ti.process, 0xffffd20bfc53e080ull);
	CHECK_EQ(ti.state, 2);  // RUNNING
	CHECK_EQ(ti.wait_time, 31683);
	CHECK_EQ(ti.context_switches, 2419);
	CHECK_EQ(ti.win32_start, 0x7ff727f74848ull);
	CHECK_EQ(ti.priority, 12);
	CHECK_EQ(ti.base_priority, 8);
	CHECK_STR(ti.image, "notmyfault64.e");
	struct bc_kfield f;
	REQUIRE_OK(bc_kernel_field(t, "_ETHREAD", "Cid", &f));
	CHECK_EQ(f.source, BC_LAYOUT_VERGILIUS);
	bc_target_close(t);
}

TEST_MAIN()
