// u, ub, uf: disassembly in WinDbg's layout (WINDBG_OUTPUT.md section 8).
//
//   nt!KeBugCheckEx+0x10:
//   fffff805`28f293cb 8b01            mov     eax,dword ptr [rcx]
//
// u reads forwards (8 instructions by default), ub backwards (the 8 that end
// just before the address), uf a whole function block by block.
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

enum {
	DEFAULT_COUNT = 8,
	MAX_COUNT = 100000,
	UB_MAX_BACK = BC_DISASM_BACK_MAX,  ///< furthest ub looks back for a decoding start (bytes)
	UF_MAX_INSNS = 20000,      ///< bound on a function's size for uf
	UF_MAX_BYTES = 1u << 20,
};

void bc_cmd_print_instruction(struct bc_session *s, const struct bc_insn *insn)
{
	char addr[24], bytes[2 * BC_INSN_MAX_BYTES + 1], text[BC_INSN_LINE_SIZE];
	fprintf(s->out, "%s ", bc_fmt_ptr(addr, insn->address,
					  bc_target_info(s->target)->pointer_size));
	fprintf(s->out, "%-*s ", insn->machine == BC_MACHINE_ARM64 ? 8 : 15,
		bc_disasm_format_bytes(insn, bytes, sizeof(bytes)));
	// Operands may name modules (dump strings): escaped like every dump string.
	bc_put_escaped(s->out, bc_disasm_format(insn, text, sizeof(text)), 0);
}

static void print_label(struct bc_session *s, uint64_t address)
{
	char label[256];
	bc_target_format_address(s->target, address, label, sizeof(label));
	if (!*label)
		return;
	bc_put_escaped(s->out, label, 0);
	fputs(":\n", s->out);
}

// A new label when an instruction starts exactly at a symbol (WinDbg does this
// when u runs from one function into the next).
static bool starts_symbol(struct bc_session *s, uint64_t address)
{
	struct bc_address_symbol a;
	bc_target_describe_address(s->target, address, &a);
	return a.symbol && a.displacement == 0;
}

static void print_unreadable(struct bc_session *s, uint64_t address, struct bc_error *err)
{
	char addr[24];
	fprintf(s->out, "%s ", bc_fmt_ptr(addr, address, bc_target_info(s->target)->pointer_size));
	// WinDbg: "??" bytes and "???" for what it cannot show; we also say why.
	fprintf(s->out, "%-15s ???", "??");
	if (err && err->message) {
		fputs("  (", s->out);
		bc_put_escaped(s->out, err->message, 0);
		fputc(')', s->out);
	}
	fputc('\n', s->out);
	bc_error_destroy(err);
}

// Parses "[ADDRESS] [L COUNT]"; a missing address keeps *@address.
static int parse_range(struct bc_session *s, const char *cmd, const char *args, uint64_t *address,
		       bool *has_address, uint64_t *count)
{
	const char *p = args;
	*has_address = false;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		// "L8", "L 8", "L0n20": a count (module names starting with l need a '!' or '+').
		if ((*p == 'L' || *p == 'l') &&
		    (isdigit((unsigned char)p[1]) || isspace((unsigned char)p[1]))) {
			size_t used;
			p++;
			while (isspace((unsigned char)*p))
				p++;
			struct bc_error *err = bc_cmd_eval_prefix(s, p, &used, count);
			if (err) {
				bc_cmd_print_error(s, cmd, err);
				return 1;
			}
			if (*count == 0 || *count > MAX_COUNT) {
				fprintf(s->out, "%s: count must be between 1 and %d\n", cmd, MAX_COUNT);
				return 1;
			}
			p += used;
			continue;
		}
		size_t used;
		struct bc_error *err = bc_cmd_eval_prefix(s, p, &used, address);
		if (err) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		*has_address = true;
		p += used;
	}
	return 0;
}

static bool default_address(struct bc_session *s, const char *cmd, uint64_t *address)
{
	if (s->has_context) {
		*address = bc_context_pc(&s->context);
		return true;
	}
	fprintf(s->out, "%s: no address given and no register context\n", cmd);
	return false;
}

int cmd_unassemble(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t address = 0, count = DEFAULT_COUNT;
	bool has_address;
	if (parse_range(s, cmd, args, &address, &has_address, &count))
		return 1;
	if (!has_address) {
		if (s->has_next_unassemble)
			address = s->next_unassemble;
		else if (!default_address(s, cmd, &address))
			return 1;
	}
	print_label(s, address);
	for (uint64_t i = 0; i < count; i++) {
		struct bc_insn insn;
		struct bc_error *err = bc_disasm_read(s->target, address, &insn);
		if (err) {
			print_unreadable(s, address, err);
			break;
		}
		if (i && starts_symbol(s, address))
			print_label(s, address);
		bc_cmd_print_instruction(s, &insn);
		fputc('\n', s->out);
		address += insn.length;
	}
	s->next_unassemble = address;
	s->has_next_unassemble = true;
	return 0;
}

// The start of the @count instructions that end at @end (bc_disasm_back over
// the bytes before @end; the function's start, when a symbol gives it, is
// tried first).
static uint64_t find_back_start(struct bc_session *s, uint64_t end, uint64_t count)
{
	const struct bc_dump_info *info = bc_target_info(s->target);
	if (info->machine == BC_MACHINE_ARM64)
		return end - 4 * count;
	uint64_t back = count * 15 < UB_MAX_BACK ? count * 15 : UB_MAX_BACK;
	if (back > end)
		back = end;
	uint8_t code[UB_MAX_BACK];
	uint64_t base = end - back;
	// Read what is there; a missing page shortens the window from the left.
	while (back) {
		struct bc_error *err = bc_target_read_code(s->target, base, code, (size_t)back);
		if (!err)
			break;
		bc_error_destroy(err);
		uint64_t next_page = (base | 0xfff) + 1;
		if (next_page >= end)
			return end - count;  // nothing readable before: fall back to a guess
		back = end - next_page;
		base = next_page;
	}
	struct bc_address_symbol a;
	bc_target_describe_address(s->target, end - 1, &a);
	uint64_t start;
	struct bc_error *err = bc_disasm_back(info->machine, code, (size_t)back, end, count,
					      a.symbol ? a.symbol_address : 0, &start);
	if (err) {
		bc_error_destroy(err);
		return end - count;
	}
	return start;
}

int cmd_unassemble_back(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t address = 0, count = DEFAULT_COUNT;
	bool has_address;
	if (parse_range(s, cmd, args, &address, &has_address, &count))
		return 1;
	if (!has_address && !default_address(s, cmd, &address))
		return 1;
	if (count > UB_MAX_BACK / 15)
		count = UB_MAX_BACK / 15;
	uint64_t at = find_back_start(s, address, count);
	print_label(s, at);
	while (at < address) {
		struct bc_insn insn;
		struct bc_error *err = bc_disasm_read(s->target, at, &insn);
		if (err) {
			print_unreadable(s, at, err);
			return 1;
		}
		bc_cmd_print_instruction(s, &insn);
		fputc('\n', s->out);
		at += insn.length;
	}
	return 0;
}

struct block {
	uint64_t start;
	bool done;
};

static int cmp_block(const void *x, const void *y)
{
	const struct block *a = x, *b = y;
	return a->start < b->start ? -1 : a->start > b->start;
}

static bool add_block(struct block **blocks, size_t *n, size_t *cap, uint64_t start)
{
	for (size_t i = 0; i < *n; i++)
		if ((*blocks)[i].start == start)
			return true;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct block *p = realloc(*blocks, c * sizeof(*p));
		if (!p)
			return false;
		*blocks = p;
		*cap = c;
	}
	(*blocks)[(*n)++] = (struct block){ start, false };
	return true;
}

// uf: the function containing ADDRESS (from its symbol's start), every block
// reachable by branches inside it, in address order.
int cmd_unassemble_function(struct bc_session *s, const char *cmd, const char *args)
{
	uint64_t address = 0, count = 0;
	bool has_address;
	if (parse_range(s, cmd, args, &address, &has_address, &count))
		return 1;
	if (!has_address && !default_address(s, cmd, &address))
		return 1;
	struct bc_address_symbol a;
	bc_target_describe_address(s->target, address, &a);
	uint64_t start = a.symbol ? a.symbol_address : address;
	uint64_t lo = start, hi = start + UF_MAX_BYTES;
	if (a.module && hi > a.module->base + a.module->size)
		hi = a.module->base + a.module->size;
	if (!a.symbol)
		fputs("uf: no symbol gives the function's start; disassembling from the address\n",
		      s->out);
	struct block *blocks = NULL;
	size_t n = 0, cap = 0, insns = 0;
	if (!add_block(&blocks, &n, &cap, start))
		goto oom;
	// Discover blocks: follow fall-through and branch targets inside [lo, hi).
	for (size_t b = 0; b < n && insns < UF_MAX_INSNS; b++) {
		uint64_t at = blocks[b].start;
		while (insns++ < UF_MAX_INSNS) {
			struct bc_insn insn;
			struct bc_error *err = bc_disasm_read(s->target, at, &insn);
			if (err) {
				bc_error_destroy(err);
				break;
			}
			at += insn.length;
			if ((insn.flags & BC_INSN_BRANCH) && (insn.flags & BC_INSN_HAS_TARGET) &&
			    insn.target >= lo && insn.target < hi &&
			    !add_block(&blocks, &n, &cap, insn.target))
				goto oom;
			if (insn.flags & BC_INSN_RETURN)
				break;
			if ((insn.flags & BC_INSN_BRANCH) && !(insn.flags & BC_INSN_CONDITIONAL))
				break;
			if (insn.flags & BC_INSN_CONDITIONAL) {
				if (!add_block(&blocks, &n, &cap, at))
					goto oom;
				break;
			}
		}
	}
	qsort(blocks, n, sizeof(*blocks), cmp_block);
	// Print: each block runs until the next block's start or its end.
	uint64_t printed_to = 0;
	for (size_t b = 0; b < n; b++) {
		uint64_t at = blocks[b].start;
		if (at < printed_to)
			continue;  // inside a block already shown (overlapping decode)
		uint64_t stop = b + 1 < n ? blocks[b + 1].start : UINT64_MAX;
		if (b)
			fputc('\n', s->out);
		print_label(s, at);
		for (size_t guard = 0; guard < UF_MAX_INSNS; guard++) {
			struct bc_insn insn;
			struct bc_error *err = bc_disasm_read(s->target, at, &insn);
			if (err) {
				print_unreadable(s, at, err);
				break;
			}
			bc_cmd_print_instruction(s, &insn);
			fputs(insn.flags & BC_INSN_CONDITIONAL ? "  Branch\n" : "\n", s->out);
			at += insn.length;
			if (insn.flags & (BC_INSN_RETURN | BC_INSN_CONDITIONAL) ||
			    ((insn.flags & BC_INSN_BRANCH) && !(insn.flags & BC_INSN_CONDITIONAL)) ||
			    at >= stop)
				break;
		}
		printed_to = at;
	}
	free(blocks);
	return 0;
oom:
	free(blocks);
	fprintf(s->out, "%s: out of memory\n", cmd);
	return 1;
}
