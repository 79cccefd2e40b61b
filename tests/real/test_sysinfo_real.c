// Secondary data of real small memory dumps (bugcheck/sysinfo.h): the blob
// list, the SMBIOS tables and the processor's registry values. Expected
// values were read by hand from the dumps' bytes (the RawSMBIOSData header
// and the strings after each structure; the UTF-16 registry records), and
// agree with what else is known of these machines: WinDbg's !analyze beside
// eolaruhagen's dump says VIRTUAL_MACHINE: VirtualBox; rizin's x64 dump
// comes from an AMD machine (its crash is in amdppm.sys).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bugcheck/bugcheck.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "dumps/kernel");
}

#define NEED_SHARED()                                                     \
	do {                                                              \
		if (!have_shared())                                       \
			SKIP("skipped: ../shared/dumps not found");       \
	} while (0)

static struct bc_target *open_dump(const char *name)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/dumps/kernel/%s", shared, name);
	struct bc_target *t = NULL;
	struct bc_error *err = bc_target_open(path, &t);
	if (err) {
		fprintf(stderr, "# %s: %s\n", name, err->message);
		bc_error_destroy(err);
	}
	return t;
}

static struct bc_smbios *smbios_of(struct bc_target *t)
{
	const struct bc_dump_blob *blob = bc_target_find_blob(t, &bc_tag_smbios);
	struct bc_smbios *s = NULL;
	if (blob)
		bc_error_destroy(bc_smbios_parse(blob->data, blob->size, &s));
	return s;
}

TEST(virtualbox_machine_id)
{
	NEED_SHARED();
	struct bc_target *t = open_dump("eolaruhagen__083125-14875-01.dmp");
	REQUIRE(t);
	struct bc_smbios *s = smbios_of(t);
	REQUIRE(s);
	CHECK(s->major == 2 && s->minor == 5 && s->table_length == 499);
	CHECK_STR(s->note, "");
	struct bc_machine_id id;
	bc_smbios_machine_id(s, &id);
	CHECK_STR(id.bios_vendor, "innotek GmbH");
	CHECK_STR(id.bios_version, "VirtualBox");
	CHECK_STR(id.bios_release_date, "12/01/2006");
	CHECK(!id.has_bios_release);  // a 0x14-byte SMBIOS 2.5 type 0 has no release bytes
	CHECK_STR(id.system_manufacturer, "innotek GmbH");
	CHECK_STR(id.system_product_name, "VirtualBox");
	CHECK_STR(id.system_version, "1.2");
	CHECK_STR(id.system_family, "Virtual Machine");
	CHECK(id.system_sku == NULL);
	CHECK_STR(id.baseboard_manufacturer, "Oracle Corporation");
	CHECK_STR(id.baseboard_product, "VirtualBox");
	bc_smbios_free(s);
	bc_target_close(t);
}

TEST(asus_desktop_machine_id_and_processor)
{
	NEED_SHARED();
	struct bc_target *t = open_dump("ojusha__100623-6156-01.dmp");
	REQUIRE(t);
	struct bc_smbios *s = smbios_of(t);
	REQUIRE(s);
	CHECK(s->major == 3 && s->minor == 4 && s->table_length == 5574);
	CHECK(s->count > 10 && s->structures[s->count - 1].type == 127);
	struct bc_machine_id id;
	bc_smbios_machine_id(s, &id);
	CHECK(id.has_bios_release && id.bios_major_release == 28 && id.bios_minor_release == 1);
	CHECK_STR(id.bios_vendor, "American Megatrends Inc.");
	CHECK_STR(id.bios_version, "2801");
	CHECK_STR(id.bios_release_date, "09/08/2023");
	CHECK_STR(id.system_manufacturer, "ASUS");
	CHECK_STR(id.system_product_name, "System Product Name");
	CHECK_STR(id.system_sku, "SKU");
	CHECK_STR(id.system_family, "To be filled by O.E.M.");
	CHECK_STR(id.baseboard_manufacturer, "ASUSTeK COMPUTER INC.");
	CHECK_STR(id.baseboard_product, "TUF GAMING B660M-PLUS D4");
	CHECK_STR(id.baseboard_version, "Rev 1.xx");
	bc_smbios_free(s);

	const struct bc_dump_blob *blob = bc_target_find_blob(t, &bc_tag_cpu_registry);
	REQUIRE(blob);
	struct bc_registry_value *v;
	size_t n;
	const char *note;
	REQUIRE_OK(bc_registry_values_parse(blob->data, blob->size, &v, &n, &note));
	CHECK(note == NULL);
	REQUIRE(n == 8);
	CHECK_STR(v[0].name, "~MHz");
	CHECK(v[0].type == 4 && v[0].size == 4 && v[0].data[0] == (2496 & 0xff) &&
	      v[0].data[1] == 2496 >> 8);
	CHECK_STR(v[3].name, "Identifier");
	char *text = bc_registry_string(&v[3]);
	CHECK_STR(text, "Intel64 Family 6 Model 151 Stepping 5");
	free(text);
	CHECK_STR(v[4].name, "ProcessorNameString");
	text = bc_registry_string(&v[4]);
	CHECK_STR(text, "12th Gen Intel(R) Core(TM) i5-12400F");
	free(text);
	CHECK_STR(v[6].name, "VendorIdentifier");
	CHECK_STR(v[7].name, "MSR8B");
	CHECK(v[7].type == 11 && bc_registry_string(&v[7]) == NULL);
	bc_registry_values_free(v, n);
	bc_target_close(t);
}

// rizin's x64 dump: 20 blobs, the processor's key but no SMBIOS tables.
TEST(blob_list_without_smbios)
{
	NEED_SHARED();
	struct bc_target *t = open_dump("rizintb__triage_x64.dmp");
	REQUIRE(t);
	const struct bc_dump_blob *blobs;
	size_t n;
	REQUIRE_OK(bc_target_blobs(t, &blobs, &n));
	CHECK(n == 20);
	char guid[39];
	bc_guid_format(&blobs[0].tag, guid);
	CHECK_STR(guid, "{54C84888-01D1-4C1E-BED6-282C98241303}");
	CHECK(blobs[0].header_offset == 0x13a29c && blobs[0].size == 0x1000);
	CHECK(bc_target_find_blob(t, &bc_tag_smbios) == NULL);
	const struct bc_dump_blob *cpu = bc_target_find_blob(t, &bc_tag_cpu_registry);
	REQUIRE(cpu);
	CHECK(cpu->header_offset == 0x153044 && cpu->size == 0x218);
	struct bc_registry_value *v;
	REQUIRE_OK(bc_registry_values_parse(cpu->data, cpu->size, &v, &n, NULL));
	REQUIRE(n >= 7);
	char *text = bc_registry_string(&v[3]);
	CHECK_STR(text, "AMD64 Family 23 Model 113 Stepping 0");
	free(text);
	text = bc_registry_string(&v[6]);
	CHECK_STR(text, "AuthenticAMD");
	free(text);
	bc_registry_values_free(v, n);
	bc_target_close(t);
}

// Damaged tables end early with a note, never a read past the data.
TEST(damaged_smbios_and_registry_values)
{
	static const uint8_t truncated_strings[] = {
		0, 3, 4, 0, 13, 0, 0, 0,           // RawSMBIOSData: v3.4, 13 bytes
		1, 4, 0x10, 0, 'A', 'B', 'C',      // type 1, no NUL before the end
		0, 0, 0, 0, 0, 0,
	};
	struct bc_smbios *s;
	REQUIRE_OK(bc_smbios_parse(truncated_strings, 8 + 7, &s));
	CHECK(s->count == 0);
	CHECK_CONTAINS(s->note, "run past the table");
	bc_smbios_free(s);
	static const uint8_t short_length[] = { 0, 2, 0, 0, 8, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0 };
	REQUIRE_OK(bc_smbios_parse(short_length, sizeof(short_length), &s));
	CHECK(s->count == 0);
	CHECK_CONTAINS(s->note, "has length 2");
	bc_smbios_free(s);
	struct bc_error *err = bc_smbios_parse(short_length, 7, &s);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	// A string number beyond the set, or 0, names nothing.
	static const uint8_t one_string[] = { 0, 2, 4, 0, 12, 0, 0, 0,
					      1, 5, 1, 0, 2, 'x', 0, 0, 127, 4, 0, 0 };
	REQUIRE_OK(bc_smbios_parse(one_string, sizeof(one_string), &s));
	REQUIRE(s->count == 1);
	CHECK(bc_smbios_string(&s->structures[0], 2) == NULL);
	CHECK(bc_smbios_string(&s->structures[0], 0) == NULL);
	CHECK_STR(bc_smbios_string(&s->structures[0], 1), "x");
	struct bc_machine_id id;
	bc_smbios_machine_id(s, &id);
	CHECK(id.system_manufacturer == NULL);  // byte 4 names string 2: none
	bc_smbios_free(s);
	// A registry value whose data runs past the blob.
	static const uint8_t value[] = { 4, 0, 0, 0, 'A', 0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 1, 2 };
	struct bc_registry_value *v;
	size_t n;
	const char *note;
	REQUIRE_OK(bc_registry_values_parse(value, sizeof(value), &v, &n, &note));
	CHECK(n == 0 && note != NULL);
	bc_registry_values_free(v, n);
}

TEST_MAIN()
