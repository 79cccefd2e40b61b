// bench_stack: stack walking and backward disassembly, as issue 4 states
// their targets ("Speed (make bench)").
//
//   bench_stack [SHARED_DIR]
//
// 1. a 64-frame x64 unwind with unwind data cached: target under 50 us.
//    An image is built in memory: 64 functions, each with its UNWIND_INFO
//    (four MSVC prolog shapes: push + small allocation, three pushes, a
//    register saved with mov plus a large allocation, a frame pointer) and
//    a .pdata; a stack is built by running their prologs from the outermost
//    caller in. bc_stackwalk_x64 walks it from the innermost function over
//    bc_stackwalk_env callbacks that read those arrays (nothing to fetch: the
//    "cached" case). The walk is checked (64 frames, every return address,
//    the normal end) before it is timed.
// 2. ub: bc_disasm_back, the library half of the CLI's ub (the CLI reads the
//    bytes and names the function; this times the search for the start),
//    for the default 8 instructions over acpi.sys's real code in
//    SHARED_DIR/symbols/pe/kernel-drivers, ending at an instruction
//    boundary 12 instructions into each .pdata function; with and without
//    the function start a symbol would give. Target under 1 ms per call.
//    A synthetic code stream stands in when SHARED_DIR is absent.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "bugcheck/disasm.h"
#include "bugcheck/pe.h"
#include "unwind/stackwalk.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- 1. a 64-frame unwind ------------------------------------------------ */

enum {
	FRAMES = 64,
	FUNC_RVA = 0x1000,
	FUNC_SIZE = 0x100,
	CALL_AT = 0x3b,              ///< each function calls the next inner one here
	RETURN_AT = CALL_AT + 5,     ///< so return addresses point here
	UNWIND_RVA = 0x8000,
	PDATA_RVA = 0x9000,
	IMAGE_SIZE = 0xa000,
	STACK_SIZE = 0x8000,
};
static const uint64_t IMAGE_BASE = 0xfffff80412340000ull;
static const uint64_t STACK_BASE = 0xffffd00012340000ull;

struct world {
	uint8_t image[IMAGE_SIZE];
	uint8_t stack[STACK_SIZE];
};

static struct bc_error *read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	struct world *w = arg;
	if (address < STACK_BASE || address - STACK_BASE > STACK_SIZE ||
	    size > STACK_SIZE - (address - STACK_BASE))
		return bc_error_fault(address, BC_FAULT_NOT_IN_DUMP, "%#" PRIx64 " not on the stack",
				      address);
	memcpy(buf, w->stack + (address - STACK_BASE), size);
	return NULL;
}

static struct bc_error *read_image(void *arg, uint64_t base, uint64_t rva, void *buf, size_t size)
{
	struct world *w = arg;
	if (base != IMAGE_BASE || rva > IMAGE_SIZE || size > IMAGE_SIZE - rva)
		return bc_error_fault(base + rva, BC_FAULT_NOT_IN_DUMP, "rva %#" PRIx64 " not in the image",
				      rva);
	memcpy(buf, w->image + rva, size);
	return NULL;
}

static struct bc_error *find_image(void *arg, uint64_t address, uint64_t *base, uint32_t *rva,
				   uint32_t *size)
{
	(void)arg;
	if (address < IMAGE_BASE || address - IMAGE_BASE >= IMAGE_SIZE)
		return &bc_not_found;
	*base = IMAGE_BASE;
	*rva = PDATA_RVA;
	*size = FRAMES * 12;
	return NULL;
}

// One prolog shape: its bytes, UNWIND_INFO codes, and what it does to the
// registers and stack (the simulation that builds the stack).
struct shape {
	const char *bytes;
	unsigned length;
	uint8_t frame;             ///< FrameRegister | FrameOffset << 4
	uint8_t codes[12];
	unsigned slots;
};

static const struct shape shapes[4] = {
	// push rbx; sub rsp,20h
	{ "\x53\x48\x83\xec\x20", 5, 0, { 5, 0x32, 1, 0x30 }, 2 },
	// push rbp; push rsi; push rdi; sub rsp,40h
	{ "\x55\x56\x57\x48\x83\xec\x40", 7, 0, { 7, 0x72, 3, 0x70, 2, 0x60, 1, 0x50 }, 4 },
	// mov [rsp+8],rbx; push rdi; sub rsp,100h  (rbx saved at final rsp + 110h)
	{ "\x48\x89\x5c\x24\x08\x57\x48\x81\xec\x00\x01\x00\x00", 13, 0,
	  { 13, 0x01, 0x20, 0, 6, 0x70, 5, 0x34, 0x22, 0 }, 5 },
	// push rbp; sub rsp,30h; lea rbp,[rsp+20h]
	{ "\x55\x48\x83\xec\x30\x48\x8d\x6c\x24\x20", 10, 0x25, { 10, 0x03, 5, 0x52, 1, 0x50 }, 3 },
};

static void push(struct world *w, struct bc_context_x64 *c, uint64_t v)
{
	c->rsp -= 8;
	bc_put_le64(w->stack + (c->rsp - STACK_BASE), v);
}

// Runs @shape's prolog on @c (entered with the return address pushed).
static void run_prolog(struct world *w, unsigned shape, struct bc_context_x64 *c)
{
	switch (shape) {
	case 0:
		push(w, c, c->rbx);
		c->rsp -= 0x20;
		break;
	case 1:
		push(w, c, c->rbp);
		push(w, c, c->rsi);
		push(w, c, c->rdi);
		c->rsp -= 0x40;
		break;
	case 2:
		bc_put_le64(w->stack + (c->rsp + 8 - STACK_BASE), c->rbx);
		push(w, c, c->rdi);
		c->rsp -= 0x100;
		break;
	case 3:
		push(w, c, c->rbp);
		c->rsp -= 0x30;
		c->rbp = c->rsp + 0x20;
		break;
	}
}

// Builds the image and a stack where function k (k = 0 innermost) was called
// by function k + 1 and the outermost returns to 0. Returns frame 0's context.
static struct bc_context_x64 build_world(struct world *w, uint64_t want_ip[FRAMES])
{
	memset(w, 0, sizeof(*w));
	for (unsigned k = 0; k < FRAMES; k++) {
		const struct shape *s = &shapes[k % 4];
		uint32_t f = FUNC_RVA + k * FUNC_SIZE, u = UNWIND_RVA + k * 32;
		memset(w->image + f, 0x90, FUNC_SIZE);  // nop bodies: no epilog anywhere
		memcpy(w->image + f, s->bytes, s->length);
		w->image[f + CALL_AT] = 0xe8;  // call the next inner function
		bc_put_le32(w->image + f + CALL_AT + 1,
			    (uint32_t)(k ? FUNC_RVA + (k - 1) * FUNC_SIZE - (f + RETURN_AT) : 0));
		uint8_t *ui = w->image + u;
		ui[0] = 1;
		ui[1] = (uint8_t)s->length;
		ui[2] = (uint8_t)s->slots;
		ui[3] = s->frame;
		memcpy(ui + 4, s->codes, 2 * s->slots);
		bc_put_le32(w->image + PDATA_RVA + 12 * k, f);
		bc_put_le32(w->image + PDATA_RVA + 12 * k + 4, f + FUNC_SIZE);
		bc_put_le32(w->image + PDATA_RVA + 12 * k + 8, u);
	}
	struct bc_context_x64 c = {
		.rsp = STACK_BASE + STACK_SIZE - 0x100,
		.rbx = 0xb0b0, .rbp = 0xb9b9, .rsi = 0x5151, .rdi = 0xd1d1,
	};
	for (int k = FRAMES - 1; k >= 0; k--) {
		uint64_t ret = k == FRAMES - 1 ? 0
					       : IMAGE_BASE + FUNC_RVA + (k + 1) * FUNC_SIZE + RETURN_AT;
		push(w, &c, ret);
		run_prolog(w, (unsigned)k % 4, &c);
		// Each function then changes the registers it saved (shape 3 set rbp).
		switch (k % 4) {
		case 0: c.rbx += 0x10; break;
		case 1: c.rbp += 0x10; c.rsi += 0x10; c.rdi += 0x10; break;
		case 2: c.rbx += 0x10; c.rdi += 0x10; break;
		}
		want_ip[k] = k ? IMAGE_BASE + FUNC_RVA + k * FUNC_SIZE + RETURN_AT
			       : IMAGE_BASE + FUNC_RVA + 0x50;
	}
	c.rip = want_ip[0];
	return c;
}

static void bench_unwind(void)
{
	struct world *w = malloc(sizeof(*w));
	if (!w)
		exit(1);
	uint64_t want_ip[FRAMES];
	struct bc_context_x64 start = build_world(w, want_ip);
	struct bc_stackwalk_env env = { { read_memory, read_image, w }, find_image, NULL, NULL };
	struct bc_stack st;
	struct bc_error *err = bc_stackwalk_x64(&env, &start, 256, &st);
	if (err || st.count != FRAMES || st.end != BC_STACK_END_ZERO_IP) {
		printf("64-frame unwind: the walk is wrong (%zu frames, end %d: %s); not timed\n",
		       err ? 0 : st.count, err ? -1 : (int)st.end, err ? err->message : st.note);
		exit(1);
	}
	for (unsigned k = 0; k < FRAMES; k++) {
		if (st.frames[k].ip != want_ip[k]) {
			printf("64-frame unwind: frame %u at %#" PRIx64 ", expected %#" PRIx64 "\n", k,
			       st.frames[k].ip, want_ip[k]);
			exit(1);
		}
	}
	bc_stack_free(&st);
	enum { WALKS = 20000 };
	double best = 1e9;
	for (int round = 0; round < 5; round++) {
		double t0 = now();
		for (int i = 0; i < WALKS; i++) {
			bc_error_destroy(bc_stackwalk_x64(&env, &start, 256, &st));
			bc_stack_free(&st);
		}
		double us = (now() - t0) / WALKS * 1e6;
		best = us < best ? us : best;
	}
	printf("64-frame x64 unwind, unwind data cached: %.2f us (target < 50 us, %.2fx of the "
	       "budget), %.2f us per frame\n", best, best / 50, best / FRAMES);
	free(w);
}

/* ---- 2. ub ---------------------------------------------------------------- */

struct ub_point {
	uint64_t end, function_start;
	uint8_t code[BC_DISASM_BACK_MAX];
	size_t size;
};

// Up to @max points in acpi.sys: 12 instructions into each .pdata function.
static size_t real_points(const char *shared, struct ub_point *pts, size_t max, char *what,
			  size_t what_size)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/pe/kernel-drivers/acpi.sys", shared);
	struct bc_pe *pe;
	struct bc_error *err = bc_pe_open_file(path, &pe);
	if (err) {
		bc_error_destroy(err);
		return 0;
	}
	const struct bc_pe_pdata *pd;
	size_t n = 0;
	uint64_t base = bc_pe_info(pe)->image_base;
	if (!(err = bc_pe_pdata(pe, &pd))) {
		for (size_t f = 0; f < pd->count && n < max; f++) {
			const struct bc_pe_runtime_function *rf = &pd->entries[f];
			uint8_t code[256];
			size_t len = rf->end - rf->begin < sizeof(code) ? rf->end - rf->begin
									: sizeof(code);
			if (bc_pe_read(pe, rf->begin, code, len) != NULL)
				continue;
			size_t at = 0;
			int k = 0;
			for (; k < 12 && at < len; k++) {
				struct bc_insn insn;
				if (bc_disasm_decode(BC_MACHINE_X64, base + rf->begin + at, code + at,
						     len - at, NULL, &insn))
					break;
				at += insn.length;
			}
			if (k < 12 || at > len)
				continue;
			struct ub_point *p = &pts[n];
			p->end = base + rf->begin + at;
			p->function_start = base + rf->begin;
			p->size = 8 * 15;  // what the CLI reads for ub's default L8
			if (bc_pe_read(pe, rf->begin + at - p->size, p->code, p->size))
				continue;
			n++;
		}
	}
	bc_error_destroy(err);
	bc_pe_close(pe);
	snprintf(what, what_size, "acpi.sys (real driver code)");
	return n;
}

// Without ../shared: functions of typical instructions in a row.
static size_t synthetic_points(struct ub_point *pts, size_t max, char *what, size_t what_size)
{
	static const uint8_t body[] = {
		0x48, 0x89, 0x5c, 0x24, 0x08, 0x57, 0x48, 0x83, 0xec, 0x20, 0x48, 0x8b, 0xf9,
		0x8b, 0x41, 0x10, 0x85, 0xc0, 0x74, 0x0c, 0x48, 0x8d, 0x4f, 0x18, 0xe8, 0x10,
		0x20, 0x30, 0x00, 0x8b, 0xd8, 0x48, 0x8b, 0x05, 0x44, 0x33, 0x22, 0x00, 0x41,
		0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x5c, 0x24, 0x30, 0x48, 0x83, 0xc4,
		0x20, 0x5f, 0xc3, 0xcc,
	};
	for (size_t n = 0; n < max; n++) {
		struct ub_point *p = &pts[n];
		p->size = 8 * 15;
		for (size_t i = 0; i < p->size; i++)
			p->code[i] = body[(i + n) % sizeof(body)];
		p->end = 0xfffff80400001000ull + 0x1000 * n + p->size;
		p->function_start = 0;
	}
	snprintf(what, what_size, "synthetic code (no ../shared)");
	return max;
}

static void bench_ub(const char *shared)
{
	enum { MAX_POINTS = 1000 };
	struct ub_point *pts = calloc(MAX_POINTS, sizeof(*pts));
	if (!pts)
		exit(1);
	char what[64];
	size_t n = shared ? real_points(shared, pts, MAX_POINTS, what, sizeof(what)) : 0;
	if (!n)
		n = synthetic_points(pts, MAX_POINTS, what, sizeof(what));
	for (int hint = 0; hint < 2; hint++) {
		double best = 1e9;
		uint64_t sink = 0;
		for (int round = 0; round < 3; round++) {
			double t0 = now();
			for (size_t i = 0; i < n; i++) {
				uint64_t start;
				bc_error_destroy(bc_disasm_back(BC_MACHINE_X64, pts[i].code, pts[i].size,
								pts[i].end, 8,
								hint ? pts[i].function_start : 0,
								&start));
				sink += start;
			}
			double us = (now() - t0) / (double)n * 1e6;
			best = us < best ? us : best;
		}
		printf("ub (8 instructions back, %s) over %zu points in %s: %.1f us per call "
		       "(target < 1 ms, %.3fx of the budget)\n",
		       hint ? "function start known" : "no symbol: votes over every start", n, what,
		       best, best / 1000);
		(void)sink;
	}
	free(pts);
}

int main(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: bench_stack [SHARED_DIR]\n");
		return 2;
	}
	bench_unwind();
	bench_ub(argc == 2 ? argv[1] : NULL);
	return 0;
}
