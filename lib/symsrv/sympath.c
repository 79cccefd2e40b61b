// Symbol path parsing and keys (bugcheck/sympath.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "symsrv/symsrv_private.h"

enum { MAX_ENTRIES = 64 };

BC_PUBLIC void bc_sympath_free(struct bc_sympath *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->count; i++) {
		free((char *)sp->entries[i].directory);
		free((char *)sp->entries[i].url);
	}
	free(sp->entries);
	free(sp);
}

static bool is_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

static struct bc_error *add(struct bc_sympath *sp, enum bc_sympath_kind kind, const char *dir,
			    const char *url)
{
	if (sp->count >= MAX_ENTRIES)
		return bc_error_create(BC_ERR_INVALID_ARG, "symbol path: more than %d entries",
				       MAX_ENTRIES);
	struct bc_sympath_entry *e = &sp->entries[sp->count];
	*e = (struct bc_sympath_entry){ .kind = kind };
	e->directory = dir && *dir ? strdup(dir) : NULL;
	e->url = url ? strdup(url) : NULL;
	if ((dir && *dir && !e->directory) || (url && !e->url)) {
		free((char *)e->directory);
		free((char *)e->url);
		return &bc_enomem;
	}
	sp->count++;
	return NULL;
}

// "srv*A*B*C": downstream stores A, B (searched, and the first caches), then C.
static struct bc_error *parse_server(struct bc_sympath *sp, char *rest, const char *cache)
{
	char *parts[16];
	int n = 0;
	for (char *save, *tok = strtok_r(rest, "*", &save); tok && n < 16;
	     tok = strtok_r(NULL, "*", &save))
		parts[n++] = tok;
	if (n == 0)
		return add(sp, BC_SYMPATH_SERVER, cache, BC_MICROSOFT_SYMBOL_SERVER);
	if (!is_url(parts[n - 1])) {
		// "srv*c:\store": local stores only.
		struct bc_error *err = NULL;
		for (int i = 0; i < n && !err; i++)
			err = add(sp, BC_SYMPATH_DIR, parts[i], NULL);
		return err;
	}
	struct bc_error *err = NULL;
	for (int i = 1; i < n - 1 && !err; i++)
		err = add(sp, BC_SYMPATH_DIR, parts[i], NULL);  // middle stores: searched only
	if (!err)
		err = add(sp, BC_SYMPATH_SERVER, n >= 2 ? parts[0] : cache, parts[n - 1]);
	return err;
}

BC_PUBLIC struct bc_error *bc_sympath_parse(const char *text, const char *default_cache,
					    struct bc_sympath **ret)
{
	struct bc_sympath *sp = calloc(1, sizeof(*sp));
	char *copy = strdup(text ? text : "");
	if (!sp || !copy || !(sp->entries = calloc(MAX_ENTRIES, sizeof(*sp->entries)))) {
		free(copy);
		bc_sympath_free(sp);
		return &bc_enomem;
	}
	const char *cache = default_cache;
	char *cache_copy = NULL;
	struct bc_error *err = NULL;
	for (char *save, *tok = strtok_r(copy, ";", &save); tok && !err;
	     tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t len = strlen(tok);
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			tok[--len] = 0;
		if (!*tok)
			continue;
		if (!strncasecmp(tok, "srv*", 4) || !strcasecmp(tok, "srv")) {
			err = parse_server(sp, tok + (tok[3] ? 4 : 3), cache);
		} else if (!strncasecmp(tok, "symsrv*", 7)) {
			char *after_dll = strchr(tok + 7, '*');
			err = parse_server(sp, after_dll ? after_dll + 1 : tok + 7 + strlen(tok + 7),
					   cache);
		} else if (!strncasecmp(tok, "cache*", 6)) {
			free(cache_copy);
			cache_copy = strdup(tok[6] ? tok + 6 : default_cache ? default_cache : "");
			if (!cache_copy) {
				err = &bc_enomem;
				break;
			}
			cache = *cache_copy ? cache_copy : NULL;
			if (cache)
				err = add(sp, BC_SYMPATH_DIR, cache, NULL);  // what it holds is found too
		} else {
			err = add(sp, BC_SYMPATH_DIR, tok, NULL);
		}
	}
	free(cache_copy);
	free(copy);
	if (err) {
		bc_sympath_free(sp);
		return err;
	}
	*ret = sp;
	return NULL;
}

BC_PUBLIC size_t bc_sympath_entry_count(const struct bc_sympath *sp)
{
	return sp->count;
}

BC_PUBLIC const struct bc_sympath_entry *bc_sympath_entry(const struct bc_sympath *sp, size_t i)
{
	return i < sp->count ? &sp->entries[i] : NULL;
}

BC_PUBLIC char *bc_sympath_render(const struct bc_sympath *sp)
{
	size_t cap = 1;
	for (size_t i = 0; i < sp->count; i++)
		cap += 16 + (sp->entries[i].directory ? strlen(sp->entries[i].directory) : 0) +
		       (sp->entries[i].url ? strlen(sp->entries[i].url) : 0);
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < sp->count; i++) {
		const struct bc_sympath_entry *e = &sp->entries[i];
		int n;
		if (e->kind == BC_SYMPATH_SERVER)
			n = snprintf(out + o, cap - o, "%sSRV*%s%s%s", i ? ";" : "",
				     e->directory ? e->directory : "", e->directory ? "*" : "",
				     e->url);
		else
			n = snprintf(out + o, cap - o, "%s%s", i ? ";" : "", e->directory);
		if (n > 0)
			o += (size_t)n < cap - o ? (size_t)n : cap - o - 1;
	}
	return out;
}

BC_PUBLIC void bc_symfile_key_dir(const struct bc_symfile_key *key, char *buf, size_t size)
{
	if (key->kind == BC_SYMFILE_IMAGE) {
		snprintf(buf, size, "%08X%x", key->timestamp, key->size_of_image);
		return;
	}
	const uint8_t *g = key->guid;
	snprintf(buf, size, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%X",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15], key->age);
}

bool bc_symsrv_plain_name(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 255 || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strpbrk(name, "/\\:*?\"<>|"))
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return false;
	return true;
}
