// The root object: opening a dump and the getters of include/bugcheck/target.h.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf.h"
#include "sym/modsyms_private.h"
#include "target_private.h"

void bc_target_warn(struct bc_target *t, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char **grown = realloc(t->warnings, (t->warning_count + 1) * sizeof(*grown));
	if (!grown) {
		free(msg);
		return;
	}
	t->warnings = grown;
	t->warnings[t->warning_count++] = msg;
}

static const char *keep_owned(struct bc_target *t, char *s)
{
	if (!s)
		return NULL;
	char **grown = realloc(t->strings, (t->string_count + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return NULL;
	}
	t->strings = grown;
	t->strings[t->string_count++] = s;
	return s;
}

const char *bc_target_keep_string(struct bc_target *t, const char *s)
{
	return keep_owned(t, strdup(s));
}

// UTF-16LE to UTF-8. Unpaired surrogates become U+FFFD; NUL code units are
// kept out of the result (they would truncate the C string) as U+FFFD too.
const char *bc_target_keep_utf16(struct bc_target *t, const uint8_t *p, size_t n)
{
	char *out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	bc_utf16le_to_utf8(p, n, out, true);
	return keep_owned(t, out);
}

struct bc_error *bc_target_add_module(struct bc_target *t, const struct bc_module *m)
{
	struct bc_module *grown = realloc(t->modules, (t->module_count + 1) * sizeof(*grown));
	if (!grown)
		return &bc_enomem;
	t->modules = grown;
	t->modules[t->module_count++] = *m;
	return NULL;
}

struct bc_error *bc_target_add_unloaded(struct bc_target *t, const struct bc_unloaded_module *m)
{
	struct bc_unloaded_module *grown =
		realloc(t->unloaded, (t->unloaded_count + 1) * sizeof(*grown));
	if (!grown)
		return &bc_enomem;
	t->unloaded = grown;
	t->unloaded[t->unloaded_count++] = *m;
	return NULL;
}

struct bc_error *bc_target_add_region(struct bc_target *t, uint64_t va, uint64_t size,
				      uint64_t file_offset, const char *what)
{
	if (!size)
		return NULL;
	if (!bc_span_has(t->file->bytes, file_offset, size)) {
		bc_target_warn(t, "%s (%#llx bytes at file offset %#llx) lies past the end of the "
			       "file; ignored", what, (unsigned long long)size,
			       (unsigned long long)file_offset);
		return NULL;
	}
	uint64_t end;
	if (!bc_add_ok(va, size, &end) && end != 0) {
		bc_target_warn(t, "%s at %#llx wraps around the address space; ignored", what,
			       (unsigned long long)va);
		return NULL;
	}
	struct bc_va_region *grown = realloc(t->regions, (t->region_count + 1) * sizeof(*grown));
	if (!grown)
		return &bc_enomem;
	t->regions = grown;
	t->regions[t->region_count++] = (struct bc_va_region){ va, size, file_offset, what };
	return NULL;
}

static enum bc_paging_mode choose_paging(const struct bc_target *t)
{
	switch (t->info.machine) {
	case BC_MACHINE_X64: return BC_PAGING_X64_4LEVEL;
	case BC_MACHINE_X86: return t->info.pae_enabled ? BC_PAGING_X86_PAE : BC_PAGING_X86;
	case BC_MACHINE_ARM64: return BC_PAGING_ARM64_4K;
	case BC_MACHINE_UNKNOWN: break;
	}
	return BC_PAGING_NONE;
}

// Can the kernel's own structures be read under the current paging mode?
// KdDebuggerDataBlock and the PsLoadedModuleList head are both in nt's data.
static bool kernel_data_readable(struct bc_target *t)
{
	uint8_t b[8];
	struct bc_error *err = bc_target_read(t, t->info.kd_debugger_data_block, b, sizeof(b));
	if (!err)
		err = bc_target_read(t, t->info.ps_loaded_module_list, b, sizeof(b));
	bc_error_destroy(err);
	return !err;
}

// x64 machines with 5-level paging (CR4.LA57) point CR3 at a PML5. The header
// does not say which; CR4 lives in the KPRCB, which we can only reach after
// choosing. So, as suggested in KERNEL_DUMP_FORMAT.md 3.3: if the kernel's data
// does not read with 4 levels but does with 5, the dump is LA57.
static void detect_la57(struct bc_target *t)
{
	if (t->paging != BC_PAGING_X64_4LEVEL || kernel_data_readable(t))
		return;
	t->paging = BC_PAGING_X64_5LEVEL;
	if (!kernel_data_readable(t))
		t->paging = BC_PAGING_X64_4LEVEL;
}

static struct bc_error *identify(struct bc_target *t)
{
	struct bc_span f = t->file->bytes;
	if (f.size == 0)
		return bc_error_format(0, "empty file (0 bytes), not a crash dump");
	if (f.size >= 8 && !memcmp(f.data, "PAGEDU64", 8))
		return bc_dump_header64_decode(t);
	if (f.size >= 8 && !memcmp(f.data, "PAGEDUMP", 8))
		return bc_dump_header32_decode(t);
	if (f.size < 8 && f.size >= 4 && !memcmp(f.data, "PAGE", 4))
		return bc_error_format(f.size, "truncated kernel dump: only %llu bytes",
				       (unsigned long long)f.size);
	const char *what = bc_dump_identify_foreign(f);
	if (what)
		return bc_error_format(0, "not a Windows kernel crash dump: this is %s", what);
	return bc_error_format(0, "not a Windows kernel crash dump: no \"PAGEDUMP\"/\"PAGEDU64\" "
			       "signature at the start (the file begins with bytes %02x %02x %02x %02x)",
			       f.data[0], f.size > 1 ? f.data[1] : 0, f.size > 2 ? f.data[2] : 0,
			       f.size > 3 ? f.data[3] : 0);
}

// The header's CONTEXT: small memory dumps name their own (triage
// ContextOffset); other formats keep the bug-checking processor's in the header.
static void load_header_context(struct bc_target *t)
{
	if (t->has_context)
		return;
	size_t need = bc_context_raw_size(t->info.machine);
	struct bc_span raw = bc_span_sub(t->file->bytes, t->context_file_offset, need);
	if (raw.data && !bc_context_decode(t->info.machine, raw.data, raw.size, &t->context))
		t->has_context = true;
}

static struct bc_error *open_file(struct bc_file *file, struct bc_target **ret)
{
	struct bc_target *t = calloc(1, sizeof(*t));
	if (!t) {
		bc_file_close(file);
		return &bc_enomem;
	}
	t->file = file;
	t->module_source = "none";
	struct bc_error *err = identify(t);
	if (!err)
		err = bc_dump_open_format(t);
	if (err) {
		bc_target_close(t);
		return err;
	}
	if (t->info.format != BC_DUMP_TRIAGE) {
		t->paging = choose_paging(t);
		t->dtb = t->info.directory_table_base;
		detect_la57(t);
		bc_nt_load_kdbg(t);
		bc_nt_load_modules(t);
	}
	load_header_context(t);
	if (t->info.format != BC_DUMP_TRIAGE)
		bc_nt_find_current_processor(t);
	*ret = t;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_target_open(const char *path, struct bc_target **ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_open(path, &file);
	if (err)
		return err;
	return open_file(file, ret);
}

BC_PUBLIC struct bc_error *bc_target_open_memory(const void *data, size_t size, const char *name,
						 struct bc_target **ret)
{
	struct bc_file *file;
	struct bc_error *err = bc_file_from_memory(data, size, name, &file);
	if (err)
		return err;
	return open_file(file, ret);
}

BC_PUBLIC void bc_target_close(struct bc_target *t)
{
	if (!t)
		return;
	bc_modsyms_destroy(t->symbols);
	bc_physmap_deinit(&t->phys);
	free(t->regions);
	free(t->blobs);
	free(t->modules);
	free(t->unloaded);
	for (size_t i = 0; i < t->warning_count; i++)
		free(t->warnings[i]);
	free(t->warnings);
	for (size_t i = 0; i < t->string_count; i++)
		free(t->strings[i]);
	free(t->strings);
	bc_file_close(t->file);
	free(t);
}

BC_PUBLIC const char *bc_target_path(const struct bc_target *t)
{
	return t->file->path;
}

BC_PUBLIC const struct bc_dump_info *bc_target_info(const struct bc_target *t)
{
	return &t->info;
}

BC_PUBLIC const struct bc_exception_record *bc_target_exception(const struct bc_target *t)
{
	return &t->exception;
}

BC_PUBLIC const struct bc_context *bc_target_context(const struct bc_target *t)
{
	return t->has_context ? &t->context : NULL;
}

BC_PUBLIC uint32_t bc_target_current_processor(const struct bc_target *t)
{
	return t->current_processor;
}

BC_PUBLIC uint64_t bc_target_current_thread(const struct bc_target *t)
{
	return t->current_thread;
}

BC_PUBLIC uint64_t bc_target_current_process(const struct bc_target *t)
{
	return t->current_process;
}

BC_PUBLIC const struct bc_kdbg *bc_target_kdbg(const struct bc_target *t)
{
	return &t->kdbg;
}

BC_PUBLIC size_t bc_target_module_count(const struct bc_target *t)
{
	return t->module_count;
}

BC_PUBLIC const struct bc_module *bc_target_module(const struct bc_target *t, size_t i)
{
	return i < t->module_count ? &t->modules[i] : NULL;
}

BC_PUBLIC const struct bc_module *bc_target_module_at(const struct bc_target *t, uint64_t a)
{
	// 32-bit module bases are sign-extended (as KDBG stores pointers), but
	// header fields such as the bug check parameters are zero-extended:
	// accept either form of a 32-bit address.
	if (t->info.pointer_size == 4 && a >> 32 == 0)
		a = (uint64_t)(int64_t)(int32_t)(uint32_t)a;
	for (size_t i = 0; i < t->module_count; i++) {
		const struct bc_module *m = &t->modules[i];
		if (a >= m->base && a - m->base < m->size)
			return m;
	}
	return NULL;
}

// "nt" is WinDbg's name for the kernel whatever its file is called.
static bool is_kernel_name(const char *n)
{
	static const char *const kernels[] = { "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe",
					       "ntkrpamp.exe", "ntkrnlmp.pdb", "ntkrnlpa.pdb",
					       "ntoskrnl.pdb", "ntkrpamp.pdb" };
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		if (!strcasecmp(n, kernels[i]))
			return true;
	}
	return false;
}

BC_PUBLIC const struct bc_module *bc_target_module_named(const struct bc_target *t,
							 const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < t->module_count; i++) {
		const struct bc_module *m = &t->modules[i];
		if (!strcasecmp(m->name, name))
			return m;
		if (!strcasecmp(name, "nt") && (is_kernel_name(m->name) ||
						(t->info.kernel_base && m->base == t->info.kernel_base)))
			return m;
		const char *dot = strrchr(m->name, '.');
		if (dot && (size_t)(dot - m->name) == len && !strncasecmp(m->name, name, len))
			return m;
	}
	return NULL;
}

BC_PUBLIC enum bc_timestamp_kind bc_target_timestamp_kind(const struct bc_target *t,
							  uint32_t stamp)
{
	const struct bc_dump_info *i = bc_target_info(t);
	const uint32_t nt31 = 0x2c000000;  // mid-1993
	const uint64_t unix_epoch = 116444736000000000ull;  // 1970-01-01 as a FILETIME
	uint64_t crash = i->has_system_time && i->system_time > unix_epoch
				 ? (i->system_time - unix_epoch) / 10000000ull
				 : UINT32_MAX;
	if (stamp < nt31 || stamp > crash)
		return BC_TIMESTAMP_NOT_A_DATE;
	return i->build >= 10240 ? BC_TIMESTAMP_MAYBE_HASH : BC_TIMESTAMP_DATE;
}

BC_PUBLIC const char *bc_target_module_source(const struct bc_target *t)
{
	return t->module_source;
}

BC_PUBLIC size_t bc_target_unloaded_count(const struct bc_target *t)
{
	return t->unloaded_count;
}

BC_PUBLIC const struct bc_unloaded_module *bc_target_unloaded(const struct bc_target *t,
							     size_t i)
{
	return i < t->unloaded_count ? &t->unloaded[i] : NULL;
}

BC_PUBLIC size_t bc_target_warning_count(const struct bc_target *t)
{
	return t->warning_count;
}

BC_PUBLIC const char *bc_target_warning(const struct bc_target *t, size_t i)
{
	return i < t->warning_count ? t->warnings[i] : NULL;
}
