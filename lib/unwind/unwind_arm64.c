// One ARM64 virtual unwind step: see unwind/unwind_arm64.h. Record layouts,
// unwind codes, the packed-word expansion and the prolog/epilog rules follow
// Microsoft's "ARM64 exception handling" document. Facts taken from elsewhere:
// codes 0xe8-0xef stand for no instruction when prologs and epilogs are
// measured; the homing of x0-x7 (H) is part of the packed save area only
// when registers are saved there; ARM64_KTRAP_FRAME keeps Spsr at 0x90, Sp
// at 0x98, X0-X18 at 0xa0, Lr at 0x138, Fp at 0x140 and Pc at 0x148 (the
// public definition of the structure).
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "unwind/unwind_arm64.h"

enum {
	OP_ALLOC_L = 0xe0,
	OP_SET_FP = 0xe1,
	OP_ADD_FP = 0xe2,
	OP_NOP = 0xe3,
	OP_END = 0xe4,
	OP_END_C = 0xe5,
	OP_SAVE_NEXT = 0xe6,
	OP_SAVE_ANY_REG = 0xe7,
	OP_TRAP_FRAME = 0xe8,
	OP_MACHINE_FRAME = 0xe9,
	OP_CONTEXT = 0xea,
	OP_EC_CONTEXT = 0xeb,
	OP_CLEAR_UNWOUND_TO_CALL = 0xec,
	OP_PAC_SIGN_LR = 0xfc,

	TF_SPSR = 0x90,
	TF_SP = 0x98,
	TF_X = 0xa0,
	TF_LR = 0x138,
	TF_FP = 0x140,
	TF_PC = 0x148,

	REG_FP = 29,
	REG_LR = 30,
	PACKED_LOCAL_SPLIT = 4080,  ///< canonical prologs subtract larger local areas in two steps
};

static struct bc_error *corrupt(uint64_t where, const char *fmt, ...) BC_PRINTF(2, 3);

static struct bc_error *corrupt(uint64_t where, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return &bc_enomem;
	struct bc_error *err = bc_error_create(BC_ERR_FORMAT, "ARM64 unwind data at %#llx: %s",
					       (unsigned long long)where, msg);
	free(msg);
	return err;
}

uint64_t bc_arm64_strip_pac(uint64_t address)
{
	const uint64_t top = 0xffff000000000000ull;
	return address & (1ull << 55) ? address | top : address & ~top;
}

/* ---- Unwind code tables -------------------------------------------------- */

// Bytes taken by the code starting with @op (the first byte decides).
static unsigned code_size(uint8_t op)
{
	if (op < 0xc0)
		return 1;
	if (op < 0xe0)
		return 2;
	switch (op) {
	case OP_ALLOC_L: return 4;
	case OP_ADD_FP: return 2;
	case OP_SAVE_ANY_REG: return 3;
	case 0xf8: return 2;
	case 0xf9: return 3;
	case 0xfa: return 4;
	case 0xfb: return 5;
	}
	return 1;
}

// Instructions the code stands for in a prolog or epilog.
static unsigned code_insns(uint8_t op)
{
	return op >= 0xe8 && op <= 0xf7 ? 0 : 1;
}

static bool is_end(uint8_t op)
{
	return op == OP_END || op == OP_END_C;
}

/* ---- Packed words -------------------------------------------------------- */

// Codes in prolog (execution) order; emitted reversed, as unwind order wants.
struct seq {
	uint8_t bytes[64];
	uint8_t start[32], len[32];
	unsigned count, used;
	bool overflow;
};

static void emit(struct seq *s, unsigned n, unsigned b0, unsigned b1)
{
	if (s->count == 32 || s->used + n > sizeof(s->bytes)) {
		s->overflow = true;
		return;
	}
	s->start[s->count] = (uint8_t)s->used;
	s->len[s->count++] = (uint8_t)n;
	s->bytes[s->used++] = (uint8_t)b0;
	if (n > 1)
		s->bytes[s->used++] = (uint8_t)b1;
}

static void emit_alloc(struct seq *s, uint32_t bytes)
{
	uint32_t x = bytes / 16;
	if (x < 32)
		emit(s, 1, x, 0);                          // alloc_s
	else if (x < 2048)
		emit(s, 2, 0xc0 | x >> 8, x & 0xff);      // alloc_m
	else
		s->overflow = true;  // 9-bit frame sizes never get here
}

// The local area of a canonical prolog: up to 4080 bytes in one sub, more in two.
static void emit_locals(struct seq *s, uint32_t bytes)
{
	if (bytes > PACKED_LOCAL_SPLIT) {
		emit_alloc(s, PACKED_LOCAL_SPLIT);
		emit_alloc(s, bytes - PACKED_LOCAL_SPLIT);
	} else {
		emit_alloc(s, bytes);
	}
}

// Register pair / single saves of the packed save area. @x is the register's
// index from x19 (integers) or d8 (floating point); @predec the whole save
// area's size when this store allocates it, else 0 and @off its offset.
static void emit_int_pair(struct seq *s, unsigned x, uint32_t predec, uint32_t off)
{
	if (predec)
		emit(s, 2, 0xcc | x >> 2, (x & 3) << 6 | (predec / 8 - 1));  // save_regp_x
	else
		emit(s, 2, 0xc8 | x >> 2, (x & 3) << 6 | off / 8);           // save_regp
}

static void emit_int_single(struct seq *s, unsigned x, uint32_t predec, uint32_t off)
{
	if (predec)
		emit(s, 2, 0xd4 | x >> 3, (x & 7) << 5 | (predec / 8 - 1));  // save_reg_x
	else
		emit(s, 2, 0xd0 | x >> 2, (x & 3) << 6 | off / 8);           // save_reg
}

static void emit_fp_pair(struct seq *s, unsigned x, uint32_t predec, uint32_t off)
{
	if (predec)
		emit(s, 2, 0xda | x >> 2, (x & 3) << 6 | (predec / 8 - 1));  // save_fregp_x
	else
		emit(s, 2, 0xd8 | x >> 2, (x & 3) << 6 | off / 8);           // save_fregp
}

static void emit_fp_single(struct seq *s, unsigned x, uint32_t predec, uint32_t off)
{
	if (predec)
		emit(s, 2, 0xde, x << 5 | (predec / 8 - 1));                 // save_freg_x
	else
		emit(s, 2, 0xdc | x >> 2, (x & 3) << 6 | off / 8);           // save_freg
}

// Appends @s's codes in unwind order, skipping set_fp and nop when @epilog.
static void append_reversed(struct bc_unwind_arm64_record *r, const struct seq *s, bool epilog)
{
	for (unsigned k = s->count; k-- > 0;) {
		uint8_t op = s->bytes[s->start[k]];
		if (epilog && (op == OP_SET_FP || op == OP_NOP))
			continue;
		memcpy(r->codes + r->code_size, s->bytes + s->start[k], s->len[k]);
		r->code_size += s->len[k];
	}
}

// Expands a packed word into the codes of its canonical prolog (document's
// steps: pacibsp; integer pairs from x19, the first pre-decrementing the save
// area; lr; d8.. pairs; the homing of x0-x7 as four nops; the local area with
// the <fp,lr> frame record and mov fp,sp when chained). Flag 1 adds the
// epilog (the same codes without set_fp and the nops) at the end of the
// function (E bit); flag 2 (a fragment) puts end_c first: no prolog here, the
// parent's codes unwind the body.
static struct bc_error *expand_packed(uint64_t where, uint32_t w,
				      struct bc_unwind_arm64_record *r)
{
	r->flag = w & 3;
	r->function_length = ((w >> 2) & 0x7ff) * 4;
	r->packed.reg_f = (w >> 13) & 7;
	r->packed.reg_i = (w >> 16) & 15;
	r->packed.h = (w >> 20) & 1;
	r->packed.cr = (w >> 21) & 3;
	r->packed.frame_size = ((w >> 23) & 0x1ff) * 16;
	unsigned reg_i = r->packed.reg_i, cr = r->packed.cr;
	unsigned fp_count = r->packed.reg_f ? r->packed.reg_f + 1u : 0;
	if (reg_i > 10)
		return corrupt(where, "packed word %#x saves %u integer registers (x19-x28 is 10)", w,
			       reg_i);
	uint32_t int_size = 8 * reg_i + (cr == 1 ? 8 : 0), fp_size = 8 * fp_count;
	uint32_t save_size = int_size + fp_size;
	if (save_size && r->packed.h)
		save_size += 64;
	save_size = (save_size + 15) & ~15u;
	if (save_size > r->packed.frame_size)
		return corrupt(where, "packed word %#x: a frame of %u bytes cannot hold its %u-byte "
			       "save area", w, r->packed.frame_size, save_size);
	uint32_t local_size = r->packed.frame_size - save_size;

	struct seq s = { 0 };
	if (cr == 2)
		emit(&s, 1, OP_PAC_SIGN_LR, 0);
	uint32_t predec = save_size, slot = 0;
	if (reg_i == 1 && cr == 1) {
		// No pre-indexed store pairs x19 with lr: the area is allocated first.
		emit_alloc(&s, save_size);
		predec = 0;
	}
	for (unsigned i = 0; i + 1 < reg_i; i += 2) {
		emit_int_pair(&s, i, predec, 8 * slot);
		predec = 0;
		slot += 2;
	}
	if (reg_i % 2 && cr == 1) {
		unsigned x = (reg_i - 1) / 2;
		emit(&s, 2, 0xd6 | x >> 2, (x & 3) << 6 | slot);  // save_lrpair
		slot += 2;
	} else {
		if (reg_i % 2) {
			emit_int_single(&s, reg_i - 1, predec, 8 * slot);
			predec = 0;
			slot++;
		}
		if (cr == 1) {
			emit_int_single(&s, REG_LR - 19, predec, 8 * slot);
			predec = 0;
			slot++;
		}
	}
	for (unsigned i = 0; i + 1 < fp_count; i += 2) {
		emit_fp_pair(&s, i, predec, 8 * slot);
		predec = 0;
		slot += 2;
	}
	if (fp_count % 2) {
		emit_fp_single(&s, fp_count - 1, predec, 8 * slot);
		predec = 0;
		slot++;
	}
	if (r->packed.h && int_size + fp_size)
		for (int k = 0; k < 4; k++)
			emit(&s, 1, OP_NOP, 0);  // stp x0,x1 .. stp x6,x7 into the home area
	if (local_size) {
		if (cr == 2 || cr == 3) {
			if (local_size <= 512) {
				emit(&s, 1, 0x80 | (local_size / 8 - 1), 0);  // save_fplr_x
			} else {
				emit_locals(&s, local_size);
				emit(&s, 1, 0x40, 0);                         // save_fplr 0
			}
			emit(&s, 1, OP_SET_FP, 0);
		} else {
			emit_locals(&s, local_size);
		}
	}
	if (s.overflow)
		return corrupt(where, "packed word %#x expands past its canonical size", w);
	r->code_size = 0;
	if (r->flag == 2)
		r->codes[r->code_size++] = OP_END_C;
	append_reversed(r, &s, false);
	r->codes[r->code_size++] = OP_END;
	if (r->flag == 1) {
		r->epilog_in_header = true;
		r->epilog_index = r->code_size;
		append_reversed(r, &s, true);
		r->codes[r->code_size++] = OP_END;
	}
	return NULL;
}

/* ---- .xdata records ------------------------------------------------------ */

static struct bc_error *read_u32_image(const struct bc_unwind_io *io, uint64_t base, uint64_t rva,
				       uint32_t *ret)
{
	uint8_t b[4];
	struct bc_error *err = io->read_image(io->arg, base, rva, b, 4);
	if (!err)
		*ret = bc_le32(b);
	return err;
}

static struct bc_error *decode_xdata(const struct bc_unwind_io *io, uint64_t base, uint32_t rva,
				     struct bc_unwind_arm64_record *r)
{
	uint64_t where = base + rva;
	uint32_t h;
	struct bc_error *err = read_u32_image(io, base, rva, &h);
	if (err)
		return err;
	r->function_length = (h & 0x3ffff) * 4;
	if ((h >> 18) & 3)
		return corrupt(where, "version %u (only 0 is defined)", (h >> 18) & 3);
	r->exception_data = h >> 20 & 1;
	r->epilog_in_header = h >> 21 & 1;
	uint32_t epilogs = (h >> 22) & 31, words = h >> 27;
	uint64_t p = (uint64_t)rva + 4;
	if (!epilogs && !words) {
		uint32_t x;
		err = read_u32_image(io, base, p, &x);
		if (err)
			return err;
		epilogs = x & 0xffff;
		words = (x >> 16) & 0xff;
		p += 4;
	}
	r->code_size = 4 * words;
	if (r->epilog_in_header) {
		r->epilog_index = epilogs;
		if (epilogs >= r->code_size)
			return corrupt(where, "the epilog starts at code byte %u of %u", epilogs,
				       r->code_size);
	} else {
		r->epilog_scopes = epilogs;
		r->scopes_rva = p;
		p += 4ull * epilogs;
	}
	if (r->code_size) {
		err = io->read_image(io->arg, base, p, r->codes, r->code_size);
		if (err)
			return err;
	}
	if (r->exception_data) {
		err = read_u32_image(io, base, p + r->code_size, &r->handler_rva);
		if (err)
			return err;
	}
	return NULL;
}

struct bc_error *bc_unwind_arm64_decode(const struct bc_unwind_io *io, uint64_t image_base,
					const struct bc_arm64_runtime_function *rf,
					struct bc_unwind_arm64_record *ret)
{
	memset(ret, 0, offsetof(struct bc_unwind_arm64_record, codes));
	ret->flag = rf->unwind & 3;
	switch (ret->flag) {
	case 0:
		return decode_xdata(io, image_base, rf->unwind, ret);
	case 1:
	case 2:
		return expand_packed(image_base + rf->begin, rf->unwind, ret);
	}
	return corrupt(image_base + rf->begin, "the .pdata entry of the function at rva %#x has "
		       "the reserved flag 3", rf->begin);
}

/* ---- The engine ---------------------------------------------------------- */

struct engine {
	const struct bc_unwind_io *io;
	const struct bc_unwind_arm64_record *r;
	struct bc_context_arm64 c;
	struct bc_unwind_arm64_result *ret;
	uint64_t where;
	bool pc_set;  ///< a custom frame gave pc (else pc = lr at the end)
};

// Instructions covered by the codes from @i up to an end code (+1 for an
// epilog's return). Checks that every code fits in the array.
static struct bc_error *scope_size(const struct engine *e, uint32_t i, bool epilog, uint32_t *ret)
{
	const struct bc_unwind_arm64_record *r = e->r;
	uint32_t n = 0;
	while (i < r->code_size && !is_end(r->codes[i])) {
		unsigned size = code_size(r->codes[i]);
		if (size > r->code_size - i)
			return corrupt(e->where, "unwind code %#x at byte %u runs past the %u code "
				       "bytes", r->codes[i], i, r->code_size);
		n += code_insns(r->codes[i]);
		i += size;
	}
	*ret = n + epilog;
	return NULL;
}

static struct bc_error *read_u64(const struct bc_unwind_io *io, uint64_t address, uint64_t *ret)
{
	uint8_t b[8];
	struct bc_error *err = io->read_memory(io->arg, address, b, 8);
	if (!err)
		*ret = bc_le64(b);
	return err;
}

static struct bc_error *add_sp(struct engine *e, uint64_t n)
{
	if (!bc_add_ok(e->c.sp, n, &e->c.sp))
		return corrupt(e->where, "the stack pointer overflows");
	return NULL;
}

static uint64_t *int_reg(struct bc_context_arm64 *c, unsigned n)
{
	return n < 29 ? &c->x[n] : n == REG_FP ? &c->fp : &c->lr;
}

// Restores @count registers from consecutive slots at sp + @offset, or, when
// @writeback (a pre-indexed store in the prolog), from sp and then releases
// @offset bytes. Integer registers run from x@first (x29 fp, x30 lr); a run
// lengthened by save_next past x28 goes on with d8, as the document says.
// Floating-point registers are not tracked: only sp moves for them.
static struct bc_error *restore(struct engine *e, bool fp, unsigned first, unsigned count,
				uint64_t offset, bool writeback, unsigned save_next)
{
	unsigned last = first + count - 1;
	bool into_fp = !fp && save_next && first <= 28 && last > 28;
	if (fp ? last > 31 : into_fp ? last - 29 + 8 > 31 : last > 30)
		return corrupt(e->where, "a save of %u %s registers from %s%u runs past the last "
			       "register", count, fp ? "floating-point" : "integer", fp ? "d" : "x",
			       first);
	uint64_t at;
	if (!bc_add_ok(e->c.sp, writeback ? 0 : offset, &at))
		return corrupt(e->where, "a save slot lies beyond the top of the address space");
	if (!fp) {
		for (unsigned k = 0; k < count; k++) {
			unsigned reg = first + k;
			if (reg > 28 && into_fp)
				break;  // the run went on into d8..: not tracked
			uint64_t v;
			struct bc_error *err = read_u64(e->io, at + 8ull * k, &v);
			if (err)
				return err;
			*int_reg(&e->c, reg) = v;
		}
	}
	return writeback ? add_sp(e, offset) : NULL;
}

// The custom kernel frames: registers come from a structure at sp.
static struct bc_error *custom_frame(struct engine *e, uint8_t op)
{
	struct bc_context_arm64 c = e->c;
	uint64_t sp = c.sp;
	struct bc_error *err = NULL;
	switch (op) {
	case OP_TRAP_FRAME: {
		uint8_t tf[BC_ARM64_KTRAP_FRAME_SIZE];
		err = e->io->read_memory(e->io->arg, sp, tf, sizeof(tf));
		if (err)
			return err;
		for (unsigned i = 0; i < 19; i++)
			c.x[i] = bc_le64(tf + TF_X + 8 * i);
		c.cpsr = bc_le32(tf + TF_SPSR);
		c.sp = bc_le64(tf + TF_SP);
		c.lr = bc_le64(tf + TF_LR);
		c.fp = bc_le64(tf + TF_FP);
		c.pc = bc_le64(tf + TF_PC);
		e->ret->flags |= BC_UNWIND_ARM64_TRAP_FRAME | BC_UNWIND_ARM64_NOT_CALL;
		e->ret->machine_frame = sp;
		e->pc_set = true;
		break;
	}
	case OP_MACHINE_FRAME:
		err = read_u64(e->io, sp, &c.sp);
		if (!err)
			err = read_u64(e->io, sp + 8, &c.pc);
		if (err)
			return err;
		e->ret->flags |= BC_UNWIND_ARM64_MACHINE_FRAME | BC_UNWIND_ARM64_NOT_CALL;
		e->ret->machine_frame = sp;
		e->pc_set = true;
		break;
	case OP_CONTEXT: {
		size_t size = bc_context_raw_size(BC_MACHINE_ARM64);
		uint8_t raw[0x400];
		if (size > sizeof(raw))
			return bc_error_create(BC_ERR_UNSUPPORTED, "ARM64 CONTEXT larger than expected");
		err = e->io->read_memory(e->io->arg, sp, raw, size);
		if (err)
			return err;
		struct bc_context decoded;
		err = bc_context_decode(BC_MACHINE_ARM64, raw, size, &decoded);
		if (err)
			return err;
		c = decoded.arm64;
		e->ret->flags |= BC_UNWIND_ARM64_CONTEXT | BC_UNWIND_ARM64_NOT_CALL;
		e->ret->machine_frame = sp;
		e->pc_set = true;
		break;
	}
	case OP_EC_CONTEXT:
		return bc_error_create(BC_ERR_UNSUPPORTED, "ARM64 unwind data at %#llx: "
				       "MSFT_OP_EC_CONTEXT (an x64-emulation context) is not supported",
				       (unsigned long long)e->where);
	case OP_CLEAR_UNWOUND_TO_CALL:
		e->ret->flags |= BC_UNWIND_ARM64_NOT_CALL;
		break;
	}
	e->c = c;
	return NULL;
}

// Runs the codes from byte @i, first skipping @skip codes (instructions not
// executed yet in a prolog, already executed in an epilog), up to end.
static struct bc_error *run(struct engine *e, uint32_t i, uint32_t skip)
{
	const struct bc_unwind_arm64_record *r = e->r;
	while (skip && i < r->code_size && !is_end(r->codes[i])) {
		i += code_size(r->codes[i]);  // sizes were checked by scope_size()
		skip--;
	}
	unsigned save_next = 0;
	while (i < r->code_size) {
		const uint8_t *p = r->codes + i;
		uint8_t op = p[0];
		unsigned size = code_size(op);
		if (size > r->code_size - i)
			return corrupt(e->where, "unwind code %#x at byte %u runs past the %u code "
				       "bytes", op, i, r->code_size);
		i += size;
		bool pair_save = (op >= 0x20 && op <= 0x3f) ||   // save_r19r20_x
				 (op >= 0xc8 && op <= 0xcf) ||   // save_regp[_x]
				 (op >= 0xd8 && op <= 0xdb) ||   // save_fregp[_x]
				 op == OP_SAVE_ANY_REG;
		if (save_next && !pair_save && op != OP_SAVE_NEXT)
			return corrupt(e->where, "save_next before code %#x, which saves no register "
				       "pair", op);
		unsigned n = 2 + 2 * save_next;  // registers of a pair save
		struct bc_error *err = NULL;
		if (op < 0x20) {                                   // alloc_s
			err = add_sp(e, 16ull * op);
		} else if (op < 0x40) {                            // save_r19r20_x
			err = restore(e, false, 19, n, 8ull * (op & 0x1f), true, save_next);
			save_next = 0;
		} else if (op < 0x80) {                            // save_fplr
			err = restore(e, false, REG_FP, 2, 8ull * (op & 0x3f), false, 0);
		} else if (op < 0xc0) {                            // save_fplr_x
			err = restore(e, false, REG_FP, 2, 8ull * ((op & 0x3f) + 1), true, 0);
		} else if (op < 0xc8) {                            // alloc_m
			err = add_sp(e, 16ull * ((op & 7u) << 8 | p[1]));
		} else if (op < 0xd0) {                            // save_regp, save_regp_x
			bool x = op & 4;
			unsigned reg = 19 + ((op & 3u) << 2 | p[1] >> 6), z = p[1] & 0x3f;
			err = restore(e, false, reg, n, 8ull * (z + x), x, save_next);
			save_next = 0;
		} else if (op < 0xd4) {                            // save_reg
			unsigned reg = 19 + ((op & 3u) << 2 | p[1] >> 6);
			err = restore(e, false, reg, 1, 8ull * (p[1] & 0x3f), false, 0);
		} else if (op < 0xd6) {                            // save_reg_x
			unsigned reg = 19 + ((op & 1u) << 3 | p[1] >> 5);
			err = restore(e, false, reg, 1, 8ull * ((p[1] & 0x1f) + 1), true, 0);
		} else if (op < 0xd8) {                            // save_lrpair
			unsigned reg = 19 + 2 * ((op & 1u) << 2 | p[1] >> 6);
			uint64_t off = 8ull * (p[1] & 0x3f);
			if (reg > 28)
				return corrupt(e->where, "save_lrpair of x%u", reg);
			err = restore(e, false, reg, 1, off, false, 0);
			if (!err)
				err = restore(e, false, REG_LR, 1, off + 8, false, 0);
		} else if (op < 0xdc) {                            // save_fregp, save_fregp_x
			bool x = op & 2;
			unsigned reg = 8 + ((op & 1u) << 2 | p[1] >> 6), z = p[1] & 0x3f;
			err = restore(e, true, reg, n, 8ull * (z + x), x, save_next);
			save_next = 0;
		} else if (op < 0xde) {                            // save_freg
			unsigned reg = 8 + ((op & 1u) << 2 | p[1] >> 6);
			err = restore(e, true, reg, 1, 8ull * (p[1] & 0x3f), false, 0);
		} else if (op == 0xde) {                           // save_freg_x
			err = restore(e, true, 8 + (p[1] >> 5), 1, 8ull * ((p[1] & 0x1f) + 1), true, 0);
		} else if (op == 0xdf) {
			return corrupt(e->where, "reserved unwind code 0xdf");
		} else if (op == OP_ALLOC_L) {
			err = add_sp(e, 16ull * ((uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]));
		} else if (op == OP_SET_FP) {
			e->c.sp = e->c.fp;
		} else if (op == OP_ADD_FP) {
			if (e->c.fp < 8ull * p[1])
				return corrupt(e->where, "add_fp below address 0");
			e->c.sp = e->c.fp - 8ull * p[1];
		} else if (op == OP_NOP) {
		} else if (op == OP_END) {
			break;
		} else if (op == OP_END_C) {
			e->ret->flags |= BC_UNWIND_ARM64_CHAINED;  // the parent region's codes follow
		} else if (op == OP_SAVE_NEXT) {
			save_next++;
		} else if (op == OP_SAVE_ANY_REG) {
			// 0pxrrrrr ffoooooo: pair, pre-indexed with writeback, register,
			// kind (X, D, Q), offset in 8 (16 for pairs, Q, writeback) bytes.
			bool pair = p[1] & 0x40, x = p[1] & 0x20;
			unsigned reg = p[1] & 0x1f, kind = p[2] >> 6, o = p[2] & 0x3f;
			if (p[1] & 0x80 || kind == 3)
				return corrupt(e->where, "reserved save_any_reg form %02x %02x", p[1], p[2]);
			if (!pair && save_next)
				return corrupt(e->where, "save_next before a single-register save");
			uint64_t scale = x || pair || kind == 2 ? 16 : 8;
			unsigned count = (pair ? 2 : 1) + 2 * save_next;
			if (kind == 0)
				err = restore(e, false, reg, count, scale * (o + x), x, 0);
			else  // D or Q registers
				err = restore(e, true, reg, count, scale * (o + x), x, 0);
			save_next = 0;
		} else if (op >= OP_TRAP_FRAME && op <= OP_CLEAR_UNWOUND_TO_CALL) {
			err = custom_frame(e, op);
		} else if (op == OP_PAC_SIGN_LR) {
			e->c.lr = bc_arm64_strip_pac(e->c.lr);
			e->ret->flags |= BC_UNWIND_ARM64_PAC;
		} else if (op >= 0xf8) {
			// Reserved for extensions, sized by their first byte: no effect.
		} else {
			return corrupt(e->where, "reserved unwind code %#x", op);
		}
		if (err)
			return err;
	}
	if (save_next)
		return corrupt(e->where, "save_next at the end of the unwind codes");
	return NULL;
}

// Where to start in the codes, and how many to skip, for pc @offset (in
// instructions from the function's start): the prolog, an epilog, or the body.
static struct bc_error *locate(struct engine *e, uint64_t image_base, uint64_t offset,
			       bool in_function, uint32_t *index, uint32_t *skip)
{
	const struct bc_unwind_arm64_record *r = e->r;
	*index = 0;
	*skip = 0;
	uint32_t size;
	struct bc_error *err = scope_size(e, 0, false, &size);
	if (err || !in_function)
		return err;
	if (offset < size) {
		*skip = size - (uint32_t)offset;
		e->ret->flags |= BC_UNWIND_ARM64_IN_PROLOG;
		return NULL;
	}
	uint32_t length = r->function_length / 4;
	if (r->epilog_in_header) {
		err = scope_size(e, r->epilog_index, true, &size);
		if (err)
			return err;
		if (size <= length && offset >= length - size) {
			*index = r->epilog_index;
			*skip = (uint32_t)offset - (length - size);
			e->ret->flags |= BC_UNWIND_ARM64_EPILOG;
		}
		return NULL;
	}
	// Scopes are sorted by start: stop at the first one past pc.
	for (uint32_t k = 0; k < r->epilog_scopes; k++) {
		uint32_t w;
		err = read_u32_image(e->io, image_base, r->scopes_rva + 4ull * k, &w);
		if (err)
			return err;
		uint32_t start = w & 0x3ffff, at = w >> 22;
		if (offset < start)
			break;
		if (at >= r->code_size)
			return corrupt(e->where, "epilog scope %u starts at code byte %u of %u", k, at,
				       r->code_size);
		err = scope_size(e, at, true, &size);
		if (err)
			return err;
		if (offset < (uint64_t)start + size) {
			*index = at;
			*skip = (uint32_t)offset - start;
			e->ret->flags |= BC_UNWIND_ARM64_EPILOG;
			break;
		}
	}
	return NULL;
}

struct bc_error *bc_unwind_arm64_step(const struct bc_unwind_io *io, uint64_t image_base,
				      const struct bc_arm64_runtime_function *rf,
				      struct bc_context_arm64 *ctx, struct bc_unwind_arm64_result *ret)
{
	*ret = (struct bc_unwind_arm64_result){ 0 };
	if (!rf) {
		ret->flags = BC_UNWIND_ARM64_LEAF;
		ret->establisher_frame = ctx->sp;
		ctx->pc = ctx->lr;
		return NULL;
	}
	struct bc_unwind_arm64_record *r = malloc(sizeof(*r));
	if (!r)
		return &bc_enomem;
	struct bc_error *err = bc_unwind_arm64_decode(io, image_base, rf, r);
	struct engine e = { io, r, *ctx, ret, image_base + rf->begin, false };
	if (!err) {
		if (r->flag)
			ret->flags |= BC_UNWIND_ARM64_PACKED;
		else
			e.where = image_base + rf->unwind;
		uint64_t begin = image_base + rf->begin;
		bool in_function = ctx->pc >= begin && ctx->pc - begin < r->function_length;
		uint32_t index, skip;
		err = locate(&e, image_base, in_function ? (ctx->pc - begin) / 4 : 0, in_function,
			     &index, &skip);
		if (!err)
			err = run(&e, index, skip);
	}
	free(r);
	if (err) {
		*ret = (struct bc_unwind_arm64_result){ 0 };
		return err;
	}
	if (!e.pc_set)
		e.c.pc = e.c.lr;
	ret->establisher_frame = e.c.sp;
	*ctx = e.c;
	return NULL;
}

struct bc_error *bc_unwind_arm64_lookup(const struct bc_unwind_io *io, uint64_t image_base,
					uint32_t pdata_rva, uint32_t pdata_size, uint64_t rva,
					struct bc_arm64_runtime_function *ret)
{
	// The last entry beginning at or before @rva, by binary search.
	uint64_t lo = 0, hi = pdata_size / 8;
	uint8_t e[8];
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		struct bc_error *err = io->read_image(io->arg, image_base, pdata_rva + mid * 8, e, 4);
		if (err)
			return err;
		if (bc_le32(e) <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return &bc_not_found;
	struct bc_error *err = io->read_image(io->arg, image_base, pdata_rva + (lo - 1) * 8, e, 8);
	if (err)
		return err;
	struct bc_arm64_runtime_function rf = { bc_le32(e), bc_le32(e + 4), 0 };
	switch (rf.unwind & 3) {
	case 0: {
		uint32_t h;
		err = read_u32_image(io, image_base, rf.unwind, &h);
		if (err)
			return err;
		rf.length = (h & 0x3ffff) * 4;
		break;
	}
	case 1:
	case 2:
		rf.length = ((rf.unwind >> 2) & 0x7ff) * 4;
		break;
	default:
		return corrupt(image_base + pdata_rva + (lo - 1) * 8, "the .pdata entry of the "
			       "function at rva %#x has the reserved flag 3", rf.begin);
	}
	if (rva - rf.begin >= rf.length)
		return &bc_not_found;
	*ret = rf;
	return NULL;
}
