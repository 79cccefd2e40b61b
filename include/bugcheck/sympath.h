/*
 * bugcheck/sympath.h: WinDbg symbol paths, symbol stores and symbol servers.
 *
 * A symbol path is a ';'-separated list, searched left to right:
 *   DIR                       a directory: DIR/NAME, or a store inside it
 *   srv*                      Microsoft's server, cached in the default cache
 *   srv*URL, srv*CACHE*URL    a server (HTTP/HTTPS), cached in CACHE
 *   srv*DIR                   a local store (no server)
 *   symsrv*symsrv.dll*...     the same as srv*...
 *   cache*DIR                 cache for the server entries to its right
 * A store keeps NAME/KEY/NAME (KEY: bc_symfile_key_dir), possibly
 * compressed as NAME with its last character '_' (a CAB), possibly behind
 * NAME/KEY/file.ptr, possibly two-tier (index2.txt: NA/NAME/KEY/NAME).
 *
 * Every name from a dump is hostile: bc_sympath_find() refuses names that
 * are not plain file names (no '/', '\', ':', "..", control characters,
 * nothing over 255 bytes), so no lookup or download leaves its directory.
 * Downloads go to a temporary file in the cache, are decompressed, checked
 * by the caller's verify function, and only then renamed into place; a miss
 * (HTTP 404) is remembered for a day with a marker file. Without
 * allow_network no server is ever contacted.
 */
#ifndef BUGCHECK_SYMPATH_H
#define BUGCHECK_SYMPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_sympath;

enum bc_sympath_kind {
	BC_SYMPATH_DIR = 1,  ///< a local directory or store
	BC_SYMPATH_SERVER,   ///< an HTTP(S) server with a local cache
};

struct bc_sympath_entry {
	enum bc_sympath_kind kind;
	const char *directory;  ///< DIR: the directory; SERVER: the cache (NULL: none)
	const char *url;        ///< SERVER only
};

/** The default server of "srv*". */
#define BC_MICROSOFT_SYMBOL_SERVER "https://msdl.microsoft.com/download/symbols"

/**
 * Parses @text. Server entries without their own cache use @default_cache
 * (may be NULL: such entries then download nowhere and are skipped).
 */
BC_PUBLIC struct bc_error *bc_sympath_parse(const char *text, const char *default_cache,
					    struct bc_sympath **ret);
BC_PUBLIC void bc_sympath_free(struct bc_sympath *sp);
BC_PUBLIC size_t bc_sympath_entry_count(const struct bc_sympath *sp);
BC_PUBLIC const struct bc_sympath_entry *bc_sympath_entry(const struct bc_sympath *sp, size_t i);
/** The expanded path ("SRV*CACHE*https://..." entries joined by ";"), malloc'd; NULL on OOM. */
BC_PUBLIC char *bc_sympath_render(const struct bc_sympath *sp);

enum bc_symfile_kind {
	BC_SYMFILE_PDB = 1,
	BC_SYMFILE_IMAGE,
};

struct bc_symfile_key {
	enum bc_symfile_kind kind;
	const char *name;        ///< "amdppm.pdb", "amdppm.sys": a plain file name
	uint8_t guid[16];        ///< PDB: as stored (Data1..3 little-endian)
	uint32_t age;            ///< PDB
	uint32_t timestamp;      ///< IMAGE: TimeDateStamp
	uint32_t size_of_image;  ///< IMAGE
};

/**
 * The store directory name of @key: for a PDB the GUID's 32 upper-case hex
 * digits (Data1, Data2, Data3, Data4) and the age in hex
 * ("1C19FDDB27BB3399D9B45973EFEAFCF31"); for an image "%08X%x" of
 * TimeDateStamp and SizeOfImage ("C9C030003b000").
 */
BC_PUBLIC void bc_symfile_key_dir(const struct bc_symfile_key *key, char *buf, size_t size);

struct bc_symsrv_options {
	bool allow_network;
	const char *user_agent;  ///< NULL: "Microsoft-Symbol-Server/10.0.0.0 (bugcheck)"
	/** Accepts a candidate file (GUID/age, timestamp/size) or says why not. May be NULL. */
	struct bc_error *(*verify)(void *arg, const char *path, const struct bc_symfile_key *key);
	void *verify_arg;
	/** Download progress (bytes so far, total or 0); the library never prints. May be NULL. */
	void (*progress)(void *arg, const char *name, uint64_t done, uint64_t total);
	void *progress_arg;
	long timeout_seconds;    ///< 0: 60
	uint64_t max_bytes;      ///< 0: 1 GiB
};

/**
 * Finds @key along @sp: *@path_ret gets a malloc'd path of a local,
 * decompressed, verified file. On BC_ERR_NOT_FOUND, *@tried_ret (malloc'd,
 * may be NULL) says in one line what was tried; @tried_ret may be NULL.
 */
BC_PUBLIC struct bc_error *bc_sympath_find(const struct bc_sympath *sp,
					   const struct bc_symfile_key *key,
					   const struct bc_symsrv_options *opt, char **path_ret,
					   char **tried_ret);

/**
 * bc_sympath_find() for @count keys at once, up to @parallel (1-16) at a time
 * (downloads overlap; each key's search is otherwise the same). paths_ret[i]
 * gets the file of keys[i] or NULL. Fails only for lack of memory or threads.
 */
BC_PUBLIC struct bc_error *bc_sympath_find_many(const struct bc_sympath *sp,
						const struct bc_symfile_key *keys, size_t count,
						const struct bc_symsrv_options *opt,
						unsigned parallel, char **paths_ret);

/** Decompresses the single-file CAB archive at @cab_path into @out_path. */
BC_PUBLIC struct bc_error *bc_cab_extract(const char *cab_path, const char *out_path);

#ifdef __cplusplus
}
#endif
#endif
