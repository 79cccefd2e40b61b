/*
 * image/pe_layout.h: byte offsets of the PE/COFF structures we read.
 *
 * Names follow winnt.h (the Microsoft struct and field). Sources: the PE
 * format specification (learn.microsoft.com, "PE Format"),
 * ../shared/docs/UNWIND_AND_SYMBOLS.md section 1, and for resources and
 * version information the VS_VERSIONINFO / VS_FIXEDFILEINFO documentation.
 * tests/unit/test_pe.c builds images from these offsets and checks them
 * against binutils' reading of toolchain-built images.
 */
#ifndef BC_IMAGE_PE_LAYOUT_H
#define BC_IMAGE_PE_LAYOUT_H

#include <stdint.h>

enum pe_dos_header {
	PE_DOS_E_MAGIC = 0x00,      // "MZ"
	PE_DOS_E_LFANEW = 0x3c,     // file offset (= RVA) of IMAGE_NT_HEADERS
	PE_DOS_HEADER_SIZE = 0x40,
	PE_DOS_MAGIC = 0x5a4d,
};

// IMAGE_NT_HEADERS: Signature, then IMAGE_FILE_HEADER, then the optional header.
enum pe_nt_headers {
	PE_NT_SIGNATURE = 0x00,     // "PE\0\0"
	PE_NT_SIGNATURE_VALUE = 0x00004550,
	PE_FH_MACHINE = 0x04,
	PE_FH_NUMBER_OF_SECTIONS = 0x06,
	PE_FH_TIME_DATE_STAMP = 0x08,
	PE_FH_SIZE_OF_OPTIONAL_HEADER = 0x14,
	PE_FH_CHARACTERISTICS = 0x16,
	PE_NT_OPTIONAL_HEADER = 0x18,
};

// IMAGE_OPTIONAL_HEADER32 / IMAGE_OPTIONAL_HEADER64, from the optional header's start.
enum pe_optional_header {
	PE_OH_MAGIC = 0x00,
	PE_OH_MAGIC_PE32 = 0x10b,
	PE_OH_MAGIC_PE32_PLUS = 0x20b,
	PE_OH_MAJOR_LINKER_VERSION = 0x02,
	PE_OH_MINOR_LINKER_VERSION = 0x03,
	PE_OH_ADDRESS_OF_ENTRY_POINT = 0x10,
	PE_OH32_IMAGE_BASE = 0x1c,  // 4 bytes
	PE_OH64_IMAGE_BASE = 0x18,  // 8 bytes
	PE_OH_SECTION_ALIGNMENT = 0x20,
	PE_OH_FILE_ALIGNMENT = 0x24,
	PE_OH_MAJOR_OS_VERSION = 0x28,
	PE_OH_MINOR_OS_VERSION = 0x2a,
	PE_OH_MAJOR_IMAGE_VERSION = 0x2c,
	PE_OH_MINOR_IMAGE_VERSION = 0x2e,
	PE_OH_MAJOR_SUBSYSTEM_VERSION = 0x30,
	PE_OH_MINOR_SUBSYSTEM_VERSION = 0x32,
	PE_OH_SIZE_OF_IMAGE = 0x38,
	PE_OH_SIZE_OF_HEADERS = 0x3c,
	PE_OH_CHECKSUM = 0x40,
	PE_OH_SUBSYSTEM = 0x44,
	PE_OH_DLL_CHARACTERISTICS = 0x46,
	PE_OH32_NUMBER_OF_RVA_AND_SIZES = 0x5c,
	PE_OH64_NUMBER_OF_RVA_AND_SIZES = 0x6c,
	PE_OH32_DATA_DIRECTORY = 0x60,
	PE_OH64_DATA_DIRECTORY = 0x70,
	PE_DATA_DIRECTORY_SIZE = 8,  // IMAGE_DATA_DIRECTORY: VirtualAddress, Size
};

// IMAGE_SECTION_HEADER
enum pe_section_header {
	PE_SH_NAME = 0x00,  // 8 bytes, not NUL-terminated when 8 long
	PE_SH_VIRTUAL_SIZE = 0x08,
	PE_SH_VIRTUAL_ADDRESS = 0x0c,
	PE_SH_SIZE_OF_RAW_DATA = 0x10,
	PE_SH_POINTER_TO_RAW_DATA = 0x14,
	PE_SH_CHARACTERISTICS = 0x24,
	PE_SECTION_HEADER_SIZE = 0x28,
};

// IMAGE_EXPORT_DIRECTORY
enum pe_export_directory {
	PE_ED_TIME_DATE_STAMP = 0x04,
	PE_ED_NAME = 0x0c,
	PE_ED_BASE = 0x10,
	PE_ED_NUMBER_OF_FUNCTIONS = 0x14,
	PE_ED_NUMBER_OF_NAMES = 0x18,
	PE_ED_ADDRESS_OF_FUNCTIONS = 0x1c,      // u32 RVAs [NumberOfFunctions]
	PE_ED_ADDRESS_OF_NAMES = 0x20,          // u32 name RVAs [NumberOfNames]
	PE_ED_ADDRESS_OF_NAME_ORDINALS = 0x24,  // u16 indexes [NumberOfNames]
	PE_EXPORT_DIRECTORY_SIZE = 0x28,
};

// IMAGE_DEBUG_DIRECTORY
enum pe_debug_directory {
	PE_DD_CHARACTERISTICS = 0x00,
	PE_DD_TIME_DATE_STAMP = 0x04,
	PE_DD_MAJOR_VERSION = 0x08,
	PE_DD_MINOR_VERSION = 0x0a,
	PE_DD_TYPE = 0x0c,
	PE_DD_SIZE_OF_DATA = 0x10,
	PE_DD_ADDRESS_OF_RAW_DATA = 0x14,
	PE_DD_POINTER_TO_RAW_DATA = 0x18,
	PE_DEBUG_DIRECTORY_SIZE = 0x1c,
};

// CodeView records (CV_INFO_PDB70 "RSDS", CV_INFO_PDB20 "NB10").
enum pe_codeview {
	PE_CV_SIGNATURE = 0x00,
	PE_RSDS_GUID = 0x04,
	PE_RSDS_AGE = 0x14,
	PE_RSDS_PATH = 0x18,
	PE_NB10_OFFSET = 0x04,
	PE_NB10_SIGNATURE = 0x08,
	PE_NB10_AGE = 0x0c,
	PE_NB10_PATH = 0x10,
};

// RUNTIME_FUNCTION (x64) and IMAGE_ARM64_RUNTIME_FUNCTION_ENTRY.
enum pe_runtime_function {
	PE_X64_RF_SIZE = 12,    // BeginAddress, EndAddress, UnwindData
	PE_ARM64_RF_SIZE = 8,   // BeginAddress, UnwindData (Flag in bits 0-1)
	// Packed ARM64 word: FunctionLength in bits 2-12, in units of 4 bytes.
	PE_ARM64_PACKED_LENGTH_SHIFT = 2,
	PE_ARM64_PACKED_LENGTH_MASK = 0x7ff,
	// .xdata header word: FunctionLength in bits 0-17, in units of 4 bytes.
	PE_ARM64_XDATA_LENGTH_MASK = 0x3ffff,
};

// IMAGE_RESOURCE_DIRECTORY, _ENTRY and _DATA_ENTRY; offsets inside the
// resource section are relative to the resource directory's start, except
// the data entry's OffsetToData, which is an RVA.
enum pe_resource {
	PE_RD_NUMBER_OF_NAMED_ENTRIES = 0x0c,
	PE_RD_NUMBER_OF_ID_ENTRIES = 0x0e,
	PE_RESOURCE_DIRECTORY_SIZE = 0x10,
	PE_RDE_NAME = 0x00,           // bit 31: name string offset, else an integer ID
	PE_RDE_OFFSET_TO_DATA = 0x04, // bit 31: subdirectory offset, else a data entry offset
	PE_RESOURCE_ENTRY_SIZE = 0x08,
	PE_RDATA_OFFSET_TO_DATA = 0x00,  // an RVA
	PE_RDATA_SIZE = 0x04,
	PE_RESOURCE_DATA_ENTRY_SIZE = 0x10,
	PE_RT_VERSION = 16,
};

// VS_VERSIONINFO blocks (wLength, wValueLength, wType, szKey, padding, Value,
// padding, Children) and VS_FIXEDFILEINFO.
enum pe_version_info {
	PE_VB_LENGTH = 0x00,
	PE_VB_VALUE_LENGTH = 0x02,
	PE_VB_TYPE = 0x04,            // 1: text value (wValueLength counts UTF-16 units), 0: binary
	PE_VB_KEY = 0x06,
	PE_VFF_SIGNATURE = 0x00,
	PE_VFF_FILE_VERSION_MS = 0x08,
	PE_VFF_FILE_VERSION_LS = 0x0c,
	PE_VFF_PRODUCT_VERSION_MS = 0x10,
	PE_VFF_PRODUCT_VERSION_LS = 0x14,
	PE_VFF_FILE_FLAGS_MASK = 0x18,
	PE_VFF_FILE_FLAGS = 0x1c,
	PE_VFF_FILE_OS = 0x20,
	PE_VFF_FILE_TYPE = 0x24,
	PE_VFF_FILE_SUBTYPE = 0x28,
	PE_VS_FIXEDFILEINFO_SIZE = 0x34,
};
static const uint32_t PE_VFF_SIGNATURE_VALUE = 0xfeef04bd;

#endif
