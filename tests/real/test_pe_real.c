// The PE reader over real Windows images in ../shared/symbols, checked
// against independent readings: peinfo.jsonl (headers, sections, .pdata
// counts, debug directory, CodeView identity and file version written by
// another tool), MANIFEST.tsv's RUNTIME_FUNCTION counts, the symbol-store
// tree's directory names (image and PDB keys), binutils objdump run now,
// and the crash dumps in ../shared/dumps/kernel whose kernel headers are in
// the dump. Skipped, saying so plainly, when ../shared is absent.
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/pe.h"
#include "pe_oracle_check.h"
#include "test.h"

static char shared_dir[4096];

static bool have_symbols(void)
{
	const char *shared = getenv("BC_SHARED_DIR");
	snprintf(shared_dir, sizeof(shared_dir), "%s", shared ? shared : "../shared");
	char path[4200];
	snprintf(path, sizeof(path), "%s/symbols/peinfo.jsonl", shared_dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("# skipped: ../shared/symbols not found (looked for %s)\n", path);
		return false;
	}
	fclose(f);
	return true;
}

#define NEED_SYMBOLS()                                                \
	do {                                                          \
		if (!have_symbols())                                  \
			SKIP("skipped: ../shared/symbols not found"); \
	} while (0)

static char *symbols_path(const char *rel)
{
	static char buf[8192];
	int n = snprintf(buf, sizeof(buf), "%s/symbols/%s", shared_dir, rel);
	if (n < 0 || (size_t)n >= sizeof(buf))
		buf[0] = '\0';
	return buf;
}

static uint64_t hex_field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? strtoull(s, NULL, 16) : UINT64_MAX;
}

// "{F535C5FB-2AE8-4BB8-AA20-6C30BE566C5A}" -> "F535C5FB2AE84BB8AA206C30BE566C5A".
static void strip_guid(const char *in, char out[40])
{
	size_t o = 0;
	for (; *in && o < 39; in++) {
		if (*in != '{' && *in != '}' && *in != '-')
			out[o++] = *in;
	}
	out[o] = '\0';
}

static void check_debug(struct bc_pe *pe, json_t *entries)
{
	const struct bc_pe_debug_entry *e;
	size_t n;
	REQUIRE_OK(bc_pe_debug_entries(pe, &e, &n));
	REQUIRE_EQ(n, json_array_size(entries));
	for (size_t k = 0; k < n; k++) {
		json_t *want = json_array_get(entries, k);
		CHECK_EQ(e[k].type, json_integer_value(json_object_get(want, "type")));
		if (e[k].type != BC_PE_DEBUG_CODEVIEW)
			continue;
		const struct bc_pe_codeview *cv;
		REQUIRE_OK(bc_pe_codeview(pe, &cv));
		CHECK_STR(json_string_value(json_object_get(want, "format")), "RSDS");
		char g[33], want_guid[40], key[64];
		guid_text(cv->guid, g);
		strip_guid(json_string_value(json_object_get(want, "guid")), want_guid);
		CHECK_STR(g, want_guid);
		CHECK_EQ(cv->age, json_integer_value(json_object_get(want, "age")));
		CHECK_STR(cv->pdb_path, json_string_value(json_object_get(want, "pdb")));
		snprintf(key, sizeof(key), "%s%X", g, cv->age);
		CHECK_STR(key, json_string_value(json_object_get(want, "symsrv_pdb_key")));
	}
}

static void check_peinfo_entry(json_t *d)
{
	const char *rel = json_string_value(json_object_get(d, "path"));
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_file(symbols_path(rel), &pe));
	const struct bc_pe_info *i = bc_pe_info(pe);
	CHECK_EQ(i->machine, hex_field(d, "machine"));
	CHECK_EQ(i->characteristics, hex_field(d, "characteristics"));
	CHECK_EQ(i->timestamp, hex_field(d, "TimeDateStamp"));
	CHECK_STR(i->is_64bit ? "PE32+" : "PE32", json_string_value(json_object_get(d, "optional_magic")));
	CHECK_EQ(i->image_base, hex_field(d, "ImageBase"));
	CHECK_EQ(i->size_of_image, hex_field(d, "SizeOfImage"));
	CHECK_EQ(i->size_of_headers, hex_field(d, "SizeOfHeaders"));
	CHECK_EQ(i->checksum, hex_field(d, "CheckSum"));
	CHECK_EQ(i->subsystem, json_integer_value(json_object_get(d, "Subsystem")));
	CHECK_EQ(i->section_count, json_integer_value(json_object_get(d, "NumberOfSections")));
	char key[BC_PE_IMAGE_KEY_SIZE];
	bc_pe_image_key(i->timestamp, i->size_of_image, key);
	CHECK_STR(key, json_string_value(json_object_get(d, "symsrv_image_key")));
	json_t *names = json_object_get(d, "sections");
	REQUIRE_EQ(bc_pe_section_count(pe), json_array_size(names));
	for (size_t k = 0; k < json_array_size(names); k++)
		CHECK_STR(bc_pe_section(pe, k)->name, json_string_value(json_array_get(names, k)));
	json_t *exc = json_object_get(d, "exception_dir");
	const struct bc_pe_pdata *pd;
	struct bc_error *err = bc_pe_pdata(pe, &pd);
	if (exc) {
		REQUIRE_OK(err);
		CHECK_EQ(i->directories[BC_PE_DIR_EXCEPTION].rva, hex_field(exc, "rva"));
		CHECK_EQ(i->directories[BC_PE_DIR_EXCEPTION].size,
			 json_integer_value(json_object_get(exc, "size")));
		CHECK_EQ(pd->count, json_integer_value(json_object_get(exc, "runtime_functions")));
	} else {
		CHECK(err && err->code != BC_ERR_FORMAT);
		bc_error_destroy(err);
	}
	check_debug(pe, json_object_get(d, "debug_directory"));
	const char *version = json_string_value(json_object_get(d, "file_version"));
	const struct bc_pe_version *v;
	err = bc_pe_version(pe, &v);
	if (version) {
		REQUIRE_OK(err);
		char have[64];
		snprintf(have, sizeof(have), "%u.%u.%u.%u", v->file_version[0], v->file_version[1],
			 v->file_version[2], v->file_version[3]);
		CHECK_STR(have, version);
		CHECK(bc_pe_version_string(v, "CompanyName") != NULL);
	} else {
		bc_error_destroy(err);
	}
	check_against_objdump(pe, symbols_path(rel));
	bc_pe_close(pe);
}

TEST(peinfo_jsonl)
{
	NEED_SYMBOLS();
	json_error_t jerr;
	FILE *f = fopen(symbols_path("peinfo.jsonl"), "r");
	REQUIRE(f);
	char line[1 << 16];
	int images = 0;
	while (fgets(line, sizeof(line), f)) {
		json_t *d = json_loads(line, 0, &jerr);
		if (!d) {
			TEST_FAIL_AT("peinfo.jsonl: %s", jerr.text);
			continue;
		}
		if (!strcmp(json_string_value(json_object_get(d, "kind")) ?: "", "PE")) {
			printf("# %s\n", json_string_value(json_object_get(d, "path")));
			check_peinfo_entry(d);
			images++;
		}
		json_decref(d);
	}
	fclose(f);
	CHECK(images >= 10);
}

// MANIFEST.tsv describes images with "(N RUNTIME_FUNCTIONs)".
TEST(manifest_runtime_function_counts)
{
	NEED_SYMBOLS();
	FILE *f = fopen(symbols_path("MANIFEST.tsv"), "r");
	REQUIRE(f);
	char line[8192];
	int checked = 0;
	while (fgets(line, sizeof(line), f)) {
		char *count = strstr(line, " RUNTIME_FUNCTIONs)");
		if (!count)
			continue;
		char *open = count;
		while (open > line && open[-1] != '(')
			open--;
		unsigned long want = strtoul(open, NULL, 10);
		*strchr(line, '\t') = '\0';
		struct bc_pe *pe;
		REQUIRE_OK(bc_pe_open_file(symbols_path(line), &pe));
		const struct bc_pe_pdata *pd;
		REQUIRE_OK(bc_pe_pdata(pe, &pd));
		CHECK_EQ(pd->count, want);
		// Every entry is found by its own first and last byte.
		for (size_t k = 0; k < pd->count; k++) {
			CHECK(bc_pe_pdata_lookup(pd, pd->entries[k].begin) == &pd->entries[k]);
			CHECK(bc_pe_pdata_lookup(pd, pd->entries[k].end - 1) == &pd->entries[k]);
		}
		bc_pe_close(pe);
		checked++;
	}
	fclose(f);
	CHECK(checked >= 5);
}

// store/NAME/KEY/NAME: the image key of each image is its directory name;
// amdppm.sys and user32.dll name the PDB directories next to them.
TEST(symbol_store_keys)
{
	NEED_SYMBOLS();
	static const struct {
		const char *image, *pdb_dir;
	} cases[] = {
		{ "store/amdppm.sys/c9c030003b000/amdppm.sys", "store/amdppm.pdb" },
		{ "store/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys", NULL },
		{ "pe/user/user32.dll", "store/user32.pdb" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct bc_pe *pe;
		REQUIRE_OK(bc_pe_open_file(symbols_path(cases[c].image), &pe));
		const struct bc_pe_info *i = bc_pe_info(pe);
		char key[BC_PE_IMAGE_KEY_SIZE];
		bc_pe_image_key(i->timestamp, i->size_of_image, key);
		if (!strncmp(cases[c].image, "store/", 6)) {
			const char *dir = strchr(cases[c].image + 6, '/') + 1;
			CHECK(!strncasecmp(key, dir, strlen(key)) && dir[strlen(key)] == '/');
		}
		if (cases[c].pdb_dir) {
			struct bc_pdb_identity id;
			REQUIRE_OK(bc_pe_pdb_identity(pe, &id));
			char g[33], want[300];
			guid_text(id.guid, g);
			snprintf(want, sizeof(want), "%s/%s%X/%s", symbols_path(cases[c].pdb_dir), g,
				 id.age, id.name);
			FILE *f = fopen(want, "rb");
			if (!f)
				TEST_FAIL_AT("%s: no PDB at %s", cases[c].image, want);
			else
				fclose(f);
		}
		bc_pe_close(pe);
	}
	// The crash of rizintb__triage_x64.dmp: cdb's `lm` gives amdppm.sys a size of 0x3B000.
	struct bc_pe *pe;
	REQUIRE_OK(bc_pe_open_file(symbols_path(cases[0].image), &pe));
	CHECK_EQ(bc_pe_info(pe)->size_of_image, 0x3b000);
	bc_pe_close(pe);
}

/* ---- The mapped layout over real images ---------------------------------------------------- */

// Reads a file-layout image as mapped, with the pages of some sections
// "discarded" (missing, as INIT is after a driver starts).
struct discarding_reader {
	struct bc_pe *file;
	bool (*discarded)(const struct bc_pe_section *s);
};

static bool in_discarded(const struct discarding_reader *r, uint64_t rva)
{
	const struct bc_pe_section *s = bc_pe_section_at(r->file, rva);
	return s && r->discarded && r->discarded(s);
}

static struct bc_error *read_discarding(void *arg, uint64_t rva, void *buf, size_t size)
{
	struct discarding_reader *r = arg;
	for (uint64_t p = rva & ~0xfffull; p < rva + size; p += 0x1000) {
		uint64_t at = p < rva ? rva : p;
		if (in_discarded(r, at))
			return bc_error_fault(0xfffff80400000000ull + at, BC_FAULT_NOT_IN_DUMP,
					      "discarded page");
	}
	return bc_pe_read(r->file, rva, buf, size);
}

static bool discard_init(const struct bc_pe_section *s)
{
	return s->characteristics & BC_PE_SCN_MEM_DISCARDABLE;
}

static bool discard_rsrc_and_pdata(const struct bc_pe_section *s)
{
	return !strcmp(s->name, ".rsrc") || !strcmp(s->name, ".pdata");
}

// Each reader on the mapped image either agrees with the file or, when its
// bytes were discarded, fails as "not available" (never "corrupt").
static void compare_mapped(struct bc_pe *file, struct bc_pe *img, bool may_fault)
{
	const struct bc_pe_exports *fe, *ie;
	struct bc_error *ferr = bc_pe_exports(file, &fe), *ierr = bc_pe_exports(img, &ie);
	if (ierr && ierr->code == BC_ERR_FAULT && may_fault) {
		CHECK(!ferr);
		bc_error_destroy(ierr);
	} else if (!ferr) {
		REQUIRE_OK(ierr);
		REQUIRE_EQ(ie->count, fe->count);
		for (size_t k = 0; k < fe->count; k++) {
			CHECK_EQ(ie->entries[k].rva, fe->entries[k].rva);
			CHECK_EQ(ie->entries[k].ordinal, fe->entries[k].ordinal);
		}
	} else {
		CHECK(ierr && ierr->code == ferr->code);
		bc_error_destroy(ierr);
	}
	bc_error_destroy(ferr);
	const struct bc_pe_pdata *fp, *ip;
	ferr = bc_pe_pdata(file, &fp);
	ierr = bc_pe_pdata(img, &ip);
	if (ierr && ierr->code == BC_ERR_FAULT && may_fault) {
		CHECK(!ferr);
		bc_error_destroy(ierr);
	} else if (!ferr) {
		REQUIRE_OK(ierr);
		REQUIRE_EQ(ip->count, fp->count);
		for (size_t k = 0; k < fp->count; k++) {
			CHECK_EQ(ip->entries[k].begin, fp->entries[k].begin);
			CHECK_EQ(ip->entries[k].end, fp->entries[k].end);
			CHECK_EQ(ip->entries[k].unwind, fp->entries[k].unwind);
		}
	} else {
		CHECK(ierr && ierr->code == ferr->code);
		bc_error_destroy(ierr);
	}
	bc_error_destroy(ferr);
	const struct bc_pe_version *fv, *iv;
	ferr = bc_pe_version(file, &fv);
	ierr = bc_pe_version(img, &iv);
	if (ierr && ierr->code == BC_ERR_FAULT && may_fault) {
		CHECK(!ferr);
		bc_error_destroy(ierr);
	} else if (!ferr) {
		REQUIRE_OK(ierr);
		REQUIRE_EQ(iv->string_count, fv->string_count);
		for (size_t k = 0; k < fv->string_count; k++)
			CHECK_STR(iv->strings[k].value, fv->strings[k].value);
	} else {
		CHECK(ierr && ierr->code == ferr->code);
		bc_error_destroy(ierr);
	}
	bc_error_destroy(ferr);
	const struct bc_pe_codeview *fc, *ic;
	ferr = bc_pe_codeview(file, &fc);
	ierr = bc_pe_codeview(img, &ic);
	if (!ferr && !ierr) {
		CHECK(!memcmp(ic->guid, fc->guid, 16));
		CHECK_STR(ic->pdb_path, fc->pdb_path);
	} else {
		CHECK(ierr && (ierr->code == BC_ERR_FAULT || (ferr && ierr->code == ferr->code)));
	}
	bc_error_destroy(ferr);
	bc_error_destroy(ierr);
}

TEST(mapped_layout_with_discarded_sections)
{
	NEED_SYMBOLS();
	static const char *const images[] = {
		"store/amdppm.sys/c9c030003b000/amdppm.sys", "pe/kernel-drivers/acpi.sys",
		"pe/kernel-drivers/WdBoot.sys", "pe/user/kernel32.dll", "pe/user/user32.dll",
		"pe/user/cvdump.exe",
	};
	int faults_seen = 0;
	for (size_t c = 0; c < sizeof(images) / sizeof(images[0]); c++) {
		struct bc_pe *file;
		REQUIRE_OK(bc_pe_open_file(symbols_path(images[c]), &file));
		bool (*modes[])(const struct bc_pe_section *) = { NULL, discard_init,
								  discard_rsrc_and_pdata };
		for (size_t m = 0; m < 3; m++) {
			struct discarding_reader r = { file, modes[m] };
			struct bc_pe *img;
			REQUIRE_OK(bc_pe_open_image(read_discarding, &r, 0xfffff80400000000ull,
						    images[c], &img));
			CHECK(!memcmp(bc_pe_info(img), bc_pe_info(file),
				      offsetof(struct bc_pe_info, load_base)));
			compare_mapped(file, img, m != 0);
			// Every discardable section's bytes fault; the first byte of .text does not.
			for (size_t s = 0; s < bc_pe_section_count(file); s++) {
				const struct bc_pe_section *sec = bc_pe_section(file, s);
				uint8_t b;
				struct bc_error *err = bc_pe_read(img, sec->rva, &b, 1);
				if (!sec->virtual_size && !sec->raw_size)
					continue;
				if (r.discarded && r.discarded(sec)) {
					CHECK(err && err->code == BC_ERR_FAULT &&
					      err->fault == BC_FAULT_NOT_IN_DUMP);
					faults_seen += err != NULL;
				} else {
					CHECK(err == NULL);
				}
				bc_error_destroy(err);
			}
			bc_pe_close(img);
		}
		bc_pe_close(file);
	}
	CHECK(faults_seen > 10);
}

/* ---- Images in real crash dumps ------------------------------------------------------------- */

struct dump_reader {
	struct bc_target *t;
	uint64_t base;
};

static struct bc_error *read_dump(void *arg, uint64_t rva, void *buf, size_t size)
{
	struct dump_reader *r = arg;
	return bc_target_read(r->t, r->base + rva, buf, size);
}

// Small memory dumps keep a few pages of the kernel image at most: its
// headers agree with the dump's module list, and every directory whose
// pages are missing reports "not available", never "corrupt".
TEST(kernel_headers_in_small_dumps)
{
	const char *shared = getenv("BC_SHARED_DIR");
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/dumps/kernel", shared ? shared : "../shared");
	DIR *d = opendir(dir);
	if (!d) {
		printf("# skipped: ../shared/dumps not found (looked in %s)\n", dir);
		SKIP("skipped: ../shared/dumps not found");
	}
	int with_headers = 0, opened = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".dmp"))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct bc_target *t;
		struct bc_error *err = bc_target_open(path, &t);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		opened++;
		for (size_t m = 0; m < bc_target_module_count(t); m++) {
			const struct bc_module *mod = bc_target_module(t, m);
			struct dump_reader r = { t, mod->base };
			struct bc_pe *pe;
			err = bc_pe_open_image(read_dump, &r, mod->base, mod->name, &pe);
			if (err) {
				CHECK_EQ(err->code, BC_ERR_FAULT);
				bc_error_destroy(err);
				continue;
			}
			with_headers++;
			printf("# %s: %s headers are in the dump\n", e->d_name, mod->name);
			const struct bc_pe_info *i = bc_pe_info(pe);
			CHECK_EQ(i->size_of_image, mod->size);
			if (mod->has_timestamp)
				CHECK_EQ(i->timestamp, mod->timestamp);
			CHECK_EQ(i->load_base, mod->base);
			const struct bc_pe_exports *ex;
			err = bc_pe_exports(pe, &ex);
			CHECK(!err || err->code == BC_ERR_FAULT);
			bc_error_destroy(err);
			const struct bc_pe_codeview *cv;
			err = bc_pe_codeview(pe, &cv);
			CHECK(!err || err->code == BC_ERR_FAULT);
			if (err)
				CHECK_CONTAINS(err->message, mod->name);
			bc_error_destroy(err);
			const struct bc_pe_pdata *pd;
			err = bc_pe_pdata(pe, &pd);
			CHECK(!err || err->code == BC_ERR_FAULT);
			bc_error_destroy(err);
			const struct bc_pe_version *v;
			err = bc_pe_version(pe, &v);
			CHECK(!err || err->code == BC_ERR_FAULT || err->code == BC_ERR_NOT_FOUND);
			bc_error_destroy(err);
			bc_pe_close(pe);
		}
		bc_target_close(t);
	}
	closedir(d);
	if (opened)
		CHECK(with_headers >= 1);
}

TEST_MAIN()
