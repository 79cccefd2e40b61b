// bench_analyze: !analyze's speed, as issue 6 states its targets ("analyze
// of a small memory dump with local symbols in under 50 ms; with no symbols
// in under 10 ms").
//
//   bench_analyze [SHARED_DIR]
//
// Each run is what `bugcheck analyze DUMP` does: open the dump, set the
// symbol options, parse the knowledge base and the default triage rules,
// analyze, free everything. Timed over the real small memory dump
// rizintb__triage_x64.dmp (SHARED_DIR/dumps/kernel):
//   1. with no symbols;
//   2. with a local symbol store (SHARED_DIR/symbols/store: the culprit
//      amdppm.sys and its PDB, Wdf01000.sys);
//   3. with the ISF tables (SHARED_DIR/symbols/isf: the kernel identified
//      and its symbols read from a compressed JSON table), the index cached
//      in a temporary directory by a first, untimed run.
// A synthetic small memory dump from the fixture writer stands in when
// SHARED_DIR is absent (case 1 only).
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "mkdump.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// One `bugcheck analyze`: false (with a message) on failure.
static bool analyze_once(const char *dump, const struct bc_symbol_options *opt, char *bucket,
			 size_t size)
{
	struct bc_target *t;
	struct bc_bugcheck_kb *kb = NULL;
	struct bc_triage_rules *rules = NULL;
	struct bc_analysis *a = NULL;
	struct bc_error *err = bc_target_open(dump, &t);
	if (err) {
		fprintf(stderr, "bench_analyze: %s: %s\n", dump, err->message);
		bc_error_destroy(err);
		return false;
	}
	err = bc_target_set_symbol_options(t, opt);
	if (!err)
		err = bc_bugcheck_kb_open(&kb);
	if (!err)
		err = bc_triage_rules_default(&rules);
	if (!err)
		err = bc_target_analyze(t, rules, kb, &a);
	if (err) {
		fprintf(stderr, "bench_analyze: %s\n", err->message);
		bc_error_destroy(err);
	} else {
		snprintf(bucket, size, "%s", a->bucket);
	}
	bc_analysis_free(a);
	bc_triage_rules_free(rules);
	bc_bugcheck_kb_close(kb);
	bc_target_close(t);
	return !err;
}

static void time_case(const char *what, const char *dump, const struct bc_symbol_options *opt,
		      double target_ms)
{
	char bucket[640] = "";
	if (!analyze_once(dump, opt, bucket, sizeof(bucket)))  // warms caches and indexes
		return;
	int runs = 0;
	double start = now(), elapsed = 0;
	while (runs < 200 && (elapsed = now() - start) < 3.0) {
		if (!analyze_once(dump, opt, bucket, sizeof(bucket)))
			return;
		runs++;
	}
	elapsed = now() - start;
	double ms = elapsed * 1e3 / runs;
	printf("  %-44s %8.2f ms per analysis (%d runs)  target < %.0f ms: %s  [%s]\n", what, ms,
	       runs, target_ms, ms < target_ms ? "met" : "NOT met", bucket);
}

int main(int argc, char **argv)
{
	const char *shared = argc > 1 ? argv[1] : NULL;
	char dump[4200], path[4200], cache[] = "/tmp/bench_analyze_XXXXXX";
	bool real = false;
	if (shared) {
		snprintf(dump, sizeof(dump), "%s/dumps/kernel/rizintb__triage_x64.dmp", shared);
		real = access(dump, R_OK) == 0;
	}
	if (!real) {
		struct bc_fixture_spec spec = { .format = BC_FIXTURE_TRIAGE };
		struct bc_error *err = bc_fixture_write_temp(&spec, NULL, dump);
		if (err) {
			fprintf(stderr, "bench_analyze: %s\n", err->message);
			bc_error_destroy(err);
			return 1;
		}
	}
	if (!mkdtemp(cache)) {
		perror("bench_analyze: mkdtemp");
		return 1;
	}
	printf("analyze: %s (%s)\n", real ? "rizintb__triage_x64.dmp" : "synthetic small memory dump",
	       real ? "a real small memory dump" : "../shared absent");
	struct bc_symbol_options none = { .cache_dir = cache };
	time_case("no symbols", dump, &none, 10);
	if (real) {
		snprintf(path, sizeof(path), "%s/symbols/store", shared);
		struct bc_symbol_options store = { .symbol_path = path, .cache_dir = cache };
		time_case("local symbol store (PDB, images)", dump, &store, 50);
		snprintf(path, sizeof(path), "%s/symbols/isf", shared);
		struct bc_symbol_options isf = { .symbol_path = path, .cache_dir = cache };
		time_case("ISF tables (kernel identified, .json.xz)", dump, &isf, 50);
	} else {
		unlink(dump);
	}
	char cleanup[4300];
	snprintf(cleanup, sizeof(cleanup), "rm -rf '%s'", cache);
	if (system(cleanup) != 0)
		fprintf(stderr, "bench_analyze: could not remove %s\n", cache);
	return 0;
}
