// bench_dump: how fast libbugcheck opens a dump and reads its virtual memory,
// as ratios to plain system calls on the same file, so the figures mean
// something on a noisy machine.
//
//   bench_dump DUMP [VA_BASE SIZE]
//
// 1. open + summary: bc_target_open, the facts the summary prints (info,
//    KDBG, module list, version), bc_target_close; median of 31 runs, against
//    open + pread of the header + close of the same file.
// 2. random 4 KiB virtual reads in [VA_BASE, VA_BASE+SIZE) through the dump's
//    page tables, against pread of 4 KiB at random page offsets of the file:
//    warm (a 1 GiB window read once by both first: our per-read cost).
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum { RUNS = 31 };

static double median_open_summary(const char *path)
{
	double t[RUNS];
	for (int i = 0; i < RUNS; i++) {
		double t0 = now();
		struct bc_target *target;
		struct bc_error *err = bc_target_open(path, &target);
		if (err) {
			fprintf(stderr, "bench_dump: %s: %s\n", path, err->message);
			exit(1);
		}
		const struct bc_dump_info *info = bc_target_info(target);
		volatile uint64_t sink = info->bugcheck_code + bc_target_kdbg(target)->kern_base;
		for (size_t m = 0; m < bc_target_module_count(target); m++)
			sink += bc_target_module(target, m)->base;
		(void)sink;
		bc_target_close(target);
		t[i] = now() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

static double median_open_pread(const char *path)
{
	double t[RUNS];
	uint8_t header[0x3000];
	for (int i = 0; i < RUNS; i++) {
		double t0 = now();
		int fd = open(path, O_RDONLY);
		if (fd < 0 || pread(fd, header, sizeof(header), 0) < 0) {
			perror(path);
			exit(1);
		}
		close(fd);
		t[i] = now() - t0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

static double now_diff(double t0)
{
	return now() - t0;
}

// Random 4 KiB reads, warm: both sides read a window of the dump once first,
// so the figures compare our per-read work (translation, page lookup, copy)
// with a system call. First touches are not timed: on the sparse benchmark
// file they measure the file system's handling of holes (page faults that
// allocate zeroed page-cache pages), not the library.
static void bench_reads(const char *path, uint64_t base, uint64_t size)
{
	enum { READS = 1000000 };
	const uint64_t window = size < (1ull << 30) ? size : (1ull << 30);
	struct bc_target *target;
	struct bc_error *err = bc_target_open(path, &target);
	if (err) {
		fprintf(stderr, "bench_dump: %s\n", err->message);
		exit(1);
	}
	static uint8_t page[4096];
	uint64_t seed = 0x9e3779b97f4a7c15ull, failed = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	// Warm the window on both sides.
	uint64_t pages = window / 4096;
	for (uint64_t p = 0; p < pages; p++)
		bc_error_destroy(bc_target_read(target, base + p * 4096, page, 4096));
	for (uint64_t p = 0; p < pages; p++)
		(void)!pread(fd, page, 4096, (off_t)(0x2000 + p * 4096));
	double t0 = now();
	for (int i = 0; i < READS; i++) {
		err = bc_target_read(target, base + (xorshift(&seed) % pages) * 4096, page, 4096);
		if (err) {
			failed++;
			bc_error_destroy(err);
		}
	}
	double ours = READS / now_diff(t0);
	t0 = now();
	for (int i = 0; i < READS; i++)
		(void)!pread(fd, page, 4096, (off_t)(0x2000 + (xorshift(&seed) % pages) * 4096));
	double plain = READS / now_diff(t0);
	close(fd);
	bc_target_close(target);
	printf("random 4 KiB virtual reads, warm %llu MiB window: %.2f M/s (target > 1 M/s); "
	       "pread of 4 KiB: %.2f M/s; ratio %.2f x pread%s\n",
	       (unsigned long long)(window >> 20), ours / 1e6, plain / 1e6, ours / plain,
	       failed ? " (some reads failed: is the VA range mapped?)" : "");
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: bench_dump DUMP [VA_BASE SIZE]\n");
		return 2;
	}
	double ours = median_open_summary(argv[1]), plain = median_open_pread(argv[1]);
	printf("open + summary: %.3f ms (target < 50 ms); open + pread(12 KiB) + close: %.3f ms; "
	       "ratio %.1f x\n", ours * 1e3, plain * 1e3, ours / plain);
	if (argc == 4)
		bench_reads(argv[1], strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	return 0;
}
