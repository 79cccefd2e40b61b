// Kernel structures by type name and field path (bugcheck/kobj.h): the
// kernel's own types first, then a Vergilius layout that KDDEBUGGER_DATA64
// confirms, then the offsets KDDEBUGGER_DATA64 carries, and otherwise a plain
// "needs symbols" naming the field.
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/kobj.h"
#include "bugcheck/symbols.h"
#include "bugcheck/symtab.h"
#include "bugcheck/vergilius.h"
#include "nt/kobj_private.h"

enum {
	MAX_PATH_DEPTH = 8,       ///< a.b.c...: no kernel path is longer
	MAX_ANONYMOUS_DEPTH = 6,  ///< unions inside structures inside unions...
	MAX_NAME = 128,
};

// A KDDEBUGGER_DATA64 entry that stores where a field lives. The kernel
// writes these for the debugger, so they are right for the build that
// crashed; which fields exist depends on the block's size (Win8+ added the
// 32-bit ones at 0x340 and up).
struct kdbg_field {
	const char *type;
	const char *path;
	uint16_t at;             ///< position of the offset inside KDDEBUGGER_DATA64
	uint8_t width;           ///< 2 or 4: the offset's own size
	uint8_t bytes;           ///< field size in bytes, plus...
	uint8_t pointers;        ///< ...this many pointer-sized words
	uint8_t context;         ///< the field is a CONTEXT: its size is the machine's
	bool is_pointer;
	enum bc_machine machine; ///< 0: every machine; names that differ are per machine
};

// KERNEL_DUMP_FORMAT.md, the KDDEBUGGER_DATA64 table. OffsetPrcbNumber is
// read as one byte, as dbgeng does: the field's width changed across builds.
static const struct kdbg_field kdbg_fields[] = {
	{ "_KTHREAD", "NextProcessor", 0x298, 2, 4, 0, 0, false, 0 },
	{ "_KTHREAD", "Teb", 0x29a, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "KernelStack", 0x29c, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "InitialStack", 0x29e, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "ApcState.Process", 0x2a0, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "State", 0x2a2, 2, 1, 0, 0, false, 0 },
	{ "_EPROCESS", "Peb", 0x2aa, 2, 0, 1, 0, true, 0 },
	{ "_EPROCESS", "InheritedFromUniqueProcessId", 0x2ac, 2, 0, 1, 0, true, 0 },
	{ "_KPROCESS", "DirectoryTableBase", 0x2ae, 2, 0, 1, 0, false, 0 },
	{ "_KPRCB", "CurrentThread", 0x2b4, 2, 0, 1, 0, true, 0 },
	{ "_KPRCB", "MHz", 0x2b6, 2, 4, 0, 0, false, 0 },
	{ "_KPRCB", "CpuType", 0x2b8, 2, 1, 0, 0, false, 0 },
	{ "_KPRCB", "VendorString", 0x2ba, 2, 13, 0, 0, false, 0 },
	{ "_KPRCB", "ProcessorState.ContextFrame", 0x2bc, 2, 0, 0, 1, false, 0 },
	{ "_KPRCB", "Number", 0x2be, 2, 1, 0, 0, false, 0 },
	{ "_KPCR", "Self", 0x2e2, 2, 0, 1, 0, true, BC_MACHINE_X64 },
	{ "_KPCR", "CurrentPrcb", 0x2e4, 2, 0, 1, 0, true, BC_MACHINE_X64 },
	{ "_KPCR", "SelfPcr", 0x2e2, 2, 0, 1, 0, true, BC_MACHINE_X86 },
	{ "_KPCR", "Prcb", 0x2e4, 2, 0, 1, 0, true, BC_MACHINE_X86 },
	{ "_KPRCB", "Context", 0x338, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "StackLimit", 0x340, 4, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "StackBase", 0x344, 4, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "QueueListEntry", 0x348, 4, 0, 2, 0, false, 0 },
	{ "_ETHREAD", "IrpList", 0x34c, 4, 0, 2, 0, false, 0 },
	{ "_KPRCB", "IdleThread", 0x350, 2, 0, 1, 0, true, 0 },
	{ "_KPRCB", "DpcStack", 0x354, 2, 0, 1, 0, true, 0 },
	{ "_KPRCB", "IsrStack", 0x356, 2, 0, 1, 0, true, 0 },
	{ "_KTHREAD", "WaitReason", 0x35c, 2, 1, 0, 0, false, 0 },
};

// sizeof() of the structures KDDEBUGGER_DATA64 measures, and what bounds the
// offsets of the others (a KTHREAD is the start of its ETHREAD).
static const struct {
	const char *type;
	uint16_t at;
} kdbg_sizes[] = {
	{ "_EPROCESS", 0x2a8 }, { "_KPROCESS", 0x2a8 }, { "_KPRCB", 0x2b0 },
	{ "_ETHREAD", 0x2c0 },  { "_KTHREAD", 0x2c0 },  { "_KPCR", 0x2e0 },
};

BC_PUBLIC const char *bc_layout_source_name(enum bc_layout_source source)
{
	switch (source) {
	case BC_LAYOUT_TYPES: return "types";
	case BC_LAYOUT_KDBG: return "KDDEBUGGER_DATA64";
	case BC_LAYOUT_VERGILIUS: return "vergilius";
	}
	return "?";
}

// The KDDEBUGGER_DATA64 value of @width bytes at @at; false when the block
// is absent or the kernel's copy stops before it.
static bool kdbg_value(const struct bc_kdbg *kd, uint16_t at, uint8_t width, uint32_t *ret)
{
	if (!kd || !kd->present || (uint32_t)at + width > kd->size ||
	    (uint32_t)at + width > kd->raw_size)
		return false;
	*ret = width == 4 ? bc_le32(kd->raw + at) : bc_le16(kd->raw + at);
	return true;
}

static bool kdbg_type_size(const struct bc_kdbg *kd, const char *type, uint64_t *ret)
{
	for (size_t i = 0; i < sizeof(kdbg_sizes) / sizeof(kdbg_sizes[0]); i++) {
		uint32_t v;
		if (!strcmp(kdbg_sizes[i].type, type) && kdbg_value(kd, kdbg_sizes[i].at, 2, &v) && v) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static uint64_t context_size(enum bc_machine machine)
{
	// sizeof(CONTEXT): winnt.h's x64 (0x4d0), x86 (0x2cc), ARM64 (0x390).
	switch (machine) {
	case BC_MACHINE_X64: return 0x4d0;
	case BC_MACHINE_X86: return 0x2cc;
	case BC_MACHINE_ARM64: return 0x390;
	default: return 0;
	}
}

static bool from_kdbg(struct bc_target *t, const char *type, const char *path,
		      struct bc_kfield *ret)
{
	const struct bc_dump_info *info = bc_target_info(t);
	const struct bc_kdbg *kd = bc_target_kdbg(t);
	for (size_t i = 0; i < sizeof(kdbg_fields) / sizeof(kdbg_fields[0]); i++) {
		const struct kdbg_field *f = &kdbg_fields[i];
		if (strcmp(f->type, type) || strcmp(f->path, path) ||
		    (f->machine && f->machine != info->machine))
			continue;
		uint32_t offset;
		// Zero means "not filled in" here: none of these fields opens its structure.
		if (!kdbg_value(kd, f->at, f->width, &offset) || !offset)
			return false;
		uint64_t size = f->context ? context_size(info->machine)
					   : f->bytes + (uint64_t)f->pointers * info->pointer_size;
		uint64_t limit;
		if (kdbg_type_size(kd, type, &limit) && (offset > limit || size > limit - offset))
			return false;  // an offset outside its own structure is not believed
		*ret = (struct bc_kfield){
			.offset = offset,
			.size = size,
			.is_pointer = f->is_pointer,
			.source = BC_LAYOUT_KDBG,
		};
		return true;
	}
	return false;
}

static bool is_anonymous(const char *name)
{
	// PDBs name unnamed members "<unnamed-tag>" or "__unnamed...", ISF leaves them unnamed.
	return !name || !*name || name[0] == '<' || !strncmp(name, "__unnamed", 9);
}

static bool is_aggregate(const struct bc_type *type)
{
	return type->kind == BC_TYPE_STRUCT || type->kind == BC_TYPE_CLASS ||
	       type->kind == BC_TYPE_UNION;
}

// The field named @name in @type or in its anonymous members, with its offset
// from the start of @type.
static bool find_member(struct bc_symtab *tab, const struct bc_type *type, const char *name,
			int depth, const struct bc_type_field **field_ret, uint64_t *offset_ret)
{
	for (size_t i = 0; i < type->field_count; i++) {
		const struct bc_type_field *f = &type->fields[i];
		if (f->name && !strcmp(f->name, name)) {
			*field_ret = f;
			*offset_ret = f->offset;
			return true;
		}
	}
	if (depth >= MAX_ANONYMOUS_DEPTH)
		return false;
	for (size_t i = 0; i < type->field_count; i++) {
		const struct bc_type_field *f = &type->fields[i];
		const struct bc_type *inner;
		if (!is_anonymous(f->name))
			continue;
		struct bc_error *err = bc_symtab_type(tab, f->type_id, &inner);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		uint64_t off;
		if (inner != type && is_aggregate(inner) &&
		    find_member(tab, inner, name, depth + 1, field_ret, &off) &&
		    !__builtin_add_overflow(off, f->offset, offset_ret))
			return true;
	}
	return false;
}

static struct bc_error *from_types(struct bc_symtab *tab, const struct bc_type *type,
				   const char *type_name, const char *path, struct bc_kfield *ret)
{
	uint64_t offset = 0;
	const struct bc_type_field *field = NULL;
	const struct bc_type *field_type = NULL;
	const char *p = path;
	for (int depth = 0;; depth++) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char name[MAX_NAME];
		if (depth >= MAX_PATH_DEPTH || len == 0 || len >= sizeof(name))
			return bc_error_create(BC_ERR_INVALID_ARG, "%s.%s is not a field path",
					       type_name, path);
		memcpy(name, p, len);
		name[len] = '\0';
		if (!is_aggregate(type))
			return bc_error_create(BC_ERR_NOT_FOUND,
					       "%s.%s: %.*s is not a structure (pointers are not "
					       "followed)", type_name, path, (int)(p - path - 1), path);
		uint64_t member_offset;
		if (!find_member(tab, type, name, 0, &field, &member_offset))
			return bc_error_create(BC_ERR_NOT_FOUND, "nt!%s has no field %s", type_name,
					       path);
		if (__builtin_add_overflow(offset, member_offset, &offset))
			return bc_error_create(BC_ERR_FORMAT, "%s.%s: the offset overflows", type_name,
					       path);
		struct bc_error *err = bc_symtab_type(tab, field->type_id, &field_type);
		if (err)
			return err;
		if (!dot)
			break;
		type = field_type;
		p = dot + 1;
	}
	const struct bc_type *value_type = field_type;
	*ret = (struct bc_kfield){
		.offset = offset,
		.size = field_type->size,
		.type_id = field->type_id,
		.source = BC_LAYOUT_TYPES,
	};
	if (field_type->kind == BC_TYPE_BITFIELD || field->bit_length) {
		ret->bit_position = field->bit_length ? field->bit_position : field_type->bit_position;
		ret->bit_length = field->bit_length ? field->bit_length : field_type->bit_length;
		if (field_type->kind == BC_TYPE_BITFIELD) {
			struct bc_error *err = bc_symtab_type(tab, field_type->target_id, &value_type);
			if (err)
				return err;
			ret->size = value_type->size;
		}
	}
	ret->is_pointer = value_type->kind == BC_TYPE_POINTER;
	ret->is_signed = value_type->is_signed;
	return NULL;
}

// _ETHREAD.Tcb.X is _KTHREAD.X and _EPROCESS.Pcb.X is _KPROCESS.X: the
// KDDEBUGGER_DATA64 table names the inner structures.
static void normalise(const char **type, const char **path)
{
	if (!strcmp(*type, "_ETHREAD") && !strncmp(*path, "Tcb.", 4)) {
		*type = "_KTHREAD";
		*path += 4;
	} else if (!strcmp(*type, "_EPROCESS") && !strncmp(*path, "Pcb.", 4)) {
		*type = "_KPROCESS";
		*path += 4;
	}
}

static struct bc_error *find_kernel_type(struct bc_target *t, const char *type,
					 struct bc_symtab **tab, const struct bc_type **ret)
{
	char qualified[MAX_NAME + 4];
	if (snprintf(qualified, sizeof(qualified), "nt!%s", type) >= (int)sizeof(qualified))
		return bc_error_create(BC_ERR_INVALID_ARG, "%.40s...: type name too long", type);
	return bc_target_find_type(t, qualified, tab, ret, NULL);
}

// @type from the Vergilius layout chosen for the kernel, if one was.
static bool vergilius_type(struct bc_target *t, const char *type, struct bc_symtab **tab_ret,
			   const struct bc_type **ret, const char **note_ret)
{
	struct bc_error *err = bc_target_vergilius_kernel(t, tab_ret, note_ret);
	if (!err)
		err = bc_symtab_type_by_name(*tab_ret, type, ret);
	bc_error_destroy(err);
	return !err;
}

// A field from the Vergilius layout; false (and the selection's note, when a
// directory was given) when it has none.
static bool from_vergilius(struct bc_target *t, const char *type, const char *path,
			   struct bc_kfield *ret, const char **note_ret)
{
	struct bc_symtab *tab;
	const struct bc_type *found;
	if (!vergilius_type(t, type, &tab, &found, note_ret)) {
		if (*note_ret && !**note_ret)
			*note_ret = NULL;
		return false;
	}
	*note_ret = NULL;
	struct bc_error *err = from_types(tab, found, type, path, ret);
	if (err) {
		bc_error_destroy(err);
		return false;
	}
	ret->source = BC_LAYOUT_VERGILIUS;
	return true;
}

BC_PUBLIC struct bc_error *bc_kernel_field(struct bc_target *t, const char *type,
					   const char *path, struct bc_kfield *ret)
{
	if (!type || !path || !*type || !*path)
		return bc_error_create(BC_ERR_INVALID_ARG, "a kernel field needs a type and a path");
	struct bc_symtab *tab;
	const struct bc_type *found;
	struct bc_error *err = find_kernel_type(t, type, &tab, &found);
	if (!err)
		return from_types(tab, found, type, path, ret);
	const char *vergilius_note = NULL;
	if (from_vergilius(t, type, path, ret, &vergilius_note)) {
		bc_error_destroy(err);
		return NULL;
	}
	const char *kd_type = type, *kd_path = path;
	normalise(&kd_type, &kd_path);
	if (from_kdbg(t, kd_type, kd_path, ret)) {
		bc_error_destroy(err);
		return NULL;
	}
	struct bc_error *needs = bc_error_create(BC_ERR_NEEDS_SYMBOLS,
						 "needs symbols for %s.%s (%s; KDDEBUGGER_DATA64 "
						 "does not carry this offset%s%s)", type, path,
						 err->message, vergilius_note ? "; " : "",
						 vergilius_note ? vergilius_note : "");
	bc_error_destroy(err);
	return needs;
}

BC_PUBLIC struct bc_error *bc_kernel_type_size(struct bc_target *t, const char *type,
					       uint64_t *size_ret,
					       enum bc_layout_source *source_ret)
{
	struct bc_symtab *tab;
	const struct bc_type *found;
	struct bc_error *err = find_kernel_type(t, type, &tab, &found);
	if (!err && found->size) {
		*size_ret = found->size;
		if (source_ret)
			*source_ret = BC_LAYOUT_TYPES;
		return NULL;
	}
	struct bc_symtab *vergilius;
	if (vergilius_type(t, type, &vergilius, &found, NULL) && found->size) {
		bc_error_destroy(err);
		*size_ret = found->size;
		if (source_ret)
			*source_ret = BC_LAYOUT_VERGILIUS;
		return NULL;
	}
	if (kdbg_type_size(bc_target_kdbg(t), type, size_ret)) {
		bc_error_destroy(err);
		if (source_ret)
			*source_ret = BC_LAYOUT_KDBG;
		return NULL;
	}
	struct bc_error *needs = bc_error_create(
		BC_ERR_NEEDS_SYMBOLS, "needs symbols for sizeof(%s) (%s)", type,
		err ? err->message : "the type is only declared");
	bc_error_destroy(err);
	return needs;
}

BC_PUBLIC struct bc_error *bc_kernel_read_field(struct bc_target *t, uint64_t object,
						const char *type, const char *path,
						uint64_t *value_ret)
{
	struct bc_kfield f;
	struct bc_error *err = bc_kernel_field(t, type, path, &f);
	if (err)
		return err;
	if (f.size == 0 || f.size > 8)
		return bc_error_create(BC_ERR_INVALID_ARG,
				       "%s.%s is %llu bytes: not an integer or pointer", type, path,
				       (unsigned long long)f.size);
	uint64_t address;
	if (__builtin_add_overflow(object, f.offset, &address))
		return bc_error_fault(object, BC_FAULT_NON_CANONICAL, "%s.%s at %#llx + %#llx",
				      type, path, (unsigned long long)object,
				      (unsigned long long)f.offset);
	uint8_t b[8] = { 0 };
	err = bc_target_read(t, address, b, (size_t)f.size);
	if (err)
		return err;
	uint64_t v = bc_le64(b);
	unsigned bits = (unsigned)f.size * 8;
	if (f.bit_length) {
		if (f.bit_position >= bits || f.bit_length > bits - f.bit_position)
			return bc_error_create(BC_ERR_FORMAT, "%s.%s: bits %u..%u of a %u-bit field",
					       type, path, f.bit_position,
					       f.bit_position + f.bit_length - 1, bits);
		v >>= f.bit_position;
		bits = f.bit_length;
	}
	if (bits < 64) {
		uint64_t mask = (1ull << bits) - 1;
		v &= mask;
		bool extend = f.is_signed || (f.is_pointer && bits == 32);
		if (extend && (v >> (bits - 1)) & 1)
			v |= ~mask;
	}
	*value_ret = v;
	return NULL;
}

BC_PUBLIC bool bc_kernel_read_optional(struct bc_target *t, uint64_t object, const char *type,
				       const char *path, uint64_t *value_ret)
{
	struct bc_error *err = bc_kernel_read_field(t, object, type, path, value_ret);
	if (err) {
		bc_error_destroy(err);
		*value_ret = 0;
		return false;
	}
	return true;
}

void bc_kdbg_check_layout(struct bc_target *t, struct bc_symtab *tab,
			  struct bc_layout_check *ret)
{
	*ret = (struct bc_layout_check){ 0 };
	const struct bc_dump_info *info = bc_target_info(t);
	for (size_t i = 0; i < sizeof(kdbg_fields) / sizeof(kdbg_fields[0]); i++) {
		const struct kdbg_field *f = &kdbg_fields[i];
		struct bc_kfield said, laid;
		const struct bc_type *type;
		if ((f->machine && f->machine != info->machine) ||
		    !from_kdbg(t, f->type, f->path, &said) ||
		    bc_symtab_type_by_name(tab, f->type, &type))
			continue;
		struct bc_error *err = from_types(tab, type, f->type, f->path, &laid);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		ret->compared++;
		if (laid.offset == said.offset) {
			ret->agreed++;
		} else if (!ret->disagreement[0]) {
			snprintf(ret->disagreement, sizeof(ret->disagreement),
				 "%s.%s at %#llx, KDDEBUGGER_DATA64 says %#llx", f->type, f->path,
				 (unsigned long long)laid.offset, (unsigned long long)said.offset);
		}
	}
	// The sizes KDDEBUGGER_DATA64 measures (its _KPROCESS and _KTHREAD rows
	// are bounds taken from the executive structures, not sizes).
	static const char *const measured[] = { "_EPROCESS", "_KPRCB", "_ETHREAD", "_KPCR" };
	for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++) {
		uint64_t said;
		const struct bc_type *type;
		if (!kdbg_type_size(bc_target_kdbg(t), measured[i], &said) ||
		    bc_symtab_type_by_name(tab, measured[i], &type) || !type->size)
			continue;
		ret->compared++;
		if (type->size == said)
			ret->agreed++;
		else if (!ret->disagreement[0])
			snprintf(ret->disagreement, sizeof(ret->disagreement),
				 "sizeof(%s) %#llx, KDDEBUGGER_DATA64 says %#llx", measured[i],
				 (unsigned long long)type->size, (unsigned long long)said);
	}
}
