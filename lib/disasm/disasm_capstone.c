// ARM64 decoding with Capstone 4 (the only file that includes its headers;
// a Capstone 6 shim, CS_ARCH_AARCH64 and friends, would live here too).
//
// Capstone's text is reshaped towards WinDbg's: no blank after commas,
// fp/lr for x29/x30, branch and ADR/ADRP targets as backticked addresses
// (named by the caller when possible), and the PAC/BTI hints that Capstone 4
// prints as "hint #0x1b" under their names, since every Windows ARM64
// function starts with one.
#include <capstone/capstone.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "disasm/disasm_private.h"

// HINT immediates with names (Arm ARM, "HINT"): pointer authentication and BTI.
static const char *hint_name(uint64_t imm)
{
	switch (imm) {
	case 0x07: return "xpaclri";
	case 0x18: return "paciaz";
	case 0x19: return "paciasp";
	case 0x1a: return "pacibz";
	case 0x1b: return "pacibsp";
	case 0x1c: return "autiaz";
	case 0x1d: return "autiasp";
	case 0x1e: return "autibz";
	case 0x1f: return "autibsp";
	case 0x20: return "bti";
	case 0x22: return "bti c";
	case 0x24: return "bti j";
	case 0x26: return "bti jc";
	}
	return NULL;
}

// Copies Capstone's operand text without the blank after commas and with
// x29/x30 as fp/lr (whole words only: "x290" does not exist, "[x29," does).
static void clean_operands(const char *in, char *out, size_t size)
{
	out[0] = 0;
	for (size_t i = 0; in[i];) {
		if (in[i] == ',' && in[i + 1] == ' ') {
			bc_disasm_append(out, size, ",");
			i += 2;
			continue;
		}
		bool word_start = i == 0 || !isalnum((unsigned char)in[i - 1]);
		if (word_start && in[i] == 'x' && in[i + 1] == '2' && in[i + 2] == '9' &&
		    !isalnum((unsigned char)in[i + 3])) {
			bc_disasm_append(out, size, "fp");
			i += 3;
			continue;
		}
		if (word_start && in[i] == 'x' && in[i + 1] == '3' && in[i + 2] == '0' &&
		    !isalnum((unsigned char)in[i + 3])) {
			bc_disasm_append(out, size, "lr");
			i += 3;
			continue;
		}
		char c[2] = { in[i], 0 };
		bc_disasm_append(out, size, c);
		i++;
	}
}

// Replaces the last "#0x..." in @ops (the PC-relative target Capstone
// printed) with the WinDbg form of @target.
static void replace_target(const struct bc_disasm_options *options, uint64_t target, char *ops,
			   size_t size)
{
	char *hash = strrchr(ops, '#');
	if (!hash)
		return;
	char *end = hash + 1;
	while (*end && (isxdigit((unsigned char)*end) || *end == 'x'))
		end++;
	char tail[BC_INSN_TEXT_SIZE];
	snprintf(tail, sizeof(tail), "%s", end);
	char addr[BC_INSN_TEXT_SIZE];
	bc_disasm_put_address(options, target, 8, addr, sizeof(addr));
	*hash = 0;
	bc_disasm_append(ops, size, addr);
	bc_disasm_append(ops, size, tail);
}

static void describe(const cs_insn *ci, struct bc_insn *insn)
{
	const cs_arm64 *d = &ci->detail->arm64;
	const cs_arm64_op *last = d->op_count ? &d->operands[d->op_count - 1] : NULL;
	bool imm_target = last && last->type == ARM64_OP_IMM;
	switch (ci->id) {
	case ARM64_INS_BL:
		insn->flags |= BC_INSN_CALL;
		break;
	case ARM64_INS_BLR:
		insn->flags |= BC_INSN_CALL;
		imm_target = false;
		break;
	case ARM64_INS_RET:
		insn->flags |= BC_INSN_RETURN;
		imm_target = false;
		break;
	case ARM64_INS_B:
		insn->flags |= BC_INSN_BRANCH;
		if (d->cc != ARM64_CC_INVALID && d->cc != ARM64_CC_AL)
			insn->flags |= BC_INSN_CONDITIONAL;
		break;
	case ARM64_INS_BR:
		insn->flags |= BC_INSN_BRANCH;
		imm_target = false;
		break;
	case ARM64_INS_CBZ:
	case ARM64_INS_CBNZ:
	case ARM64_INS_TBZ:
	case ARM64_INS_TBNZ:
		insn->flags |= BC_INSN_BRANCH | BC_INSN_CONDITIONAL;
		break;
	case ARM64_INS_ADR:
	case ARM64_INS_ADRP:
		break;
	default:
		imm_target = false;
		break;
	}
	if (imm_target) {
		insn->flags |= BC_INSN_HAS_TARGET;
		insn->target = (uint64_t)last->imm;
	}
}

static struct bc_error *capstone_decode(enum bc_machine machine, uint64_t address,
					const uint8_t *code, size_t size,
					const struct bc_disasm_options *options,
					struct bc_insn *ret)
{
	if (machine != BC_MACHINE_ARM64)
		return bc_error_create(BC_ERR_UNSUPPORTED, "the Capstone backend decodes only ARM64");
	if (size < 4)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "the %zu bytes at %#" PRIx64 " end inside an arm64 instruction",
				       size, address);
	csh handle;
	cs_err cerr = cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &handle);
	if (cerr != CS_ERR_OK)
		return cerr == CS_ERR_MEM ? &bc_enomem
					  : bc_error_create(BC_ERR_UNSUPPORTED, "Capstone: %s",
							    cs_strerror(cerr));
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *ci = cs_malloc(handle);
	if (!ci) {
		cs_close(&handle);
		return &bc_enomem;
	}
	const uint8_t *p = code;
	size_t left = 4;
	uint64_t at = address;
	struct bc_error *err = NULL;
	if (cs_disasm_iter(handle, &p, &left, &at, ci)) {
		struct bc_insn insn = { .machine = machine, .address = address, .length = 4 };
		memcpy(insn.bytes, code, 4);
		describe(ci, &insn);
		const cs_arm64 *d = &ci->detail->arm64;
		const char *hint = ci->id == ARM64_INS_HINT && d->op_count == 1 &&
					   d->operands[0].type == ARM64_OP_IMM
				   ? hint_name((uint64_t)d->operands[0].imm) : NULL;
		snprintf(insn.mnemonic, sizeof(insn.mnemonic), "%s", hint ? hint : ci->mnemonic);
		if (!hint) {
			clean_operands(ci->op_str, insn.operands, sizeof(insn.operands));
			if (insn.flags & BC_INSN_HAS_TARGET)
				replace_target(options, insn.target, insn.operands,
					       sizeof(insn.operands));
		}
		*ret = insn;
	} else {
		err = bc_error_create(BC_ERR_INVALID_ARG,
				      "the word %02x%02x%02x%02x at %#" PRIx64 " is not a valid arm64 "
				      "instruction", code[3], code[2], code[1], code[0], address);
	}
	cs_free(ci, 1);
	cs_close(&handle);
	return err;
}

const struct bc_disasm_backend bc_disasm_capstone = { "Capstone", capstone_decode, NULL };
