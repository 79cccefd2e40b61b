// The disassembler over real Windows code in ../shared/symbols, checked
// against an independent disassembler: GNU objdump from Debian's binutils
// (`objdump -d -z -M intel`), run now, once per image, over all its code;
// its whole listing is parsed and looked up by address.
//
// x64 images: from every function start in .pdata, up to MAX_PER_FUNCTION
// instructions (not past the function's end) are decoded with
// bc_disasm_decode() and compared with objdump's listing at the same
// addresses. x86 images have no .pdata: runs start at the entry point and at
// every "push ebp / mov ebp,esp" objdump lists, and stop at the first return
// or jump (switch tables follow the code in x86 MSVC output). Compared are
//   - instruction boundaries: every address must be one objdump lists, in
//     the same order (exact; the one documented exception is objdump
//     fusing FWAIT with the x87 instruction after it, RULE_FWAIT_FUSED);
//   - mnemonics, after the normalisation table below (spelling differences
//     between Zydis/WinDbg style and GNU objdump's Intel style, each
//     documented and counted). Any difference the table does not explain
//     fails the test.
// Agreement is reported as counts. Skipped, saying so, when ../shared or
// objdump is absent. ../shared holds no ARM64 image today (the test says so
// if one appears: ARM64 would need llvm-objdump, not wired yet).
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/disasm.h"
#include "bugcheck/pe.h"
#include "pe_oracle.h"
#include "test.h"

enum {
	MAX_PER_FUNCTION = 32,  ///< instructions compared from each function start
	MAX_REPORTED = 20,      ///< differences printed in full per image
};

static char shared_dir[4096];

static bool have_symbols(void)
{
	const char *shared = getenv("BC_SHARED_DIR");
	snprintf(shared_dir, sizeof(shared_dir), "%s", shared ? shared : "../shared");
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/pe", shared_dir);
	struct stat st;
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		printf("# skipped: ../shared/symbols not found (looked for %s)\n", path);
		return false;
	}
	return true;
}

/* ---- objdump's listing -------------------------------------------------- */

struct listed {
	uint64_t address;
	const char *text;  ///< "sub    rsp,0x38" (objdump's mnemonic and operands)
};

enum { TEXT_BLOCK = 1 << 20 };

// objdump's instructions in address order; their texts live in blocks of
// TEXT_BLOCK bytes that never move.
struct listing {
	struct listed *insns;
	size_t count, cap;
	char **blocks;
	size_t block_count, used;
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->block_count; i++)
		free(l->blocks[i]);
	free(l->blocks);
	free(l->insns);
	*l = (struct listing){ 0 };
}

static const char *keep_text(struct listing *l, const char *s, size_t n)
{
	if (!l->block_count || l->used + n + 1 > TEXT_BLOCK) {
		l->blocks = realloc(l->blocks, (l->block_count + 1) * sizeof(*l->blocks));
		if (!l->blocks || !(l->blocks[l->block_count++] = malloc(TEXT_BLOCK)))
			abort();
		l->used = 0;
	}
	char *p = l->blocks[l->block_count - 1] + l->used;
	memcpy(p, s, n);
	p[n] = 0;
	l->used += n + 1;
	return p;
}

// "   1c0001000:\tsub    rsp,0x38" (objdump --no-show-raw-insn): one
// instruction per line. Labels ("00000001c0001000 <.text>:"), headers and
// blank lines are ignored.
static bool parse_line(struct listing *l, const char *line, struct listed *ret)
{
	const char *p = line;
	while (*p == ' ')
		p++;
	char *end;
	uint64_t a = strtoull(p, &end, 16);
	if (end == p || end[0] != ':' || end[1] != '\t')
		return false;
	ret->address = a;
	const char *text = end + 2;
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	ret->text = keep_text(l, text, n < 200 ? n : 200);
	return true;
}

static bool run_objdump(const char *tool, const char *args, const char *path, struct listing *l)
{
	if (strchr(path, '\''))
		return false;
	char cmd[4800];
	snprintf(cmd, sizeof(cmd), "%s %s '%s' 2>/dev/null", tool, args, path);
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		struct listed x;
		if (!parse_line(l, line, &x))
			continue;
		if (l->count == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 4096;
			l->insns = realloc(l->insns, l->cap * sizeof(*l->insns));
			if (!l->insns)
				abort();
		}
		l->insns[l->count++] = x;
	}
	return pclose(f) == 0 && l->count > 0;
}

// Index of the listed instruction at @address, or SIZE_MAX.
static size_t listing_find(const struct listing *l, uint64_t address)
{
	size_t lo = 0, hi = l->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->insns[mid].address < address)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->count && l->insns[lo].address == address ? lo : SIZE_MAX;
}

/* ---- mnemonic normalisation ---------------------------------------------- */

struct words {
	char prefixes[64];  ///< "lock", "rep", ... (space separated, normalised)
	char mnemonic[32];
	const char *operands;
};

// Splits "rep stos BYTE PTR es:[rdi],al" into prefixes, mnemonic, operands.
static void split(const char *text, struct words *w)
{
	*w = (struct words){ .operands = "" };
	static const char *const prefixes[] = {
		"lock", "rep", "repe", "repz", "repne", "repnz", "bnd", "notrack", "xacquire",
		"xrelease", "data16", "data32", "addr16", "addr32", "cs", "ds", "es", "ss", "fs",
		"gs", "rex", "rex.W", "rex.B", "rex.X", "rex.R", "rex.WB", "rex.WX", "rex.WR",
		"rex.RB", "rex.XB", "rex.RX", "rex.WRB", "rex.WXB", "rex.WRX", "rex.RXB",
		"rex.WRXB", "{vex}", "{vex3}", "{evex}",
	};
	const char *p = text;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (!n)
			return;
		char word[32];
		snprintf(word, sizeof(word), "%.*s", (int)(n < 31 ? n : 31), p);
		bool is_prefix = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			is_prefix |= !strcmp(word, prefixes[i]);
		const char *rest = p + n;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (is_prefix && *rest) {
			if (w->prefixes[0])
				strcat(w->prefixes, " ");
			if (strlen(w->prefixes) + strlen(word) < sizeof(w->prefixes) - 1)
				strcat(w->prefixes, word);
			p = rest;
			continue;
		}
		snprintf(w->mnemonic, sizeof(w->mnemonic), "%s", word);
		w->operands = rest;
		return;
	}
}

// The normalisation table: spelling differences between our text (Zydis
// with WinDbg's names) and GNU objdump's Intel syntax that name the same
// instruction. Each rule was observed on the images in ../shared; the
// number of instructions each one explains is printed.
enum rule {
	RULE_NONE = -1,
	// objdump spells out prefix bytes that do not change the instruction
	// as pseudo-prefixes: "rex.W call QWORD PTR [rip+..]" (48 ff 15: REX.W
	// is redundant on an indirect call), "rex push rbp" (40 55), "data16 nop"
	// (66 66 0f 1f ..), "cs nop WORD PTR" (segment override on a NOP).
	// Zydis folds them into the instruction; the mnemonic is the same.
	RULE_PSEUDO_PREFIX,
	// objdump names F3/F2 before cmps/scas "repz"/"repnz"; WinDbg (and
	// our text) "repe"/"repne".
	RULE_REPZ,
	// "movabs": objdump's name for mov with a 64-bit immediate or a 64-bit
	// absolute address (REX.W B8+r, A0-A3); WinDbg and Zydis say "mov".
	RULE_MOVABS,
	// CC: objdump "int3", WinDbg "int 3".
	RULE_INT3,
	// 66 90: objdump "xchg ax,ax", Zydis (and WinDbg) "nop".
	RULE_XCHG_AX_AX,
	// String instructions: objdump writes the operands ("stos QWORD PTR
	// es:[rdi],rax"), Zydis the size suffix ("stosq").
	RULE_STRING_SIZE,
	// 32-bit code: objdump leaves the default operand size unsuffixed
	// ("pushf", "popa"), WinDbg and Zydis write it ("pushfd", "popad").
	RULE_D_SUFFIX,
	// F3 C3: objdump "repz ret" (the prefix AMD recommended before a
	// return that is a branch target); Zydis drops the prefix, which has no
	// effect on RET.
	RULE_REPZ_RET,
	// 9B D9 /7 and friends: objdump fuses FWAIT with the x87 "no-wait"
	// instruction after it into one waiting instruction ("fstcw" = 9B +
	// "fnstcw"), the assembler's view; Zydis (and WinDbg) decode two
	// instructions, "fwait" then "fnstcw". The pair starts and ends where
	// objdump's one instruction does: the only boundary rule.
	RULE_FWAIT_FUSED,
	RULE_COUNT
};

static const char *const rule_names[RULE_COUNT] = {
	"objdump pseudo-prefix (rex/data16/segment) ignored",
	"repz/repnz = repe/repne",
	"movabs = mov",
	"int3 = int 3",
	"xchg ax,ax = nop",
	"string op operands = size suffix",
	"pushf/popa = pushfd/popad (32-bit)",
	"repz ret = ret",
	"fstcw = fwait + fnstcw (boundary)",
};

static bool is_pseudo_prefix(const char *word)
{
	static const char *const pseudo[] = { "data16", "data32", "addr16", "addr32",
					      "cs", "ds", "es", "ss", "fs", "gs" };
	if (!strncmp(word, "rex", 3))
		return true;
	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (!strcmp(word, pseudo[i]))
			return true;
	return false;
}

// objdump's prefixes without pseudo-prefixes, repz/repnz renamed.
static void normalise_prefixes(const char *in, char *out, size_t size, bool rules[RULE_COUNT])
{
	out[0] = 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", in);
	for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (is_pseudo_prefix(w)) {
			rules[RULE_PSEUDO_PREFIX] = true;
			continue;
		}
		if (!strcmp(w, "repz") || !strcmp(w, "repnz")) {
			rules[RULE_REPZ] = true;
			w = !strcmp(w, "repz") ? "repe" : "repne";
		}
		if (out[0])
			snprintf(out + strlen(out), size - strlen(out), " ");
		snprintf(out + strlen(out), size - strlen(out), "%s", w);
	}
}

// "stos QWORD PTR es:[rdi],rax" -> 'q' (the first operand size named).
static char string_suffix(const char *operands)
{
	static const struct {
		const char *word;
		char suffix;
	} sizes[] = { { "BYTE PTR", 'b' }, { "DWORD PTR", 'd' }, { "QWORD PTR", 'q' },
		      { "WORD PTR", 'w' } };
	const char *first = NULL;
	char suffix = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *p = strstr(operands, sizes[i].word);
		// "WORD PTR" also matches inside "DWORD PTR": take a whole word.
		while (p && p > operands && isalpha((unsigned char)p[-1]))
			p = strstr(p + 1, sizes[i].word);
		if (p && (!first || p < first)) {
			first = p;
			suffix = sizes[i].suffix;
		}
	}
	return suffix;
}

// True when @ours (Zydis, WinDbg names) and objdump's @text name the same
// instruction; @rules gets the normalisation rules that were needed.
static bool same_mnemonic(const struct bc_insn *ours, const char *text, bool rules[RULE_COUNT])
{
	struct words o, d;
	split(ours->mnemonic, &o);
	split(text, &d);
	char prefixes[64];
	normalise_prefixes(d.prefixes, prefixes, sizeof(prefixes), rules);
	if (!strcmp(prefixes, "repe") && !strcmp(d.mnemonic, "ret") && !o.prefixes[0]) {
		rules[RULE_REPZ_RET] = true;
		prefixes[0] = 0;
	}
	if (strcmp(o.prefixes, prefixes))
		return false;
	if (!strcmp(o.mnemonic, d.mnemonic))
		return true;
	static const char *const d_suffixed[] = { "pushf", "popf", "pusha", "popa", "iret" };
	for (size_t i = 0; i < sizeof(d_suffixed) / sizeof(d_suffixed[0]); i++) {
		if (ours->machine == BC_MACHINE_X86 && !strcmp(d.mnemonic, d_suffixed[i]) &&
		    !strncmp(o.mnemonic, d.mnemonic, strlen(d.mnemonic)) &&
		    !strcmp(o.mnemonic + strlen(d.mnemonic), "d"))
			return rules[RULE_D_SUFFIX] = true;
	}
	if (!strcmp(d.mnemonic, "movabs") && !strcmp(o.mnemonic, "mov"))
		return rules[RULE_MOVABS] = true;
	if (!strcmp(d.mnemonic, "int3") && !strcmp(o.mnemonic, "int") &&
	    !strcmp(ours->operands, "3"))
		return rules[RULE_INT3] = true;
	if (!strcmp(d.mnemonic, "xchg") && !strcmp(d.operands, "ax,ax") && !strcmp(o.mnemonic, "nop"))
		return rules[RULE_XCHG_AX_AX] = true;
	static const char *const strings[] = { "movs", "cmps", "scas", "lods", "stos", "ins", "outs" };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		char want[16];
		snprintf(want, sizeof(want), "%s%c", strings[i], string_suffix(d.operands));
		if (!strcmp(d.mnemonic, strings[i]) && !strcmp(o.mnemonic, want))
			return rules[RULE_STRING_SIZE] = true;
	}
	return false;
}

/* ---- comparison ---------------------------------------------------------- */

struct tally {
	size_t functions, instructions, mnemonic_equal, normalised, boundary_diffs,
		mnemonic_diffs, both_reject;
	size_t rule_counts[RULE_COUNT];
	int reported;
};

static enum bc_machine machine_of(const struct bc_pe_info *i)
{
	switch (i->machine) {
	case BC_PE_MACHINE_AMD64: return BC_MACHINE_X64;
	case BC_PE_MACHINE_I386: return BC_MACHINE_X86;
	case BC_PE_MACHINE_ARM64: return BC_MACHINE_ARM64;
	default: return BC_MACHINE_UNKNOWN;
	}
}

// Our "fwait" (one or more: 9B 9B DF E0 is objdump's one "fstsw ax") at
// objdump's waiting x87 instruction ("fstcw WORD PTR [..]"), followed by our
// no-wait form of it ("fnstcw") ending where objdump's instruction ends
// (RULE_FWAIT_FUSED). Returns the number of bytes the group takes, 0 if
// this is not such a group.
static uint32_t fwait_fused(enum bc_machine machine, const struct bc_insn *insn,
			    const uint8_t *code, uint32_t code_rva, uint32_t code_size,
			    const struct listing *l, size_t k, uint64_t image_base, size_t *count)
{
	struct words d;
	split(l->insns[k].text, &d);
	if (strcmp(insn->mnemonic, "fwait") || d.mnemonic[0] != 'f' || !strcmp(d.mnemonic, "fwait") ||
	    k + 1 >= l->count)
		return 0;
	char want[64];
	snprintf(want, sizeof(want), "fn%s", d.mnemonic + 1);
	uint32_t rva = (uint32_t)(insn->address - image_base) + insn->length;
	*count = 1;
	for (int waits = 1; waits < 4 && rva < code_rva + code_size; waits++) {
		struct bc_insn next;
		struct bc_error *err = bc_disasm_decode(machine, image_base + rva,
							code + (rva - code_rva),
							code_size - (rva - code_rva), NULL, &next);
		if (err) {
			bc_error_destroy(err);
			return 0;
		}
		rva += next.length;
		++*count;
		if (!strcmp(next.mnemonic, "fwait"))
			continue;
		if (strcmp(next.mnemonic, want) || image_base + rva != l->insns[k + 1].address)
			return 0;
		return (uint32_t)(image_base + rva - insn->address);
	}
	return 0;
}

// Compares our decoding of [@rva, @end) (at most @max instructions) with the
// listing, starting at the listed instruction at the same address. Where we
// refuse the bytes and objdump calls them "(bad)" too (data in an x86 code
// section), both agree and the run goes on at objdump's next instruction (in
// a linear sweep there is no other place to go on from).
static void compare_run(const char *name, enum bc_machine machine, uint64_t image_base,
			const uint8_t *code, uint32_t code_rva, uint32_t code_size, uint32_t rva,
			uint32_t end, size_t max, const struct listing *l, struct tally *t)
{
	uint64_t va = image_base + rva;
	size_t k = listing_find(l, va);
	if (k == SIZE_MAX) {
		t->boundary_diffs++;
		if (t->reported++ < MAX_REPORTED)
			printf("#   %s: objdump lists no instruction at %#" PRIx64 "\n", name, va);
		return;
	}
	for (size_t n = 0; n < max && rva < end; n++, k++) {
		struct bc_insn insn;
		bool listed = k < l->count && l->insns[k].address == image_base + rva;
		struct bc_error *err = bc_disasm_decode(machine, image_base + rva, code + (rva - code_rva),
							code_size - (rva - code_rva), NULL, &insn);
		if (err) {
			bool bad = listed && !strcmp(l->insns[k].text, "(bad)");
			if (!bad) {
				t->boundary_diffs++;
				if (t->reported++ < MAX_REPORTED)
					printf("#   %s: %#" PRIx64 ": we cannot decode (%s), objdump: %s\n",
					       name, image_base + rva, err->message,
					       listed ? l->insns[k].text : "nothing listed");
			}
			bc_error_destroy(err);
			if (!bad || k + 1 >= l->count || l->insns[k + 1].address - image_base >= end)
				return;
			t->both_reject++;
			rva = (uint32_t)(l->insns[k + 1].address - image_base);
			continue;
		}
		t->instructions++;
		if (!listed) {
			t->boundary_diffs++;
			if (t->reported++ < MAX_REPORTED)
				printf("#   %s: we decode %#" PRIx64 " (%s), objdump lists %#" PRIx64
				       " (%s) next\n", name, insn.address, insn.mnemonic,
				       k < l->count ? l->insns[k].address : 0,
				       k < l->count ? l->insns[k].text : "(end)");
			return;
		}
		bool rules[RULE_COUNT] = { 0 };
		size_t group;
		uint32_t fused = fwait_fused(machine, &insn, code, code_rva, code_size, l, k,
					     image_base, &group);
		if (fused) {
			// Our fwait(s) and the no-wait instruction after them are objdump's one.
			t->instructions += group - 1;
			t->normalised += group;
			t->rule_counts[RULE_FWAIT_FUSED]++;
			rva += fused;
			continue;
		}
		if (same_mnemonic(&insn, l->insns[k].text, rules)) {
			bool any = false;
			for (int r = 0; r < RULE_COUNT; r++) {
				t->rule_counts[r] += rules[r];
				any |= rules[r];
			}
			if (any)
				t->normalised++;
			else
				t->mnemonic_equal++;
		} else {
			t->mnemonic_diffs++;
			char bytes[2 * BC_INSN_MAX_BYTES + 1], line[BC_INSN_LINE_SIZE];
			if (t->reported++ < MAX_REPORTED)
				printf("#   %s: %#" PRIx64 " %s: ours \"%s\", objdump \"%s\"\n", name,
				       insn.address, bc_disasm_format_bytes(&insn, bytes, sizeof(bytes)),
				       bc_disasm_format(&insn, line, sizeof(line)), l->insns[k].text);
		}
		rva += insn.length;
		// x86 runs (no function end known) stop where code cannot fall through.
		if (machine == BC_MACHINE_X86 &&
		    ((insn.flags & BC_INSN_RETURN) ||
		     ((insn.flags & BC_INSN_BRANCH) && !(insn.flags & BC_INSN_CONDITIONAL))))
			return;
	}
}

// objdump lists "push ebp" at @k and "mov ebp,esp" right after it.
static bool frame_setup(const struct listing *l, size_t k)
{
	if (strncmp(l->insns[k].text, "push", 4))
		return false;
	struct words a, b;
	split(l->insns[k].text, &a);
	split(l->insns[k + 1].text, &b);
	return l->insns[k + 1].address == l->insns[k].address + 1 && !strcmp(a.mnemonic, "push") &&
	       !strcmp(a.operands, "ebp") && !strcmp(b.mnemonic, "mov") &&
	       !strcmp(b.operands, "ebp,esp");
}

static void add_tally(struct tally *total, const struct tally *t)
{
	total->functions += t->functions;
	total->instructions += t->instructions;
	total->mnemonic_equal += t->mnemonic_equal;
	total->normalised += t->normalised;
	total->boundary_diffs += t->boundary_diffs;
	total->mnemonic_diffs += t->mnemonic_diffs;
	total->both_reject += t->both_reject;
	for (int r = 0; r < RULE_COUNT; r++)
		total->rule_counts[r] += t->rule_counts[r];
}

static void print_tally(const char *name, const char *what, const struct tally *t)
{
	printf("# %s (%s): %zu functions, %zu instructions: %zu boundary differences; "
	       "mnemonics %zu equal, %zu equal after normalisation, %zu unexplained",
	       name, what, t->functions, t->instructions, t->boundary_diffs, t->mnemonic_equal,
	       t->normalised, t->mnemonic_diffs);
	if (t->both_reject)
		printf("; %zu (bad) bytes refused by both", t->both_reject);
	printf("\n");
}

static void check_image(const char *path, const char *name, struct tally *total)
{
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_file(path, &pe));
	const struct bc_pe_info *info = bc_pe_info(pe);
	enum bc_machine machine = machine_of(info);
	if (machine != BC_MACHINE_X64 && machine != BC_MACHINE_X86) {
		printf("# %s: machine %#x not compared (only x86/x64 go to GNU objdump)\n", name,
		       info->machine);
		bc_pe_close(pe);
		return;
	}
	struct listing l = { 0 };
	if (!run_objdump("objdump", "-d -z -M intel --no-show-raw-insn -w", path, &l)) {
		TEST_FAIL_AT("%s: objdump gave no listing", name);
		bc_pe_close(pe);
		return;
	}
	struct tally t = { 0 };
	const struct bc_pe_pdata *pd = NULL;
	struct bc_error *err = machine == BC_MACHINE_X64 ? bc_pe_pdata(pe, &pd) : NULL;
	bc_error_destroy(err);
	for (size_t s = 0; s < bc_pe_section_count(pe); s++) {
		const struct bc_pe_section *sec = bc_pe_section(pe, s);
		if (!(sec->characteristics & (BC_PE_SCN_CNT_CODE | BC_PE_SCN_MEM_EXECUTE)))
			continue;
		// objdump reads min(VirtualSize, SizeOfRawData) bytes of a section.
		uint32_t size = sec->virtual_size && sec->virtual_size < sec->raw_size
					? sec->virtual_size : sec->raw_size;
		if (!size)
			continue;
		uint8_t *code = malloc(size);
		REQUIRE(code);
		err = bc_pe_read(pe, sec->rva, code, size);
		if (err) {
			TEST_FAIL_AT("%s: section %s: %s", name, sec->name, err->message);
			bc_error_destroy(err);
			free(code);
			continue;
		}
		if (pd) {
			for (size_t f = 0; f < pd->count; f++) {
				const struct bc_pe_runtime_function *rf = &pd->entries[f];
				if (rf->begin < sec->rva || rf->begin >= sec->rva + size)
					continue;
				uint32_t end = rf->end < sec->rva + size ? rf->end : sec->rva + size;
				t.functions++;
				compare_run(name, machine, info->image_base, code, sec->rva, size,
					    rf->begin, end, MAX_PER_FUNCTION, &l, &t);
			}
		} else {
			// x86: no .pdata. Runs start at the entry point and at every
			// "push ebp / mov ebp,esp" frame set-up in objdump's listing,
			// and end at the first return or jump (MSVC puts switch tables
			// right after a function's code).
			uint64_t lo = info->image_base + sec->rva, hi = lo + size;
			uint64_t entry = info->image_base + info->entry_point_rva;
			if (info->entry_point_rva && entry >= lo && entry < hi) {
				t.functions++;
				compare_run(name, machine, info->image_base, code, sec->rva, size,
					    info->entry_point_rva, sec->rva + size, MAX_PER_FUNCTION,
					    &l, &t);
			}
			for (size_t k = 0; k + 1 < l.count; k++) {
				if (l.insns[k].address < lo || l.insns[k].address >= hi ||
				    l.insns[k].address == entry || !frame_setup(&l, k))
					continue;
				t.functions++;
				compare_run(name, machine, info->image_base, code, sec->rva, size,
					    (uint32_t)(l.insns[k].address - info->image_base),
					    sec->rva + size, MAX_PER_FUNCTION, &l, &t);
			}
		}
		free(code);
	}
	print_tally(name, bc_machine_name(machine), &t);
	CHECK_EQ(t.boundary_diffs, 0);
	CHECK_EQ(t.mnemonic_diffs, 0);
	add_tally(total, &t);
	listing_free(&l);
	bc_pe_close(pe);
}

static bool is_image_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 4 &&
	       (!strcasecmp(name + n - 4, ".sys") || !strcasecmp(name + n - 4, ".dll") ||
		!strcasecmp(name + n - 4, ".exe"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// The normalisation table on hand-written pairs (objdump's text as binutils
// 2.40 prints it), and differences it must not explain.
#define R(rule) (1u << (rule))
enum { DIFFER = ~0u };

TEST(normalisation_table)
{
	static const struct {
		enum bc_machine machine;
		const char *ours, *operands, *objdump;
		unsigned rules;  // bit per rule needed; 0: equal as they are; DIFFER: must differ
	} cases[] = {
		{ BC_MACHINE_X64, "sub", "rsp,38h", "sub    rsp,0x38", 0 },
		{ BC_MACHINE_X64, "call", "qword ptr [x]", "rex.W call QWORD PTR [rip+0x3b28]",
		  R(RULE_PSEUDO_PREFIX) },
		{ BC_MACHINE_X64, "nop", "word ptr [rax+rax]",
		  "data16 cs nop WORD PTR [rax+rax*1+0x0]", R(RULE_PSEUDO_PREFIX) },
		{ BC_MACHINE_X64, "repne scasw", "", "repnz scas ax,WORD PTR es:[rdi]",
		  R(RULE_REPZ) | R(RULE_STRING_SIZE) },
		{ BC_MACHINE_X64, "mov", "r9,400000000000h", "movabs r9,0x400000000000", R(RULE_MOVABS) },
		{ BC_MACHINE_X64, "int", "3", "int3", R(RULE_INT3) },
		{ BC_MACHINE_X64, "nop", "", "xchg   ax,ax", R(RULE_XCHG_AX_AX) },
		{ BC_MACHINE_X64, "rep stosq", "", "rep stos QWORD PTR es:[rdi],rax",
		  R(RULE_STRING_SIZE) },
		{ BC_MACHINE_X64, "cmpsd", "", "cmps   DWORD PTR ds:[rsi],DWORD PTR es:[rdi]",
		  R(RULE_STRING_SIZE) },
		{ BC_MACHINE_X86, "pushfd", "", "pushf", R(RULE_D_SUFFIX) },
		{ BC_MACHINE_X64, "ret", "", "repz ret", R(RULE_REPZ) | R(RULE_REPZ_RET) },
		// Not explained: different instructions or a lost prefix.
		{ BC_MACHINE_X64, "je", "x", "jne    0x1c00010a0", DIFFER },
		{ BC_MACHINE_X64, "xadd", "x", "lock xadd DWORD PTR [rcx],eax", DIFFER },
		{ BC_MACHINE_X64, "stosd", "", "stos   QWORD PTR es:[rdi],rax", DIFFER },
		{ BC_MACHINE_X64, "nop", "", "xchg   eax,eax", DIFFER },
		{ BC_MACHINE_X64, "pushfq", "", "pushf", DIFFER },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bc_insn insn = { .machine = cases[i].machine };
		snprintf(insn.mnemonic, sizeof(insn.mnemonic), "%s", cases[i].ours);
		snprintf(insn.operands, sizeof(insn.operands), "%s", cases[i].operands);
		bool rules[RULE_COUNT] = { 0 };
		bool same = same_mnemonic(&insn, cases[i].objdump, rules);
		if (cases[i].rules == DIFFER) {
			if (same)
				TEST_FAIL_AT("\"%s\" explained as \"%s\"", cases[i].ours, cases[i].objdump);
			continue;
		}
		if (!same)
			TEST_FAIL_AT("\"%s\" not explained as \"%s\"", cases[i].ours, cases[i].objdump);
		for (int r = 0; r < RULE_COUNT; r++)
			if (rules[r] != !!(cases[i].rules & R(r)))
				TEST_FAIL_AT("\"%s\" / \"%s\": rule %d %s", cases[i].ours,
					     cases[i].objdump, r, rules[r] ? "used" : "not used");
	}
}

TEST(pe_images_against_objdump)
{
	if (!have_symbols())
		SKIP("skipped: ../shared/symbols not found");
	if (!pe_oracle_have("objdump"))
		SKIP("skipped: objdump (binutils) not installed");
	// The drivers and user-mode images of symbols/pe, and the small MSVC
	// programs next to their PDBs (more x86 code: cvdump.exe is the only
	// x86 image in symbols/pe).
	static const char *const dirs[] = { "pe/kernel-drivers", "pe/user", "pdb/msvc" };
	struct tally total = { 0 };
	size_t images = 0;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char dir[4300];
		snprintf(dir, sizeof(dir), "%s/symbols/%s", shared_dir, dirs[d]);
		DIR *dh = opendir(dir);
		if (!dh)
			continue;
		char *names[64];
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(dh)) && n < 64)
			// basic32-min.dll: the same code as basic32.dll (only the PDB differs).
			if (is_image_name(e->d_name) && strcmp(e->d_name, "basic32-min.dll"))
				names[n++] = strdup(e->d_name);
		closedir(dh);
		qsort(names, n, sizeof(*names), cmp_str);
		for (size_t i = 0; i < n; i++) {
			char path[4600], name[200];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			snprintf(name, sizeof(name), "%s/%s", dirs[d], names[i]);
			check_image(path, name, &total);
			images++;
			free(names[i]);
		}
	}
	char what[32];
	snprintf(what, sizeof(what), "%zu images", images);
	print_tally("all", what, &total);
	for (int r = 0; r < RULE_COUNT; r++)
		printf("#   rule \"%s\": %zu instructions\n", rule_names[r], total.rule_counts[r]);
	CHECK(images >= 4);
	CHECK(total.instructions >= 20000);
}

// Backward disassembly (ub) against objdump's boundaries: in every .pdata
// function of the x64 drivers, the 8 instructions that end 12 instructions
// in must start where objdump lists the 4th. With the function's start (what
// a symbol gives) the answer must be exact; without it bc_disasm_back votes
// over every start in the 120-byte window, a heuristic: its agreement is
// reported and must stay above 97%.
TEST(ub_against_objdump)
{
	if (!have_symbols())
		SKIP("skipped: ../shared/symbols not found");
	if (!pe_oracle_have("objdump"))
		SKIP("skipped: objdump (binutils) not installed");
	static const char *const drivers[] = { "acpi.sys", "WdBoot.sys", "amdi2c.sys",
					       "amdxata.sys" };
	size_t points = 0, hinted_ok = 0, voted_ok = 0;
	for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++) {
		char path[4400];
		snprintf(path, sizeof(path), "%s/symbols/pe/kernel-drivers/%s", shared_dir, drivers[d]);
		struct bc_pe *pe;
		REQUIRE_OK(bc_pe_open_file(path, &pe));
		const struct bc_pe_pdata *pd;
		REQUIRE_OK(bc_pe_pdata(pe, &pd));
		struct listing l = { 0 };
		REQUIRE(run_objdump("objdump", "-d -z -M intel --no-show-raw-insn -w", path, &l));
		uint64_t base = bc_pe_info(pe)->image_base;
		for (size_t f = 0; f < pd->count; f++) {
			const struct bc_pe_runtime_function *rf = &pd->entries[f];
			size_t k = listing_find(&l, base + rf->begin);
			if (k == SIZE_MAX || k + 12 >= l.count ||
			    l.insns[k + 12].address >= base + rf->end)
				continue;
			uint64_t end = l.insns[k + 12].address, want = l.insns[k + 4].address;
			// With the start: the window from it. Voting: the CLI's window for
			// L8, 120 bytes (not before the section).
			uint8_t code[BC_DISASM_BACK_MAX];
			const struct bc_pe_section *sec = bc_pe_section_at(pe, rf->begin);
			uint64_t from = end - (base + rf->begin);
			if (!sec || from > sizeof(code))
				continue;
			uint64_t vote_from = end - base - sec->rva < 120 ? end - base - sec->rva : 120;
			uint64_t window = from > vote_from ? from : vote_from;
			REQUIRE_OK(bc_pe_read(pe, end - base - window, code, window));
			uint64_t got;
			REQUIRE_OK(bc_disasm_back(BC_MACHINE_X64, code + (window - from), from, end, 8,
						  base + rf->begin, &got));
			if (got == want)
				hinted_ok++;
			else if (points - hinted_ok < 5)
				TEST_FAIL_AT("%s: ub %#" PRIx64 " L8 with the function start %#" PRIx64
					     ": %#" PRIx64 ", objdump %#" PRIx64, drivers[d], end,
					     base + rf->begin, got, want);
			REQUIRE_OK(bc_disasm_back(BC_MACHINE_X64, code + (window - vote_from), vote_from,
						  end, 8, 0, &got));
			voted_ok += got == want;
			points++;
		}
		listing_free(&l);
		bc_pe_close(pe);
	}
	printf("# ub L8 at %zu points: %zu agree with objdump given the function start, "
	       "%zu (%.1f%%) by voting alone\n", points, hinted_ok, voted_ok,
	       points ? 100.0 * (double)voted_ok / (double)points : 0.0);
	CHECK(points >= 1000);
	CHECK_EQ(hinted_ok, points);
	CHECK(voted_ok * 100 >= points * 97);
}

TEST_MAIN()
