// DUMP_HEADER64 (0x2000 bytes, "PAGEDU64"): KERNEL_DUMP_FORMAT.md 1.2.
// Used by x64 and ARM64 kernels.
#include <string.h>

#include "target_private.h"

// Field offsets in DUMP_HEADER64 (mindumpdef.h names).
enum {
	H64_MAJOR_VERSION = 0x008,
	H64_MINOR_VERSION = 0x00c,
	H64_DIRECTORY_TABLE_BASE = 0x010,
	H64_PFN_DATA_BASE = 0x018,
	H64_PS_LOADED_MODULE_LIST = 0x020,
	H64_PS_ACTIVE_PROCESS_HEAD = 0x028,
	H64_MACHINE_IMAGE_TYPE = 0x030,
	H64_NUMBER_PROCESSORS = 0x034,
	H64_BUGCHECK_CODE = 0x038,
	H64_BUGCHECK_PARAMETER1 = 0x040,
	H64_KD_DEBUGGER_DATA_BLOCK = 0x080,
	H64_CONTEXT_RECORD = 0x348,
	H64_EXCEPTION = 0xf00,
	H64_DUMP_TYPE = 0xf98,
	H64_REQUIRED_DUMP_SPACE = 0xfa0,
	H64_SYSTEM_TIME = 0xfa8,
	H64_COMMENT = 0xfb0,
	H64_SYSTEM_UP_TIME = 0x1030,
	H64_MINI_DUMP_FIELDS = 0x1038,
	H64_SECONDARY_DATA_STATE = 0x103c,
	H64_PRODUCT_TYPE = 0x1040,
	H64_SUITE_MASK = 0x1044,
	H64_WRITER_STATUS = 0x1048,
	H64_KD_SECONDARY_VERSION = 0x104d,
	H64_ATTRIBUTES = 0x1050,
	H64_SIZE = 0x2000,
};

static enum bc_machine machine_of(uint32_t image_type)
{
	switch (image_type) {
	case 0x8664: return BC_MACHINE_X64;
	case 0xaa64: return BC_MACHINE_ARM64;
	case 0x14c: return BC_MACHINE_X86;
	}
	return BC_MACHINE_UNKNOWN;
}

void bc_dump_copy_comment(const uint8_t *p, size_t max, char *out)
{
	size_t n = 0;
	while (n < max && p[n] && !(n + 4 <= max && !memcmp(p + n, "PAGE", 4)))
		n++;
	memcpy(out, p, n);
	out[n] = 0;
}

struct bc_error *bc_dump_header64_decode(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	if (f.size < H64_SIZE)
		return bc_error_format(f.size,
				       "truncated 64-bit kernel dump: the file has %#llx bytes, "
				       "but its header alone needs %#x",
				       (unsigned long long)f.size, H64_SIZE);
	const uint8_t *h = f.data;
	struct bc_dump_info *info = &t->info;
	t->header_size = H64_SIZE;
	info->pointer_size = 8;
	info->file_size = f.size;
	info->major_version = bc_le32(h + H64_MAJOR_VERSION);
	info->build = bc_le32(h + H64_MINOR_VERSION);
	info->directory_table_base = bc_le64(h + H64_DIRECTORY_TABLE_BASE);
	info->pfn_database = bc_le64(h + H64_PFN_DATA_BASE);
	info->ps_loaded_module_list = bc_le64(h + H64_PS_LOADED_MODULE_LIST);
	info->ps_active_process_head = bc_le64(h + H64_PS_ACTIVE_PROCESS_HEAD);
	info->machine_image_type = bc_le32(h + H64_MACHINE_IMAGE_TYPE);
	info->machine = machine_of(info->machine_image_type);
	info->processors = bc_le32(h + H64_NUMBER_PROCESSORS);
	info->bugcheck_code = bc_le32(h + H64_BUGCHECK_CODE);
	for (int i = 0; i < 4; i++)
		info->bugcheck_parameters[i] = bc_le64(h + H64_BUGCHECK_PARAMETER1 + 8 * i);
	info->kd_debugger_data_block = bc_le64(h + H64_KD_DEBUGGER_DATA_BLOCK);
	info->dump_type = bc_le32(h + H64_DUMP_TYPE);
	info->required_dump_space = bc_le64(h + H64_REQUIRED_DUMP_SPACE);
	info->system_time = bc_le64(h + H64_SYSTEM_TIME);
	info->has_system_time = info->system_time && info->system_time != BC_PAGE_FILL64;
	bc_dump_copy_comment(h + H64_COMMENT, 128, info->comment);
	info->system_uptime = bc_le64(h + H64_SYSTEM_UP_TIME);
	info->has_system_uptime = info->system_uptime != BC_PAGE_FILL64;
	info->mini_dump_fields = bc_le32(h + H64_MINI_DUMP_FIELDS);
	info->secondary_data_state = bc_le32(h + H64_SECONDARY_DATA_STATE);
	info->product_type = bc_le32(h + H64_PRODUCT_TYPE);
	info->has_product_type = info->product_type != BC_PAGE_FILL32;
	info->suite_mask = bc_le32(h + H64_SUITE_MASK);
	info->writer_status = bc_le32(h + H64_WRITER_STATUS);
	info->kd_secondary_version = h[H64_KD_SECONDARY_VERSION];
	info->attributes = bc_le32(h + H64_ATTRIBUTES);
	info->has_attributes = info->attributes != BC_PAGE_FILL32;
	if (!info->has_attributes)
		info->attributes = 0;
	bc_exception_record_decode(8, h + H64_EXCEPTION, &t->exception);

	if (info->machine == BC_MACHINE_UNKNOWN)
		return bc_error_format(H64_MACHINE_IMAGE_TYPE,
				       "64-bit kernel dump for an unsupported machine type %#x "
				       "(expected 0x8664 x64 or 0xaa64 ARM64)",
				       info->machine_image_type);
	if (info->machine == BC_MACHINE_X86)
		return bc_error_format(H64_MACHINE_IMAGE_TYPE,
				       "64-bit dump header (PAGEDU64) claims an x86 (0x14c) machine; "
				       "x86 dumps use the 32-bit PAGEDUMP header");
	t->context_file_offset = H64_CONTEXT_RECORD;
	return NULL;
}
