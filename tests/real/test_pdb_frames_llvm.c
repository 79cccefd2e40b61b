// x86 frame records (bc_pdb_x86_frame, bc_pdb_x86_frame_each) of real PDBs
// in ../shared against an independent reader: `llvm-pdbutil dump --fpo`
// (Debian's llvm package), run now. Its "Old FPO Data" and "New FPO Data"
// tables are parsed and every record is compared field by field, in stream
// order: RVA, code size, locals, params, prolog, saved registers, flags,
// frame type, max stack and the program string. Then every record's start is
// looked up by RVA: a FrameData record must be found as itself (or one with
// the same start), an FPO record as itself unless llvm lists FrameData
// covering it (FrameData is preferred). Skipped, saying why, when ../shared
// or llvm-pdbutil is absent.
//
// One known difference: llvm-pdbutil decodes FPO_DATA's attribute word with
// its own masks (llvm/Object/COFF.h FpoData: prolog = bits 0-3, "Has SEH" =
// bit 9, "Use BP" = bit 10), which overlap the 3-bit cbRegs field at bits
// 8-10; winnt.h (and UNWIND_AND_SYMBOLS.md 3.2) puts cbProlog at bits 0-7,
// fHasSEH at 11 and fUseBP at 12. On real kernels (ntkrnlpa.pdb: attribute
// 0x0800 on small leaf functions) the two disagree. We follow winnt.h; the
// test compares llvm's three columns with what llvm's masks give on our
// decoded cbProlog and cbRegs, so those fields are still checked bit for bit,
// while our fHasSEH/fUseBP (bits 11, 12) have no independent oracle here.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/pdb.h"
#include "pe_oracle.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "symbols/pdb/kernel/ntkrnlpa.pdb");
}

// One row of llvm-pdbutil's tables, in our struct's units.
struct row {
	struct bc_x86_frame_info info;
	char *program;  ///< owned; NULL for FPO rows
};

struct table {
	struct row *rows;
	size_t count, cap;
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->rows[i].program);
	free(t->rows);
	*t = (struct table){ 0 };
}

static bool push(struct table *t, const struct row *r)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct row *v = realloc(t->rows, cap * sizeof(*v));
		if (!v)
			return false;
		t->rows = v;
		t->cap = cap;
	}
	t->rows[t->count++] = *r;
	return true;
}

static bool parse_bool(const char *s, bool *ret)
{
	while (*s == ' ')
		s++;
	if (!strncmp(s, "true", 4))
		*ret = true;
	else if (!strncmp(s, "false", 5))
		*ret = false;
	else
		return false;
	return true;
}

static bool frame_type(const char *s, uint8_t *ret)
{
	while (*s == ' ')
		s++;
	static const char *const names[] = { "FPO", "Trap", "TSS", "Non-FPO" };
	for (uint8_t i = 0; i < 4; i++) {
		size_t n = strlen(names[i]);
		if (!strncmp(s, names[i], n) && (s[n] == 0 || s[n] == '\n' || s[n] == ' ')) {
			*ret = i;
			return true;
		}
	}
	return false;
}

// Splits @line at '|' into at most @max fields (the last keeps the rest).
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		fields[n++] = p;
		char *bar = n < max ? strchr(p, '|') : NULL;
		if (!bar)
			break;
		*bar = 0;
		p = bar + 1;
	}
	return n;
}

static bool parse_old(char *line, struct row *r)
{
	char *f[9];
	if (split(line, f, 9) != 9)
		return false;
	unsigned long v[5];
	for (int i = 0; i < 5; i++)
		v[i] = strtoul(f[1 + i], NULL, 10);
	*r = (struct row){ 0 };
	struct bc_x86_frame_info *x = &r->info;
	x->kind = BC_X86_FRAME_FPO;
	x->rva = (uint32_t)strtoul(f[0], NULL, 16);
	x->size = (uint32_t)v[0];
	x->locals = (uint32_t)v[1] * 4;
	x->params = (uint32_t)v[2] * 4;
	x->prolog = (uint16_t)v[3];
	x->saved_regs = (uint32_t)v[4] * 4;
	return parse_bool(f[6], &x->uses_bp) && parse_bool(f[7], &x->has_seh) &&
	       frame_type(f[8], &x->frame_type);
}

static bool parse_new(char *line, struct row *r)
{
	char *f[11];
	if (split(line, f, 11) != 11)
		return false;
	unsigned long v[6];
	for (int i = 0; i < 6; i++)
		v[i] = strtoul(f[1 + i], NULL, 10);
	*r = (struct row){ 0 };
	struct bc_x86_frame_info *x = &r->info;
	x->kind = BC_X86_FRAME_DATA;
	x->rva = (uint32_t)strtoul(f[0], NULL, 16);
	x->size = (uint32_t)v[0];
	x->locals = (uint32_t)v[1];
	x->params = (uint32_t)v[2];
	x->max_stack = (uint32_t)v[3];
	x->prolog = (uint16_t)v[4];
	x->saved_regs = (uint32_t)v[5];
	if (!parse_bool(f[7], &x->has_seh) || !parse_bool(f[8], &x->has_eh) ||
	    !parse_bool(f[9], &x->function_start))
		return false;
	// "| PROGRAM": one space after the bar, the program as stored, then the newline.
	char *prog = f[10];
	if (*prog == ' ')
		prog++;
	size_t n = strlen(prog);
	if (n && prog[n - 1] == '\n')
		prog[--n] = 0;
	r->program = strdup(prog);
	return r->program != NULL;
}

// Runs llvm-pdbutil on @path; false when it cannot run or prints no tables.
static bool llvm_tables(const char *path, struct table *old_rows, struct table *new_rows)
{
	char cmd[4500];
	snprintf(cmd, sizeof(cmd), "llvm-pdbutil dump --fpo '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	char line[8192];
	int section = 0, headers = 0;  // 1 old, 2 new
	bool ok = true;
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "Old FPO Data")) {
			section = 1, headers++;
			continue;
		}
		if (strstr(line, "New FPO Data")) {
			section = 2, headers++;
			continue;
		}
		// Rows start with an 8-digit hex RVA and a bar.
		if (strlen(line) < 10 || strspn(line, "0123456789ABCDEF") != 8 || line[8] != ' ' ||
		    line[9] != '|' || !section)
			continue;
		struct row r;
		bool parsed = section == 1 ? parse_old(line, &r) : parse_new(line, &r);
		if (!parsed) {
			TEST_FAIL_AT("llvm-pdbutil line not understood: %s", line);
			ok = false;
			continue;
		}
		if (!push(section == 1 ? old_rows : new_rows, &r))
			ok = false;
	}
	pclose(p);
	return ok && headers == 2;
}

struct ours {
	struct bc_x86_frame_info *v;
	size_t count, cap;
};

static bool collect(void *arg, const struct bc_x86_frame_info *info)
{
	struct ours *o = arg;
	if (o->count == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 1024;
		struct bc_x86_frame_info *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return false;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->count++] = *info;
	return true;
}

// @a as llvm-pdbutil shows an FPO record (see the top of this file).
static struct bc_x86_frame_info as_llvm_shows(const struct bc_x86_frame_info *a)
{
	struct bc_x86_frame_info r = *a;
	if (a->kind != BC_X86_FRAME_FPO)
		return r;
	uint32_t regs = a->saved_regs / 4;
	r.prolog = a->prolog & 0xf;
	r.has_seh = (regs >> 1) & 1;  // attribute bit 9
	r.uses_bp = (regs >> 2) & 1;  // attribute bit 10
	return r;
}

static bool same(const struct bc_x86_frame_info *ours, const struct row *b)
{
	struct bc_x86_frame_info shown = as_llvm_shows(ours);
	const struct bc_x86_frame_info *a = &shown, *x = &b->info;
	bool programs = a->kind == BC_X86_FRAME_FPO ? !a->program
						    : a->program && !strcmp(a->program, b->program);
	return a->kind == x->kind && a->rva == x->rva && a->size == x->size &&
	       a->locals == x->locals && a->params == x->params && a->prolog == x->prolog &&
	       a->saved_regs == x->saved_regs && a->max_stack == x->max_stack &&
	       a->has_seh == x->has_seh && a->has_eh == x->has_eh &&
	       a->function_start == x->function_start && a->uses_bp == x->uses_bp &&
	       a->frame_type == x->frame_type && programs;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

// Whether some FrameData row of @t covers @rva.
static bool data_covers(const struct table *t, uint32_t rva)
{
	for (size_t i = 0; i < t->count; i++)
		if (rva - t->rows[i].info.rva < t->rows[i].info.size)
			return true;
	return false;
}

static void check_pdb(const char *relative, size_t *records, size_t *lookups)
{
	char path[4400];
	snprintf(path, sizeof(path), "%s/symbols/pdb/%s", shared, relative);
	struct table old_rows = { 0 }, new_rows = { 0 };
	struct ours ours = { 0 };
	struct bc_symtab *tab = NULL;
	if (!llvm_tables(path, &old_rows, &new_rows)) {
		TEST_FAIL_AT("%s: llvm-pdbutil printed no FPO tables", relative);
		goto out;
	}
	struct bc_error *err = bc_pdb_open(path, &tab);
	if (!err)
		err = bc_pdb_x86_frame_each(tab, collect, &ours);
	if (err) {
		TEST_FAIL_AT("%s: %s", relative, err->message);
		bc_error_destroy(err);
		goto out;
	}
	if (ours.count != old_rows.count + new_rows.count) {
		TEST_FAIL_AT("%s: %zu records, llvm-pdbutil lists %zu old and %zu new", relative,
			     ours.count, old_rows.count, new_rows.count);
		goto out;
	}
	size_t bad = 0;
	for (size_t i = 0; i < ours.count; i++) {
		const struct row *want = i < new_rows.count ? &new_rows.rows[i]
							    : &old_rows.rows[i - new_rows.count];
		if (!same(&ours.v[i], want) && bad++ < 5)
			TEST_FAIL_AT("%s: record %zu (rva %08x) differs from llvm-pdbutil's (rva %08x, "
				     "program \"%s\" vs \"%s\")", relative, i, ours.v[i].rva,
				     want->info.rva, ours.v[i].program ? ours.v[i].program : "",
				     want->program ? want->program : "");
	}
	CHECK_EQ(bad, 0);
	*records += ours.count - bad;
	// Lookups by RVA. FrameData rows' starts, sorted, answer "is one with this start listed".
	uint32_t *starts = malloc((new_rows.count + 1) * sizeof(*starts));
	REQUIRE(starts);
	for (size_t i = 0; i < new_rows.count; i++)
		starts[i] = new_rows.rows[i].info.rva;
	qsort(starts, new_rows.count, sizeof(*starts), cmp_u32);
	size_t lookup_bad = 0;
	for (size_t i = 0; i < new_rows.count + old_rows.count; i++) {
		bool is_data = i < new_rows.count;
		const struct row *r = is_data ? &new_rows.rows[i] : &old_rows.rows[i - new_rows.count];
		if (!r->info.size)
			continue;  // covers nothing
		struct bc_x86_frame_info got;
		err = bc_pdb_x86_frame(tab, r->info.rva, &got);
		bool ok = !err;
		if (ok && is_data)
			ok = got.kind == BC_X86_FRAME_DATA && got.rva == r->info.rva;
		else if (ok && data_covers(&new_rows, r->info.rva))
			ok = got.kind == BC_X86_FRAME_DATA &&
			     bsearch(&got.rva, starts, new_rows.count, sizeof(*starts), cmp_u32);
		else if (ok)
			ok = got.kind == BC_X86_FRAME_FPO && got.rva == r->info.rva &&
			     got.size == r->info.size;
		if (!ok && lookup_bad++ < 5)
			TEST_FAIL_AT("%s: lookup of %08x: %s", relative, r->info.rva,
				     err ? err->message : "another record");
		bc_error_destroy(err);
		*lookups += ok;
	}
	CHECK_EQ(lookup_bad, 0);
	free(starts);
	printf("# %s: %zu FrameData and %zu FPO records match llvm-pdbutil\n", relative,
	       new_rows.count, old_rows.count);
out:
	bc_symtab_destroy(tab);
	free(ours.v);
	table_free(&old_rows);
	table_free(&new_rows);
}

TEST(frame_records_match_llvm_pdbutil)
{
	if (!have_shared())
		SKIP("skipped: ../shared/symbols not found");
	if (!pe_oracle_have("llvm-pdbutil"))
		SKIP("skipped: llvm-pdbutil not installed (Debian package llvm)");
	static const char *const pdbs[] = {
		"kernel/ntkrnlpa.pdb", "msvc/crash.pdb", "msvc/basic32-min.pdb",
		"msvc/SimplePDB.pdb", "ntdll/wntdll.pdb",
	};
	size_t records = 0, lookups = 0;
	for (size_t i = 0; i < sizeof(pdbs) / sizeof(pdbs[0]); i++)
		check_pdb(pdbs[i], &records, &lookups);
	printf("# %zu records equal, %zu lookups by RVA right\n", records, lookups);
	CHECK(records > 1000);
}

TEST_MAIN()
