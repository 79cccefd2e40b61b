// WHEA error records: the Common Platform Error Record (UEFI appendix N) as
// Windows keeps it (WHEA_ERROR_RECORD_HEADER, _SECTION_DESCRIPTOR).
//
// Layout (little-endian, packed):
//   header, 128 bytes: "CPER" @0, Revision @4 (u16), 0xFFFFFFFF @6,
//     SectionCount @10 (u16), Severity @12, ValidBits @16 (bit 1: the
//     timestamp is valid), Length @20, Timestamp @24 (seconds, minutes,
//     hours, flags, day, month, year, century), PlatformId @32,
//     PartitionId @48, CreatorId @64, NotifyType @80, RecordId @96, ...
//   section descriptors, 72 bytes each from offset 128: SectionOffset @0,
//     SectionLength @4, Revision @8, ValidBits @10, Flags @12,
//     SectionType @16 (GUID), FRUId @32, SectionSeverity @48, FRUText @52.
//   Processor Generic section: ValidBits @0 (u64), ProcessorType @8,
//     InstructionSet @9, ErrorType @10, Operation @11, Flags @12, Level @13,
//     CPUVersion @16, CPUBrandString @24 (128), ProcessorId @152,
//     TargetAddress @160, RequesterId @168, ResponderId @176,
//     InstructionPointer @184.
//   Platform Memory section: ValidBits @0 (u64), ErrorStatus @8,
//     PhysicalAddress @16, PhysicalAddressMask @24, Node @32, Card @34,
//     Module @36, Bank @38, Device @40, Row @42, Column @44, BitPosition @46,
//     RequesterId @48, ResponderId @56, TargetId @64, ErrorType @72.
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/whea.h"

enum {
	HEADER_SIZE = 128,
	DESCRIPTOR_SIZE = 72,
	MAX_RECORD = 64 * 1024,
	PROCESSOR_GENERIC_SIZE = 192,
	MEMORY_SECTION_SIZE = 73,
};

// Section type GUIDs as stored (Data1-3 little-endian, then Data4's bytes).
#define GUID_BYTES(d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7)                                 \
	{ (d1) & 0xff, ((d1) >> 8) & 0xff, ((d1) >> 16) & 0xff, ((d1) >> 24) & 0xff, (d2) & 0xff, \
	  ((d2) >> 8) & 0xff, (d3) & 0xff, ((d3) >> 8) & 0xff, b0, b1, b2, b3, b4, b5, b6, b7 }

static const struct {
	uint8_t guid[16];
	enum bc_whea_section_kind kind;
	const char *name;
} section_types[] = {
	{ GUID_BYTES(0x9876ccad, 0x47b4, 0x4bdb, 0xb6, 0x5e, 0x16, 0xf1, 0x93, 0xc4, 0xf3, 0xdb),
	  BC_WHEA_SECTION_PROCESSOR_GENERIC, "Processor Generic" },
	{ GUID_BYTES(0xdc3ea0b0, 0xa144, 0x4797, 0xb9, 0x5b, 0x53, 0xfa, 0x24, 0x2b, 0x6e, 0x1d),
	  BC_WHEA_SECTION_XPF_PROCESSOR, "x86/x64 Processor Specific" },
	{ GUID_BYTES(0xe19e3d16, 0xbc11, 0x11e4, 0x9c, 0xaa, 0xc2, 0x05, 0x1d, 0x5d, 0x46, 0xb0),
	  BC_WHEA_SECTION_ARM_PROCESSOR, "ARM Processor" },
	{ GUID_BYTES(0xa5bc1114, 0x6f64, 0x4ede, 0xb8, 0x63, 0x3e, 0x83, 0xed, 0x7c, 0x83, 0xb1),
	  BC_WHEA_SECTION_MEMORY, "Platform Memory" },
	{ GUID_BYTES(0xd995e954, 0xbbc1, 0x430f, 0xad, 0x91, 0xb4, 0x4d, 0xcb, 0x3c, 0x6f, 0x35),
	  BC_WHEA_SECTION_PCIE, "PCI Express" },
	{ GUID_BYTES(0xc5753963, 0x3b84, 0x4095, 0xbf, 0x78, 0xed, 0xda, 0xd3, 0xf9, 0xc9, 0xdd),
	  BC_WHEA_SECTION_PCI_BUS, "PCI/PCI-X Bus" },
	{ GUID_BYTES(0x81212a96, 0x09ed, 0x4996, 0x94, 0x71, 0x8d, 0x72, 0x9c, 0x8e, 0x69, 0xed),
	  BC_WHEA_SECTION_FIRMWARE, "Firmware Error Record Reference" },
	{ GUID_BYTES(0x8a1e1d01, 0x42f9, 0x4557, 0x9c, 0x33, 0x56, 0x5e, 0x5c, 0xc3, 0xf7, 0xe8),
	  BC_WHEA_SECTION_XPF_MCA, "x86/x64 Machine Check (XPF MCA)" },
	{ GUID_BYTES(0xe71254e7, 0xc1b9, 0x4940, 0xab, 0x76, 0x90, 0x97, 0x03, 0xa4, 0x32, 0x0f),
	  BC_WHEA_SECTION_NMI, "NMI" },
	{ GUID_BYTES(0xe71254e9, 0xc1b9, 0x4940, 0xab, 0x76, 0x90, 0x97, 0x03, 0xa4, 0x32, 0x0f),
	  BC_WHEA_SECTION_ERROR_PACKET, "WHEA Error Packet" },
};

BC_PUBLIC const char *bc_whea_severity_name(enum bc_whea_severity severity)
{
	switch (severity) {
	case BC_WHEA_RECOVERABLE: return "Recoverable";
	case BC_WHEA_FATAL: return "Fatal";
	case BC_WHEA_CORRECTED: return "Corrected";
	case BC_WHEA_INFORMATIONAL: return "Informational";
	}
	return "Unknown";
}

BC_PUBLIC const char *bc_whea_section_name(enum bc_whea_section_kind kind)
{
	for (size_t i = 0; i < sizeof(section_types) / sizeof(section_types[0]); i++)
		if (section_types[i].kind == kind)
			return section_types[i].name;
	return "Unknown";
}

BC_PUBLIC const char *bc_whea_error_type_name(uint8_t error_type)
{
	switch (error_type) {
	case 1: return "Cache error";
	case 2: return "TLB error";
	case 4: return "Bus error";
	case 8: return "Micro-architectural error";
	}
	return "Unknown error";
}

BC_PUBLIC const char *bc_whea_operation_name(uint8_t operation)
{
	static const char *const names[] = { "Generic", "Data Read", "Data Write",
					     "Instruction Execution" };
	return operation < 4 ? names[operation] : "Unknown";
}

BC_PUBLIC const char *bc_whea_memory_error_name(uint8_t type)
{
	static const char *const names[] = {
		"Unknown",          "No error",           "Single-bit ECC",
		"Multi-bit ECC",    "Single-symbol ChipKill ECC", "Multi-symbol ChipKill ECC",
		"Master abort",     "Target abort",       "Parity error",
		"Watchdog timeout", "Invalid address",    "Mirror broken",
		"Memory sparing",   "Scrub corrected",    "Scrub uncorrected",
		"Physical memory map-out",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "Unknown";
}

static void decode_processor_generic(struct bc_span s, struct bc_whea_section *sec)
{
	uint64_t valid;
	if (!bc_span_u64(s, 0, &valid) || !bc_span_has(s, 0, PROCESSOR_GENERIC_SIZE))
		return;
	sec->has_error_type = valid & (1u << 2);
	sec->has_operation = valid & (1u << 3);
	sec->has_level = valid & (1u << 5);
	sec->has_processor_id = valid & (1u << 8);
	sec->has_target = valid & (1u << 9);
	sec->has_ip = valid & (1u << 12);
	bc_span_u8(s, 10, &sec->error_type);
	bc_span_u8(s, 11, &sec->operation);
	bc_span_u8(s, 13, &sec->level);
	bc_span_u64(s, 152, &sec->processor_id);
	bc_span_u64(s, 160, &sec->target_address);
	bc_span_u64(s, 184, &sec->instruction_pointer);
}

static void decode_memory(struct bc_span s, struct bc_whea_section *sec)
{
	uint64_t valid;
	if (!bc_span_u64(s, 0, &valid) || !bc_span_has(s, 0, MEMORY_SECTION_SIZE))
		return;
	// Valid bits: 1 physical address, 3 node, 4 card, 5 module, 6 bank,
	// 7 device, 8 row, 9 column, 14 error type.
	sec->has_physical_address = valid & (1u << 1);
	sec->has_dimm = valid & ((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6));
	sec->has_memory_error_type = valid & (1u << 14);
	bc_span_u64(s, 16, &sec->physical_address);
	uint16_t *coords[] = { &sec->node, &sec->card, &sec->module, &sec->bank,
			       &sec->device, &sec->row, &sec->column };
	for (unsigned i = 0; i < 7; i++)
		bc_span_u16(s, 32 + 2 * i, coords[i]);
	bc_span_u8(s, 72, &sec->memory_error_type);
}

BC_PUBLIC struct bc_error *bc_whea_decode(const void *data, size_t size,
					  struct bc_whea_record *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct bc_span s = { data, size };
	uint32_t signature = 0, signature_end = 0, severity = 0, valid = 0;
	if (!bc_span_has(s, 0, HEADER_SIZE))
		return bc_error_create(BC_ERR_FORMAT, "a WHEA error record needs %d bytes of header, "
				       "only %zu were read", HEADER_SIZE, size);
	bc_span_u32(s, 0, &signature);
	bc_span_u32(s, 6, &signature_end);
	if (signature != 0x52455043u /* "CPER" */ || signature_end != 0xffffffffu)
		return bc_error_create(BC_ERR_FORMAT, "not a WHEA error record (no \"CPER\" signature)");
	bc_span_u16(s, 4, &ret->revision);
	bc_span_u16(s, 10, &ret->section_count);
	bc_span_u32(s, 12, &severity);
	ret->severity = (enum bc_whea_severity)(severity <= 3 ? severity : 0xff);
	bc_span_u32(s, 16, &valid);
	bc_span_u32(s, 20, &ret->length);
	bc_span_u64(s, 96, &ret->record_id);
	if (valid & 2) {
		uint8_t t[8];
		memcpy(t, s.data + 24, 8);
		ret->has_timestamp = true;
		ret->second = t[0], ret->minute = t[1], ret->hour = t[2];
		ret->day = t[4], ret->month = t[5], ret->year = t[7] * 100u + t[6];
	}
	// What the record says it holds, within what was read.
	struct bc_span record = bc_span_sub(s, 0, ret->length < size ? ret->length : size);
	for (size_t i = 0; i < ret->section_count && i < BC_WHEA_MAX_SECTIONS; i++) {
		struct bc_span d = bc_span_sub(record, HEADER_SIZE + i * DESCRIPTOR_SIZE,
					       DESCRIPTOR_SIZE);
		if (!d.data)
			break;
		struct bc_whea_section *sec = &ret->sections[ret->decoded_sections++];
		uint32_t sev = 0;
		bc_span_u32(d, 0, &sec->offset);
		bc_span_u32(d, 4, &sec->length);
		bc_span_u32(d, 12, &sec->flags);
		memcpy(sec->type, d.data + 16, 16);
		bc_span_u32(d, 48, &sev);
		sec->severity = (enum bc_whea_severity)(sev <= 3 ? sev : 0xff);
		for (size_t k = 0; k < sizeof(section_types) / sizeof(section_types[0]); k++)
			if (!memcmp(section_types[k].guid, sec->type, 16))
				sec->kind = section_types[k].kind;
		struct bc_span body = bc_span_sub(record, sec->offset, sec->length);
		sec->fits = body.data != NULL;
		if (!sec->fits)
			continue;
		if (sec->kind == BC_WHEA_SECTION_PROCESSOR_GENERIC)
			decode_processor_generic(body, sec);
		else if (sec->kind == BC_WHEA_SECTION_MEMORY)
			decode_memory(body, sec);
	}
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_read_whea(struct bc_target *target, uint64_t address,
					       struct bc_whea_record *ret)
{
	uint8_t header[HEADER_SIZE];
	struct bc_error *err = bc_target_read(target, address, header, sizeof(header));
	if (err)
		return err;
	uint32_t length = bc_le32(header + 20);
	if (length < HEADER_SIZE)
		length = HEADER_SIZE;
	if (length > MAX_RECORD)
		length = MAX_RECORD;
	uint8_t *buf = malloc(length);
	if (!buf)
		return &bc_enomem;
	err = bc_target_read(target, address, buf, length);
	size_t got = length;
	if (err && err->code == BC_ERR_FAULT && err->address > address) {
		// The record runs into memory the dump lacks: decode what is there.
		got = (size_t)(err->address - address);
		bc_error_destroy(err);
		err = bc_target_read(target, address, buf, got);
	}
	if (!err)
		err = bc_whea_decode(buf, got, ret);
	free(buf);
	return err;
}
