// Stack walks over a target's modules (bugcheck/stack.h): unwind data from
// each module's image in dump memory, else from its image file. x64 and
// ARM64 images both keep their function table in the exception directory;
// only the entry size (12 and 8 bytes) and the walker differ. x86 frame
// records come from the module's PDB, found through the symbol path.
#include "base/bytes.h"
#include "bugcheck/pdb.h"
#include "bugcheck/kobj.h"
#include "bugcheck/pe.h"
#include "bugcheck/symbols.h"
#include "sym/modsyms_private.h"
#include "target_private.h"
#include "unwind/stackwalk.h"

struct walk {
	struct bc_target *t;
};

static size_t module_index_at(struct bc_target *t, uint64_t address)
{
	const struct bc_module *m = bc_target_module_at(t, address);
	return m ? (size_t)(m - t->modules) : SIZE_MAX;
}

static struct bc_error *read_memory(void *arg, uint64_t address, void *buf, size_t size)
{
	struct walk *w = arg;
	return bc_target_read(w->t, address, buf, size);
}

// Image bytes: the dump's copy first (it is what ran), else the image file's.
static struct bc_error *read_image(void *arg, uint64_t base, uint64_t rva, void *buf, size_t size)
{
	struct walk *w = arg;
	return bc_target_read_code(w->t, base + rva, buf, size);
}

static struct bc_error *find_image(void *arg, uint64_t address, uint64_t *base_ret,
				   uint32_t *pdata_rva_ret, uint32_t *pdata_size_ret)
{
	struct walk *w = arg;
	size_t index = module_index_at(w->t, address);
	if (index == SIZE_MAX)
		return &bc_not_found;
	const struct bc_module *m = &w->t->modules[index];
	struct bc_pe *pe = bc_modsyms_memory_image(w->t, index);
	if (!pe)
		pe = bc_modsyms_file_image(w->t, index);
	if (!pe)
		return bc_error_fault(m->base, BC_FAULT_NOT_IN_DUMP,
				      "%s: neither the dump nor the symbol path has its image headers",
				      m->name);
	const struct bc_pe_info *info = bc_pe_info(pe);
	*base_ret = m->base;
	*pdata_rva_ret = info->directories[BC_PE_DIR_EXCEPTION].rva;
	*pdata_size_ret = info->directories[BC_PE_DIR_EXCEPTION].size;
	return NULL;
}

// Reads the @size bytes of code before @address in its module. False when
// @address is in no module (or in its headers); without readable code (a
// small memory dump) *@unreadable says whether being inside the module must
// do: a value at a symbol's very start is a function pointer (a callback
// argument), not where a call returns to.
static bool code_before(struct walk *w, uint64_t address, uint8_t *b, size_t size,
			bool *unreadable)
{
	*unreadable = false;
	const struct bc_module *m = bc_target_module_at(w->t, address);
	if (!m || address - m->base < 0x1000)
		return false;
	struct bc_error *err = read_image(w, m->base, address - size - m->base, b, size);
	if (err) {
		bc_error_destroy(err);
		struct bc_address_symbol a;
		bc_target_describe_address(w->t, address, &a);
		*unreadable = !(a.symbol && a.displacement == 0);
		return false;
	}
	return true;
}

// A return address sits just after a call: E8 rel32; FF /2 forms (call r,
// call [r+d8], call [rip+d32] or [r+d32]), with or without REX.
static bool plausible_return(void *arg, uint64_t address)
{
	uint8_t b[7];
	bool unreadable;
	if (!code_before(arg, address, b, sizeof(b), &unreadable))
		return unreadable;
	if (b[2] == 0xe8)
		return true;                                      // call rel32
	if (b[5] == 0xff && (b[6] & 0xf8) == 0xd0)
		return true;                                      // call reg
	if (b[4] == 0xff && (b[5] & 0xf8) == 0x50)
		return true;                                      // call [reg+d8]
	if (b[1] == 0xff && (b[2] == 0x15 || (b[2] & 0xf8) == 0x90))
		return true;                                      // call [rip+d32] / [reg+d32]
	return false;
}

// ARM64: after BL imm26, BLR Xn, or the authenticating BLRAA/BLRAB(Z) forms.
static bool plausible_return_arm64(void *arg, uint64_t address)
{
	uint8_t b[4];
	bool unreadable;
	if (address & 3)
		return false;
	if (!code_before(arg, address, b, sizeof(b), &unreadable))
		return unreadable;
	uint32_t insn = bc_le32(b);
	return (insn & 0xfc000000u) == 0x94000000u ||   // bl
	       (insn & 0xfffffc1fu) == 0xd63f0000u ||   // blr
	       (insn & 0xfffff81fu) == 0xd63f081fu ||   // blraaz, blrabz
	       (insn & 0xfffff800u) == 0xd73f0800u;     // blraa, blrab
}

// x86: the FPO/FrameData record at @address from its module's PDB (loading
// the module's symbols if they are not yet).
static struct bc_error *x86_frame(void *arg, uint64_t address, struct bc_x86_frame_info *ret)
{
	struct walk *w = arg;
	size_t index = module_index_at(w->t, address);
	if (index == SIZE_MAX)
		return &bc_not_found;
	const struct bc_module_symbols *ms = bc_target_module_symbols(w->t, index);
	if (!ms->symtab || bc_symtab_kind(ms->symtab) != BC_SYMTAB_PDB)
		return &bc_not_found;
	return bc_pdb_x86_frame(ms->symtab, address - w->t->modules[index].base, ret);
}

bool bc_target_is_return_address(struct bc_target *t, uint64_t address)
{
	struct walk w = { t };
	if (t->info.machine == BC_MACHINE_ARM64)
		return plausible_return_arm64(&w, address);
	return plausible_return(&w, address);
}

// The bug-checking thread's kernel stack [StackLimit, StackBase), when the
// walk starts on it and the kernel's layout says where those fields are.
static void thread_stack_range(struct bc_target *t, uint64_t sp, struct bc_stackwalk_env *env)
{
	uint64_t thread = bc_target_current_thread(t), low, high;
	if (!thread)
		return;
	if (bc_kernel_read_optional(t, thread, "_KTHREAD", "StackLimit", &low) &&
	    bc_kernel_read_optional(t, thread, "_KTHREAD", "StackBase", &high) && low < high &&
	    sp >= low && sp < high) {
		env->stack_low = low;
		env->stack_high = high;
	}
}

BC_PUBLIC struct bc_error *bc_target_stack(struct bc_target *t, const struct bc_context *start,
					   size_t max_frames, struct bc_stack *ret)
{
	*ret = (struct bc_stack){ 0 };
	struct walk w = { t };
	if (start->machine == BC_MACHINE_X86) {
		struct bc_stackwalk_env env = { { read_memory, read_image, &w }, find_image,
						plausible_return, &w, x86_frame };
		return bc_stackwalk_x86(&env, &start->x86, max_frames, ret);
	}
	if (start->machine == BC_MACHINE_ARM64) {
		struct bc_stackwalk_env env = { { read_memory, read_image, &w }, find_image,
						plausible_return_arm64, &w };
		thread_stack_range(t, start->arm64.sp, &env);
		return bc_stackwalk_arm64(&env, &start->arm64, max_frames, ret);
	}
	if (start->machine != BC_MACHINE_X64)
		return bc_error_create(BC_ERR_UNSUPPORTED, "stack walks of %s are not implemented yet",
				       bc_machine_name(start->machine));
	struct bc_stackwalk_env env = { { read_memory, read_image, &w }, find_image,
					plausible_return, &w };
	thread_stack_range(t, start->x64.rsp, &env);
	return bc_stackwalk_x64(&env, &start->x64, max_frames, ret);
}
