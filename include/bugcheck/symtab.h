/*
 * bugcheck/symtab.h: one module's symbols and types, whatever their source.
 *
 * A struct bc_symtab answers "which symbol is at RVA x", "where is symbol
 * NAME", "list symbols matching a pattern" and "what is type NAME" for one
 * image. Four providers fill it: a PDB file (lib/sym/pdb_*.c), a Volatility 3
 * ISF table (lib/sym/isf.c), a PE image's export directory
 * (lib/sym/symtab_exports.c), and a Vergilius Project kernel layout file
 * (lib/sym/vergilius.c, types only). Callers never know which one answered except
 * through bc_symtab_kind(), which `lmv` shows as "(pdb symbols)".
 *
 * Addresses are RVAs (offsets from the image base): a symbol table does not
 * know where its module was loaded.
 *
 * Types are lazy. A type is named by a provider-specific 32-bit id (a PDB type
 * index, an ISF table's own numbering); bc_symtab_type() materialises one type
 * at a time, and the fields, pointer targets and array elements of that type
 * hold ids, not pointers, so reading _EPROCESS does not pull in every type it
 * reaches. Every returned struct bc_type lives as long as the symtab.
 *
 * Ownership: strings and types returned are borrowed from the symtab. A
 * symtab is not thread-safe (it caches).
 */
#ifndef BUGCHECK_SYMTAB_H
#define BUGCHECK_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_symtab;

enum bc_symtab_kind {
	BC_SYMTAB_PDB = 1,  ///< a Program Database (MSF 7.00)
	BC_SYMTAB_ISF,      ///< a Volatility 3 intermediate symbol format table
	BC_SYMTAB_EXPORTS,  ///< only the PE image's exported names
	BC_SYMTAB_VERGILIUS,  ///< type layouts from a Vergilius Project file (no symbols)
};

/** The key a symbol store files a PDB under: its GUID, age and name. */
struct bc_pdb_identity {
	uint8_t guid[16];  ///< as stored on disk (GUID: Data1..3 little-endian, Data4 bytes)
	uint32_t age;      ///< DBI age for a PDB (what RSDS records must match)
	uint32_t signature;  ///< NB10 / PDB 2.00 timestamp signature, 0 for RSDS
	char name[260];    ///< file name as recorded ("ntkrnlmp.pdb"), may be empty
};

enum bc_symbol_kind {
	BC_SYMBOL_PUBLIC = 1,  ///< S_PUB32 / ISF "symbols" entry / export
	BC_SYMBOL_FUNCTION,    ///< S_GPROC32/S_LPROC32: has a size
	BC_SYMBOL_DATA,        ///< S_GDATA32/S_LDATA32: has a type
};

struct bc_symbol {
	const char *name;      ///< undecorated when the source gives both
	uint64_t rva;
	uint64_t size;         ///< 0 when unknown (publics, exports)
	enum bc_symbol_kind kind;
	uint32_t type_id;      ///< 0 when unknown
	bool is_function;      ///< code (publics: the CV function flag; exports: in an executable section)
	const char *forwarder; ///< exports only: "NTOSKRNL.ExFreePool", else NULL
};

enum bc_type_kind {
	BC_TYPE_VOID = 1,
	BC_TYPE_BASE,      ///< integers, floats, bool, char, wchar (see base_* fields)
	BC_TYPE_POINTER,
	BC_TYPE_ARRAY,
	BC_TYPE_STRUCT,
	BC_TYPE_CLASS,
	BC_TYPE_UNION,
	BC_TYPE_ENUM,
	BC_TYPE_FUNCTION,
	BC_TYPE_BITFIELD,  ///< a bitfield member's type: target = the underlying integer
};

struct bc_type_field {
	const char *name;
	uint64_t offset;        ///< bytes from the start of the enclosing type
	uint32_t type_id;
	uint8_t bit_position;   ///< bitfields: first bit (0 = least significant)
	uint8_t bit_length;     ///< bitfields: width; 0 for ordinary fields
};

struct bc_type_enumerator {
	const char *name;
	int64_t value;
};

struct bc_type {
	uint32_t id;
	enum bc_type_kind kind;
	const char *name;       ///< "_EPROCESS", "unsigned long", NULL when anonymous
	uint64_t size;          ///< bytes; 0 for void, functions and forward references never defined
	uint32_t target_id;     ///< pointer target, array element, enum/bitfield underlying, function return
	uint64_t count;         ///< arrays: number of elements
	bool is_signed;         ///< integer base types and enums
	bool is_float;
	bool is_char;           ///< char / wchar_t: shown as characters by dt
	bool is_const, is_volatile;
	bool incomplete;        ///< a forward reference no definition was found for
	uint8_t bit_position, bit_length;  ///< BC_TYPE_BITFIELD
	size_t field_count;
	const struct bc_type_field *fields;  ///< STRUCT/CLASS/UNION, in declaration order
	size_t enumerator_count;
	const struct bc_type_enumerator *enumerators;  ///< ENUM
};

BC_PUBLIC enum bc_symtab_kind bc_symtab_kind(const struct bc_symtab *tab);
/** Where the symbols came from (a path), for `lmv` and `!lmi`. */
BC_PUBLIC const char *bc_symtab_source(const struct bc_symtab *tab);
/** The PDB identity this table describes (ISF tables carry it in metadata). */
BC_PUBLIC const struct bc_pdb_identity *bc_symtab_identity(const struct bc_symtab *tab);
/** Machine of the image the table describes, a PE machine value (0x8664...), 0 if unknown. */
BC_PUBLIC uint32_t bc_symtab_machine(const struct bc_symtab *tab);

/**
 * The symbol named @name (case-sensitive exact match, then a case-insensitive
 * one). BC_ERR_NOT_FOUND (&bc_not_found) when there is none.
 */
BC_PUBLIC struct bc_error *bc_symtab_lookup_name(struct bc_symtab *tab, const char *name,
						 struct bc_symbol *ret);
/**
 * The symbol nearest below @rva: the greatest start <= @rva (of several at one
 * RVA, the first by name). Its size is not checked: the caller decides whether
 * @rva - start is plausible. BC_ERR_NOT_FOUND when nothing precedes @rva.
 */
BC_PUBLIC struct bc_error *bc_symtab_lookup_rva(struct bc_symtab *tab, uint64_t rva,
						struct bc_symbol *ret);
/**
 * The first symbol starting after @rva (what `ln` prints on the right).
 * BC_ERR_NOT_FOUND when none follows. Cost: a walk in RVA order.
 */
BC_PUBLIC struct bc_error *bc_symtab_lookup_next(struct bc_symtab *tab, uint64_t rva,
						 struct bc_symbol *ret);
/**
 * Calls @fn for every symbol whose name matches the WinDbg wildcard @pattern
 * (`*`, `?`, case-insensitive; NULL matches all), in RVA order. @fn returns
 * false to stop early (the function then returns NULL).
 */
BC_PUBLIC struct bc_error *bc_symtab_each(struct bc_symtab *tab, const char *pattern,
					  bool (*fn)(void *arg, const struct bc_symbol *sym),
					  void *arg);
/** Number of symbols (for `lmv`/statistics); may force the symbol index to load. */
BC_PUBLIC size_t bc_symtab_symbol_count(struct bc_symtab *tab);

/** Whether this table has type information at all (public PDBs may not). */
BC_PUBLIC bool bc_symtab_has_types(struct bc_symtab *tab);
/**
 * The type named @name ("_EPROCESS", "nt!_EPROCESS" is NOT accepted here: the
 * module prefix is the caller's business). A complete definition is preferred
 * over a forward reference. BC_ERR_NOT_FOUND when absent.
 */
BC_PUBLIC struct bc_error *bc_symtab_type_by_name(struct bc_symtab *tab, const char *name,
						  const struct bc_type **ret);
/** The type with id @id (from a field, pointer or symbol). */
BC_PUBLIC struct bc_error *bc_symtab_type(struct bc_symtab *tab, uint32_t id,
					  const struct bc_type **ret);

/*
 * Procedures and their parameters (private PDBs only: `kp`/`kP`).
 *
 * A parameter is found where the compiler said it lives: in memory at a
 * register plus an offset (MSVC's S_REGREL32 home slots, x86 [ebp+8],
 * clang's frame-pointer-relative S_DEFRANGE records, the frame pointer being
 * the one S_FRAMEPROC names), or in a register. A location may hold only for
 * a range of code (with gaps): a caller evaluates the first location whose
 * range covers the instruction pointer.
 */
enum bc_param_location_kind {
	BC_PARAM_IN_MEMORY = 1,  ///< at [reg + offset]
	BC_PARAM_IN_REGISTER,    ///< in reg (the whole value, or the part at part_offset)
};

struct bc_param_gap {
	uint64_t rva;            ///< first byte of code where the location does not hold
	uint32_t length;
};

struct bc_param_location {
	enum bc_param_location_kind kind;
	char reg[8];             ///< "rsp", "ebp", "ecx", "r8d"; "vframe" (x86, not evaluated); "" if unknown
	uint16_t cv_register;    ///< the CodeView register number it came from
	int64_t offset;          ///< IN_MEMORY: bytes from the register's value
	uint32_t part_offset;    ///< the byte of the parameter this location holds (0: from the start)
	bool partial;            ///< holds only a part of the parameter (a subfield)
	bool whole_scope;        ///< valid in the whole procedure (start/end unused)
	uint64_t start, end;     ///< RVAs where valid: [start, end)
	size_t gap_count;
	const struct bc_param_gap *gaps;
};

struct bc_parameter {
	const char *name;
	uint32_t type_id;        ///< for bc_symtab_type()
	size_t location_count;
	const struct bc_param_location *locations;  ///< in the order the PDB gives them
};

struct bc_procedure {
	const char *name;
	uint64_t rva, size;
	uint32_t type_id;        ///< its LF_PROCEDURE/LF_MFUNCTION, 0 when unknown
	size_t param_count;
	const struct bc_parameter *params;  ///< declaration order, `this` first
};

/**
 * The procedure whose code covers @rva, with its parameters. BC_ERR_NOT_FOUND
 * (&bc_not_found) when the table has no private symbols (a public PDB, ISF,
 * exports) or no procedure covers @rva; BC_ERR_FORMAT naming the file and the
 * record when the module's symbols are corrupt. Cached: the result lives as
 * long as the table.
 */
BC_PUBLIC struct bc_error *bc_symtab_procedure_at(struct bc_symtab *tab, uint64_t rva,
						  const struct bc_procedure **ret);
/** Whether @location holds at @rva (inside its range and in none of its gaps). */
BC_PUBLIC bool bc_param_location_covers(const struct bc_param_location *location, uint64_t rva);
/**
 * Type @id spelled as WinDbg spells it in `kp` and `dv`: "unsigned long",
 * "void *", "struct _IRP *", "_POOL_TYPE" (enums without "enum", as kp prints
 * them), "unsigned __int64", "char [16]".
 * Never fails: unknown types read "<unknown type>". Returns @buf.
 */
BC_PUBLIC const char *bc_symtab_type_c_name(struct bc_symtab *tab, uint32_t id, char *buf,
					    size_t size);

BC_PUBLIC void bc_symtab_destroy(struct bc_symtab *tab);

/** WinDbg wildcard match: `*` any run, `?` one character, case-insensitive. */
BC_PUBLIC bool bc_wildcard_match(const char *pattern, const char *text);

#ifdef __cplusplus
}
#endif
#endif
