// ARM64 unwind records checked against an independent decoder: the DLLs
// built at test time by clang and lld-link (BUILD/pe-fixtures/bcunwind-
// arm64.dll from tests/fixtures/pe/unwind-arm64*.S, and bcfixture-arm64.dll
// from bcfixture.c) are read by `llvm-readobj --unwind`, run through popen.
// For every .pdata entry the test compares bugcheck's decoding with what
// llvm-readobj prints: function length, packed fields, the .xdata code bytes
// and epilog scopes. Then it takes the prolog llvm-readobj prints as
// instructions (stp/str/sub/mov/add, "save next"), simulates it here with a
// small interpreter of that text, plants a stack with a marker in every slot
// the prolog stored to, and checks that bugcheck's unwinder, stopped after
// each prolog instruction in turn and in the body, gives back every saved
// register, the caller's sp and the return address. Skipped, saying why, when
// the toolchain or llvm-readobj is missing.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/pe.h"
#include "test.h"
#include "unwind/unwind_arm64.h"

enum { MAX_FUNCTIONS = 64, MAX_LINES = 48, MAX_SCOPES = 8, STACK_SIZE = 0x30000 };
static const uint64_t CFA = 0xffffa00000120000ull;  // the caller's sp in every check
static const uint64_t STACK_BASE = 0xffffa00000100000ull;

struct line {
	char text[96];       ///< the instruction or description after the opcode bytes
	uint8_t bytes[8];
	unsigned byte_count; ///< 0 for packed records (no bytes printed)
};

struct oracle_function {
	uint64_t va;
	bool packed, fragment, epilog_packed;
	unsigned length, reg_f, reg_i, h, cr, frame_size, epilog_offset, scope_count;
	unsigned scope_start[MAX_SCOPES], scope_index[MAX_SCOPES];
	unsigned line_count;  ///< prolog lines, in the printed (unwind) order, "end" excluded
	struct line lines[MAX_LINES];
};

static char path_buf[4096];

static const char *fixture(const char *name)
{
	const char *dir = getenv("BC_BINARY_DIR");
	snprintf(path_buf, sizeof(path_buf), "%s/pe-fixtures/%s", dir ? dir : ".", name);
	FILE *f = fopen(path_buf, "rb");
	if (!f)
		return NULL;
	fclose(f);
	return path_buf;
}

static const char *readobj_tool(void)
{
	static const char *const names[] = { "llvm-readobj-14", "llvm-readobj" };
	for (size_t i = 0; i < 2; i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "%s --version >/dev/null 2>&1", names[i]);
		if (system(cmd) == 0)
			return names[i];
	}
	return NULL;
}

static bool field(const char *line, const char *name, unsigned *ret)
{
	const char *p = strstr(line, name);
	if (!p)
		return false;
	p += strlen(name);
	if (*p++ != ':')
		return false;
	while (*p == ' ')
		p++;
	if (!strncmp(p, "Yes", 3) || !strncmp(p, "No", 2)) {
		*ret = *p == 'Y';
		return true;
	}
	*ret = (unsigned)strtoul(p, NULL, 0);
	return true;
}

// Parses llvm-readobj's "UnwindInformation" listing.
static int run_readobj(const char *tool, const char *dll, struct oracle_function *fns, int max)
{
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "%s --unwind '%s' 2>/dev/null", tool, dll);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char line[512];
	int n = 0;
	enum { NONE, PROLOG, SCOPE_OPCODES } where = NONE;
	struct oracle_function *fn = NULL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long va;
		unsigned v;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		s[strcspn(s, "\n")] = 0;
		if (sscanf(s, "Function: 0x%llx", &va) == 1) {
			if (n == max)
				break;
			fn = &fns[n++];
			memset(fn, 0, sizeof(*fn));
			fn->va = va;
			fn->packed = true;  // until an ExceptionRecord says otherwise
			where = NONE;
			continue;
		}
		if (!fn)
			continue;
		if (!strncmp(s, "ExceptionRecord:", 16)) {
			fn->packed = false;
		} else if (!strcmp(s, "Prologue [")) {
			where = PROLOG;
		} else if (!strcmp(s, "Opcodes [")) {
			where = SCOPE_OPCODES;
		} else if (!strcmp(s, "]")) {
			where = NONE;
		} else if (where == PROLOG) {
			struct line *l = &fn->lines[fn->line_count];
			memset(l, 0, sizeof(*l));
			const char *text = s;
			if (!strncmp(s, "0x", 2)) {
				const char *semi = strchr(s, ';');
				for (const char *h = s + 2; isxdigit((unsigned char)h[0]) &&
							    isxdigit((unsigned char)h[1]) && l->byte_count < 8;
				     h += 2) {
					char hex[3] = { h[0], h[1], 0 };
					l->bytes[l->byte_count++] = (uint8_t)strtoul(hex, NULL, 16);
				}
				text = semi ? semi + 1 : "";
				while (*text == ' ')
					text++;
			}
			snprintf(l->text, sizeof(l->text), "%.95s", text);
			if (strcmp(l->text, "end") && fn->line_count + 1 < MAX_LINES)
				fn->line_count++;
		} else if (where == SCOPE_OPCODES) {
		} else if (field(s, "FunctionLength", &v)) {
			fn->length = v;
		} else if (field(s, "Fragment", &v)) {
			fn->fragment = v;
		} else if (field(s, "RegF", &v)) {
			fn->reg_f = v;
		} else if (field(s, "RegI", &v)) {
			fn->reg_i = v;
		} else if (field(s, "HomedParameters", &v)) {
			fn->h = v;
		} else if (field(s, "CR", &v)) {
			fn->cr = v;
		} else if (field(s, "FrameSize", &v)) {
			fn->frame_size = v;
		} else if (field(s, "EpiloguePacked", &v)) {
			fn->epilog_packed = v;
		} else if (field(s, "EpilogueOffset", &v)) {
			fn->epilog_offset = v;
		} else if (field(s, "StartOffset", &v)) {
			if (fn->scope_count < MAX_SCOPES)
				fn->scope_start[fn->scope_count] = v;
		} else if (field(s, "EpilogueStartIndex", &v)) {
			if (fn->scope_count < MAX_SCOPES)
				fn->scope_index[fn->scope_count++] = v;
		}
	}
	return pclose(f) == 0 ? n : -1;
}

/* ---- The prolog, from llvm-readobj's text ------------------------------------- */

struct sim {
	int64_t sp;            ///< relative to the caller's sp
	bool fp_set;
	int64_t fp;            ///< relative to the caller's sp
	bool saved[32];        ///< integer registers stored by the prolog
	unsigned stores;       ///< every store of one: register and where (relative)
	int store_reg[64];
	int64_t store_at[64];
	int last_reg;          ///< the last pair store, for "save next": first register
	bool last_fp_kind;     ///< ... and whether it was a d register pair
	int64_t last_at;
};

// "x19", "fp", "lr", "d8": integer register number (29 fp, 30 lr), or 100 + n for d/q.
static int reg_number(const char *s)
{
	if (!strncmp(s, "fp", 2))
		return 29;
	if (!strncmp(s, "lr", 2))
		return 30;
	if (s[0] == 'x')
		return atoi(s + 1);
	if (s[0] == 'd' || s[0] == 'q')
		return 100 + atoi(s + 1);
	return -1;
}

static void store(struct sim *m, int reg, int64_t at)
{
	if (reg >= 19 && reg <= 30 && m->stores < 64) {
		m->saved[reg] = true;  // lr may be stored twice (with x27, then with fp)
		m->store_reg[m->stores] = reg;
		m->store_at[m->stores++] = at;
	}
}

// Executes one prolog instruction; false for text it does not understand.
static bool simulate(struct sim *m, const char *text)
{
	char r1[16], r2[16];
	int n;
	if (!strcmp(text, "nop"))
		return true;
	if (!strcmp(text, "mov x29, sp") || !strcmp(text, "mov fp, sp")) {
		m->fp_set = true;
		m->fp = m->sp;
		return true;
	}
	if (sscanf(text, "add x29, sp, #%d", &n) == 1 || sscanf(text, "add fp, sp, #%d", &n) == 1) {
		m->fp_set = true;
		m->fp = m->sp + n;
		return true;
	}
	if (sscanf(text, "sub sp, sp, #%d", &n) == 1 || sscanf(text, "sub sp, #%d", &n) == 1) {
		m->sp -= n;
		return true;
	}
	if (!strcmp(text, "save next")) {
		m->last_reg += 2;
		m->last_at += 16;
		if (!m->last_fp_kind) {
			store(m, m->last_reg, m->last_at);
			store(m, m->last_reg + 1, m->last_at + 8);
		}
		return true;
	}
	bool pair = !strncmp(text, "stp ", 4);
	if (!pair && strncmp(text, "str ", 4))
		return false;
	const char *p = text + 4;
	if (pair ? sscanf(p, "%15[^,], %15[^,], [sp", r1, r2) != 2
		 : sscanf(p, "%15[^,], [sp", r1) != 1)
		return false;
	const char *bracket = strchr(text, '[');
	int64_t off = 0;
	const char *hash = strchr(bracket, '#');
	if (hash)
		off = strtol(hash + 1, NULL, 10);
	bool writeback = strchr(bracket, '!') != NULL;
	int64_t at;
	if (writeback) {
		m->sp += off;  // off is negative: pre-indexed
		at = m->sp;
	} else {
		at = m->sp + off;
	}
	int a = reg_number(r1), b = pair ? reg_number(r2) : -1;
	if (a < 0 || (pair && b < 0))
		return false;
	store(m, a, at);
	if (pair) {
		store(m, b, at + 8);
		m->last_reg = a >= 100 ? a - 100 : a;
		m->last_fp_kind = a >= 100;
		m->last_at = at;
	}
	return true;
}

/* ---- Reading the DLL ------------------------------------------------------------ */

struct world {
	struct bc_pe *pe;
	uint8_t stack[STACK_SIZE];
};

static struct bc_error *read_image(void *arg, uint64_t base, uint64_t rva, void *buf, size_t size)
{
	(void)base;
	struct world *w = arg;
	return bc_pe_read(w->pe, rva, buf, size);
}

static struct bc_error *read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	struct world *w = arg;
	if (address < STACK_BASE || address - STACK_BASE > STACK_SIZE ||
	    size > STACK_SIZE - (address - STACK_BASE))
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "%#llx not in the test stack",
				      (unsigned long long)address);
	memcpy(buf, w->stack + (address - STACK_BASE), size);
	return NULL;
}

static uint64_t marker(int reg)
{
	return 0xfffff80000500000ull + 0x100 * (uint64_t)reg;  // lr's marker is the return address
}

static uint64_t junk(int reg)
{
	return 0x0badbad000000000ull + (uint64_t)reg;
}

// Unwinds @rf stopped after @k prolog instructions (or in the body when @k
// is the prolog's length) and checks the result against the simulation.
static void check_unwind_after(struct world *w, const struct bc_unwind_io *io, uint64_t base,
			       const struct bc_arm64_runtime_function *rf,
			       const struct oracle_function *o, unsigned k, const char *name)
{
	struct sim part = { 0 };  // the first @k instructions, in execution order
	for (unsigned i = 0; i < k; i++)
		simulate(&part, o->lines[o->line_count - 1 - i].text);
	bool body = k == o->line_count;
	for (size_t i = 0; i < STACK_SIZE; i += 8)
		bc_put_le64(w->stack + i, 0xdeadbeef00000000ull + i);
	struct bc_context_arm64 c = { .pc = base + rf->begin + 4ull * k, .sp = CFA + part.sp };
	for (int reg = 19; reg <= 30; reg++) {
		uint64_t *r = reg < 29 ? &c.x[reg] : reg == 29 ? &c.fp : &c.lr;
		*r = part.saved[reg] ? junk(reg) : marker(reg);
	}
	for (unsigned i = 0; i < part.stores; i++)
		bc_put_le64(w->stack + (CFA + part.store_at[i] - STACK_BASE), marker(part.store_reg[i]));
	if (part.fp_set)
		c.fp = CFA + part.fp;
	if (!body)
		c.lr = marker(30);  // a prolog makes no calls: lr still holds the return address
	struct bc_unwind_arm64_result r;
	struct bc_error *err = bc_unwind_arm64_step(io, base, rf, &c, &r);
	if (err) {
		TEST_FAIL_AT("%s after %u prolog instructions: %s", name, k, err->message);
		bc_error_destroy(err);
		return;
	}
	bool ok = c.sp == CFA && c.pc == marker(30);
	for (int reg = 19; reg <= 29; reg++)
		ok = ok && (reg < 29 ? c.x[reg] : c.fp) == marker(reg);
	if (!ok)
		TEST_FAIL_AT("%s after %u of %u prolog instructions: sp %+lld from the caller's, pc %#llx, "
			     "x19 %#llx, fp %#llx", name, k, o->line_count,
			     (long long)(c.sp - CFA), (unsigned long long)c.pc,
			     (unsigned long long)c.x[19], (unsigned long long)c.fp);
}

static bool understood(const struct oracle_function *o)
{
	struct sim m = { 0 };
	for (unsigned i = 0; i < o->line_count; i++)
		if (!simulate(&m, o->lines[i].text))
			return false;
	return o->line_count > 0;
}

static unsigned compare_dll(const char *dll, const char *tool, unsigned *unwound)
{
	struct world *w = calloc(1, sizeof(*w));
	struct bc_error *err = bc_pe_open_file(dll, &w->pe);
	if (err) {
		TEST_FAIL_AT("%s: %s", dll, err->message);
		bc_error_destroy(err);
		free(w);
		return 0;
	}
	static struct oracle_function fns[MAX_FUNCTIONS];
	int n = run_readobj(tool, dll, fns, MAX_FUNCTIONS);
	const struct bc_pe_pdata *pd;
	err = bc_pe_pdata(w->pe, &pd);
	uint64_t base = bc_pe_info(w->pe)->image_base;
	struct bc_unwind_io io = { read_memory, read_image, w };
	unsigned compared = 0;
	if (err || n < 0 || pd->count != (size_t)n) {
		TEST_FAIL_AT("%s: .pdata %s, llvm-readobj found %d functions", dll,
			     err ? err->message : "read", n);
		bc_error_destroy(err);
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		const struct oracle_function *o = &fns[i];
		const struct bc_pe_runtime_function *e = &pd->entries[i];
		struct bc_arm64_runtime_function rf = { e->begin, e->unwind, e->end - e->begin };
		char name[64];
		snprintf(name, sizeof(name), "function at %#llx", (unsigned long long)o->va);
		CHECK_EQ(base + rf.begin, o->va);
		struct bc_unwind_arm64_record rec;
		err = bc_unwind_arm64_decode(&io, base, &rf, &rec);
		if (err) {
			TEST_FAIL_AT("%s: %s", name, err->message);
			bc_error_destroy(err);
			continue;
		}
		CHECK_EQ(rec.function_length, o->length);
		CHECK_EQ(rec.flag != 0, o->packed);
		if (o->packed) {
			CHECK_EQ(rec.flag == 2, o->fragment);
			CHECK_EQ(rec.packed.reg_f, o->reg_f);
			CHECK_EQ(rec.packed.reg_i, o->reg_i);
			CHECK_EQ(rec.packed.h, o->h);
			CHECK_EQ(rec.packed.cr, o->cr);
			CHECK_EQ(rec.packed.frame_size, o->frame_size);
		} else {
			// The prolog's code bytes, as printed, then end.
			unsigned at = 0;
			for (unsigned l = 0; l < o->line_count; l++) {
				const struct line *ln = &o->lines[l];
				if (at + ln->byte_count > rec.code_size ||
				    memcmp(rec.codes + at, ln->bytes, ln->byte_count)) {
					TEST_FAIL_AT("%s: code %u (%s) differs", name, l, ln->text);
					break;
				}
				at += ln->byte_count;
			}
			CHECK(at < rec.code_size && rec.codes[at] == 0xe4);
			CHECK_EQ(rec.epilog_in_header, o->epilog_packed);
			if (o->epilog_packed) {
				CHECK_EQ(rec.epilog_index, o->epilog_offset);
			} else {
				CHECK_EQ(rec.epilog_scopes, o->scope_count);
				for (unsigned s = 0; s < o->scope_count && s < rec.epilog_scopes; s++) {
					uint8_t word[4] = { 0 };
					struct bc_error *rerr = bc_pe_read(w->pe, rec.scopes_rva + 4 * s, word, 4);
					CHECK(!rerr);
					bc_error_destroy(rerr);
					CHECK_EQ(bc_le32(word) & 0x3ffff, o->scope_start[s]);
					CHECK_EQ(bc_le32(word) >> 22, o->scope_index[s]);
				}
			}
		}
		compared++;
		if (understood(o)) {
			// A fragment has no prolog of its own: the printed one is its
			// parent's, always complete when the fragment runs.
			for (unsigned k = o->fragment ? o->line_count : 0; k <= o->line_count; k++)
				check_unwind_after(w, &io, base, &rf, o, k, name);
			++*unwound;
		} else {
			printf("# %s: prolog with custom frames, compared byte for byte only\n", name);
		}
	}
	bc_pe_close(w->pe);
	free(w);
	return compared;
}

TEST(unwind_records_agree_with_llvm_readobj)
{
	const char *tool = readobj_tool();
	if (!tool) {
		printf("# skipped: llvm-readobj is not installed\n");
		SKIP("skipped: llvm-readobj missing");
	}
	char unwind_dll[4096], c_dll[4096] = "";
	const char *p = fixture("bcunwind-arm64.dll");
	if (!p) {
		printf("# skipped: BUILD/pe-fixtures/bcunwind-arm64.dll not built (clang and lld-link "
		       "are needed)\n");
		SKIP("skipped: ARM64 unwind fixture not built");
	}
	snprintf(unwind_dll, sizeof(unwind_dll), "%s", p);
	if ((p = fixture("bcfixture-arm64.dll")))
		snprintf(c_dll, sizeof(c_dll), "%s", p);
	unsigned unwound = 0;
	unsigned n = compare_dll(unwind_dll, tool, &unwound);
	// unwind-arm64.S has 9 functions with .seh directives, unwind-arm64-packed.S 3.
	CHECK_EQ(n, 12);
	CHECK_EQ(unwound, 10);
	if (c_dll[0])
		CHECK(compare_dll(c_dll, tool, &unwound) >= 2);
	printf("# %u functions unwound after every prolog instruction\n", unwound);
}

TEST_MAIN()
