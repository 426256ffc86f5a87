// SPDX-License-Identifier: MIT
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "export/curl_lib.h"

struct curl_lib curl_fn;

#define LOAD(field, symbol)                                                  \
	do {                                                                 \
		*(void **)&curl_fn.field = dlsym(curl_fn.lib, symbol);       \
		if (!curl_fn.field) {                                        \
			snprintf(err, errlen, "libcurl.so.4 lacks %s", symbol); \
			rc = -ELIBBAD;                                       \
			goto fail;                                           \
		}                                                            \
	} while (0)

int curl_lib_load(const char *url, char *err, size_t errlen)
{
	int rc;

	curl_fn.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!curl_fn.lib) {
		snprintf(err, errlen, "cannot load libcurl (libcurl4): %s", dlerror());
		return -ELIBACC;
	}
	LOAD(global_init, "curl_global_init");
	LOAD(global_cleanup, "curl_global_cleanup");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
	if (curl_fn.global_init(strncmp(url, "https:", 6) ? CURL_GLOBAL_NOTHING : CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "libcurl failed to initialise");
		rc = -EIO;
		goto fail;
	}
	return 0;
fail:
	dlclose(curl_fn.lib);
	memset(&curl_fn, 0, sizeof(curl_fn));
	return rc;
}

void curl_lib_unload(void)
{
	if (!curl_fn.lib)
		return;
	curl_fn.global_cleanup();
	/* TLS libraries register exit handlers: keep the code mapped until exit */
	memset(&curl_fn, 0, sizeof(curl_fn));
}
