/*
 * bugcheck/sysinfo.h: what a dump says about the machine besides its memory.
 *
 * Bug-check callbacks add "secondary data" to a small memory dump: blobs
 * tagged by GUID, after the triage data (at TRIAGE_DUMP.SizeOfDump). Among
 * them Windows stores the firmware's SMBIOS tables (the RawSMBIOSData that
 * GetSystemFirmwareTable('RSMB') returns), the values of the processor's
 * registry key (HARDWARE\DESCRIPTION\System\CentralProcessor\0), ACPI tables
 * and driver logs. This module lists the blobs (`.enumtag`) and decodes the
 * first two for `!sysinfo machineid`, `!sysinfo smbios` and
 * `!sysinfo cpuinfo`.
 *
 * Layout, as found in every small memory dump in ../shared/dumps/kernel:
 *   "DumpBlob" u32 HeaderSize (0x10) u32 BuildNumber (0xf000xxxx)
 *   then blobs: u32 HeaderSize (0x20), GUID Tag, u32 DataSize, u32 PrePad,
 *               u32 PostPad, PrePad bytes, DataSize bytes, PostPad bytes;
 *   a HeaderSize of 0 (zero fill) ends the list.
 *
 * Everything here is hostile file content: strings are returned as found
 * (callers escape them before printing) and every length is checked.
 * Ownership: blobs and their bytes are borrowed from the target; struct
 * bc_smbios and registry value lists are the caller's to free.
 */
#ifndef BUGCHECK_SYSINFO_H
#define BUGCHECK_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"
#include "bugcheck/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A GUID as stored (Data1, Data2, Data3 little-endian, then Data4). */
struct bc_guid {
	uint8_t bytes[16];
};

/** "{BC5C008F-1E3A-44D7-988D-86F6884C6758}" into @buf (39 bytes). */
BC_PUBLIC void bc_guid_format(const struct bc_guid *g, char buf[39]);

/** Well-known secondary data tags. */
BC_PUBLIC extern const struct bc_guid bc_tag_smbios;         ///< RawSMBIOSData
BC_PUBLIC extern const struct bc_guid bc_tag_cpu_registry;   ///< CentralProcessor\0's values

/** One secondary data blob. */
struct bc_dump_blob {
	struct bc_guid tag;
	uint64_t header_offset;      ///< file offset of its header
	const uint8_t *data;         ///< borrowed from the target's file
	uint32_t size;
};

/**
 * The secondary data blobs of @t (read once, then kept). A small memory dump
 * without secondary data has none (count 0). BC_ERR_UNSUPPORTED for other
 * dump types (their secondary data is not located yet); BC_ERR_FORMAT when
 * the blob list is damaged (the blobs before the damage are still listed,
 * and bc_target_blob_note() says what is wrong).
 */
BC_PUBLIC struct bc_error *bc_target_blobs(struct bc_target *t, const struct bc_dump_blob **ret,
					   size_t *count);
/** The first blob tagged @tag, or NULL (also when the dump has no secondary data). */
BC_PUBLIC const struct bc_dump_blob *bc_target_find_blob(struct bc_target *t,
							 const struct bc_guid *tag);
/** What was wrong with the blob list ("" when nothing). */
BC_PUBLIC const char *bc_target_blob_note(struct bc_target *t);

/** One SMBIOS structure. */
struct bc_smbios_structure {
	uint8_t type, length;        ///< length: of the formatted area, header included
	uint16_t handle;
	const uint8_t *formatted;    ///< @length bytes (borrowed from the table)
	const char **strings;        ///< string-set, 1-based in SMBIOS, here 0-based; NUL-terminated
	size_t string_count;
};

struct bc_smbios {
	uint8_t major, minor, dmi_revision;
	uint32_t table_length;
	struct bc_smbios_structure *structures;
	size_t count;
	char note[128];              ///< why decoding stopped early ("" when the table was whole)
};

/**
 * Decodes RawSMBIOSData (u8 Used20CallingMethod, u8 major, u8 minor, u8
 * DmiRevision, u32 Length, then the structure table). Stops at the
 * end-of-table structure (type 127) or the end of the data; a damaged
 * structure ends the list with a note. BC_ERR_FORMAT only when not even the
 * header is there. The result borrows @data.
 */
BC_PUBLIC struct bc_error *bc_smbios_parse(const uint8_t *data, size_t size,
					   struct bc_smbios **ret);
BC_PUBLIC void bc_smbios_free(struct bc_smbios *s);
/** String number @number (1-based, as structures refer to them) of @st, or NULL. */
BC_PUBLIC const char *bc_smbios_string(const struct bc_smbios_structure *st, uint8_t number);
/** A byte/word of the formatted area, false when the structure is too short to have it. */
BC_PUBLIC bool bc_smbios_byte(const struct bc_smbios_structure *st, size_t offset, uint8_t *ret);
/** The first structure of @type, or NULL. */
BC_PUBLIC const struct bc_smbios_structure *bc_smbios_find(const struct bc_smbios *s,
							   uint8_t type);

/** WinDbg's `!sysinfo machineid` fields (NULL when the table does not say). */
struct bc_machine_id {
	bool has_bios_release;
	uint8_t bios_major_release, bios_minor_release;
	const char *bios_vendor, *bios_version, *bios_release_date;
	const char *system_manufacturer, *system_product_name, *system_family, *system_version,
		*system_sku;
	const char *baseboard_manufacturer, *baseboard_product, *baseboard_version;
};

/** Fills @ret from types 0 (BIOS), 1 (System) and 2 (Baseboard); strings borrowed from @s. */
BC_PUBLIC void bc_smbios_machine_id(const struct bc_smbios *s, struct bc_machine_id *ret);

/** A registry value as the processor key's blob stores it. */
struct bc_registry_value {
	char *name;                  ///< UTF-8 (converted from UTF-16)
	uint32_t type;               ///< REG_SZ 1, REG_BINARY 3, REG_DWORD 4, REG_FULL_RESOURCE_DESCRIPTOR 9, REG_QWORD 11 ...
	const uint8_t *data;         ///< borrowed from the blob
	uint32_t size;
};

/**
 * Decodes a registry-values blob: repeated {u32 NameSize (bytes of UTF-16
 * with its NUL), name, u32 Type, u32 DataSize, data}. Stops at the end of
 * the data; a value that does not fit ends the list (*@note_ret set, may be
 * NULL). *@ret is malloc'd: free it with bc_registry_values_free().
 */
BC_PUBLIC struct bc_error *bc_registry_values_parse(const uint8_t *data, size_t size,
						    struct bc_registry_value **ret,
						    size_t *count, const char **note_ret);
BC_PUBLIC void bc_registry_values_free(struct bc_registry_value *values, size_t count);
/** A REG_SZ/REG_EXPAND_SZ value's text as malloc'd UTF-8 (NULL for other types or OOM). */
BC_PUBLIC char *bc_registry_string(const struct bc_registry_value *v);
/** "REG_SZ", "REG_DWORD", ...; NULL for types without a name. */
BC_PUBLIC const char *bc_registry_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif
#endif
