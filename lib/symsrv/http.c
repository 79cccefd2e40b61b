// HTTP(S) downloads for symbol servers (symsrv/symsrv_private.h), with
// libcurl: redirects followed (msdl answers with redirects to blob storage),
// a size cap, a timeout, and progress through the caller's function.
#include <errno.h>
#include <stdio.h>

#include "symsrv/curl_dl.h"
#include "symsrv/symsrv_private.h"

struct transfer {
	FILE *out;
	const struct bc_symsrv_options *opt;
	const char *name;
	uint64_t written, max;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t bytes = size * n;
	if (t->written + bytes > t->max) {
		t->too_big = true;
		return 0;  // aborts the transfer
	}
	if (fwrite(data, 1, bytes, t->out) != bytes)
		return 0;
	t->written += bytes;
	return bytes;
}

static int on_progress(void *arg, curl_off_t total, curl_off_t done, curl_off_t up_total,
		       curl_off_t up_done)
{
	(void)up_total;
	(void)up_done;
	struct transfer *t = arg;
	if (t->opt->progress && done > 0)
		t->opt->progress(t->opt->progress_arg, t->name, (uint64_t)done,
				 total > 0 ? (uint64_t)total : 0);
	return 0;
}

struct bc_error *bc_symsrv_http_get(const char *url, const char *path,
				    const struct bc_symsrv_options *opt, const char *name,
				    long *http_status_ret)
{
	*http_status_ret = 0;
	FILE *out = fopen(path, "wb");
	if (!out)
		return bc_error_io(errno, "%s: cannot create the download file", path);
	struct bc_curl_api curl;
	struct bc_error *loaded = bc_curl_api_load(&curl);
	if (loaded) {
		fclose(out);
		return loaded;
	}
	CURL *c = curl.easy_init();
	if (!c) {
		fclose(out);
		return &bc_enomem;
	}
	struct transfer t = { out, opt, name, 0, opt->max_bytes ? opt->max_bytes : (1ull << 30),
			      false };
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl.easy_setopt(c, CURLOPT_MAXREDIRS, 8L);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_USERAGENT, opt->user_agent ? opt->user_agent
							       : "Microsoft-Symbol-Server/10.0.0.0 "
								 "(bugcheck)");
	curl.easy_setopt(c, CURLOPT_TIMEOUT, opt->timeout_seconds ? opt->timeout_seconds : 60L);
	curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &t);
	curl.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl.easy_setopt(c, CURLOPT_XFERINFODATA, &t);
	curl.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl.easy_perform(c);
	long status = 0;
	curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl.easy_cleanup(c);
	bool closed_ok = fclose(out) == 0;
	*http_status_ret = status;
	if (t.too_big)
		return bc_error_create(BC_ERR_UNSUPPORTED, "%s: larger than %llu bytes", url,
				       (unsigned long long)t.max);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 400))
		return bc_error_create(BC_ERR_IO, "%s: %s", url, curl.easy_strerror(rc));
	if (status == 404 || status == 410)
		return bc_error_create(BC_ERR_NOT_FOUND, "%s: not on the server (HTTP %ld)", url,
				       status);
	if (status != 200)
		return bc_error_create(BC_ERR_IO, "%s: HTTP %ld", url, status);
	if (!closed_ok)
		return bc_error_io(errno, "%s: cannot write the download", path);
	return NULL;
}
