/*
 * bugcheck/whea.h: WHEA error records (`!errrec`, 0x124 WHEA_UNCORRECTABLE_ERROR).
 *
 * This module owns the decoding of a Windows Hardware Error Architecture
 * record: the Common Platform Error Record of UEFI's appendix N ("CPER"
 * header, section descriptors, sections) that 0x124's Arg2 points at. The
 * header and descriptors are decoded whole; of the sections, the two that
 * name the failing part: Processor Generic (error type, operation, cache
 * level, processor, target and instruction addresses, as their valid bits
 * say) and Platform Memory (physical address, memory error type, the DIMM
 * coordinates). Other sections are named by their type GUID.
 *
 * Every byte is hostile: the record's length, section count and each
 * section's offset and length are checked against the bytes read; a
 * section that does not fit is reported as such, not read.
 */
#ifndef BUGCHECK_WHEA_H
#define BUGCHECK_WHEA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { BC_WHEA_MAX_SECTIONS = 16 };

/** WHEA_ERROR_SEVERITY. */
enum bc_whea_severity {
	BC_WHEA_RECOVERABLE = 0,
	BC_WHEA_FATAL = 1,
	BC_WHEA_CORRECTED = 2,
	BC_WHEA_INFORMATIONAL = 3,
};

enum bc_whea_section_kind {
	BC_WHEA_SECTION_OTHER = 0,
	BC_WHEA_SECTION_PROCESSOR_GENERIC,
	BC_WHEA_SECTION_XPF_PROCESSOR,     ///< IA32/X64 processor specific
	BC_WHEA_SECTION_ARM_PROCESSOR,
	BC_WHEA_SECTION_MEMORY,            ///< Platform Memory
	BC_WHEA_SECTION_PCIE,
	BC_WHEA_SECTION_PCI_BUS,
	BC_WHEA_SECTION_FIRMWARE,          ///< firmware error record reference
	BC_WHEA_SECTION_XPF_MCA,           ///< Microsoft: the machine-check bank registers
	BC_WHEA_SECTION_NMI,               ///< Microsoft
	BC_WHEA_SECTION_ERROR_PACKET,      ///< Microsoft: WHEA_ERROR_PACKET
};

struct bc_whea_section {
	enum bc_whea_section_kind kind;
	uint8_t type[16];                 ///< the section type GUID as stored
	uint32_t offset, length;          ///< in the record
	uint32_t flags;                   ///< bit 0 primary, 1 containment warning, 2 reset, ...
	enum bc_whea_severity severity;
	bool fits;                        ///< offset and length lie inside the bytes read
	// Processor Generic, where its valid bits say so.
	bool has_error_type, has_operation, has_level, has_processor_id, has_target, has_ip;
	uint8_t error_type;               ///< 0 unknown, 1 cache, 2 TLB, 4 bus, 8 micro-architectural
	uint8_t operation;                ///< 0 generic, 1 data read, 2 data write, 3 instruction execution
	uint8_t level;                    ///< cache level
	uint64_t processor_id, target_address, instruction_pointer;
	// Platform Memory, where its valid bits say so.
	bool has_physical_address, has_memory_error_type, has_dimm;
	uint64_t physical_address;
	uint8_t memory_error_type;        ///< 2 single-bit ECC, 3 multi-bit ECC, ...
	uint16_t node, card, module, bank, device, row, column;
};

struct bc_whea_record {
	uint16_t revision;
	enum bc_whea_severity severity;
	uint32_t length;                  ///< as the header says
	uint16_t section_count;           ///< as the header says (sections[] holds at most 16)
	bool has_timestamp;
	unsigned year, month, day, hour, minute, second;
	uint64_t record_id;
	size_t decoded_sections;
	struct bc_whea_section sections[BC_WHEA_MAX_SECTIONS];
};

/** Decodes a record from @size bytes at @data. BC_ERR_FORMAT when it is not a CPER record. */
BC_PUBLIC struct bc_error *bc_whea_decode(const void *data, size_t size,
					  struct bc_whea_record *ret);
/** Reads the record at @address (its header, then as many bytes as it says, at most 64 KiB) and decodes it. */
BC_PUBLIC struct bc_error *bc_target_read_whea(struct bc_target *target, uint64_t address,
					       struct bc_whea_record *ret);
/** "Fatal", "Corrected", "Recoverable", "Informational". */
BC_PUBLIC const char *bc_whea_severity_name(enum bc_whea_severity severity);
/** "Processor Generic", "Platform Memory", "PCI Express", ... ("Unknown" for others). */
BC_PUBLIC const char *bc_whea_section_name(enum bc_whea_section_kind kind);
/** "Cache error", "TLB error", "Bus error", "Micro-architectural error", "Unknown error". */
BC_PUBLIC const char *bc_whea_error_type_name(uint8_t error_type);
/** "Generic", "Data Read", "Data Write", "Instruction Execution". */
BC_PUBLIC const char *bc_whea_operation_name(uint8_t operation);
/** "Single-bit ECC", "Multi-bit ECC", ... for a memory section's error type. */
BC_PUBLIC const char *bc_whea_memory_error_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif
