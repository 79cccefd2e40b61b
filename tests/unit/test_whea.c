// WHEA error records (bugcheck/whea.h) decoded from records the fixture
// writer lays out by UEFI appendix N, and from damaged copies of them.
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/whea.h"
#include "mkdump.h"
#include "test.h"

static const struct bc_fixture_whea machine_check = {
	.severity = 1, .error_type = 1, .operation = 1, .level = 2, .processor_id = 6,
	.physical_address = 0x23a5f6040ull, .memory_error_type = 3,
	.node = 0, .card = 1, .module = 2, .bank = 5,
};

TEST(a_machine_check_record)
{
	uint8_t buf[1024];
	size_t n = bc_fixture_whea_record(&machine_check, buf, sizeof(buf));
	REQUIRE(n == 544);
	struct bc_whea_record r;
	REQUIRE_OK(bc_whea_decode(buf, n, &r));
	CHECK_EQ(r.severity, BC_WHEA_FATAL);
	CHECK_STR(bc_whea_severity_name(r.severity), "Fatal");
	CHECK_EQ(r.length, 544);
	CHECK_EQ(r.section_count, 2);
	CHECK_EQ(r.decoded_sections, 2);
	CHECK(r.has_timestamp && r.year == 2026 && r.month == 11 && r.day == 24 && r.hour == 12 &&
	      r.minute == 34 && r.second == 56);
	const struct bc_whea_section *p = &r.sections[0], *m = &r.sections[1];
	CHECK_EQ(p->kind, BC_WHEA_SECTION_PROCESSOR_GENERIC);
	CHECK(p->fits && (p->flags & 1));
	CHECK(p->has_error_type && p->has_operation && p->has_level && p->has_processor_id);
	CHECK(!p->has_target && !p->has_ip);
	CHECK_STR(bc_whea_error_type_name(p->error_type), "Cache error");
	CHECK_STR(bc_whea_operation_name(p->operation), "Data Read");
	CHECK_EQ(p->level, 2);
	CHECK_EQ(p->processor_id, 6);
	CHECK_EQ(m->kind, BC_WHEA_SECTION_MEMORY);
	CHECK_STR(bc_whea_section_name(m->kind), "Platform Memory");
	CHECK(m->fits && m->has_physical_address && m->has_dimm && m->has_memory_error_type);
	CHECK_EQ(m->physical_address, 0x23a5f6040ull);
	CHECK_STR(bc_whea_memory_error_name(m->memory_error_type), "Multi-bit ECC");
	CHECK(m->card == 1 && m->module == 2 && m->bank == 5);
}

TEST(damaged_records)
{
	uint8_t buf[1024], bad[1024];
	size_t n = bc_fixture_whea_record(&machine_check, buf, sizeof(buf));
	REQUIRE(n);
	struct bc_whea_record r;
	// Not a record; cut inside the header.
	memcpy(bad, buf, n);
	bad[0] = 'X';
	struct bc_error *err = bc_whea_decode(bad, n, &r);
	CHECK(err && err->code == BC_ERR_FORMAT);
	bc_error_destroy(err);
	err = bc_whea_decode(buf, 100, &r);
	CHECK(err && strstr(err->message, "128 bytes"));
	bc_error_destroy(err);
	// Cut after the descriptors: both named, neither section read.
	REQUIRE_OK(bc_whea_decode(buf, 300, &r));
	CHECK_EQ(r.decoded_sections, 2);
	CHECK(!r.sections[0].fits && !r.sections[0].has_error_type);
	CHECK(!r.sections[1].fits);
	// A section whose offset runs past the record, and a wrapping length.
	memcpy(bad, buf, n);
	bc_put_le32(bad + 128, 0xfffffff0u);
	bc_put_le32(bad + 128 + 72 + 4, 0xffffffffu);
	REQUIRE_OK(bc_whea_decode(bad, n, &r));
	CHECK(!r.sections[0].fits && !r.sections[1].fits);
	// Thousands of sections claimed: at most 16 are read, within the bytes there.
	memcpy(bad, buf, n);
	bc_put_le16(bad + 10, 60000);
	bc_put_le32(bad + 20, 0xffffffffu);
	REQUIRE_OK(bc_whea_decode(bad, n, &r));
	CHECK_EQ(r.section_count, 60000);
	CHECK(r.decoded_sections <= 5);  // (544 - 128) / 72 descriptors fit
	// An unknown section type and severity are named as such.
	memcpy(bad, buf, n);
	bad[128 + 16] ^= 0xff;
	bc_put_le32(bad + 12, 77);
	REQUIRE_OK(bc_whea_decode(bad, n, &r));
	CHECK_EQ(r.sections[0].kind, BC_WHEA_SECTION_OTHER);
	CHECK_STR(bc_whea_severity_name(r.severity), "Unknown");
}

TEST_MAIN()
