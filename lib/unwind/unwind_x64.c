// One x64 virtual unwind step: see unwind/unwind_x64.h. The rules follow
// Microsoft's "x64 exception handling" documentation (UNWIND_INFO, UNWIND_CODE,
// the unwind procedure); ../shared/docs/UNWIND_AND_SYMBOLS.md section 2.
#include <string.h>

#include "base/bytes.h"
#include "unwind/unwind_x64.h"

enum {
	UWOP_PUSH_NONVOL = 0,
	UWOP_ALLOC_LARGE = 1,
	UWOP_ALLOC_SMALL = 2,
	UWOP_SET_FPREG = 3,
	UWOP_SAVE_NONVOL = 4,
	UWOP_SAVE_NONVOL_FAR = 5,
	UWOP_EPILOG = 6,          ///< v2; v1: SAVE_XMM (2 slots)
	UWOP_SPARE = 7,           ///< v1: SAVE_XMM_FAR (3 slots)
	UWOP_SAVE_XMM128 = 8,
	UWOP_SAVE_XMM128_FAR = 9,
	UWOP_PUSH_MACHFRAME = 10,
};

enum {
	UNW_FLAG_CHAININFO = 4,
	MAX_CHAIN = 32,          ///< chained entries followed before calling the table corrupt
	EPILOG_MAX_BYTES = 64,   ///< add/lea + 16 pops + terminator fit easily
};

struct unwind_info {
	uint8_t version, flags, prolog_size, code_count, frame_register, frame_offset;
	uint8_t codes[2 * 256];
	uint64_t address;  ///< VA of the UNWIND_INFO, for messages
};

static uint64_t *reg(struct bc_context_x64 *c, unsigned n)
{
	switch (n & 15) {
	case 0: return &c->rax;
	case 1: return &c->rcx;
	case 2: return &c->rdx;
	case 3: return &c->rbx;
	case 4: return &c->rsp;
	case 5: return &c->rbp;
	case 6: return &c->rsi;
	case 7: return &c->rdi;
	case 8: return &c->r8;
	case 9: return &c->r9;
	case 10: return &c->r10;
	case 11: return &c->r11;
	case 12: return &c->r12;
	case 13: return &c->r13;
	case 14: return &c->r14;
	default: return &c->r15;
	}
}

static struct bc_error *read_u64(const struct bc_unwind_io *io, uint64_t address, uint64_t *ret)
{
	uint8_t b[8];
	struct bc_error *err = io->read_memory(io->arg, address, b, 8);
	if (!err)
		*ret = bc_le64(b);
	return err;
}

static struct bc_error *load_info(const struct bc_unwind_io *io, uint64_t base, uint32_t rva,
				  struct unwind_info *ui)
{
	uint8_t h[4];
	ui->address = base + rva;
	struct bc_error *err = io->read_image(io->arg, base, rva, h, 4);
	if (err)
		return err;
	ui->version = h[0] & 7;
	ui->flags = h[0] >> 3;
	ui->prolog_size = h[1];
	ui->code_count = h[2];
	ui->frame_register = h[3] & 15;
	ui->frame_offset = h[3] >> 4;
	if (ui->version != 1 && ui->version != 2)
		return bc_error_create(BC_ERR_FORMAT, "UNWIND_INFO at %#llx has version %u (1 or 2 "
				       "expected)", (unsigned long long)ui->address, ui->version);
	if (ui->code_count)
		return io->read_image(io->arg, base, (uint64_t)rva + 4, ui->codes,
				      2u * ui->code_count);
	return NULL;
}

// Slots (2-byte units) used by a code, or 0 for an operation that cannot appear.
static unsigned slots_of(const struct unwind_info *ui, unsigned op, unsigned info)
{
	switch (op) {
	case UWOP_PUSH_NONVOL: case UWOP_ALLOC_SMALL: case UWOP_SET_FPREG:
	case UWOP_PUSH_MACHFRAME:
		return 1;
	case UWOP_ALLOC_LARGE: return info == 0 ? 2 : info == 1 ? 3 : 0;
	case UWOP_SAVE_NONVOL: case UWOP_SAVE_XMM128: return 2;
	case UWOP_SAVE_NONVOL_FAR: case UWOP_SAVE_XMM128_FAR: return 3;
	case UWOP_EPILOG: return ui->version == 2 ? 1 : 2;
	case UWOP_SPARE: return ui->version == 1 ? 3 : 0;
	}
	return 0;
}

static uint16_t slot(const struct unwind_info *ui, unsigned i)
{
	return bc_le16(ui->codes + 2 * i);
}

// Where RSP was when the frame register was set: the base of SAVE_* offsets.
// Before SET_FPREG has run (in the prolog), it is RSP itself.
static uint64_t frame_base(const struct unwind_info *ui, struct bc_context_x64 *c,
			   bool in_prolog, unsigned prolog_offset)
{
	if (!ui->frame_register)
		return c->rsp;
	if (in_prolog) {
		for (unsigned i = 0; i < ui->code_count; i++) {
			unsigned op = ui->codes[2 * i + 1] & 15;
			if (op == UWOP_SET_FPREG && ui->codes[2 * i] > prolog_offset)
				return c->rsp;
		}
	}
	return *reg(c, ui->frame_register) - 16u * ui->frame_offset;
}

// Applies the codes of one UNWIND_INFO. With @in_prolog, codes whose
// instruction has not executed yet (CodeOffset > @prolog_offset) are skipped.
static struct bc_error *apply_codes(const struct bc_unwind_io *io, const struct unwind_info *ui,
				    struct bc_context_x64 *c, bool in_prolog,
				    unsigned prolog_offset, struct bc_unwind_x64_result *ret)
{
	uint64_t frame = frame_base(ui, c, in_prolog, prolog_offset);
	unsigned i = 0;
	// Version 2 puts its EPILOG descriptors first; they change no register.
	if (ui->version == 2)
		while (i < ui->code_count && (ui->codes[2 * i + 1] & 15) == UWOP_EPILOG)
			i++;
	while (i < ui->code_count) {
		unsigned code_offset = ui->codes[2 * i], op = ui->codes[2 * i + 1] & 15;
		unsigned info = ui->codes[2 * i + 1] >> 4;
		unsigned n = slots_of(ui, op, info);
		if (!n || i + n > ui->code_count)
			return bc_error_create(BC_ERR_FORMAT, "UNWIND_INFO at %#llx: bad unwind code "
					       "%u (operation %u) at slot %u",
					       (unsigned long long)ui->address, code_offset, op, i);
		if (in_prolog && code_offset > prolog_offset) {
			i += n;
			continue;
		}
		struct bc_error *err = NULL;
		uint64_t v, at;
		switch (op) {
		case UWOP_PUSH_NONVOL:
			err = read_u64(io, c->rsp, &v);
			if (!err) {
				*reg(c, info) = v;
				c->rsp += 8;
			}
			break;
		case UWOP_ALLOC_LARGE:
			c->rsp += info == 0 ? 8u * slot(ui, i + 1)
					    : (uint64_t)slot(ui, i + 1) | (uint64_t)slot(ui, i + 2) << 16;
			break;
		case UWOP_ALLOC_SMALL:
			c->rsp += 8u * info + 8;
			break;
		case UWOP_SET_FPREG:
			c->rsp = *reg(c, ui->frame_register) - 16u * ui->frame_offset;
			break;
		case UWOP_SAVE_NONVOL:
		case UWOP_SAVE_NONVOL_FAR:
			at = frame + (op == UWOP_SAVE_NONVOL
					      ? 8u * slot(ui, i + 1)
					      : ((uint64_t)slot(ui, i + 1) | (uint64_t)slot(ui, i + 2) << 16));
			err = read_u64(io, at, &v);
			if (!err)
				*reg(c, info) = v;
			break;
		case UWOP_PUSH_MACHFRAME: {
			uint64_t rip, rsp;
			uint64_t mf = c->rsp + (info ? 8 : 0);
			err = read_u64(io, mf, &rip);
			if (!err)
				err = read_u64(io, mf + 0x18, &rsp);
			if (!err) {
				ret->flags |= BC_UNWIND_X64_MACHINE_FRAME;
				ret->machine_frame = mf;
				ret->machine_frame_error_code = info != 0;
				c->rip = rip;
				c->rsp = rsp;
			}
			break;
		}
		default:  // XMM saves and v1 EPILOG/SPARE: no integer register effect
			break;
		}
		if (err)
			return err;
		if (ret->flags & BC_UNWIND_X64_MACHINE_FRAME)
			return NULL;  // the machine frame is the last code
		i += n;
	}
	return NULL;
}

// Recognises and executes an epilog starting at RIP: [add rsp,N | lea rsp,[r+d]],
// pop*, then ret / ret N / rep ret / a jmp out of the function (tail call).
// Returns true when RIP is in such an epilog (then *@c is the caller's context).
static bool try_epilog(const struct bc_unwind_io *io, uint64_t base,
		       const struct bc_x64_runtime_function *rf, struct bc_context_x64 *c,
		       struct bc_error **err_ret)
{
	uint8_t code[EPILOG_MAX_BYTES];
	size_t have = 0;
	// The epilog may end near the end of readable code: take what can be read.
	for (size_t want = sizeof(code); want >= 1 && !have; want /= 2) {
		struct bc_error *err = io->read_image(io->arg, base, c->rip - base, code, want);
		if (!err)
			have = want;
		bc_error_destroy(err);
	}
	if (!have)
		return false;
	struct bc_context_x64 t = *c;
	size_t p = 0;
	// Optional stack release.
	if (p + 4 <= have && code[p] == 0x48 && code[p + 1] == 0x83 && code[p + 2] == 0xc4) {
		t.rsp += code[p + 3];
		p += 4;
	} else if (p + 7 <= have && code[p] == 0x48 && code[p + 1] == 0x81 && code[p + 2] == 0xc4) {
		t.rsp += bc_le32(code + p + 3);
		p += 7;
	} else if (p + 4 <= have && (code[p] & 0xfe) == 0x48 && code[p + 1] == 0x8d) {
		unsigned modrm = code[p + 2], mod = modrm >> 6, rm = (modrm & 7) | (code[p] & 1) << 3;
		if (((modrm >> 3) & 7) != 4 || (modrm & 7) == 4 || (mod != 1 && mod != 2))
			return false;
		int64_t disp;
		if (mod == 1) {
			disp = (int8_t)code[p + 3];
			p += 4;
		} else {
			if (p + 7 > have)
				return false;
			disp = (int32_t)bc_le32(code + p + 3);
			p += 7;
		}
		t.rsp = *reg(&t, rm) + (uint64_t)disp;
	}
	// Pops.
	for (int pops = 0; pops < 16 && p < have; pops++) {
		unsigned r;
		if ((code[p] & 0xf8) == 0x58) {
			r = code[p] & 7;
			p += 1;
		} else if (p + 1 < have && code[p] == 0x41 && (code[p + 1] & 0xf8) == 0x58) {
			r = 8 + (code[p + 1] & 7);
			p += 2;
		} else {
			break;
		}
		uint64_t v;
		struct bc_error *err = read_u64(io, t.rsp, &v);
		if (err) {
			*err_ret = err;
			return true;  // it is an epilog, but the stack cannot be read
		}
		*reg(&t, r) = v;
		t.rsp += 8;
	}
	// Terminator.
	uint64_t extra = 0;
	if (p < have && code[p] == 0xc3) {
	} else if (p + 1 < have && code[p] == 0xf3 && code[p + 1] == 0xc3) {
	} else if (p + 2 < have && code[p] == 0xc2) {
		extra = bc_le16(code + p + 1);
	} else if (p + 1 < have && (code[p] == 0xeb || code[p] == 0xe9)) {
		int64_t rel;
		size_t len;
		if (code[p] == 0xeb) {
			rel = (int8_t)code[p + 1];
			len = 2;
		} else {
			if (p + 5 > have)
				return false;
			rel = (int32_t)bc_le32(code + p + 1);
			len = 5;
		}
		uint64_t target = c->rip + p + len + (uint64_t)rel;
		if (target >= base + rf->begin && target < base + rf->end)
			return false;  // a jump inside the function is not a tail call
	} else if (p + 1 < have && ((code[p] == 0xff && code[p + 1] == 0x25) ||
				    (p + 2 < have && code[p] == 0x48 && code[p + 1] == 0xff &&
				     code[p + 2] == 0x25))) {
		// jmp qword ptr [rip+x]: a tail call through the import table.
	} else {
		return false;
	}
	uint64_t rip;
	struct bc_error *err = read_u64(io, t.rsp, &rip);
	if (err) {
		*err_ret = err;
		return true;
	}
	t.rip = rip;
	t.rsp += 8 + extra;
	*c = t;
	return true;
}

struct bc_error *bc_unwind_x64_step(const struct bc_unwind_io *io, uint64_t image_base,
				    const struct bc_x64_runtime_function *rf,
				    struct bc_context_x64 *ctx, struct bc_unwind_x64_result *ret)
{
	*ret = (struct bc_unwind_x64_result){ 0 };
	struct bc_context_x64 c = *ctx;
	struct bc_error *err;
	if (!rf) {
		uint64_t rip;
		err = read_u64(io, c.rsp, &rip);
		if (err)
			return err;
		c.rip = rip;
		c.rsp += 8;
		ret->flags |= BC_UNWIND_X64_LEAF;
		ret->establisher_frame = ctx->rsp;
		*ctx = c;
		return NULL;
	}
	struct unwind_info ui;
	err = load_info(io, image_base, rf->unwind_rva, &ui);
	if (err)
		return err;
	uint64_t begin = image_base + rf->begin;
	bool in_function = c.rip >= begin && c.rip < image_base + rf->end;
	unsigned prolog_offset = in_function && c.rip - begin < 256 ? (unsigned)(c.rip - begin) : 256;
	bool in_prolog = in_function && prolog_offset < ui.prolog_size;
	if (in_prolog)
		ret->flags |= BC_UNWIND_X64_IN_PROLOG;
	ret->establisher_frame = frame_base(&ui, &c, in_prolog, prolog_offset);
	if (in_function && !in_prolog && ui.code_count) {
		struct bc_error *epilog_err = NULL;
		if (try_epilog(io, image_base, rf, &c, &epilog_err)) {
			if (epilog_err)
				return epilog_err;
			ret->flags |= BC_UNWIND_X64_EPILOG;
			*ctx = c;
			return NULL;
		}
	}
	err = apply_codes(io, &ui, &c, in_prolog, prolog_offset, ret);
	for (int depth = 0; !err && (ui.flags & UNW_FLAG_CHAININFO) &&
			    !(ret->flags & BC_UNWIND_X64_MACHINE_FRAME); depth++) {
		if (depth == MAX_CHAIN)
			return bc_error_create(BC_ERR_FORMAT, "unwind info chain longer than %d "
					       "entries at %#llx (a cycle?)", MAX_CHAIN,
					       (unsigned long long)ui.address);
		uint8_t entry[12];
		uint64_t at = ui.address - image_base + 4 + 2u * ((ui.code_count + 1u) & ~1u);
		err = io->read_image(io->arg, image_base, at, entry, sizeof(entry));
		if (err)
			break;
		err = load_info(io, image_base, bc_le32(entry + 8), &ui);
		if (!err)
			err = apply_codes(io, &ui, &c, false, 0, ret);
		ret->flags |= BC_UNWIND_X64_CHAINED;
	}
	if (err)
		return err;
	if (!(ret->flags & BC_UNWIND_X64_MACHINE_FRAME)) {
		uint64_t rip;
		err = read_u64(io, c.rsp, &rip);
		if (err)
			return err;
		c.rip = rip;
		c.rsp += 8;
	}
	*ctx = c;
	return NULL;
}

struct bc_error *bc_unwind_x64_lookup(const struct bc_unwind_io *io, uint64_t image_base,
				      uint32_t pdata_rva, uint32_t pdata_size, uint64_t rva,
				      struct bc_x64_runtime_function *ret)
{
	uint64_t count = pdata_size / 12, lo = 0, hi = count;
	uint8_t e[12];
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		struct bc_error *err = io->read_image(io->arg, image_base, pdata_rva + mid * 12, e, 12);
		if (err)
			return err;
		uint32_t begin = bc_le32(e), end = bc_le32(e + 4);
		if (rva < begin) {
			hi = mid;
		} else if (rva >= end) {
			lo = mid + 1;
		} else {
			uint32_t unwind = bc_le32(e + 8);
			// Indirect entries: UnwindData names another RUNTIME_FUNCTION,
			// which then describes the function (its range and its unwind data).
			for (int hops = 0; unwind & 1; hops++) {
				if (hops == MAX_CHAIN)
					return bc_error_create(BC_ERR_FORMAT, "indirect .pdata entries "
							       "loop at rva %#x", unwind & ~1u);
				err = io->read_image(io->arg, image_base, unwind & ~1u, e, 12);
				if (err)
					return err;
				begin = bc_le32(e);
				end = bc_le32(e + 4);
				unwind = bc_le32(e + 8);
			}
			*ret = (struct bc_x64_runtime_function){ begin, end, unwind };
			return NULL;
		}
	}
	return &bc_not_found;
}
