// Read-only file mapping: see base/file.h.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

struct bc_error *bc_file_open(const char *path, struct bc_file **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bc_error_io(errno, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return bc_error_io(e, "cannot stat %s: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return bc_error_io(EISDIR, "%s is a directory, not a dump file", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return bc_error_io(EINVAL, "%s is not a regular file", path);
	}
	struct bc_file *file = calloc(1, sizeof(*file));
	if (!file || !(file->path = strdup(path))) {
		free(file);
		close(fd);
		return &bc_enomem;
	}
	file->map_size = (uint64_t)st.st_size;
	if (file->map_size) {
		file->map = mmap(NULL, file->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (file->map == MAP_FAILED) {
			int e = errno;
			free(file->path);
			free(file);
			close(fd);
			return bc_error_io(e, "cannot map %s: %s", path, strerror(e));
		}
		file->bytes = (struct bc_span){ file->map, file->map_size };
	}
	close(fd);
	*ret = file;
	return NULL;
}

struct bc_error *bc_file_from_memory(const void *data, uint64_t size, const char *name,
				     struct bc_file **ret)
{
	struct bc_file *file = calloc(1, sizeof(*file));
	if (!file || !(file->path = strdup(name ? name : "<memory>"))) {
		free(file);
		return &bc_enomem;
	}
	file->bytes = (struct bc_span){ data, size };
	*ret = file;
	return NULL;
}

void bc_file_close(struct bc_file *file)
{
	if (!file)
		return;
	if (file->map)
		munmap(file->map, file->map_size);
	free(file->path);
	free(file);
}
