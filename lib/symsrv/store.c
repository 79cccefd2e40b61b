// Finding a file along a symbol path (bugcheck/sympath.h: bc_sympath_find):
// directories and local stores first-come, then servers through their cache.
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "symsrv/symsrv_private.h"

enum { NEGATIVE_CACHE_SECONDS = 24 * 3600, MAX_TRIED = 4096 };

struct search {
	const struct bc_symfile_key *key;
	const struct bc_symsrv_options *opt;
	char dir_key[48], dir_key_lower[48];
	char compressed[260];  ///< the name with its last character '_'
	char tried[MAX_TRIED];
	size_t tried_len;
};

static void note(struct search *s, const char *fmt, ...) BC_PRINTF(2, 3);

static void note(struct search *s, const char *fmt, ...)
{
	if (s->tried_len + 3 >= sizeof(s->tried))
		return;
	if (s->tried_len)
		s->tried_len += (size_t)snprintf(s->tried + s->tried_len,
						 sizeof(s->tried) - s->tried_len, "; ");
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->tried + s->tried_len, sizeof(s->tried) - s->tried_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->tried_len += (size_t)n < sizeof(s->tried) - s->tried_len
					? (size_t)n : sizeof(s->tried) - s->tried_len - 1;
}

// snprintf for paths: a path that does not fit becomes "" (which names no
// file) rather than a shorter, different path.
static void path_fmt(char *buf, size_t size, const char *fmt, ...) BC_PRINTF(3, 4);

static void path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		buf[0] = 0;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// Accepts @path if the caller's check does; says why not otherwise.
static bool accept(struct search *s, const char *path)
{
	if (!s->opt->verify)
		return true;
	struct bc_error *err = s->opt->verify(s->opt->verify_arg, path, s->key);
	if (!err)
		return true;
	note(s, "%s: %s", path, err->message);
	bc_error_destroy(err);
	return false;
}

static bool take(struct search *s, const char *path, char **path_ret)
{
	if (!is_file(path) || !accept(s, path))
		return false;
	*path_ret = strdup(path);
	return *path_ret != NULL;
}

// file.ptr names where the file really is ("PATH:..." or a bare path); it is
// followed only inside the store that holds it, never elsewhere.
static bool follow_pointer(struct search *s, const char *store, const char *ptr_path,
			   char **path_ret)
{
	FILE *f = fopen(ptr_path, "r");
	if (!f)
		return false;
	char line[PATH_MAX];
	bool ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	line[strcspn(line, "\r\n")] = 0;
	if (!strncmp(line, "MSG:", 4)) {
		note(s, "%s: %s", ptr_path, line + 4);
		return false;
	}
	const char *target = !strncmp(line, "PATH:", 5) ? line + 5 : line;
	char real_store[PATH_MAX], real_target[PATH_MAX];
	if (!realpath(store, real_store) || !realpath(target, real_target)) {
		note(s, "%s points to a missing file", ptr_path);
		return false;
	}
	size_t n = strlen(real_store);
	if (strncmp(real_target, real_store, n) || real_target[n] != '/') {
		note(s, "%s points outside its store; not followed", ptr_path);
		return false;
	}
	return take(s, real_target, path_ret);
}

static bool search_dir(struct search *s, const char *dir, char **path_ret)
{
	const char *name = s->key->name;
	char path[PATH_MAX];
	const char *keys[2] = { s->dir_key, s->dir_key_lower };
	for (int k = 0; k < 2; k++) {
		if (k && !strcmp(keys[0], keys[1]))
			break;
		path_fmt(path, sizeof(path), "%s/%s/%s/%s", dir, name, keys[k], name);
		if (take(s, path, path_ret))
			return true;
		// Two-tier stores: the first two characters of the name first.
		path_fmt(path, sizeof(path), "%s/%.2s/%s/%s/%s", dir, name, name, keys[k], name);
		if (take(s, path, path_ret))
			return true;
		path_fmt(path, sizeof(path), "%s/%s/%s/file.ptr", dir, name, keys[k]);
		if (follow_pointer(s, dir, path, path_ret))
			return true;
		path_fmt(path, sizeof(path), "%s/%s/%s/%s", dir, name, keys[k], s->compressed);
		if (is_file(path))
			note(s, "%s is compressed: put the store behind a cache (srv*CACHE*DIR) to use it",
			     path);
	}
	path_fmt(path, sizeof(path), "%s/%s", dir, name);
	if (take(s, path, path_ret))
		return true;
	note(s, "%s: not in %s", name, dir);
	return false;
}

static struct bc_error *make_dirs(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return bc_error_create(BC_ERR_INVALID_ARG, "%s: path too long", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return bc_error_io(errno, "%s: cannot create the cache directory", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return bc_error_io(errno, "%s: cannot create the cache directory", buf);
	return NULL;
}

static bool recently_missing(const char *marker)
{
	struct stat st;
	return stat(marker, &st) == 0 && time(NULL) - st.st_mtime < NEGATIVE_CACHE_SECONDS;
}

// Downloads URL/NAME/KEY/NAME (or the compressed NAME_) into the cache.
static bool search_server(struct search *s, const struct bc_sympath_entry *e, char **path_ret)
{
	const char *name = s->key->name;
	if (e->directory && search_dir(s, e->directory, path_ret))
		return true;
	if (!s->opt->allow_network) {
		note(s, "%s: not asked (offline; --online allows symbol servers)", e->url);
		return false;
	}
	if (!e->directory) {
		note(s, "%s: no cache directory to download into", e->url);
		return false;
	}
	char dir[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX], raw[PATH_MAX], url[PATH_MAX + 512];
	path_fmt(dir, sizeof(dir), "%s/%s/%s", e->directory, name, s->dir_key);
	path_fmt(final, sizeof(final), "%s/%s", dir, name);
	char marker[PATH_MAX + 8];
	path_fmt(marker, sizeof(marker), "%s.404", final);
	if (recently_missing(marker)) {
		note(s, "%s/%s/%s/%s: missing on the server (remembered)", e->url, name, s->dir_key,
		     name);
		return false;
	}
	struct bc_error *err = make_dirs(dir);
	if (err) {
		note(s, "%s", err->message);
		bc_error_destroy(err);
		return false;
	}
	path_fmt(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	path_fmt(raw, sizeof(raw), "%s/.%s.%ld.cab", dir, name, (long)getpid());
	const char *variants[2] = { name, s->compressed };
	bool all_missing = true;
	for (int v = 0; v < 2; v++) {
		path_fmt(url, sizeof(url), "%s/%s/%s/%s", e->url, name, s->dir_key, variants[v]);
		long status;
		err = bc_symsrv_http_get(url, v ? raw : tmp, s->opt, name, &status);
		if (!err && v) {
			err = bc_cab_extract(raw, tmp);
			unlink(raw);
		}
		if (err) {
			if (err->code != BC_ERR_NOT_FOUND)
				all_missing = false;
			note(s, "%s", err->message);
			bc_error_destroy(err);
			unlink(tmp);
			unlink(raw);
			continue;
		}
		all_missing = false;
		if (accept(s, tmp) && rename(tmp, final) == 0) {
			*path_ret = strdup(final);
			return *path_ret != NULL;
		}
		unlink(tmp);  // a bad or unverifiable download leaves nothing behind
	}
	if (all_missing) {
		FILE *f = fopen(marker, "w");
		if (f)
			fclose(f);
	}
	return false;
}

BC_PUBLIC struct bc_error *bc_sympath_find(const struct bc_sympath *sp,
					   const struct bc_symfile_key *key,
					   const struct bc_symsrv_options *opt, char **path_ret,
					   char **tried_ret)
{
	*path_ret = NULL;
	if (tried_ret)
		*tried_ret = NULL;
	if (!key->name || !bc_symsrv_plain_name(key->name))
		return bc_error_create(BC_ERR_INVALID_ARG, "refusing to look up a file whose name is "
				       "not a plain file name");
	static const struct bc_symsrv_options none = { 0 };
	struct search *s = calloc(1, sizeof(*s));
	if (!s)
		return &bc_enomem;
	s->key = key;
	s->opt = opt ? opt : &none;
	bc_symfile_key_dir(key, s->dir_key, sizeof(s->dir_key));
	for (size_t i = 0; i < sizeof(s->dir_key); i++) {
		char c = s->dir_key[i];
		s->dir_key_lower[i] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
	}
	snprintf(s->compressed, sizeof(s->compressed), "%s", key->name);
	s->compressed[strlen(s->compressed) - 1] = '_';
	bool found = false;
	for (size_t i = 0; i < sp->count && !found; i++) {
		const struct bc_sympath_entry *e = &sp->entries[i];
		found = e->kind == BC_SYMPATH_SERVER ? search_server(s, e, path_ret)
						     : search_dir(s, e->directory, path_ret);
	}
	if (!found && tried_ret && s->tried_len)
		*tried_ret = strdup(s->tried);
	free(s);
	if (found)
		return NULL;
	return *path_ret ? NULL : &bc_not_found;
}
