// !pte VA: the page-table entries that map a virtual address. x64 with
// 4-level paging uses WinDbg's layout: each level's entry at its
// self-mapped virtual address (from KDDEBUGGER_DATA64's PteBase, else the
// fixed pre-Windows 10 RS1 base), what it contains, its page frame and its
// flag letters; other paging modes list the entries by physical address.
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static const uint64_t OLD_PTE_BASE = 0xfffff68000000000ull;

// The self-map: the PTE of @va is at PteBase + (va's page number) * 8, and
// the same formula applied to that address gives its PDE, and so on.
static uint64_t pte_of(uint64_t pte_base, uint64_t va)
{
	return pte_base + (((va & 0xffffffffffffull) >> 12) << 3);
}

// WinDbg's letters: copy-on-write, global, large, dirty, accessed, cache
// disabled, write-through, user/kernel, write/read, executable, valid.
static void flags(char out[12], uint64_t e, bool large_possible)
{
	snprintf(out, 12, "%c%c%c%c%c%c%c%c%c%c%c", e & 0x200 ? 'C' : '-', e & 0x100 ? 'G' : '-',
		 large_possible && (e & 0x80) ? 'L' : '-', e & 0x40 ? 'D' : '-',
		 e & 0x20 ? 'A' : '-', e & 0x10 ? 'N' : '-', e & 0x8 ? 'T' : '-',
		 e & 0x4 ? 'U' : 'K', e & 0x2 ? 'W' : 'R', e >> 63 ? '-' : 'E', e & 1 ? 'V' : '-');
}

int cmd_pte(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t va;
	size_t used;
	struct bc_error *err = bc_cmd_eval_prefix(s, args, &used, &va);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	struct bc_page_walk w;
	struct bc_error *walk_err = bc_target_page_walk(s->target, va, &w);
	if (!w.levels) {
		bc_cmd_print_error(s, cmd, walk_err);
		return 1;
	}
	FILE *o = s->out;
	const struct bc_dump_info *info = bc_target_info(s->target);
	bool x64_4level = info->machine == BC_MACHINE_X64 && w.paging_levels == 4;
	if (x64_4level) {
		static const char *const names[] = { "PXE", "PPE", "PDE", "PTE" };
		const struct bc_kdbg *kd = bc_target_kdbg(s->target);
		uint64_t base = kd->present && kd->pte_base ? kd->pte_base : OLD_PTE_BASE;
		uint64_t at[4];
		at[3] = pte_of(base, va);
		for (int i = 2; i >= 0; i--)
			at[i] = pte_of(base, at[i + 1]);
		fprintf(o, "%43sVA %016" PRIx64 "\n", "", va);
		for (unsigned i = 0; i < w.levels && i < 4; i++)
			fprintf(o, "%s%s at %016" PRIX64, i ? "    " : "", names[i], at[i]);
		fputc('\n', o);
		for (unsigned i = 0; i < w.levels && i < 4; i++)
			fprintf(o, "%scontains %016" PRIX64, i ? "  " : "", w.entry[i]);
		fputc('\n', o);
		for (unsigned i = 0; i < w.levels && i < 4; i++) {
			char f[12];
			flags(f, w.entry[i], i == 1 || i == 2);
			if (i)
				fputs("  ", o);
			// A large page's frame starts at bit 21 (2 MiB) or 30 (1 GiB): bit 12 is its PAT bit.
			uint64_t frame = w.entry[i] & 0xffffffffff000ull;
			if ((i == 1 || i == 2) && (w.entry[i] & 0x80))
				frame &= i == 1 ? ~0x3fffffffull : ~0x1fffffull;
			if (w.entry[i] & 1)
				fprintf(o, "pfn %-10" PRIx64 "%s", (uint64_t)(frame >> 12), f);
			else
				fprintf(o, "%-14s%s", "not valid", f);
		}
		fputc('\n', o);
	} else {
		fprintf(o, "VA %0*" PRIx64 "\n", (int)info->pointer_size * 2, va);
		for (unsigned i = 0; i < w.levels; i++)
			fprintf(o, "level %u entry at physical %" PRIx64 " contains %016" PRIx64 "\n",
				i + 1, w.entry_address[i], w.entry[i]);
	}
	if (walk_err) {
		bc_put_escaped(o, walk_err->message, 0);
		fputc('\n', o);
		bc_error_destroy(walk_err);
	} else if (w.page_size > 0x1000) {
		fprintf(o, "(a %" PRIu64 " KiB large page)\n", w.page_size >> 10);
	}
	return 0;
}
