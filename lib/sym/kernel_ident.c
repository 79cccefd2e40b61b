// Which kernel did a dump run? (bugcheck/isf.h: bc_kernel_identify)
//
// KDDEBUGGER_DATA64 lists the addresses of dozens of kernel variables. For
// the right symbol table, every such address minus KernBase is the RVA the
// table gives that variable. The RVAs of those names in each table are kept
// in an index file (cache_dir/isf-kernel-index.tsv), one line per table:
//   path  size  mtime  machine  GUID  age  pdb-name  name=rva,name=rva,...
// Lines whose file changed size or time are rebuilt; a corrupt index is
// rebuilt; the new index is written to a temporary file and renamed.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "bugcheck/isf.h"
#include "sym/isf_file.h"

enum {
	MAX_TABLES = 4096,
	MIN_AGREEING = 8,  ///< fewer agreeing addresses than this is not an identification
};

// KDDEBUGGER_DATA64 fields that hold the address of a kernel variable or
// function, by offset, with the kernel's own name for it (wdbgexts.h).
static const struct kdbg_field {
	uint16_t offset;
	const char *symbol;
} kdbg_fields[] = {
	{ 0x20, "RtlpBreakWithStatusInstruction" }, { 0x38, "KiCallUserMode" },
	{ 0x40, "KeUserCallbackDispatcher" }, { 0x48, "PsLoadedModuleList" },
	{ 0x50, "PsActiveProcessHead" }, { 0x58, "PspCidTable" },
	{ 0x60, "ExpSystemResourcesList" }, { 0x68, "ExpPagedPoolDescriptor" },
	{ 0x70, "ExpNumberOfPagedPools" }, { 0x78, "KeTimeIncrement" },
	{ 0x80, "KeBugCheckCallbackListHead" }, { 0x88, "KiBugcheckData" },
	{ 0x90, "IopErrorLogListHead" }, { 0x98, "ObpRootDirectoryObject" },
	{ 0xa0, "ObpTypeObjectType" }, { 0xa8, "MmSystemCacheStart" },
	{ 0xb0, "MmSystemCacheEnd" }, { 0xb8, "MmSystemCacheWs" },
	{ 0xc0, "MmPfnDatabase" }, { 0xc8, "MmSystemPtesStart" },
	{ 0xd0, "MmSystemPtesEnd" }, { 0xd8, "MmSubsectionBase" },
	{ 0xe0, "MmNumberOfPagingFiles" }, { 0xe8, "MmLowestPhysicalPage" },
	{ 0xf0, "MmHighestPhysicalPage" }, { 0xf8, "MmNumberOfPhysicalPages" },
	{ 0x100, "MmMaximumNonPagedPoolInBytes" }, { 0x108, "MmNonPagedSystemStart" },
	{ 0x110, "MmNonPagedPoolStart" }, { 0x118, "MmNonPagedPoolEnd" },
	{ 0x120, "MmPagedPoolStart" }, { 0x128, "MmPagedPoolEnd" },
	{ 0x130, "MmPagedPoolInfo" }, { 0x138, "MmPageSize" },
	{ 0x140, "MmSizeOfPagedPoolInBytes" }, { 0x148, "MmTotalCommitLimit" },
	{ 0x150, "MmTotalCommittedPages" }, { 0x158, "MmSharedCommit" },
	{ 0x160, "MmDriverCommit" }, { 0x168, "MmProcessCommit" },
	{ 0x170, "MmPagedPoolCommit" }, { 0x178, "MmExtendedCommit" },
	{ 0x180, "MmZeroedPageListHead" }, { 0x188, "MmFreePageListHead" },
	{ 0x190, "MmStandbyPageListHead" }, { 0x198, "MmModifiedPageListHead" },
	{ 0x1a0, "MmModifiedNoWritePageListHead" }, { 0x1a8, "MmAvailablePages" },
	{ 0x1b0, "MmResidentAvailablePages" }, { 0x1b8, "PoolTrackTable" },
	{ 0x1c0, "NonPagedPoolDescriptor" }, { 0x1c8, "MmHighestUserAddress" },
	{ 0x1d0, "MmSystemRangeStart" }, { 0x1d8, "MmUserProbeAddress" },
	{ 0x1e0, "KdPrintCircularBuffer" }, { 0x1e8, "KdPrintCircularBufferEnd" },
	{ 0x1f0, "KdPrintWritePointer" }, { 0x1f8, "KdPrintRolloverCount" },
	{ 0x200, "MmLoadedUserImageList" }, { 0x208, "NtBuildLab" },
	{ 0x210, "KiNormalSystemCall" }, { 0x218, "KiProcessorBlock" },
	{ 0x220, "MmUnloadedDrivers" }, { 0x228, "MmLastUnloadedDriver" },
	{ 0x230, "MmTriageActionTaken" }, { 0x238, "MmSpecialPoolTag" },
	{ 0x240, "KernelVerifier" }, { 0x248, "MmVerifierData" },
	{ 0x250, "MmAllocatedNonPagedPool" }, { 0x258, "MmPeakCommitment" },
	{ 0x260, "MmTotalCommitLimitMaximum" }, { 0x268, "CmNtCSDVersion" },
	{ 0x270, "MmPhysicalMemoryBlock" }, { 0x278, "MmSessionBase" },
	{ 0x280, "MmSessionSize" }, { 0x288, "MmSystemParentTablePage" },
	{ 0x290, "MmVirtualTranslationBase" },
};
enum { KDBG_FIELD_COUNT = sizeof(kdbg_fields) / sizeof(kdbg_fields[0]) };
#define NO_RVA UINT64_MAX

struct table {
	char *path;
	long long size, mtime;
	uint32_t machine;
	struct bc_pdb_identity identity;
	uint64_t rva[KDBG_FIELD_COUNT];  ///< NO_RVA where the table lacks the name
	bool fresh;                      ///< read from the index and still valid, or just built
};

struct tables {
	struct table *v;
	size_t count;
};

static void tables_free(struct tables *ts)
{
	for (size_t i = 0; i < ts->count; i++)
		free(ts->v[i].path);
	free(ts->v);
	*ts = (struct tables){ 0 };
}

static bool is_table_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && !strcmp(name + n - 5, ".json")) ||
	       (n > 8 && !strcmp(name + n - 8, ".json.xz"));
}

static bool is_kernel_pdb_dir(const char *name)
{
	static const char *const kernels[] = { "ntkrnlmp.pdb", "ntkrnlpa.pdb", "ntoskrnl.pdb",
					       "ntkrpamp.pdb", "ntkrla57.pdb" };
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (!strcasecmp(name, kernels[i]))
			return true;
	return false;
}

static struct bc_error *add_table(struct tables *ts, const char *path, const struct stat *st)
{
	if (ts->count >= MAX_TABLES)
		return NULL;  // bounded: the rest are ignored
	if (!(ts->count & (ts->count + 1))) {
		struct table *p = realloc(ts->v, (ts->count * 2 + 2) * sizeof(*p));
		if (!p)
			return &bc_enomem;
		ts->v = p;
	}
	struct table *t = &ts->v[ts->count];
	*t = (struct table){ .path = strdup(path), .size = st->st_size, .mtime = st->st_mtime };
	if (!t->path)
		return &bc_enomem;
	ts->count++;
	return NULL;
}

// Tables in @dir itself and in its kernel-named subdirectories.
static struct bc_error *scan_dir(const char *dir, struct tables *ts, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return bc_error_io(errno, "%s: cannot list the ISF directory", dir);
	struct bc_error *err = NULL;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (stat(path, &st))
			continue;
		if (S_ISREG(st.st_mode) && is_table_name(e->d_name))
			err = add_table(ts, path, &st);
		else if (S_ISDIR(st.st_mode) && depth == 0 && is_kernel_pdb_dir(e->d_name))
			err = scan_dir(path, ts, 1);
	}
	closedir(d);
	return err;
}

static void fill_from_document(struct table *t, json_t *root)
{
	bc_isf_identity(root, &t->identity, &t->machine);
	json_t *symbols = json_object_get(root, "symbols");
	for (size_t f = 0; f < KDBG_FIELD_COUNT; f++) {
		t->rva[f] = NO_RVA;
		json_t *sym = json_object_get(symbols, kdbg_fields[f].symbol);
		if (!sym) {
			// Names differ in case between versions (KiBugcheckData / KiBugCheckData).
			const char *key;
			json_t *value;
			json_object_foreach(symbols, key, value) {
				if (!strcasecmp(key, kdbg_fields[f].symbol)) {
					sym = value;
					break;
				}
			}
		}
		json_t *address = json_object_get(sym, "address");
		if (json_is_integer(address) && json_integer_value(address) >= 0)
			t->rva[f] = (uint64_t)json_integer_value(address);
	}
}

static struct bc_error *build_entry(struct table *t)
{
	char *text;
	size_t size;
	struct bc_error *err = bc_isf_read_text(t->path, &text, &size);
	if (err)
		return err;
	json_t *root;
	err = bc_isf_parse(text, size, t->path, &root);
	free(text);
	if (err)
		return err;
	fill_from_document(t, root);
	json_decref(root);
	t->fresh = true;
	return NULL;
}

static void guid_text(const uint8_t g[16], char out[33])
{
	snprintf(out, 33, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X", g[3],
		 g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
}

static bool parse_guid_text(const char *s, uint8_t g[16])
{
	static const int stored_from_text[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
						  8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t text[16];
	if (strlen(s) != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		text[i] = (uint8_t)v;
	}
	for (int i = 0; i < 16; i++)
		g[i] = text[stored_from_text[i]];
	return true;
}

// Fills tables from the index where path, size and mtime still match.
// Anything malformed is ignored (the table is simply rebuilt).
static void read_index(const char *index_path, struct tables *ts)
{
	FILE *f = fopen(index_path, "r");
	if (!f)
		return;
	char line[16384];
	if (!fgets(line, sizeof(line), f) || strcmp(line, "bugcheck-isf-kernel-index 1\n")) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *fields[8];
		char *p = line;
		int n = 0;
		for (; n < 8 && p; n++) {
			fields[n] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		if (n != 8)
			continue;
		for (size_t i = 0; i < ts->count; i++) {
			struct table *t = &ts->v[i];
			if (t->fresh || strcmp(t->path, fields[0]) ||
			    atoll(fields[1]) != t->size || atoll(fields[2]) != t->mtime)
				continue;
			t->machine = (uint32_t)strtoul(fields[3], NULL, 10);
			if (!parse_guid_text(fields[4], t->identity.guid))
				break;
			t->identity.age = (uint32_t)strtoul(fields[5], NULL, 10);
			snprintf(t->identity.name, sizeof(t->identity.name), "%s", fields[6]);
			for (size_t k = 0; k < KDBG_FIELD_COUNT; k++)
				t->rva[k] = NO_RVA;
			for (char *item = strtok(fields[7], ","); item; item = strtok(NULL, ",")) {
				char *eq = strchr(item, '=');
				if (!eq)
					continue;
				*eq = 0;
				for (size_t k = 0; k < KDBG_FIELD_COUNT; k++)
					if (!strcmp(kdbg_fields[k].symbol, item))
						t->rva[k] = strtoull(eq + 1, NULL, 16);
			}
			t->fresh = true;
			break;
		}
	}
	fclose(f);
}

static void write_index(const char *cache_dir, const char *index_path, const struct tables *ts)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", index_path, (long)getpid()) >= (int)sizeof(tmp))
		return;
	(void)mkdir(cache_dir, 0755);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;  // no cache: the next run rebuilds, slower but correct
	fputs("bugcheck-isf-kernel-index 1\n", f);
	for (size_t i = 0; i < ts->count; i++) {
		const struct table *t = &ts->v[i];
		if (!t->fresh || strpbrk(t->path, "\t\n") || strpbrk(t->identity.name, "\t\n"))
			continue;
		char g[33];
		guid_text(t->identity.guid, g);
		fprintf(f, "%s\t%lld\t%lld\t%u\t%s\t%u\t%s\t", t->path, t->size, t->mtime, t->machine,
			g, t->identity.age, t->identity.name);
		bool first = true;
		for (size_t k = 0; k < KDBG_FIELD_COUNT; k++) {
			if (t->rva[k] == NO_RVA)
				continue;
			fprintf(f, "%s%s=%llx", first ? "" : ",", kdbg_fields[k].symbol,
				(unsigned long long)t->rva[k]);
			first = false;
		}
		fputc('\n', f);
	}
	if (fclose(f) || rename(tmp, index_path))
		unlink(tmp);
}

BC_PUBLIC void bc_kernel_match_free(struct bc_kernel_match *m)
{
	free(m->path);
	m->path = NULL;
}

BC_PUBLIC struct bc_error *bc_kernel_identify(struct bc_target *target, const char *isf_dir,
					      const char *cache_dir, struct bc_kernel_match *ret)
{
	*ret = (struct bc_kernel_match){ 0 };
	const struct bc_kdbg *kd = bc_target_kdbg(target);
	const struct bc_dump_info *info = bc_target_info(target);
	if (!kd->present || !kd->kern_base) {
		snprintf(ret->explanation, sizeof(ret->explanation),
			 "the dump has no readable KDDEBUGGER_DATA64, so its kernel cannot be "
			 "matched against symbol tables");
		return NULL;
	}
	struct tables ts = { 0 };
	// The index is keyed by path: one spelling per table, however the
	// directory was named (a/../shared and shared must share one index).
	char *canonical = realpath(isf_dir, NULL);
	struct bc_error *err = scan_dir(canonical ? canonical : isf_dir, &ts, 0);
	free(canonical);
	if (err) {
		tables_free(&ts);
		return err;
	}
	char index_path[4096] = "";
	if (cache_dir && snprintf(index_path, sizeof(index_path), "%s/isf-kernel-index.tsv",
				  cache_dir) < (int)sizeof(index_path))
		read_index(index_path, &ts);
	else
		index_path[0] = 0;
	bool rebuilt = false;
	for (size_t i = 0; i < ts.count; i++) {
		if (ts.v[i].fresh)
			continue;
		struct bc_error *e = build_entry(&ts.v[i]);
		bc_error_destroy(e);  // an unreadable table is skipped, not fatal
		rebuilt = true;
	}
	if (rebuilt && *index_path)
		write_index(cache_dir, index_path, &ts);

	uint64_t mask = info->pointer_size == 4 ? 0xffffffffull : UINT64_MAX;
	size_t best = SIZE_MAX;
	unsigned best_agree = 0, best_checked = 0;
	for (size_t i = 0; i < ts.count; i++) {
		const struct table *t = &ts.v[i];
		if (!t->fresh || (t->machine && t->machine != info->machine_image_type))
			continue;
		ret->candidates++;
		unsigned agree = 0, checked = 0;
		for (size_t k = 0; k < KDBG_FIELD_COUNT; k++) {
			uint64_t value;
			if (t->rva[k] == NO_RVA || kdbg_fields[k].offset + 8u > kd->raw_size)
				continue;
			value = bc_le64(kd->raw + kdbg_fields[k].offset);
			if (!value)
				continue;
			checked++;
			agree += ((value - kd->kern_base) & mask) == t->rva[k];
		}
		if (agree > best_agree) {
			best = i;
			best_agree = agree;
			best_checked = checked;
		}
	}
	if (best != SIZE_MAX && best_agree >= MIN_AGREEING && best_agree * 10 >= best_checked * 9) {
		ret->path = strdup(ts.v[best].path);
		ret->identity = ts.v[best].identity;
		if (!ret->path) {
			tables_free(&ts);
			return &bc_enomem;
		}
		ret->fields_agreed = best_agree;
		ret->fields_checked = best_checked;
		snprintf(ret->explanation, sizeof(ret->explanation),
			 "%u of %u KDDEBUGGER_DATA64 addresses agree with %s (of %u candidate tables)",
			 best_agree, best_checked, ret->path, ret->candidates);
	} else if (best != SIZE_MAX) {
		snprintf(ret->explanation, sizeof(ret->explanation),
			 "no symbol table in %s matches this kernel: the closest, %s, agrees on %u "
			 "of %u KDDEBUGGER_DATA64 addresses (%u candidate tables)",
			 isf_dir, ts.v[best].path, best_agree, best_checked, ret->candidates);
	} else {
		snprintf(ret->explanation, sizeof(ret->explanation),
			 "no symbol table in %s matches this kernel (%u candidate tables of this "
			 "machine, none agreeing on any KDDEBUGGER_DATA64 address)",
			 isf_dir, ret->candidates);
	}
	tables_free(&ts);
	return NULL;
}

BC_PUBLIC struct bc_error *bc_isf_dir_find(const char *dir, const struct bc_pdb_identity *id,
					   char **path_ret)
{
	const char *name = id->name;
	if (!*name || strchr(name, '/') || strchr(name, '\\') || strchr(name, ':') ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return bc_error_create(BC_ERR_INVALID_ARG, "PDB name is not a plain file name");
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20)
			return bc_error_create(BC_ERR_INVALID_ARG, "PDB name has control characters");
	char g[33];
	guid_text(id->guid, g);
	// Volatility names files with the age in decimal; accept hex too (symbol-server style).
	static const char *const patterns[] = { "%s/%s/%s-%u.json.xz", "%s/%s/%s-%u.json",
						"%s/%s/%s-%X.json.xz", "%s/%s/%s-%X.json" };
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		char path[4096];
		if (snprintf(path, sizeof(path), patterns[i], dir, name, g, id->age) >=
		    (int)sizeof(path))
			continue;
		if (access(path, R_OK) == 0) {
			*path_ret = strdup(path);
			return *path_ret ? NULL : &bc_enomem;
		}
	}
	return &bc_not_found;
}
