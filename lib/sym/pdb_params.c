// Procedures and their parameters from a PDB's module symbol streams
// (bc_symtab_procedure_at in bugcheck/symtab.h). Layout facts:
// ../shared/docs/UNWIND_AND_SYMBOLS.md 4.3-4.4, LLVM's CodeView documentation
// and Microsoft's cvinfo.h (record layouts only).
//
// A code address is mapped to the module that contributed it (the DBI's
// section contributions); that module's symbol stream is decoded once, every
// procedure with its parameters, and kept. Parameters are the direct children
// of a procedure (not those of its blocks or inlined call sites):
//  - S_LOCAL flagged "is parameter", placed by the S_DEFRANGE_* records that
//    follow it (what clang and optimized MSVC write);
//  - S_REGREL32, S_BPREL32 and S_REGISTER, which carry no such flag: the
//    first N of them are the parameters, N coming from the procedure's type
//    (its argument count, plus one for `this`). A later record naming a
//    parameter already seen adds a location to it (MSVC writes `this` twice).
// Frame-pointer-relative locations use the register S_FRAMEPROC encodes,
// which may come after the parameters: they are resolved at the procedure's end.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "sym/pdb_private.h"

enum {
	STREAM_DBI = 3,
	DBI_HEADER_SIZE = 64,
	MODULE_INFO_MIN = 64,
	MAX_MODULES = 1 << 16,
	MAX_PARAMS = 256,         ///< per procedure
	MAX_LOCATIONS = 64,       ///< per parameter
	MAX_DEPTH = 64,           ///< nested blocks and inline sites in one procedure
	SC_V60 = 0xeffe0000u + 19970605u,
	SC_V2 = 0xeffe0000u + 20140516u,

	S_END = 0x0006, S_FRAMEPROC = 0x1012, S_THUNK32 = 0x1102, S_BLOCK32 = 0x1103,
	S_WITH32 = 0x1104, S_REGISTER = 0x1106, S_BPREL32 = 0x110b, S_LPROC32 = 0x110f,
	S_GPROC32 = 0x1110, S_REGREL32 = 0x1111, S_SEPCODE = 0x1132, S_LOCAL = 0x113e,
	S_DEFRANGE_REGISTER = 0x1141, S_DEFRANGE_FRAMEPOINTER_REL = 0x1142,
	S_DEFRANGE_SUBFIELD_REGISTER = 0x1143, S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE = 0x1144,
	S_DEFRANGE_REGISTER_REL = 0x1145, S_LPROC32_ID = 0x1146, S_GPROC32_ID = 0x1147,
	S_INLINESITE = 0x114d, S_INLINESITE_END = 0x114e, S_PROC_ID_END = 0x114f,
	S_LPROC32_DPC = 0x1155, S_LPROC32_DPC_ID = 0x1156, S_INLINESITE2 = 0x115d,

	LF_PROCEDURE = 0x1008, LF_MFUNCTION = 0x1009, LF_FUNC_ID = 0x1601, LF_MFUNC_ID = 0x1602,

	LOCAL_IS_PARAM = 0x0001,
	CV_REG_VFRAME = 30006,
};

struct pdb_params_contribution {
	uint64_t rva, size;
	uint32_t module;
};

struct pdb_params_module {
	uint16_t stream;
	uint32_t sym_size;
	bool decoded;
	struct bc_error *error;    ///< why decoding failed (kept, returned as a copy)
	uint8_t *data;             ///< the stream: procedure and parameter names point into it
	struct pdb_params_procs procs;
};

// --- registers -------------------------------------------------------------

// A CodeView register number as a name bc_context_register() knows.
static const char *register_name(uint32_t machine, uint16_t cv)
{
	static const char *const x86[] = {
		[1] = "al", [2] = "cl", [3] = "dl", [4] = "bl", [5] = "ah", [6] = "ch", [7] = "dh",
		[8] = "bh", [9] = "ax", [10] = "cx", [11] = "dx", [12] = "bx", [13] = "sp",
		[14] = "bp", [15] = "si", [16] = "di", [17] = "eax", [18] = "ecx", [19] = "edx",
		[20] = "ebx", [21] = "esp", [22] = "ebp", [23] = "esi", [24] = "edi",
	};
	static const char *const amd64[] = {
		"sil", "dil", "bpl", "spl", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
		"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
		"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
	};
	if (cv == CV_REG_VFRAME)
		return "vframe";
	if (cv < sizeof(x86) / sizeof(x86[0]) && x86[cv])
		return x86[cv];
	if (machine == 0x8664 && cv >= 324 && cv - 324u < sizeof(amd64) / sizeof(amd64[0]))
		return amd64[cv - 324];
	return "";
}

// S_FRAMEPROC's two-bit frame pointer codes (x64: RSP, RBP, R13; x86: the
// virtual frame, EBP, EBX), as CodeView register numbers.
static uint16_t frame_register(uint32_t machine, unsigned code)
{
	static const uint16_t x64[4] = { 0, 335, 334, 343 }, x86[4] = { 0, CV_REG_VFRAME, 22, 20 };
	return machine == 0x8664 ? x64[code & 3] : x86[code & 3];
}

// --- reading records --------------------------------------------------------

// A bounds-checked little-endian reader over one record's payload.
struct cur {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static uint16_t c16(struct cur *c)
{
	if (c->at > c->len || c->len - c->at < 2) {
		c->bad = true;
		return 0;
	}
	uint16_t v = bc_le16(c->p + c->at);
	c->at += 2;
	return v;
}

static uint32_t c32(struct cur *c)
{
	if (c->at > c->len || c->len - c->at < 4) {
		c->bad = true;
		return 0;
	}
	uint32_t v = bc_le32(c->p + c->at);
	c->at += 4;
	return v;
}

// A NUL-terminated name; NULL (and bad) when it runs off the record.
static const char *cname(struct cur *c)
{
	if (c->at >= c->len) {
		c->bad = true;
		return NULL;
	}
	const char *s = (const char *)c->p + c->at;
	size_t n = strnlen(s, c->len - c->at);
	if (n == c->len - c->at) {
		c->bad = true;
		return NULL;
	}
	c->at += n + 1;
	return s;
}

// --- one procedure -------------------------------------------------------------

struct param_build {
	struct bc_parameter p;
	struct bc_param_location *locs;
	bool frame_relative[MAX_LOCATIONS];  ///< offset from the frame pointer S_FRAMEPROC names
};

struct proc_build {
	const struct pdb_params_source *src;
	struct param_build *params;
	size_t count, cap;
	size_t positional;        ///< how many parameters the type announces (SIZE_MAX: unknown)
	uint32_t frame_flags;
	bool have_frameproc;
};

static void free_locations(struct bc_param_location *locs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)locs[i].gaps);
	free(locs);
}

static struct param_build *find_param(struct proc_build *b, const char *name)
{
	for (size_t i = 0; i < b->count; i++)
		if (!strcmp(b->params[i].p.name, name))
			return &b->params[i];
	return NULL;
}

static struct bc_error *add_param(struct proc_build *b, const char *name, uint32_t type,
				  struct param_build **ret)
{
	*ret = NULL;
	if (b->count == MAX_PARAMS)
		return NULL;  // more are ignored: no real procedure has them
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		struct param_build *v = realloc(b->params, cap * sizeof(*v));
		if (!v)
			return &bc_enomem;
		b->params = v;
		b->cap = cap;
	}
	struct param_build *p = &b->params[b->count++];
	memset(p, 0, sizeof(*p));
	p->p.name = name;
	p->p.type_id = type;
	*ret = p;
	return NULL;
}

static struct bc_error *add_location(struct param_build *p, const struct bc_param_location *l,
				     bool frame_relative)
{
	if (p->p.location_count == MAX_LOCATIONS) {
		free((void *)l->gaps);
		return NULL;
	}
	size_t n = p->p.location_count;
	if (!(n & (n - 1))) {
		size_t cap = n ? n * 2 : 2;
		struct bc_param_location *v = realloc(p->locs, cap * sizeof(*v));
		if (!v) {
			free((void *)l->gaps);
			return &bc_enomem;
		}
		p->locs = v;
	}
	p->locs[n] = *l;
	p->frame_relative[n] = frame_relative;
	p->p.location_count = n + 1;
	p->p.locations = p->locs;
	return NULL;
}

static void set_register(const struct pdb_params_source *src, struct bc_param_location *l,
			 uint16_t cv)
{
	l->cv_register = cv;
	snprintf(l->reg, sizeof(l->reg), "%s", register_name(src->machine, cv));
}

// CV_LVAR_ADDR_RANGE (u32 offset, u16 section, u16 length) and the gaps after
// it (u16 offset from the range's start, u16 length), to the rest of the record.
static struct bc_error *read_range(const struct pdb_params_source *src, struct cur *c,
				   struct bc_param_location *l)
{
	uint32_t off = c32(c);
	uint16_t seg = c16(c), length = c16(c);
	if (c->bad)
		return NULL;
	uint64_t start;
	if (!src->place(src->place_arg, seg, off, &start))
		start = 0, length = 0;  // in no section: never covers anything
	l->start = start;
	l->end = start + length;
	size_t n = (c->len - c->at) / 4;
	if (!n)
		return NULL;
	struct bc_param_gap *gaps = calloc(n, sizeof(*gaps));
	if (!gaps)
		return &bc_enomem;
	for (size_t i = 0; i < n; i++) {
		uint16_t g = c16(c), glen = c16(c);
		gaps[i] = (struct bc_param_gap){ start + g, glen };
	}
	l->gaps = gaps;
	l->gap_count = n;
	return NULL;
}

// One S_DEFRANGE_* record for the S_LOCAL parameter @p.
static struct bc_error *read_defrange(struct proc_build *b, struct param_build *p, uint16_t kind,
				      struct cur *c)
{
	struct bc_param_location l = { 0 };
	bool frame_relative = false;
	switch (kind) {
	case S_DEFRANGE_REGISTER:
		l.kind = BC_PARAM_IN_REGISTER;
		set_register(b->src, &l, c16(c));
		c16(c);  // attributes: "may have no user name"
		break;
	case S_DEFRANGE_SUBFIELD_REGISTER:
		l.kind = BC_PARAM_IN_REGISTER;
		set_register(b->src, &l, c16(c));
		c16(c);
		l.part_offset = c32(c) & 0xfff;
		l.partial = true;
		break;
	case S_DEFRANGE_FRAMEPOINTER_REL:
	case S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE:
		l.kind = BC_PARAM_IN_MEMORY;
		l.offset = (int32_t)c32(c);
		frame_relative = true;
		l.whole_scope = kind == S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE;
		break;
	case S_DEFRANGE_REGISTER_REL: {
		l.kind = BC_PARAM_IN_MEMORY;
		set_register(b->src, &l, c16(c));
		uint16_t flags = c16(c);
		l.offset = (int32_t)c32(c);
		l.part_offset = flags >> 4;
		l.partial = (flags & 1) != 0;  // a spilled member of a structure
		break;
	}
	default:
		return NULL;  // S_DEFRANGE (a DIA program) and others: not evaluated
	}
	if (c->bad)
		return NULL;
	if (!l.whole_scope) {
		struct bc_error *err = read_range(b->src, c, &l);
		if (err)
			return err;
	}
	return add_location(p, &l, frame_relative);
}

// S_REGREL32, S_BPREL32, S_REGISTER: a location valid in the whole procedure.
static struct bc_error *read_whole_scope(struct proc_build *b, uint16_t kind, struct cur *c)
{
	struct bc_param_location l = { .whole_scope = true };
	uint32_t type;
	if (kind == S_REGISTER) {
		l.kind = BC_PARAM_IN_REGISTER;
		type = c32(c);
		set_register(b->src, &l, c16(c));
	} else {
		l.kind = BC_PARAM_IN_MEMORY;
		l.offset = (int32_t)c32(c);
		type = c32(c);
		if (kind == S_REGREL32)
			set_register(b->src, &l, c16(c));
		else  // S_BPREL32: from the frame pointer, EBP (RBP on x64)
			set_register(b->src, &l, b->src->machine == 0x8664 ? 334 : 22);
	}
	const char *name = cname(c);
	if (c->bad || !*name)
		return NULL;
	struct param_build *p = find_param(b, name);
	if (!p) {
		bool is_param = b->count < b->positional;
		// Without a type, only x86 [ebp+positive] slots are surely parameters.
		if (b->positional == SIZE_MAX)
			is_param = kind == S_BPREL32 && l.offset > 0;
		if (!is_param)
			return NULL;
		struct bc_error *err = add_param(b, name, type, &p);
		if (err || !p)
			return err;
	}
	return add_location(p, &l, false);
}

// How many parameters the procedure's type announces, `this` included.
static size_t announced_params(const struct pdb_params_source *src, uint32_t type)
{
	uint16_t kind;
	const uint8_t *d;
	size_t len;
	if (!src->tpi || type < 0x1000 ||
	    !pdb_tpi_record(src->tpi, src->msf, src->what, type, &kind, &d, &len))
		return SIZE_MAX;
	if (kind == LF_PROCEDURE && len >= 8)
		return bc_le16(d + 6);
	if (kind == LF_MFUNCTION && len >= 16)
		return bc_le16(d + 14) + (bc_le32(d + 8) ? 1u : 0u);  // a this type: one more
	return SIZE_MAX;
}

// S_GPROC32_ID's type field is a function id in the IPI stream.
static uint32_t type_of_id(const struct pdb_params_source *src, uint32_t id)
{
	uint16_t kind;
	const uint8_t *d;
	size_t len;
	if (!src->ipi || !pdb_tpi_record(src->ipi, src->msf, src->what, id, &kind, &d, &len))
		return 0;
	return (kind == LF_FUNC_ID || kind == LF_MFUNC_ID) && len >= 8 ? bc_le32(d + 4) : 0;
}

static bool opens_scope(uint16_t kind)
{
	switch (kind) {
	case S_GPROC32: case S_LPROC32: case S_GPROC32_ID: case S_LPROC32_ID:
	case S_LPROC32_DPC: case S_LPROC32_DPC_ID: case S_BLOCK32: case S_THUNK32:
	case S_WITH32: case S_SEPCODE: case S_INLINESITE: case S_INLINESITE2:
		return true;
	}
	return false;
}

static bool closes_scope(uint16_t kind)
{
	return kind == S_END || kind == S_PROC_ID_END || kind == S_INLINESITE_END;
}

static bool is_procedure(uint16_t kind)
{
	return kind == S_GPROC32 || kind == S_LPROC32 || kind == S_GPROC32_ID ||
	       kind == S_LPROC32_ID || kind == S_LPROC32_DPC || kind == S_LPROC32_DPC_ID;
}

static void free_build(struct proc_build *b)
{
	for (size_t i = 0; i < b->count; i++)
		free_locations(b->params[i].locs, b->params[i].p.location_count);
	free(b->params);
	b->params = NULL;
	b->count = b->cap = 0;
}

// Frame-relative offsets now that S_FRAMEPROC is known; then the parameter
// array in its final place (the build's array is handed over).
static struct bc_error *finish_procedure(struct proc_build *b, struct bc_procedure *proc)
{
	uint16_t base = b->have_frameproc ? frame_register(b->src->machine, b->frame_flags >> 16)
					  : 0;
	struct bc_parameter *out = calloc(b->count ? b->count : 1, sizeof(*out));
	if (!out)
		return &bc_enomem;
	for (size_t i = 0; i < b->count; i++) {
		struct param_build *p = &b->params[i];
		for (size_t k = 0; k < p->p.location_count; k++)
			if (p->frame_relative[k])
				set_register(b->src, &p->locs[k], base);
		out[i] = p->p;
		out[i].locations = p->locs;
		p->locs = NULL;
		p->p.location_count = 0;
	}
	proc->params = out;
	proc->param_count = b->count;
	free_build(b);
	return NULL;
}

// Where a record is, for messages.
struct where {
	const char *what;
	unsigned module;
};

// Reads the procedure whose record is @kind/@c at @at; *next gets the offset
// after its S_END. The module's records are bounded by @end.
static struct bc_error *read_procedure(const struct pdb_params_source *src, const struct where *w,
				       const uint8_t *data, uint64_t at, uint64_t end,
				       uint16_t kind, struct cur *c, struct bc_procedure *proc,
				       uint64_t *next)
{
	c->at = 12;  // pParent, pEnd, pNext
	uint32_t length = c32(c);
	c->at += 8;  // debug start, debug end
	uint32_t type = c32(c), off = c32(c);
	uint16_t seg = c16(c);
	c->at += 1;  // flags
	const char *name = cname(c);
	if (c->bad)
		return bc_error_format(UINT64_MAX, "%s: module %u: procedure record at %#llx is "
				       "shorter than its fields", w->what, w->module,
				       (unsigned long long)at);
	if (kind == S_GPROC32_ID || kind == S_LPROC32_ID || kind == S_LPROC32_DPC_ID)
		type = type_of_id(src, type);
	*proc = (struct bc_procedure){ .name = name, .size = length, .type_id = type };
	if (!src->place(src->place_arg, seg, off, &proc->rva))
		proc->rva = proc->size = 0;  // in no section: never found by address
	struct proc_build b = { .src = src, .positional = announced_params(src, type) };
	struct param_build *local = NULL;  ///< the S_LOCAL parameter S_DEFRANGE records describe
	int depth = 0;
	uint64_t pos = (uint64_t)(c->p - data) + c->len;
	pos = (pos + 3) & ~3ull;
	struct bc_error *err = NULL;
	while (!err) {
		if (pos + 4 > end) {
			err = bc_error_format(UINT64_MAX, "%s: module %u: procedure %s (record at "
					      "%#llx) has no S_END", w->what, w->module, name,
					      (unsigned long long)at);
			break;
		}
		uint16_t len = bc_le16(data + pos), k = bc_le16(data + pos + 2);
		if (len < 2 || pos + 2 + len > end) {
			err = bc_error_format(UINT64_MAX, "%s: module %u: symbol record at %#llx "
					      "runs past the end of the module's symbols", w->what,
					      w->module, (unsigned long long)pos);
			break;
		}
		struct cur r = { data + pos + 4, (size_t)len - 2, 0, false };
		pos = (pos + 2 + len + 3) & ~3ull;
		if (closes_scope(k)) {
			local = NULL;
			if (depth-- == 0)
				break;
			continue;
		}
		if (opens_scope(k)) {
			local = NULL;
			if (++depth > MAX_DEPTH)
				err = bc_error_format(UINT64_MAX, "%s: module %u: procedure %s nests "
						      "scopes deeper than %d", w->what, w->module,
						      name, MAX_DEPTH);
			continue;
		}
		if (depth)
			continue;  // a block's or an inlined function's own symbols
		switch (k) {
		case S_FRAMEPROC:
			if (r.len >= 26) {
				b.frame_flags = bc_le32(r.p + 22);
				b.have_frameproc = true;
			}
			break;
		case S_LOCAL: {
			local = NULL;
			uint32_t t = c32(&r);
			uint16_t flags = c16(&r);
			const char *n = cname(&r);
			if (r.bad || !(flags & LOCAL_IS_PARAM) || !*n)
				break;
			local = find_param(&b, n);
			if (!local)
				err = add_param(&b, n, t, &local);
			break;
		}
		case S_DEFRANGE_REGISTER:
		case S_DEFRANGE_FRAMEPOINTER_REL:
		case S_DEFRANGE_SUBFIELD_REGISTER:
		case S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE:
		case S_DEFRANGE_REGISTER_REL:
			if (local)
				err = read_defrange(&b, local, k, &r);
			break;
		case S_REGREL32:
		case S_BPREL32:
		case S_REGISTER:
			local = NULL;
			err = read_whole_scope(&b, k, &r);
			break;
		default:
			break;  // S_DEFRANGE records after a non-parameter S_LOCAL stay ignored
		}
	}
	if (!err)
		err = finish_procedure(&b, proc);
	free_build(&b);
	*next = pos;
	return err;
}

void pdb_params_procs_free(struct pdb_params_procs *procs)
{
	for (size_t i = 0; i < procs->count; i++) {
		for (size_t k = 0; k < procs->v[i].param_count; k++)
			free_locations((struct bc_param_location *)procs->v[i].params[k].locations,
				       procs->v[i].params[k].location_count);
		free((void *)procs->v[i].params);
	}
	free(procs->v);
	*procs = (struct pdb_params_procs){ 0 };
}

struct bc_error *pdb_params_decode_module(const struct pdb_params_source *src, unsigned module,
					  const uint8_t *data, uint32_t size, uint32_t sym_size,
					  struct pdb_params_procs *ret)
{
	*ret = (struct pdb_params_procs){ 0 };
	struct where w = { src->what, module };
	uint64_t end = sym_size < size ? sym_size : size;
	if (end < 4)
		return NULL;  // no symbols (a module without debug information)
	if (bc_le32(data) != 4)
		return bc_error_format(UINT64_MAX, "%s: module %u: symbol stream signature %u is "
				       "not CodeView C13 (4)", src->what, module, bc_le32(data));
	size_t cap = 0;
	struct bc_error *err = NULL;
	for (uint64_t at = 4; at + 4 <= end && !err;) {
		uint16_t len = bc_le16(data + at), kind = bc_le16(data + at + 2);
		if (len < 2 || at + 2 + len > end) {
			err = bc_error_format(UINT64_MAX, "%s: module %u: symbol record at %#llx runs "
					      "past the end of the module's symbols", src->what,
					      module, (unsigned long long)at);
			break;
		}
		if (!is_procedure(kind)) {
			at = (at + 2 + len + 3) & ~3ull;
			continue;
		}
		if (ret->count == cap) {
			cap = cap ? cap * 2 : 16;
			struct bc_procedure *v = realloc(ret->v, cap * sizeof(*v));
			if (!v) {
				err = &bc_enomem;
				break;
			}
			ret->v = v;
		}
		struct cur c = { data + at + 4, (size_t)len - 2, 0, false };
		uint64_t next = end;
		err = read_procedure(src, &w, data, at, end, kind, &c, &ret->v[ret->count], &next);
		if (!err)
			ret->count++;
		at = next;
	}
	if (err)
		pdb_params_procs_free(ret);
	return err;
}

// --- modules and section contributions ------------------------------------------

static int cmp_contribution(const void *a, const void *b)
{
	const struct pdb_params_contribution *x = a, *y = b;
	return (x->rva > y->rva) - (x->rva < y->rva);
}

static struct bc_error *load_dbi(struct pdb_params *pp, const struct pdb_params_source *src)
{
	uint8_t *dbi;
	uint32_t size;
	struct bc_error *err = src->msf->load(src->msf->arg, STREAM_DBI, &dbi, &size);
	if (err)
		return err;
	if (size < DBI_HEADER_SIZE) {
		free(dbi);
		return &bc_not_found;  // no DBI: no modules, no private symbols
	}
	uint64_t mod_size = bc_le32(dbi + 0x18), sc_size = bc_le32(dbi + 0x1c);
	uint64_t at = DBI_HEADER_SIZE, mod_end = at + mod_size;
	if (mod_end > size || sc_size > size - mod_end) {
		free(dbi);
		return bc_error_format(UINT64_MAX, "%s: the DBI stream's module information (%llu "
				       "bytes) and section contributions (%llu bytes) run past its "
				       "end (%u bytes)", src->what, (unsigned long long)mod_size,
				       (unsigned long long)sc_size, size);
	}
	size_t cap = 0;
	while (at + MODULE_INFO_MIN <= mod_end && pp->module_count < MAX_MODULES) {
		if (pp->module_count == cap) {
			cap = cap ? cap * 2 : 64;
			struct pdb_params_module *v = realloc(pp->modules, cap * sizeof(*v));
			if (!v) {
				free(dbi);
				return &bc_enomem;
			}
			pp->modules = v;
		}
		pp->modules[pp->module_count++] = (struct pdb_params_module){
			.stream = bc_le16(dbi + at + 34), .sym_size = bc_le32(dbi + at + 36),
		};
		uint64_t s = at + MODULE_INFO_MIN;
		for (int k = 0; k < 2; k++) {  // module name, object file name
			while (s < mod_end && dbi[s])
				s++;
			s++;
		}
		at = (s + 3) & ~3ull;
	}
	// Section contributions: which module's code covers an address.
	const uint8_t *sc = dbi + mod_end;
	uint32_t version = sc_size >= 4 ? bc_le32(sc) : 0;
	size_t entry = version == SC_V2 ? 32 : version == SC_V60 ? 28 : 0;
	size_t n = entry ? (size_t)((sc_size - 4) / entry) : 0;
	pp->contributions = calloc(n ? n : 1, sizeof(*pp->contributions));
	if (!pp->contributions) {
		free(dbi);
		return &bc_enomem;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = sc + 4 + i * entry;
		uint64_t rva;
		uint32_t csize = bc_le32(e + 8);
		uint16_t module = bc_le16(e + 16);
		if (!csize || module >= pp->module_count ||
		    !src->place(src->place_arg, bc_le16(e), bc_le32(e + 4), &rva))
			continue;
		pp->contributions[pp->contribution_count++] =
			(struct pdb_params_contribution){ rva, csize, module };
	}
	qsort(pp->contributions, pp->contribution_count, sizeof(*pp->contributions),
	      cmp_contribution);
	free(dbi);
	return NULL;
}

static struct bc_error *copy_error(const struct bc_error *e)
{
	if (e->code == BC_ERR_NOT_FOUND)
		return &bc_not_found;
	if (e->code == BC_ERR_NOMEM)
		return &bc_enomem;
	return bc_error_create(e->code, "%s", e->message);
}

static struct bc_error *decode(struct pdb_params_module *m, const struct pdb_params_source *src,
			       unsigned index)
{
	if (m->decoded)
		return m->error ? copy_error(m->error) : NULL;
	m->decoded = true;
	if (m->stream == UINT16_MAX)
		return NULL;  // no symbols for this module
	uint32_t size;
	m->error = src->msf->load(src->msf->arg, m->stream, &m->data, &size);
	if (!m->error)
		m->error = pdb_params_decode_module(src, index, m->data, size, m->sym_size,
						    &m->procs);
	if (m->error && m->error->code == BC_ERR_NOMEM) {
		m->error = NULL;
		m->decoded = false;  // try again later
		return &bc_enomem;
	}
	return m->error ? copy_error(m->error) : NULL;
}

static const struct bc_procedure *covering(const struct pdb_params_procs *procs, uint64_t rva)
{
	for (size_t i = 0; i < procs->count; i++)
		if (procs->v[i].size && rva >= procs->v[i].rva &&
		    rva - procs->v[i].rva < procs->v[i].size)
			return &procs->v[i];
	return NULL;
}

struct bc_error *pdb_params_procedure_at(struct pdb_params *pp, const struct pdb_params_source *src,
					 uint64_t rva, const struct bc_procedure **ret)
{
	if (!pp->loaded) {
		pp->loaded = true;
		pp->load_error = load_dbi(pp, src);
	}
	if (pp->load_error)
		return copy_error(pp->load_error);
	if (pp->contribution_count) {
		size_t lo = 0, hi = pp->contribution_count;
		while (lo < hi) {  // the last contribution starting at or below rva
			size_t mid = lo + (hi - lo) / 2;
			if (pp->contributions[mid].rva <= rva)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || rva - pp->contributions[lo - 1].rva >= pp->contributions[lo - 1].size)
			return &bc_not_found;
		uint32_t index = pp->contributions[lo - 1].module;
		struct pdb_params_module *m = &pp->modules[index];
		struct bc_error *err = decode(m, src, index);
		if (err)
			return err;
		*ret = covering(&m->procs, rva);
		return *ret ? NULL : &bc_not_found;
	}
	// No section contributions: every module in turn until one covers rva.
	for (size_t i = 0; i < pp->module_count; i++) {
		struct bc_error *err = decode(&pp->modules[i], src, (unsigned)i);
		if (err && err->code == BC_ERR_NOMEM)
			return err;
		bc_error_destroy(err);  // one corrupt module does not hide the others
		if ((*ret = covering(&pp->modules[i].procs, rva)))
			return NULL;
	}
	return &bc_not_found;
}

void pdb_params_free(struct pdb_params *pp)
{
	for (size_t i = 0; i < pp->module_count; i++) {
		pdb_params_procs_free(&pp->modules[i].procs);
		free(pp->modules[i].data);
		bc_error_destroy(pp->modules[i].error);
	}
	free(pp->modules);
	free(pp->contributions);
	bc_error_destroy(pp->load_error);
	*pp = (struct pdb_params){ 0 };
}
