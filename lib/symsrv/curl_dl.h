/*
 * symsrv/curl_dl.h: libcurl's functions, loaded with dlopen when a symbol
 * server is first used (symsrv/curl_dl.c): only http.c and batch.c, which
 * download, see libcurl's header.
 */
#ifndef BC_SYMSRV_CURL_DL_H
#define BC_SYMSRV_CURL_DL_H

#include <curl/curl.h>

#include "bugcheck/error.h"

/** libcurl's functions, from bc_curl_api_load(). */
struct bc_curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *curl);
	const char *(*easy_strerror)(CURLcode code);
};

/**
 * Loads libcurl (dlopen, on the first use of the network) and fills @ret;
 * BC_ERR_UNSUPPORTED naming what is missing when it cannot.
 */
struct bc_error *bc_curl_api_load(struct bc_curl_api *ret);

#endif
