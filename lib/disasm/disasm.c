// Disassembly front end: see include/bugcheck/disasm.h and disasm_private.h.
// Picks the backend by machine, reads instruction bytes from a target and
// names branch targets after modules; the vendor libraries stay in their
// backend files.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
	struct bc_error *err = bc_target_read(t, address, buf, want);
	if (!err) {
		*got_ret = want;
		return NULL;
	}
	if (err->code != BC_ERR_FAULT || err->address <= address || err->address - address >= want)
		return err;
	// The read stopped part-way (end of a page or region): keep what precedes the hole.
	size_t got = (size_t)(err->address - address);
	struct bc_error *again = bc_target_read(t, address, buf, got);
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

// Decodes from @start; returns the number of instruction boundaries found
// before reaching @end exactly (stored in @starts, at most @room), or -1 when
// the decoding does not land on @end or hits an undecodable byte.
static long decode_run(enum bc_machine machine, const uint8_t *code, uint64_t code_base,
		       uint64_t start, uint64_t end, uint64_t *starts, size_t room)
{
	uint64_t at = start;
	size_t n = 0;
	while (at < end) {
		struct bc_insn insn;
		struct bc_error *err = bc_disasm_decode(machine, at, code + (at - code_base),
							(size_t)(end - at), NULL, &insn);
		if (err) {
			bc_error_destroy(err);
			return -1;
		}
		if (n < room)
			starts[n] = at;
		n++;
		at += insn.length;
	}
	return at == end ? (long)n : -1;
}

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
	uint64_t back = size, base = end - back;
	uint64_t *starts = malloc(sizeof(*starts) * (BC_DISASM_BACK_MAX + 1));
	uint64_t *votes_at = calloc(BC_DISASM_BACK_MAX + 1, sizeof(*votes_at));
	if (!starts || !votes_at) {
		free(starts);
		free(votes_at);
		return &bc_enomem;
	}
	if (function_start && function_start >= base && function_start < end) {
		long n = decode_run(machine, code, base, function_start, end, starts,
				    BC_DISASM_BACK_MAX + 1);
		if (n >= (long)count) {
			*start_ret = starts[n - (long)count];
			free(starts);
			free(votes_at);
			return NULL;
		}
	}
	for (uint64_t start = base; start < end; start++) {
		long n = decode_run(machine, code, base, start, end, starts, BC_DISASM_BACK_MAX + 1);
		if (n >= (long)count)
			votes_at[starts[n - (long)count] - base]++;
	}
	uint64_t best_votes = 0;
	for (uint64_t i = 0; i < back; i++) {
		if (votes_at[i] > best_votes) {
			best_votes = votes_at[i];
			*start_ret = base + i;
		}
	}
	free(starts);
	free(votes_at);
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
