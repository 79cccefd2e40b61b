// libcurl, loaded on first use (symsrv/symsrv_private.h). Linking libcurl
// maps it and some thirty libraries it depends on (TLS, Kerberos, LDAP, ...)
// into every run, which cost about 25 ms at each start of bugcheck; most
// runs never touch the network. dlopen's handle is never closed: libcurl's
// global state must outlive every transfer, and the loader keeps one copy
// however often it is opened.
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "symsrv/curl_dl.h"

// The library's names: the OpenSSL build's, then the GnuTLS one's.
static const char *const library_names[] = { "libcurl.so.4", "libcurl-gnutls.so.4" };

struct bc_error *bc_curl_api_load(struct bc_curl_api *ret)
{
	void *lib = NULL;
	for (size_t i = 0; !lib && i < sizeof(library_names) / sizeof(library_names[0]); i++)
		lib = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return bc_error_create(BC_ERR_UNSUPPORTED, "symbol servers need libcurl, which "
				       "cannot be loaded (%s); install the libcurl4 package",
				       dlerror());
	static const struct {
		const char *name;
		size_t offset;
	} functions[] = {
		{ "curl_global_init", offsetof(struct bc_curl_api, global_init) },
		{ "curl_easy_init", offsetof(struct bc_curl_api, easy_init) },
		{ "curl_easy_setopt", offsetof(struct bc_curl_api, easy_setopt) },
		{ "curl_easy_perform", offsetof(struct bc_curl_api, easy_perform) },
		{ "curl_easy_getinfo", offsetof(struct bc_curl_api, easy_getinfo) },
		{ "curl_easy_cleanup", offsetof(struct bc_curl_api, easy_cleanup) },
		{ "curl_easy_strerror", offsetof(struct bc_curl_api, easy_strerror) },
	};
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
		void *fn = dlsym(lib, functions[i].name);
		if (!fn)
			return bc_error_create(BC_ERR_UNSUPPORTED, "the libcurl found has no %s",
					       functions[i].name);
		// POSIX guarantees function pointers round-trip through void *.
		memcpy((char *)ret + functions[i].offset, &fn, sizeof(fn));
	}
	return NULL;
}
