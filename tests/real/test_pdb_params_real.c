// Procedure parameters (bc_symtab_procedure_at) of the private MSVC PDBs in
// ../shared against llvm-pdbutil's decoding of the same files, run at test
// time: for every procedure with code, the parameter names, type indices and
// locations (kind, register, offset, code range) must be what llvm-pdbutil
// reads from the module symbol streams, by the rules bugcheck documents
// (S_LOCAL flagged "param" with its S_DEFRANGE records; the first N
// S_REGREL32/S_BPREL32/S_REGISTER records, N from the procedure's type;
// frame-pointer offsets from S_FRAMEPROC's parameter frame register).
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/pdb.h"
#include "test.h"

enum { MAX_TYPES = 1 << 20, MAX_PARAMS = 64, MAX_LOCS = 16 };

static char shared[4096];

static bool have_file(const char *name, char *path, size_t size)
{
	const char *env = getenv("BC_SHARED_DIR");
	snprintf(shared, sizeof(shared), "%s", env ? env : "../shared");
	snprintf(path, size, "%s/symbols/pdb/msvc/%s", shared, name);
	struct stat st;
	return stat(path, &st) == 0;
}

static bool have_pdbutil(void)
{
	return system("llvm-pdbutil --version >/dev/null 2>&1") == 0;
}

// The whole output of llvm-pdbutil @args @path (malloc'd), NULL on failure.
static char *pdbutil(const char *args, const char *path)
{
	char cmd[8400];
	if (strchr(path, '\''))
		return NULL;
	// Its own errors are dropped: the braces keep them from the harness's 2>&1.
	snprintf(cmd, sizeof(cmd), "{ llvm-pdbutil %s '%s' 2>/dev/null; }", args, path);
	return bc_test_run_shell(cmd, NULL);
}

// One symbol record of the dump: its offset, kind, and all its text.
struct rec {
	unsigned long offset;
	char kind[48];
	char *text;  ///< header rest and detail lines (pointers into the dump, NUL-split)
	const char *detail;
};

struct oracle_loc {
	bool memory;
	char reg[16];
	long long offset;
	bool whole;
	uint64_t start, end;  ///< section-relative before placement: seg and offset
	unsigned seg;
	unsigned long off, len;
	bool frame_relative;
};

struct oracle_param {
	char name[128];
	unsigned type;
	size_t loc_count;
	struct oracle_loc locs[MAX_LOCS];
};

struct oracle_proc {
	char name[512];
	unsigned seg;
	unsigned long off, size;
	unsigned type;
	size_t count;
	struct oracle_param params[MAX_PARAMS];
	char frame_reg[16];
};

static size_t *announced;  // by type index - 0x1000: arguments (+1 for this), SIZE_MAX unknown
static uint64_t section_va[64];
static size_t section_count;

static void read_types(char *dump)
{
	announced = malloc(MAX_TYPES * sizeof(*announced));
	for (size_t i = 0; i < MAX_TYPES; i++)
		announced[i] = SIZE_MAX;
	for (char *p = dump; (p = strstr(p, " | LF_")) != NULL; p++) {
		char *line = p;
		while (line > dump && line[-1] != '\n')
			line--;
		unsigned idx;
		if (sscanf(line, " 0x%x", &idx) != 1 || idx < 0x1000 || idx - 0x1000 >= MAX_TYPES)
			continue;
		bool proc = !strncmp(p, " | LF_PROCEDURE ", 16), mfunc = !strncmp(p, " | LF_MFUNCTION ", 16);
		if (!proc && !mfunc)
			continue;
		char *args = strstr(p, "# args = ");
		char *next = strstr(p + 1, " | LF_");
		if (!args || (next && args > next))
			continue;
		size_t n = strtoul(args + 9, NULL, 10);
		if (mfunc) {
			char *th = strstr(p, "this type = ");
			if (th && (!next || th < next) && strtoul(th + 12, NULL, 16))
				n++;
		}
		announced[idx - 0x1000] = n;
	}
}

static void read_sections(const char *dump)
{
	section_count = 0;
	for (const char *p = dump; (p = strstr(p, " virtual address")) != NULL; p++) {
		const char *line = p;
		while (line > dump && line[-1] != '\n')
			line--;
		if (section_count < 64)
			section_va[section_count++] = strtoull(line, NULL, 16);
	}
}

// The value after @key in @s ("register = RSP" -> "RSP"), up to a comma.
static bool field(const char *s, const char *key, char *out, size_t size)
{
	const char *p = strstr(s, key);
	if (!p)
		return false;
	p += strlen(key);
	size_t n = 0;
	while (p[n] && p[n] != ',' && !isspace((unsigned char)p[n]) && n + 1 < size)
		n++;
	memcpy(out, p, n);
	out[n] = 0;
	return true;
}

// The record's name: between the first and the last backquote of its first line.
static bool name_of(const char *text, char *out, size_t size)
{
	const char *a = strchr(text, '`'), *b = NULL;
	for (const char *p = a ? a + 1 : NULL; p && *p && *p != '\n' && strncmp(p, "   ", 3); p++)
		if (*p == '`')
			b = p;
	if (!a || !b || (size_t)(b - a - 1) >= size)
		return false;
	memcpy(out, a + 1, (size_t)(b - a - 1));
	out[b - a - 1] = 0;
	return true;
}

static bool opens(const char *k)
{
	static const char *const v[] = { "S_GPROC32", "S_LPROC32", "S_GPROC32_ID", "S_LPROC32_ID",
					 "S_BLOCK32", "S_THUNK32", "S_WITH32", "S_SEPCODE",
					 "S_INLINESITE", "S_INLINESITE2", "S_LPROC32_DPC",
					 "S_LPROC32_DPC_ID" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(k, v[i]))
			return true;
	return false;
}

static bool closes(const char *k)
{
	return !strcmp(k, "S_END") || !strcmp(k, "S_INLINESITE_END") || !strcmp(k, "S_PROC_ID_END");
}

static struct oracle_param *find(struct oracle_proc *p, const char *name)
{
	for (size_t i = 0; i < p->count; i++)
		if (!strcmp(p->params[i].name, name))
			return &p->params[i];
	return NULL;
}

static struct oracle_param *add(struct oracle_proc *p, const char *name, unsigned type)
{
	if (p->count == MAX_PARAMS)
		return NULL;
	struct oracle_param *q = &p->params[p->count++];
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->type = type;
	return q;
}

static void add_loc(struct oracle_param *q, const struct oracle_loc *l)
{
	if (q && q->loc_count < MAX_LOCS)
		q->locs[q->loc_count++] = *l;
}

// "[0001:0031,+21)" or "range start = 0001:0288, length = 3".
static void range_of(const char *s, struct oracle_loc *l)
{
	const char *r = strstr(s, "range = [");
	if (r) {
		sscanf(r + 9, "%u:%lu,+%lu", &l->seg, &l->off, &l->len);
		return;
	}
	r = strstr(s, "range start = ");
	const char *n = strstr(s, "length = ");
	if (r && n) {
		sscanf(r + 14, "%u:%lu", &l->seg, &l->off);
		l->len = strtoul(n + 9, NULL, 10);
	}
}

static unsigned type_field(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	return p ? (unsigned)strtoul(p + strlen(key), NULL, 16) : 0;
}

// Reads the procedure starting at records[i]; returns the index after its S_END.
static size_t read_proc(struct rec *r, size_t n, size_t i, struct oracle_proc *p)
{
	memset(p, 0, sizeof(*p));
	name_of(r[i].text, p->name, sizeof(p->name));
	const char *d = r[i].detail;
	const char *a = strstr(d, "addr = "), *cs = strstr(d, "code size = ");
	if (a)
		sscanf(a + 7, "%u:%lu", &p->seg, &p->off);
	if (cs)
		p->size = strtoul(cs + 12, NULL, 10);
	const char *t = strstr(d, "type = `");
	p->type = t && !strncmp(t + 8, "0x", 2) ? (unsigned)strtoul(t + 10, NULL, 16) : 0;
	size_t positional = p->type >= 0x1000 && p->type - 0x1000 < MAX_TYPES
				    ? announced[p->type - 0x1000] : SIZE_MAX;
	int depth = 0;
	struct oracle_param *local = NULL;
	size_t k = i + 1;
	for (; k < n; k++) {
		const char *kind = r[k].kind, *text = r[k].text;
		if (closes(kind)) {
			local = NULL;
			if (depth-- == 0)
				return k + 1;
			continue;
		}
		if (opens(kind)) {
			local = NULL;
			depth++;
			continue;
		}
		if (depth)
			continue;
		char name[128] = "", flags[64] = "";
		struct oracle_loc l = { 0 };
		if (!strcmp(kind, "S_FRAMEPROC")) {
			field(text, "param fp reg = ", p->frame_reg, sizeof(p->frame_reg));
		} else if (!strcmp(kind, "S_LOCAL")) {
			local = NULL;
			const char *f = strstr(text, "flags = ");
			snprintf(flags, sizeof(flags), "%s", f ? f + 8 : "");
			if (name_of(text, name, sizeof(name)) && strstr(flags, "param")) {
				local = find(p, name);
				if (!local)
					local = add(p, name, type_field(text, "type="));
			}
		} else if (!strncmp(kind, "S_DEFRANGE_", 11) && local) {
			if (!strcmp(kind, "S_DEFRANGE_REGISTER") ||
			    !strcmp(kind, "S_DEFRANGE_SUBFIELD_REGISTER")) {
				field(text, "register = ", l.reg, sizeof(l.reg));
			} else if (!strcmp(kind, "S_DEFRANGE_FRAMEPOINTER_REL") ||
				   !strcmp(kind, "S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE")) {
				l.memory = l.frame_relative = true;
				const char *o = strstr(text, "offset = ");
				l.offset = o ? strtoll(o + 9, NULL, 10) : 0;
				l.whole = !strcmp(kind, "S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE");
			} else if (!strcmp(kind, "S_DEFRANGE_REGISTER_REL")) {
				l.memory = true;
				field(text, "register = ", l.reg, sizeof(l.reg));
				const char *o = strstr(text, ", offset = ");
				l.offset = o ? strtoll(o + 11, NULL, 10) : 0;
			} else {
				continue;
			}
			if (!l.whole)
				range_of(text, &l);
			add_loc(local, &l);
		} else if (!strcmp(kind, "S_REGREL32") || !strcmp(kind, "S_BPREL32") ||
			   !strcmp(kind, "S_REGISTER")) {
			local = NULL;
			if (!name_of(text, name, sizeof(name)))
				continue;
			l.whole = true;
			l.memory = strcmp(kind, "S_REGISTER") != 0;
			if (!strcmp(kind, "S_BPREL32"))
				snprintf(l.reg, sizeof(l.reg), "%s", "FRAME");
			else
				field(text, "register = ", l.reg, sizeof(l.reg));
			const char *o = strstr(text, "offset = ");
			l.offset = l.memory && o ? strtoll(o + 9, NULL, 10) : 0;
			struct oracle_param *q = find(p, name);
			if (!q) {
				bool is_param = p->count < positional;
				if (positional == SIZE_MAX)
					is_param = !strcmp(kind, "S_BPREL32") && l.offset > 0;
				if (is_param)
					q = add(p, name, type_field(text, "type = "));
			}
			add_loc(q, &l);
		}
	}
	return k;
}

static uint64_t rva_of(unsigned seg, unsigned long off)
{
	return seg && seg <= section_count ? section_va[seg - 1] + off : 0;
}

struct tally {
	unsigned procs, params, locations, folded;
};

static void compare(struct bc_symtab *tab, struct oracle_proc *want, bool x64, struct tally *t)
{
	uint64_t rva = rva_of(want->seg, want->off);
	if (!want->size || !rva)
		return;
	const struct bc_procedure *got;
	struct bc_error *err = bc_symtab_procedure_at(tab, rva, &got);
	if (err) {
		TEST_FAIL_AT("%s at rva %#" PRIx64 ": %s", want->name, rva, err->message);
		bc_error_destroy(err);
		return;
	}
	if (strcmp(got->name, want->name) || got->rva != rva) {
		t->folded++;  // identical code folded: another procedure at the same address
		if (getenv("BC_VERBOSE"))
			printf("# folded: %s at %#" PRIx64 " -> %s at %#" PRIx64 "\n", want->name, rva,
			       got->name, got->rva);
		return;
	}
	t->procs++;
	CHECK_EQ(got->size, want->size);
	CHECK_EQ(got->type_id, want->type);
	if (got->param_count != want->count) {
		TEST_FAIL_AT("%s: %zu parameters, llvm-pdbutil's records give %zu", want->name,
			     got->param_count, want->count);
		return;
	}
	for (size_t i = 0; i < want->count; i++) {
		const struct bc_parameter *g = &got->params[i];
		const struct oracle_param *w = &want->params[i];
		t->params++;
		if (strcmp(g->name, w->name) || g->type_id != w->type ||
		    g->location_count != w->loc_count) {
			TEST_FAIL_AT("%s parameter %zu: %s type %#x with %zu locations, llvm-pdbutil: "
				     "%s type %#x with %zu", want->name, i, g->name, g->type_id,
				     g->location_count, w->name, w->type, w->loc_count);
			continue;
		}
		for (size_t k = 0; k < w->loc_count; k++) {
			const struct bc_param_location *gl = &g->locations[k];
			const struct oracle_loc *wl = &w->locs[k];
			const char *reg = wl->frame_relative ? want->frame_reg : wl->reg;
			if (!strcmp(reg, "FRAME"))
				reg = x64 ? "rbp" : "ebp";
			if (!strcasecmp(reg, "NONE"))
				reg = "";
			t->locations++;
			bool ok = gl->kind == (wl->memory ? BC_PARAM_IN_MEMORY : BC_PARAM_IN_REGISTER) &&
				  !strcasecmp(gl->reg, reg) && gl->whole_scope == wl->whole &&
				  (!wl->memory || gl->offset == wl->offset);
			if (ok && !wl->whole) {
				uint64_t start = rva_of(wl->seg, wl->off);
				ok = gl->start == start && gl->end == start + wl->len;
			}
			if (!ok)
				TEST_FAIL_AT("%s %s location %zu: kind %d %s%+" PRId64 " [%#" PRIx64 ", %#"
					     PRIx64 "), llvm-pdbutil: %s %s%+lld at %x:%lx+%lu",
					     want->name, g->name, k, gl->kind, gl->reg, gl->offset,
					     gl->start, gl->end, wl->memory ? "memory" : "register",
					     reg, wl->offset, wl->seg, wl->off, wl->len);
		}
	}
}

static void check_pdb(const char *file, bool x64, unsigned min_procs, unsigned min_params)
{
	char path[4300];
	if (!have_file(file, path, sizeof(path)))
		SKIP("skipped: ../shared/symbols/pdb/msvc not found");
	if (!have_pdbutil())
		SKIP("skipped: llvm-pdbutil not found (Debian package llvm)");
	char *types = pdbutil("dump --types", path);
	char *sections = pdbutil("dump --section-headers", path);
	char *syms = pdbutil("dump --symbols", path);
	REQUIRE(types && sections && syms);
	read_types(types);
	read_sections(sections);
	struct bc_symtab *tab;
	REQUIRE_OK(bc_pdb_open(path, &tab));
	// Split the symbol dump into records, module by module.
	size_t cap = 1 << 16, n = 0;
	struct rec *r = malloc(cap * sizeof(*r));
	static struct oracle_proc proc;
	struct tally t = { 0 };
	char *line = syms;
	bool more = true;
	while (more) {
		char *nl = strchr(line, '\n');
		more = nl != NULL;
		if (nl)
			*nl = 0;
		unsigned long off;
		char kind[48];
		int used = 0;
		bool module_line = strstr(line, "Mod ") && strstr(line, " | `");
		if (module_line || !more) {
			// A module ends: compare its procedures.
			for (size_t i = 0; i < n;) {
				if (!strcmp(r[i].kind, "S_GPROC32") || !strcmp(r[i].kind, "S_LPROC32") ||
				    !strcmp(r[i].kind, "S_GPROC32_ID") || !strcmp(r[i].kind, "S_LPROC32_ID")) {
					i = read_proc(r, n, i, &proc);
					compare(tab, &proc, x64, &t);
				} else {
					i++;
				}
			}
			n = 0;
		} else if (sscanf(line, " %lu | %47s [size = %*u]%n", &off, kind, &used) == 2 && used) {
			if (n == cap) {
				cap *= 2;
				r = realloc(r, cap * sizeof(*r));
			}
			r[n] = (struct rec){ off, "", line + used, "" };
			snprintf(r[n].kind, sizeof(r[n].kind), "%s", kind);
			n++;
		} else if (n) {
			// A detail line: joined to its record (the NUL becomes a space).
			line[-1] = ' ';
			if (!*r[n - 1].detail)
				r[n - 1].detail = line;
		}
		if (nl)
			line = nl + 1;
	}
	printf("# %s: %u procedures, %u parameters, %u locations match llvm-pdbutil (%u folded "
	       "procedures skipped)\n", file, t.procs, t.params, t.locations, t.folded);
	CHECK(t.procs >= min_procs);
	CHECK(t.params >= min_params);
	CHECK(t.folded * 5 <= t.procs);  // the CRT folds a few identical stubs
	free(r);
	bc_symtab_destroy(tab);
	free(types);
	free(sections);
	free(syms);
	free(announced);
}

TEST(crash_pdb_x86_parameters_match_llvm_pdbutil)
{
	check_pdb("crash.pdb", false, 50, 50);
}

TEST(crash_with_exception_x64_parameters_match_llvm_pdbutil)
{
	check_pdb("CrashWithException.pdb", true, 30, 20);
}

TEST(dump_syms_regtest64_parameters_match_llvm_pdbutil)
{
	check_pdb("dump_syms_regtest64.pdb", true, 100, 100);
}

TEST_MAIN()
