// bench_symbols: symbol lookups, as issue 3 states its targets.
//
//   bench_symbols SHARED_DIR
//
// 1. open the XP kernel's PDB (1.7 MB) and resolve its first address
//    (loads the publics): target under 20 ms;
// 2. symbolize 100k random addresses in that kernel after load: target
//    under 0.2 s;
// 3. identify a small memory dump's kernel among the ISF tables with a warm
//    index: target under 10 ms.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/isf.h"
#include "bugcheck/pdb.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_symbols SHARED_DIR\n");
		return 2;
	}
	char pdb[4200], isf[4200], dump[4200], cache[4200];
	snprintf(pdb, sizeof(pdb), "%s/symbols/pdb/kernel/ntkrnlpa.pdb", argv[1]);
	snprintf(isf, sizeof(isf), "%s/symbols/isf", argv[1]);
	snprintf(dump, sizeof(dump), "%s/dumps/kernel/ojusha__100623-6156-01.dmp", argv[1]);
	const char *tmp = getenv("TMPDIR");
	snprintf(cache, sizeof(cache), "%s/bugcheck-test-isf-index", tmp && *tmp ? tmp : "/tmp");

	double t0 = now();
	struct bc_symtab *tab;
	struct bc_error *err = bc_pdb_open(pdb, &tab);
	if (err) {
		fprintf(stderr, "bench_symbols: %s\n", err->message);
		return 1;
	}
	struct bc_symbol sym;
	bc_error_destroy(bc_symtab_lookup_rva(tab, 0x69450, &sym));
	double open_ms = (now() - t0) * 1e3;
	printf("open ntkrnlpa.pdb (1.7 MB) + first address: %.2f ms (target < 20 ms)\n", open_ms);

	enum { LOOKUPS = 100000 };
	uint64_t seed = 0x9e3779b97f4a7c15ull, found = 0;
	t0 = now();
	for (int i = 0; i < LOOKUPS; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		found += !bc_symtab_lookup_rva(tab, seed % 0x200000, &sym);
	}
	double lookups_s = now() - t0;
	printf("symbolize %d random kernel addresses: %.3f s (target < 0.2 s), %.1f M/s\n", LOOKUPS,
	       lookups_s, LOOKUPS / lookups_s / 1e6);
	bc_symtab_destroy(tab);
	(void)found;

	struct bc_target *t;
	if (bc_target_open(dump, &t)) {
		printf("kernel identification: skipped (no %s)\n", dump);
		return 0;
	}
	struct bc_kernel_match m;
	bc_error_destroy(bc_kernel_identify(t, isf, cache, &m));  // builds the index if needed
	bc_kernel_match_free(&m);
	t0 = now();
	bc_error_destroy(bc_kernel_identify(t, isf, cache, &m));
	double ident_ms = (now() - t0) * 1e3;
	printf("identify the kernel among %u ISF tables (warm index): %.2f ms (target < 10 ms)%s\n",
	       m.candidates, ident_ms, m.path ? "" : " (no match!)");
	bc_kernel_match_free(&m);
	bc_target_close(t);
	return 0;
}
