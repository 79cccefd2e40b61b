// Several lookups at once (bugcheck/sympath.h: bc_sympath_find_many): worker
// threads take keys in turn, so downloads from slow servers overlap.
#include <pthread.h>
#include <stdlib.h>

#include "symsrv/curl_dl.h"
#include "symsrv/symsrv_private.h"

struct batch {
	const struct bc_sympath *sp;
	const struct bc_symfile_key *keys;
	size_t count, next;
	const struct bc_symsrv_options *opt;
	char **paths;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		size_t i = b->next < b->count ? b->next++ : b->count;
		pthread_mutex_unlock(&b->lock);
		if (i == b->count)
			return NULL;
		char *path = NULL;
		struct bc_error *err = bc_sympath_find(b->sp, &b->keys[i], b->opt, &path, NULL);
		bc_error_destroy(err);
		b->paths[i] = path;
	}
}

BC_PUBLIC struct bc_error *bc_sympath_find_many(const struct bc_sympath *sp,
						const struct bc_symfile_key *keys, size_t count,
						const struct bc_symsrv_options *opt,
						unsigned parallel, char **paths_ret)
{
	for (size_t i = 0; i < count; i++)
		paths_ret[i] = NULL;
	if (parallel < 1)
		parallel = 1;
	if (parallel > 16)
		parallel = 16;
	if (parallel > count)
		parallel = (unsigned)count;
	if (!count)
		return NULL;
	// libcurl's one-time setup is not thread-safe: do it before the threads.
	if (opt && opt->allow_network) {
		struct bc_curl_api curl;
		struct bc_error *err = bc_curl_api_load(&curl);
		if (err)
			return err;
		if (curl.global_init(CURL_GLOBAL_DEFAULT))
			return bc_error_create(BC_ERR_IO, "libcurl cannot be initialised");
	}
	struct batch b = { sp, keys, count, 0, opt, paths_ret, PTHREAD_MUTEX_INITIALIZER };
	pthread_t threads[16];
	unsigned started = 0;
	for (; started < parallel; started++)
		if (pthread_create(&threads[started], NULL, worker, &b))
			break;
	if (!started)
		worker(&b);  // no threads available: do the work here
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&b.lock);
	return NULL;
}
