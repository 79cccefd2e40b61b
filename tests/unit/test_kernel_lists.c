// LIST_ENTRY walks (bc_kernel_list_walk) over lists planted in a synthetic
// dump's memory: a good list comes back to its head; a loop that misses the
// head, an entry whose Blink does not point back, and an entry the dump
// lacks each end the walk after the entries before them, with a note saying
// where and why, never a hang or a crash. (The Blink check catches every
// ring that misses the head; the cycle check is the second line of defence.)
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "bugcheck/bugcheck.h"
#include "mkdump.h"
#include "test.h"

static uint8_t page[0x1000];
static const uint64_t VA = 0xffff8a0012345000ull;

static struct bc_target *open_with_page(uint8_t **bytes)
{
	struct bc_fixture_blob blob = { VA, page, sizeof(page) };
	struct bc_fixture_spec spec = { .blobs = &blob, .blob_count = 1 };
	size_t size;
	struct bc_target *t = NULL;
	struct bc_error *err = bc_fixture_build(&spec, NULL, bytes, &size);
	if (!err)
		err = bc_target_open_memory(*bytes, size, "lists.dmp", &t);
	bc_error_destroy(err);
	return t;
}

// Entry i lives at VA + 0x100 * (i + 1); the head at VA.
static uint64_t at(int i)
{
	return i < 0 ? VA : VA + 0x100 * (uint64_t)(i + 1);
}

static void link(int from, int to)
{
	bc_put_le64(page + (at(from) - VA), at(to));      // Flink
	bc_put_le64(page + (at(to) - VA) + 8, at(from));  // Blink
}

struct seen {
	uint64_t objects[16];
	size_t count;
};

static bool collect(void *arg, uint64_t object)
{
	struct seen *s = arg;
	if (s->count < 16)
		s->objects[s->count] = object;
	s->count++;
	return true;
}

// Opens a dump holding the planted page and walks the list at VA (entries'
// objects 0x10 below them). False when the dump could not be built.
static bool walk(struct seen *s, char *note, size_t size)
{
	uint8_t *bytes = NULL;
	struct bc_target *t = open_with_page(&bytes);
	memset(s, 0, sizeof(*s));
	struct bc_error *err = t ? bc_kernel_list_walk(t, VA, 0x10, collect, s, note, size)
				 : &bc_not_found;
	bool ok = err == NULL;
	bc_error_destroy(err);
	bc_target_close(t);
	free(bytes);
	return ok;
}

TEST(a_good_list_comes_back_to_its_head)
{
	memset(page, 0, sizeof(page));
	link(-1, 0), link(0, 1), link(1, 2), link(2, -1);
	struct seen s;
	char note[256];
	REQUIRE(walk(&s, note, sizeof(note)));
	CHECK_EQ(s.count, 3);
	CHECK_EQ(s.objects[0], at(0) - 0x10);  // the object is the entry minus its offset
	CHECK_EQ(s.objects[2], at(2) - 0x10);
	CHECK_STR(note, "");
}

TEST(a_loop_that_misses_the_head_is_stopped)
{
	memset(page, 0, sizeof(page));
	link(-1, 0), link(0, 1), link(1, 2), link(2, 3);
	bc_put_le64(page + (at(3) - VA), at(1));  // 3 -> 1 again (1's Blink still says 0)
	struct seen s;
	char note[256];
	REQUIRE(walk(&s, note, sizeof(note)));
	// Re-entering the ring is caught by 1's Blink (it names 0, not 3) before
	// the cycle check would be needed; either way the walk stops after 4.
	CHECK_EQ(s.count, 4);
	CHECK_CONTAINS(note, "stopped");
}

TEST(an_entry_that_does_not_point_back_is_damage)
{
	memset(page, 0, sizeof(page));
	link(-1, 0), link(0, 1), link(1, -1);
	bc_put_le64(page + (at(1) - VA) + 8, 0xffff8a00deadbeefull);  // a broken Blink
	struct seen s;
	char note[256];
	REQUIRE(walk(&s, note, sizeof(note)));
	CHECK_EQ(s.count, 1);
	CHECK_CONTAINS(note, "does not point back");
}

TEST(an_entry_outside_the_dump_ends_the_walk)
{
	memset(page, 0, sizeof(page));
	link(-1, 0);
	bc_put_le64(page + (at(0) - VA), 0xffff8a0099990000ull);  // Flink to memory not in the dump
	struct seen s;
	char note[256];
	REQUIRE(walk(&s, note, sizeof(note)));
	CHECK_EQ(s.count, 1);
	CHECK_CONTAINS(note, "the list continues at ffff8a0099990000");
}

TEST(a_self_loop_without_the_head_is_stopped)
{
	memset(page, 0, sizeof(page));
	link(-1, 0), link(0, 0);  // entry 0 points at itself
	bc_put_le64(page + (at(0) - VA) + 8, at(0));
	struct seen s;
	char note[256];
	REQUIRE(walk(&s, note, sizeof(note)));
	CHECK(s.count <= 2);
	CHECK(note[0] != 0);
}

TEST_MAIN()
