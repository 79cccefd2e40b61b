// x86 and x64 decoding with Zydis 4 (the only file that includes its headers).
//
// Zydis' Intel formatter is close to WinDbg's output; the differences are
// fixed on Zydis' token stream rather than on the finished string, so that
// numbers, delimiters and mnemonics are rewritten by kind:
//  - ", " between operands becomes "," (WinDbg: "mov     dword ptr [r9+r8],edx");
//  - numbers become MASM style: "0E0h", "91h", single digits bare ("[rsp+8]");
//  - the target of a relative branch or RIP-relative operand becomes the
//    backticked address, named by the caller when it can be;
//  - condition suffixes take WinDbg's names (jnz -> jne, cmovz -> cmove).
#include <Zydis/Zydis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm/disasm_private.h"

static struct bc_error *init_formatter(ZydisFormatter *f)
{
	// Keep the "0x" prefix so every hex token parses back unambiguously;
	// numbers are rewritten afterwards (render_number).
	const struct {
		ZydisFormatterProperty prop;
		ZyanUPointer value;
	} props[] = {
		{ ZYDIS_FORMATTER_PROP_FORCE_SIZE, ZYAN_TRUE },
		{ ZYDIS_FORMATTER_PROP_FORCE_SCALE_ONE, ZYAN_FALSE },
		{ ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_TRUE },
		{ ZYDIS_FORMATTER_PROP_IMM_SIGNEDNESS, ZYDIS_SIGNEDNESS_UNSIGNED },
		{ ZYDIS_FORMATTER_PROP_IMM_PADDING, ZYDIS_PADDING_DISABLED },
		{ ZYDIS_FORMATTER_PROP_DISP_PADDING, ZYDIS_PADDING_DISABLED },
		{ ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE, ZYDIS_PADDING_DISABLED },
	};
	if (!ZYAN_SUCCESS(ZydisFormatterInit(f, ZYDIS_FORMATTER_STYLE_INTEL)))
		return bc_error_create(BC_ERR_UNSUPPORTED, "Zydis refused the Intel formatter style");
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		if (!ZYAN_SUCCESS(ZydisFormatterSetProperty(f, props[i].prop, props[i].value)))
			return bc_error_create(BC_ERR_UNSUPPORTED,
					       "Zydis refused formatter property %d", (int)props[i].prop);
	}
	return NULL;
}

// WinDbg's condition names for Zydis' (Intel manual's first) mnemonic forms.
static void rename_mnemonic(const char *zydis, char *buf, size_t size)
{
	static const char *const stems[] = { "j", "cmov", "set" };
	static const char *const conds[][2] = {
		{ "z", "e" }, { "nz", "ne" }, { "nb", "ae" }, { "nbe", "a" }, { "nl", "ge" },
		{ "nle", "g" },
	};
	for (size_t s = 0; s < sizeof(stems) / sizeof(stems[0]); s++) {
		size_t n = strlen(stems[s]);
		if (strncmp(zydis, stems[s], n))
			continue;
		for (size_t c = 0; c < sizeof(conds) / sizeof(conds[0]); c++) {
			if (!strcmp(zydis + n, conds[c][0])) {
				snprintf(buf, size, "%s%s", stems[s], conds[c][1]);
				return;
			}
		}
	}
	snprintf(buf, size, "%s", zydis);
}

// MASM hex as WinDbg prints it: digits 0-9 bare, else upper-case hex with an
// "h" suffix and a leading 0 when the first digit is a letter ("0E0h").
static void render_number(uint64_t v, char *buf, size_t size)
{
	if (v < 10) {
		snprintf(buf, size, "%" PRIu64, v);
		return;
	}
	char hex[20];
	snprintf(hex, sizeof(hex), "%" PRIX64, v);
	snprintf(buf, size, "%s%sh", hex[0] >= 'A' ? "0" : "", hex);
}

struct render {
	const struct bc_disasm_options *options;
	unsigned pointer_size;
	bool has_target;
	uint64_t target;
};

// A number token from Zydis: "0x1F" (hex) or "2" (decimal scale).
static void render_token_number(const struct render *r, ZydisTokenType type, const char *text,
				char *buf, size_t size)
{
	char *end;
	uint64_t v = strtoull(text, &end, 0);
	if (*end || end == text) {
		snprintf(buf, size, "%s", text);  // not a plain number: keep Zydis' text
		return;
	}
	if (type == ZYDIS_TOKEN_ADDRESS_ABS && r->has_target && v == r->target)
		bc_disasm_put_address(r->options, v, r->pointer_size, buf, size);
	else
		render_number(v, buf, size);
}

static struct bc_error *render_tokens(const struct render *r, const ZydisFormatterToken *token,
				      struct bc_insn *insn)
{
	bool after_mnemonic = false, skipped_blank = false, after_comma = false;
	insn->mnemonic[0] = 0;
	insn->operands[0] = 0;
	for (;;) {
		ZydisTokenType type;
		ZyanConstCharPointer value;
		if (!ZYAN_SUCCESS(ZydisFormatterTokenGetValue(token, &type, &value)))
			return bc_error_create(BC_ERR_UNSUPPORTED, "Zydis returned a bad token");
		char piece[BC_INSN_TEXT_SIZE];
		if (!after_mnemonic) {
			// Prefixes ("lock ", "rep ") and the mnemonic itself.
			if (type == ZYDIS_TOKEN_MNEMONIC) {
				rename_mnemonic(value, piece, sizeof(piece));
				after_mnemonic = true;
			} else {
				snprintf(piece, sizeof(piece), "%s", value);
			}
			bc_disasm_append(insn->mnemonic, sizeof(insn->mnemonic), piece);
		} else if (!skipped_blank && type == ZYDIS_TOKEN_WHITESPACE) {
			skipped_blank = true;  // the blank between mnemonic and operands
		} else if (after_comma && type == ZYDIS_TOKEN_WHITESPACE) {
			after_comma = false;  // WinDbg: "mov     eax,ecx", no blank after the comma
		} else {
			skipped_blank = true;
			after_comma = false;
			switch (type) {
			case ZYDIS_TOKEN_DELIMITER:
				after_comma = value[0] == ',';
				snprintf(piece, sizeof(piece), "%s", after_comma ? "," : value);
				break;
			case ZYDIS_TOKEN_IMMEDIATE:
			case ZYDIS_TOKEN_DISPLACEMENT:
			case ZYDIS_TOKEN_ADDRESS_ABS:
			case ZYDIS_TOKEN_ADDRESS_REL:
				render_token_number(r, type, value, piece, sizeof(piece));
				break;
			default:
				snprintf(piece, sizeof(piece), "%s", value);
				break;
			}
			bc_disasm_append(insn->operands, sizeof(insn->operands), piece);
		}
		if (!ZYAN_SUCCESS(ZydisFormatterTokenNext(&token)))
			break;
	}
	return NULL;
}

static void copy_register(ZydisRegister reg, char *buf, size_t size)
{
	const char *name = reg == ZYDIS_REGISTER_NONE ? NULL : ZydisRegisterGetString(reg);
	snprintf(buf, size, "%s", name ? name : "");
}

// Control flow, the relative target and the explicit memory operand.
static void describe(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
		     uint64_t address, struct bc_insn *insn)
{
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_CALL: insn->flags |= BC_INSN_CALL; break;
	case ZYDIS_CATEGORY_RET: insn->flags |= BC_INSN_RETURN; break;
	case ZYDIS_CATEGORY_COND_BR: insn->flags |= BC_INSN_BRANCH | BC_INSN_CONDITIONAL; break;
	case ZYDIS_CATEGORY_UNCOND_BR: insn->flags |= BC_INSN_BRANCH; break;
	default: break;
	}
	for (unsigned i = 0; i < in->operand_count_visible; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		bool rip_relative = op->type == ZYDIS_OPERAND_TYPE_MEMORY &&
				    (op->mem.base == ZYDIS_REGISTER_RIP ||
				     op->mem.base == ZYDIS_REGISTER_EIP);
		ZyanU64 target;
		if (((op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op->imm.is_relative) ||
		     rip_relative) &&
		    !(insn->flags & BC_INSN_HAS_TARGET) &&
		    ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(in, op, address, &target))) {
			insn->flags |= BC_INSN_HAS_TARGET;
			insn->target = target;
		}
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
		    op->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
		    (insn->flags & BC_INSN_HAS_MEMORY))
			continue;
		struct bc_insn_memory *m = &insn->memory;
		insn->flags |= BC_INSN_HAS_MEMORY;
		copy_register(op->mem.segment, m->segment, sizeof(m->segment));
		copy_register(op->mem.index, m->index, sizeof(m->index));
		m->scale = m->index[0] ? op->mem.scale : 0;
		m->size = op->size % 8 ? 0 : op->size / 8u;
		if (rip_relative && (insn->flags & BC_INSN_HAS_TARGET)) {
			m->disp = (int64_t)insn->target;
		} else {
			copy_register(op->mem.base, m->base, sizeof(m->base));
			m->disp = op->mem.disp.has_displacement ? op->mem.disp.value : 0;
		}
	}
}

static struct bc_error *zydis_decode(enum bc_machine machine, uint64_t address,
				     const uint8_t *code, size_t size,
				     const struct bc_disasm_options *options, struct bc_insn *ret)
{
	bool is64 = machine == BC_MACHINE_X64;
	if (machine != BC_MACHINE_X64 && machine != BC_MACHINE_X86)
		return bc_error_create(BC_ERR_UNSUPPORTED, "the Zydis backend decodes only x86/x64");
	// 32-bit code: targets wrap at 4 GiB whether or not the caller sign-extended.
	uint64_t runtime = is64 ? address : address & 0xffffffff;
	ZydisDecoder decoder;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder,
					   is64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
					   is64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32)))
		return bc_error_create(BC_ERR_UNSUPPORTED, "Zydis refused the %s machine mode",
				       bc_machine_name(machine));
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZyanStatus status = ZydisDecoderDecodeFull(&decoder, code, size, &in, ops);
	if (status == ZYDIS_STATUS_NO_MORE_DATA)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "the %zu bytes at %#" PRIx64 " end inside an %s instruction",
				       size, address, bc_machine_name(machine));
	if (!ZYAN_SUCCESS(status))
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "the bytes at %#" PRIx64 " (%02x...) are not a valid %s "
				       "instruction", address, code[0], bc_machine_name(machine));
	ZydisFormatter formatter;
	struct bc_error *err = init_formatter(&formatter);
	if (err)
		return err;
	struct bc_insn insn = { .machine = machine, .address = address, .length = in.length };
	memcpy(insn.bytes, code, in.length < BC_INSN_MAX_BYTES ? in.length : BC_INSN_MAX_BYTES);
	describe(&in, ops, runtime, &insn);
	uint8_t tokens[1024];
	const ZydisFormatterToken *first;
	if (!ZYAN_SUCCESS(ZydisFormatterTokenizeInstruction(&formatter, &in, ops,
							    in.operand_count_visible, tokens,
							    sizeof(tokens), runtime, &first, NULL)))
		return bc_error_create(BC_ERR_UNSUPPORTED,
				       "Zydis could not format the instruction at %#" PRIx64, address);
	struct render r = {
		.options = options,
		.pointer_size = is64 ? 8 : 4,
		.has_target = insn.flags & BC_INSN_HAS_TARGET,
		.target = insn.target,
	};
	if ((err = render_tokens(&r, first, &insn)))
		return err;
	if (!strcmp(insn.mnemonic, "int3") && !insn.operands[0]) {
		// WinDbg spells the breakpoint "int     3".
		snprintf(insn.mnemonic, sizeof(insn.mnemonic), "int");
		snprintf(insn.operands, sizeof(insn.operands), "3");
	}
	*ret = insn;
	return NULL;
}

// Instruction length only: no operands, no formatter (zydis_decode spends
// most of its time formatting text). Operand decoding cannot fail once the
// instruction decoded, so this accepts exactly what zydis_decode accepts.
static unsigned zydis_length(enum bc_machine machine, const uint8_t *code, size_t size)
{
	bool is64 = machine == BC_MACHINE_X64;
	ZydisDecoder decoder;
	ZydisDecodedInstruction in;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder,
					   is64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
					   is64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, NULL, code, size, &in)))
		return 0;
	return in.length;
}

const struct bc_disasm_backend bc_disasm_zydis = { "Zydis", zydis_decode, zydis_length };
