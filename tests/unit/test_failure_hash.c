// FAILURE_ID_HASH: MD5 against RFC 1321's test suite, and the GUID WinDbg
// prints for a bucket against WinDbg's own outputs (the !analyze -v beside
// the eolaruhagen dump, and WINDBG_OUTPUT.md 1.1), read from those files.
#include <stdio.h>
#include <string.h>

#include "analysis/md5.h"
#include "bugcheck/analysis.h"
#include "test.h"

TEST(md5_matches_rfc_1321)
{
	// RFC 1321 appendix A.5.
	static const struct {
		const char *text, *digest;
	} suite[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890123456789012345678901234567890"
		  "1234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	for (size_t i = 0; i < sizeof(suite) / sizeof(suite[0]); i++) {
		uint8_t d[16];
		bc_md5(suite[i].text, strlen(suite[i].text), d);
		char hex[33];
		for (int k = 0; k < 16; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		CHECK_STR(hex, suite[i].digest);
	}
}

// The first FAILURE_BUCKET_ID and FAILURE_ID_HASH values in @path.
static bool read_pair(const char *path, char *bucket, size_t bucket_size, char *hash,
		      size_t hash_size)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[1024];
	*bucket = *hash = 0;
	while (fgets(line, sizeof(line), f) && (!*bucket || !*hash)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!*bucket && !strncmp(line, "FAILURE_BUCKET_ID:", 18))
			snprintf(bucket, bucket_size, "%s", line + 18 + strspn(line + 18, " "));
		if (!*hash && !strncmp(line, "FAILURE_ID_HASH:", 16))
			snprintf(hash, hash_size, "%s", line + 16 + strspn(line + 16, " "));
	}
	fclose(f);
	return *bucket && *hash;
}

TEST(failure_id_hash_matches_windbg)
{
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared), "docs/WINDBG_OUTPUT.md"))
		SKIP("skipped: ../shared/docs not found");
	static const char *const sources[] = {
		"docs/WINDBG_OUTPUT.md",
		"dumps/kernel/eolaruhagen__083125-14875-01.dmp.windbg-analyze-v.txt",
	};
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		char path[4300], bucket[512], hash[64], ours[40];
		snprintf(path, sizeof(path), "%s/%s", shared, sources[i]);
		if (!read_pair(path, bucket, sizeof(bucket), hash, sizeof(hash))) {
			TEST_FAIL_AT("%s: no FAILURE_BUCKET_ID and FAILURE_ID_HASH", path);
			continue;
		}
		bc_failure_id_hash(bucket, ours, sizeof(ours));
		CHECK_STR(ours, hash);
	}
}

TEST_MAIN()
