// Replays fuzz inputs without libFuzzer: `fuzz_X FILE|DIR...` feeds every file
// to LLVMFuzzerTestOneInput once. ctest uses it to run each target over its
// seed corpus and the saved crash regressions in every normal (and ASan) build.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
	size_t got = b ? fread(b, 1, (size_t)(n > 0 ? n : 0), f) : 0;
	fclose(f);
	if (!b)
		return 1;
	LLVMFuzzerTestOneInput(b, got);
	free(b);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st))
		return 0;  // a corpus directory that does not exist yet is empty
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	DIR *d = opendir(path);
	struct dirent *e;
	int status = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char child[4096];
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		status |= run_path(child, count);
	}
	if (d)
		closedir(d);
	return status;
}

int main(int argc, char **argv)
{
	int status = 0, count = 0;
	for (int i = 1; i < argc; i++)
		status |= run_path(argv[i], &count);
	printf("replayed %d inputs\n", count);
	return status;
}
