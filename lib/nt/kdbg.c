// KDDEBUGGER_DATA64 ("KDBG"): locating, decoding and parsing. KERNEL_DUMP_FORMAT.md 4.
//
// Windows 8+ x64 kernels may keep the block encoded in memory. The encoding
// per 8-byte word w is, with KiWaitNever N, KiWaitAlways A and the address E
// of nt!KdpDataBlockEncoded:
//     p = bswap(rol(w ^ N, N & 0xff) ^ (E | 0xffff000000000000)) ^ A
// Since rol and bswap distribute over XOR, this is p = bswap(rol(w, r)) ^ K
// with r = N mod 64 and one 64-bit constant K. Two words whose plain values
// we know from the dump header (PsLoadedModuleList at 0x48 and
// PsActiveProcessHead at 0x50) give r (the rotation that maps w1^w2 onto
// bswap(p1^p2)) and then K, so the block decodes without symbols for N, A, E.
// The "KDBG" owner tag then confirms the key.
#include <string.h>

#include "target_private.h"

enum {
	KD_OWNER_TAG = 0x10,
	KD_SIZE = 0x14,
	KD_KERN_BASE = 0x18,
	KD_PS_LOADED_MODULE_LIST = 0x48,
	KD_PS_ACTIVE_PROCESS_HEAD = 0x50,
	KD_MM_PFN_DATABASE = 0xc0,
	KD_NT_BUILD_LAB = 0x208,
	KD_KI_PROCESSOR_BLOCK = 0x218,
	KD_MM_UNLOADED_DRIVERS = 0x220,
	KD_MM_LAST_UNLOADED_DRIVER = 0x228,
	KD_CM_NT_CSD_VERSION = 0x268,
	KD_OFFSET_KTHREAD_KERNEL_STACK = 0x29c,
	KD_OFFSET_KTHREAD_INITIAL_STACK = 0x29e,
	KD_OFFSET_KTHREAD_APC_PROCESS = 0x2a0,
	KD_SIZE_EPROCESS = 0x2a8,
	KD_OFFSET_EPROCESS_DTB = 0x2ae,
	KD_SIZE_PRCB = 0x2b0,
	KD_OFFSET_PRCB_CURRENT_THREAD = 0x2b4,
	KD_OFFSET_PRCB_PROC_STATE_CONTEXT = 0x2bc,
	KD_OFFSET_PRCB_NUMBER = 0x2be,
	KD_SIZE_ETHREAD = 0x2c0,
	KD_OFFSET_PRCB_PROC_STATE_SPECIAL_REG = 0x2f2,
	KD_OFFSET_PRCB_CONTEXT = 0x338,
	KD_PTE_BASE = 0x360,
	KD_HEADER_SIZE = 0x18,
	KD_MIN_SIZE = 0x290,  // through MmVirtualTranslationBase: every kernel since XP
	KD_MAX_SIZE = 0x1000,
};

static const uint32_t KDBG_TAG = 0x4742444b;  // bytes "KDBG"

static uint64_t rol64(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v << r) | (v >> (64 - r)) : v;
}

bool bc_nt_kdbg_decode(uint8_t *block, size_t size, uint64_t p1, uint64_t p2)
{
	if (size < KD_PS_ACTIVE_PROCESS_HEAD + 8 || p1 == p2)
		return false;
	uint64_t w1 = bc_le64(block + KD_PS_LOADED_MODULE_LIST);
	uint64_t w2 = bc_le64(block + KD_PS_ACTIVE_PROCESS_HEAD);
	uint64_t want = __builtin_bswap64(p1 ^ p2);
	for (unsigned r = 0; r < 64; r++) {
		if (rol64(w1 ^ w2, r) != want)
			continue;
		uint64_t key = p1 ^ __builtin_bswap64(rol64(w1, r));
		uint64_t tag = __builtin_bswap64(rol64(bc_le64(block + KD_OWNER_TAG), r)) ^ key;
		uint32_t decoded_size = (uint32_t)(tag >> 32);
		if ((uint32_t)tag != KDBG_TAG || decoded_size < KD_MIN_SIZE)
			continue;
		for (size_t o = 0; o + 8 <= size; o += 8)
			bc_put_le64(block + o, __builtin_bswap64(rol64(bc_le64(block + o), r)) ^ key);
		return true;
	}
	return false;
}

void bc_nt_kdbg_parse(struct bc_kdbg *kd, const uint8_t *raw, size_t size, bool is64)
{
	(void)is64;  // KDDEBUGGER_DATA64 has one layout for all machines.
	memset(kd->raw, 0, sizeof(kd->raw));
	kd->raw_size = size < sizeof(kd->raw) ? (uint32_t)size : (uint32_t)sizeof(kd->raw);
	memcpy(kd->raw, raw, kd->raw_size);
	struct bc_span s = { kd->raw, kd->raw_size };
	kd->size = bc_le32(raw + KD_SIZE);
	const struct { uint64_t off; uint64_t *dst; } q[] = {
		{ KD_KERN_BASE, &kd->kern_base },
		{ KD_PS_LOADED_MODULE_LIST, &kd->ps_loaded_module_list },
		{ KD_PS_ACTIVE_PROCESS_HEAD, &kd->ps_active_process_head },
		{ KD_MM_PFN_DATABASE, &kd->mm_pfn_database },
		{ KD_NT_BUILD_LAB, &kd->nt_build_lab },
		{ KD_KI_PROCESSOR_BLOCK, &kd->ki_processor_block },
		{ KD_MM_UNLOADED_DRIVERS, &kd->mm_unloaded_drivers },
		{ KD_MM_LAST_UNLOADED_DRIVER, &kd->mm_last_unloaded_driver },
		{ KD_CM_NT_CSD_VERSION, &kd->cm_nt_csd_version },
		{ KD_PTE_BASE, &kd->pte_base },
	};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		*q[i].dst = 0;
		if (q[i].off + 8 <= kd->size)
			bc_span_u64(s, q[i].off, q[i].dst);
	}
	const struct { uint64_t off; uint16_t *dst; } h[] = {
		{ KD_OFFSET_KTHREAD_KERNEL_STACK, &kd->offset_kthread_kernel_stack },
		{ KD_OFFSET_KTHREAD_INITIAL_STACK, &kd->offset_kthread_initial_stack },
		{ KD_OFFSET_KTHREAD_APC_PROCESS, &kd->offset_kthread_apc_process },
		{ KD_SIZE_EPROCESS, &kd->size_eprocess },
		{ KD_OFFSET_EPROCESS_DTB, &kd->offset_eprocess_directory_table_base },
		{ KD_SIZE_PRCB, &kd->size_prcb },
		{ KD_OFFSET_PRCB_CURRENT_THREAD, &kd->offset_prcb_current_thread },
		{ KD_OFFSET_PRCB_PROC_STATE_CONTEXT, &kd->offset_prcb_proc_state_context },
		{ KD_OFFSET_PRCB_NUMBER, &kd->offset_prcb_number },
		{ KD_SIZE_ETHREAD, &kd->size_ethread },
		{ KD_OFFSET_PRCB_PROC_STATE_SPECIAL_REG, &kd->offset_prcb_proc_state_special_reg },
		{ KD_OFFSET_PRCB_CONTEXT, &kd->offset_prcb_context },
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		*h[i].dst = 0;
		if (h[i].off + 2 <= kd->size)
			bc_span_u16(s, h[i].off, h[i].dst);
	}
}

void bc_nt_load_kdbg(struct bc_target *t)
{
	struct bc_kdbg *kd = &t->kdbg;
	uint64_t va = t->info.kd_debugger_data_block;
	kd->address = va;
	if (!va || va == BC_PAGE_FILL64) {
		bc_target_warn(t, "the dump header names no KdDebuggerDataBlock");
		return;
	}
	uint8_t block[sizeof(kd->raw)];
	struct bc_error *err = bc_target_read(t, va, block, KD_HEADER_SIZE);
	if (err) {
		bc_target_warn(t, "KdDebuggerDataBlock at %#llx is not readable: %s",
			       (unsigned long long)va, err->message);
		bc_error_destroy(err);
		return;
	}
	uint32_t size = bc_le32(block + KD_SIZE);
	bool plain = bc_le32(block + KD_OWNER_TAG) == KDBG_TAG;
	if (!plain || size < KD_MIN_SIZE || size > KD_MAX_SIZE)
		size = 0x380;  // the Windows 10 size; enough words to find the key
	size_t want = size < sizeof(block) ? size : sizeof(block);
	err = bc_target_read(t, va, block, want);
	if (err) {
		// Older kernels' blocks end sooner; retry with the shortest valid size.
		bc_error_destroy(err);
		want = KD_MIN_SIZE;
		if ((err = bc_target_read(t, va, block, want))) {
			bc_target_warn(t, "KdDebuggerDataBlock at %#llx is only partly readable: %s",
				       (unsigned long long)va, err->message);
			bc_error_destroy(err);
			return;
		}
	}
	if (!plain) {
		if (t->info.pointer_size != 8 ||
		    !bc_nt_kdbg_decode(block, want, t->info.ps_loaded_module_list,
				       t->info.ps_active_process_head)) {
			bc_target_warn(t, "KdDebuggerDataBlock at %#llx is neither plain (\"KDBG\") nor "
				       "decodable with the header's list heads",
				       (unsigned long long)va);
			return;
		}
		kd->was_encoded = true;
		size = bc_le32(block + KD_SIZE);
		if (size < want)
			want = size;
	}
	bc_nt_kdbg_parse(kd, block, want, t->info.pointer_size == 8);
	kd->present = true;
	kd->address = va;
	t->info.kernel_base = kd->kern_base;
}
