// DUMP_HEADER32 (0x1000 bytes, "PAGEDUMP"): KERNEL_DUMP_FORMAT.md 1.3.
// Field order differs from the 64-bit header (DumpType after Comment,
// SystemUpTime before SystemTime), so it has its own decoder.
#include <string.h>

#include "target_private.h"

enum {
	H32_MAJOR_VERSION = 0x008,
	H32_MINOR_VERSION = 0x00c,
	H32_DIRECTORY_TABLE_BASE = 0x010,
	H32_PFN_DATA_BASE = 0x014,
	H32_PS_LOADED_MODULE_LIST = 0x018,
	H32_PS_ACTIVE_PROCESS_HEAD = 0x01c,
	H32_MACHINE_IMAGE_TYPE = 0x020,
	H32_NUMBER_PROCESSORS = 0x024,
	H32_BUGCHECK_CODE = 0x028,
	H32_BUGCHECK_PARAMETER1 = 0x02c,
	H32_PAE_ENABLED = 0x05c,
	H32_KD_SECONDARY_VERSION = 0x05d,
	H32_KD_DEBUGGER_DATA_BLOCK = 0x060,
	H32_CONTEXT_RECORD = 0x320,
	H32_EXCEPTION = 0x7d0,
	H32_COMMENT = 0x820,
	H32_ATTRIBUTES = 0x8a0,
	H32_DUMP_TYPE = 0xf88,
	H32_MINI_DUMP_FIELDS = 0xf8c,
	H32_SECONDARY_DATA_STATE = 0xf90,
	H32_PRODUCT_TYPE = 0xf94,
	H32_SUITE_MASK = 0xf98,
	H32_WRITER_STATUS = 0xf9c,
	H32_REQUIRED_DUMP_SPACE = 0xfa0,
	H32_SYSTEM_UP_TIME = 0xfb8,
	H32_SYSTEM_TIME = 0xfc0,
	H32_SIZE = 0x1000,
};

// 32-bit kernels keep pointers sign-extended in 64-bit contexts (KDBG,
// dbgeng's EXTEND64); header pointers are widened the same way so that
// comparisons with KDBG values work.
static uint64_t extend32(uint32_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

struct bc_error *bc_dump_header32_decode(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	if (f.size < H32_SIZE)
		return bc_error_format(f.size,
				       "truncated 32-bit kernel dump: the file has %#llx bytes, "
				       "but its header alone needs %#x",
				       (unsigned long long)f.size, H32_SIZE);
	const uint8_t *h = f.data;
	struct bc_dump_info *info = &t->info;
	t->header_size = H32_SIZE;
	info->pointer_size = 4;
	info->file_size = f.size;
	info->major_version = bc_le32(h + H32_MAJOR_VERSION);
	info->build = bc_le32(h + H32_MINOR_VERSION);
	info->directory_table_base = bc_le32(h + H32_DIRECTORY_TABLE_BASE);
	info->pfn_database = extend32(bc_le32(h + H32_PFN_DATA_BASE));
	info->ps_loaded_module_list = extend32(bc_le32(h + H32_PS_LOADED_MODULE_LIST));
	info->ps_active_process_head = extend32(bc_le32(h + H32_PS_ACTIVE_PROCESS_HEAD));
	info->machine_image_type = bc_le32(h + H32_MACHINE_IMAGE_TYPE);
	info->machine = info->machine_image_type == 0x14c ? BC_MACHINE_X86 : BC_MACHINE_UNKNOWN;
	info->processors = bc_le32(h + H32_NUMBER_PROCESSORS);
	info->bugcheck_code = bc_le32(h + H32_BUGCHECK_CODE);
	for (int i = 0; i < 4; i++)
		info->bugcheck_parameters[i] = bc_le32(h + H32_BUGCHECK_PARAMETER1 + 4 * i);
	info->pae_enabled = h[H32_PAE_ENABLED] != 0;
	info->kd_secondary_version = h[H32_KD_SECONDARY_VERSION];
	info->kd_debugger_data_block = extend32(bc_le32(h + H32_KD_DEBUGGER_DATA_BLOCK));
	bc_dump_copy_comment(h + H32_COMMENT, 128, info->comment);
	info->attributes = bc_le32(h + H32_ATTRIBUTES);
	info->has_attributes = info->attributes != BC_PAGE_FILL32;
	if (!info->has_attributes)
		info->attributes = 0;
	info->dump_type = bc_le32(h + H32_DUMP_TYPE);
	info->mini_dump_fields = bc_le32(h + H32_MINI_DUMP_FIELDS);
	info->secondary_data_state = bc_le32(h + H32_SECONDARY_DATA_STATE);
	info->product_type = bc_le32(h + H32_PRODUCT_TYPE);
	info->has_product_type = info->product_type != BC_PAGE_FILL32;
	info->suite_mask = bc_le32(h + H32_SUITE_MASK);
	info->writer_status = bc_le32(h + H32_WRITER_STATUS);
	info->required_dump_space = bc_le64(h + H32_REQUIRED_DUMP_SPACE);
	info->system_uptime = bc_le64(h + H32_SYSTEM_UP_TIME);
	info->has_system_uptime = info->system_uptime != BC_PAGE_FILL64;
	info->system_time = bc_le64(h + H32_SYSTEM_TIME);
	info->has_system_time = info->system_time && info->system_time != BC_PAGE_FILL64;
	bc_exception_record_decode(4, h + H32_EXCEPTION, &t->exception);

	if (info->machine != BC_MACHINE_X86)
		return bc_error_format(H32_MACHINE_IMAGE_TYPE,
				       "32-bit kernel dump (PAGEDUMP) for an unsupported machine "
				       "type %#x (expected 0x14c x86)",
				       info->machine_image_type);
	t->context_file_offset = H32_CONTEXT_RECORD;
	return NULL;
}
