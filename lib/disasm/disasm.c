// Disassembly front end: see include/bugcheck/disasm.h and disasm_private.h.
// Picks the backend by machine, reads instruction bytes from a target and
// names branch targets after modules; the vendor libraries stay in their
// backend files.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bugcheck/symbols.h"
#include "disasm/disasm_private.h"

void bc_disasm_append(char *buf, size_t size, const char *s)
{
	size_t have = strnlen(buf, size);
	if (have + 1 >= size)
		return;
	size_t n = strlen(s);
	if (n > size - have - 1)
		n = size - have - 1;
	memcpy(buf + have, s, n);
	buf[have + n] = 0;
}

void bc_disasm_put_address(const struct bc_disasm_options *options, uint64_t address,
			   unsigned pointer_size, char *buf, size_t size)
{
	char addr[20];
	if (pointer_size == 4)
		snprintf(addr, sizeof(addr), "%08" PRIx32, (uint32_t)address);
	else
		snprintf(addr, sizeof(addr), "%08" PRIx32 "`%08" PRIx32, (uint32_t)(address >> 32),
			 (uint32_t)address);
	char name[128];
	if (options->symbol && options->symbol(address, name, sizeof(name), options->symbol_arg)) {
		name[sizeof(name) - 1] = 0;
		snprintf(buf, size, "%s (%s)", name, addr);
	} else {
		snprintf(buf, size, "%s", addr);
	}
}

static const struct bc_disasm_backend *backend_for(enum bc_machine machine)
{
	switch (machine) {
	case BC_MACHINE_X86:
	case BC_MACHINE_X64: return &bc_disasm_zydis;
	case BC_MACHINE_ARM64: return &bc_disasm_capstone;
	case BC_MACHINE_UNKNOWN: break;
	}
	return NULL;
}

BC_PUBLIC struct bc_error *bc_disasm_decode(enum bc_machine machine, uint64_t address,
					    const void *code, size_t size,
					    const struct bc_disasm_options *options,
					    struct bc_insn *ret)
{
	static const struct bc_disasm_options no_options = { 0 };
	const struct bc_disasm_backend *b = backend_for(machine);
	if (!b)
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       "cannot disassemble code of an unknown machine type");
	if (!code || !size)
		return bc_error_create(BC_ERR_INVALID_ARG, "no bytes to disassemble at %#" PRIx64,
				       address);
	return b->decode(machine, address, code, size, options ? options : &no_options, ret);
}

// Branch targets read "nt!KeBugCheckEx+0x10" with symbols, "amdppm+0x335d"
// without (bugcheck/symbols.h does both, WinDbg's way).
static bool module_symbol(uint64_t address, char *buf, size_t size, void *arg)
{
	bc_target_format_address(arg, address, buf, size);
	return size && *buf;
}

// Reads up to @want bytes at @address, stopping at the first byte that is
// not in the dump. *@fault_ret gets that fault (or NULL when all were read).
static struct bc_error *read_available(struct bc_target *t, uint64_t address, uint8_t *buf,
				       size_t want, size_t *got_ret, struct bc_error **fault_ret)
{
	*fault_ret = NULL;
	struct bc_error *err = bc_target_read_code(t, address, buf, want);
	if (!err) {
		*got_ret = want;
		return NULL;
	}
	if (err->code != BC_ERR_FAULT || err->address <= address || err->address - address >= want)
		return err;
	// The read stopped part-way (end of a page or region): keep what precedes the hole.
	size_t got = (size_t)(err->address - address);
	struct bc_error *again = bc_target_read_code(t, address, buf, got);
	if (again) {
		bc_error_destroy(err);
		return again;
	}
	*got_ret = got;
	*fault_ret = err;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_disasm_read(struct bc_target *target, uint64_t address,
					  struct bc_insn *ret)
{
	const struct bc_dump_info *info = bc_target_info(target);
	uint8_t code[BC_INSN_MAX_BYTES];
	size_t want = info->machine == BC_MACHINE_ARM64 ? 4 : 15;
	size_t got;
	struct bc_error *fault;
	// 32-bit kernels' addresses are stored sign-extended ("eip" 8fb7fad4 is ffffffff`8fb7fad4).
	uint64_t at = info->pointer_size == 4 ? (uint64_t)(int64_t)(int32_t)(uint32_t)address
					      : address;
	struct bc_error *err = read_available(target, at, code, want, &got, &fault);
	if (err)
		return err;
	struct bc_disasm_options options = { .symbol = module_symbol, .symbol_arg = target };
	err = bc_disasm_decode(info->machine, address, code, got, &options, ret);
	if (err && fault) {
		// Undecodable with a hole right after: blame the missing byte, as WinDbg's "??" does.
		bc_error_destroy(err);
		return fault;
	}
	bc_error_destroy(fault);
	return err;
}

// The length of the instruction at @code that must end within @size bytes,
// 0 when there is none.
static unsigned insn_length(enum bc_machine machine, const uint8_t *code, size_t size)
{
	const struct bc_disasm_backend *b = backend_for(machine);
	if (!b)
		return 0;
	if (b->length)
		return b->length(machine, code, size);
	struct bc_insn insn;
	struct bc_error *err = b->decode(machine, 0, code, size, &(struct bc_disasm_options){ 0 },
					 &insn);
	bc_error_destroy(err);
	return err ? 0 : insn.length;
}

enum { LENGTH_UNKNOWN = 0xff };

struct back_window {
	enum bc_machine machine;
	const uint8_t *code;
	size_t size;
	uint8_t length[BC_DISASM_BACK_MAX];  ///< per offset; 0: undecodable, LENGTH_UNKNOWN: not yet
};

// Follows the instruction chain from offset @start of @w, decoding each
// offset's length once (the table is shared by every start); returns the
// number of instructions that land exactly on the window's end (their
// offsets in @starts), or -1 when the chain hits an undecodable byte.
static long follow(struct back_window *w, size_t start, uint16_t *starts)
{
	size_t at = start;
	long n = 0;
	while (at < w->size) {
		if (w->length[at] == LENGTH_UNKNOWN)
			w->length[at] = (uint8_t)insn_length(w->machine, w->code + at, w->size - at);
		if (!w->length[at])
			return -1;
		starts[n++] = (uint16_t)at;
		at += w->length[at];
	}
	return at == w->size ? n : -1;
}

// Every start decodes the same bytes the same way, so each offset of the
// window is decoded at most once (and without text: instruction lengths
// only), and the chains from all starts run through that table. Decoding
// every start in full instead took over 1 ms for ub's default 8
// instructions (bench/bench_stack.c).
BC_PUBLIC struct bc_error *bc_disasm_back(enum bc_machine machine, const void *code, size_t size,
					  uint64_t end, uint64_t count, uint64_t function_start,
					  uint64_t *start_ret)
{
	if (machine == BC_MACHINE_ARM64) {
		*start_ret = end - 4 * count;
		return NULL;
	}
	*start_ret = end - count;
	if (size > BC_DISASM_BACK_MAX) {
		code = (const uint8_t *)code + (size - BC_DISASM_BACK_MAX);
		size = BC_DISASM_BACK_MAX;
	}
	if (!size || !count || size > end)
		return NULL;
	uint64_t base = end - size;
	struct back_window w = { .machine = machine, .code = code, .size = size };
	memset(w.length, LENGTH_UNKNOWN, size);
	uint16_t starts[BC_DISASM_BACK_MAX];
	if (function_start && function_start >= base && function_start < end) {
		long n = follow(&w, (size_t)(function_start - base), starts);
		if (n >= (long)count) {
			*start_ret = base + starts[n - (long)count];
			return NULL;
		}
	}
	uint16_t votes[BC_DISASM_BACK_MAX] = { 0 };
	for (size_t start = 0; start < size; start++) {
		long n = follow(&w, start, starts);
		if (n >= (long)count)
			votes[starts[n - (long)count]]++;
	}
	unsigned best_votes = 0;
	for (size_t i = 0; i < size; i++) {
		if (votes[i] > best_votes) {
			best_votes = votes[i];
			*start_ret = base + i;
		}
	}
	return NULL;
}

BC_PUBLIC const char *bc_disasm_format(const struct bc_insn *insn, char *buf, size_t size)
{
	if (!size)
		return buf;
	// WinDbg pads x86 mnemonics to 8 columns ("mov     ") and ARM64 ones to 12.
	int width = insn->machine == BC_MACHINE_ARM64 ? 11 : 7;
	if (insn->operands[0])
		snprintf(buf, size, "%-*s %s", width, insn->mnemonic, insn->operands);
	else
		snprintf(buf, size, "%s", insn->mnemonic);
	return buf;
}

BC_PUBLIC const char *bc_disasm_format_bytes(const struct bc_insn *insn, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = 0;
	if (insn->machine == BC_MACHINE_ARM64 && insn->length == 4) {
		uint32_t word = (uint32_t)insn->bytes[0] | (uint32_t)insn->bytes[1] << 8 |
				(uint32_t)insn->bytes[2] << 16 | (uint32_t)insn->bytes[3] << 24;
		snprintf(buf, size, "%08" PRIx32, word);
		return buf;
	}
	for (unsigned i = 0; i < insn->length && i < BC_INSN_MAX_BYTES; i++) {
		char hex[3];
		snprintf(hex, sizeof(hex), "%02x", insn->bytes[i]);
		bc_disasm_append(buf, size, hex);
	}
	return buf;
}
