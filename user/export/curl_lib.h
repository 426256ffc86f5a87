/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when an OTLP exporter starts: with its TLS stack it costs
 * the collector about 4 MB of memory, which `top` and the console exporter
 * never need.
 */
#ifndef INFLIGHT_CURL_LIB_H
#define INFLIGHT_CURL_LIB_H

#include <curl/curl.h>
#include <stddef.h>

struct curl_lib {
	void *lib;
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

extern struct curl_lib curl_fn;

/*
 * Loads libcurl.so.4 and runs curl_global_init; TLS is set up only for an
 * https URL. 0, or with `err` set -ELIBACC (no libcurl.so.4), -ELIBBAD (a
 * function missing) or -EIO (its initialisation failed).
 */
int curl_lib_load(const char *url, char *err, size_t errlen);
void curl_lib_unload(void);

#endif
