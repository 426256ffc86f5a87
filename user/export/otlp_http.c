// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "export/curl_lib.h"
#include "export/otlp_http.h"
#include "export/retry.h"

/* Error bodies are small; a receiver sending more gets cut off here. */
#define MAX_RESPONSE 65536

struct otlp_http {
	const struct export_config *cfg;
	CURL *curl;
	struct curl_slist *headers;
	struct buf response;
	char retry_after[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_http *h = ctx;
	size_t len = size * n;

	if (h->response.len + len <= MAX_RESPONSE)
		buf_append(&h->response, p, len);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct otlp_http *h = ctx;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		size_t v = len - 12;

		if (v >= sizeof(h->retry_after))
			v = sizeof(h->retry_after) - 1;
		memcpy(h->retry_after, p + 12, v);
		h->retry_after[v] = '\0';
		h->retry_after[strcspn(h->retry_after, "\r\n")] = '\0';
	}
	return len;
}

struct otlp_http *otlp_http_new(const struct export_config *c)
{
	static const char ua[] = "User-Agent: inflight/" INFLIGHT_VERSION;
	struct otlp_http *h = calloc(1, sizeof(*h));
	char line[1024];

	if (!h)
		return NULL;
	h->cfg = c;
	h->curl = curl_fn.easy_init();
	if (!h->curl)
		goto fail;
	h->headers = curl_fn.slist_append(h->headers, c->protocol == OTLP_HTTP_JSON
							   ? "Content-Type: application/json"
							   : "Content-Type: application/x-protobuf");
	h->headers = curl_fn.slist_append(h->headers, ua);
	if (c->gzip)
		h->headers = curl_fn.slist_append(h->headers, "Content-Encoding: gzip");
	/* no "Expect: 100-continue" round trip before each body */
	h->headers = curl_fn.slist_append(h->headers, "Expect:");
	for (size_t i = 0; i < c->headers.n; i++) {
		snprintf(line, sizeof(line), "%s: %s", c->headers.v[i].key, c->headers.v[i].value);
		h->headers = curl_fn.slist_append(h->headers, line);
	}
	if (!h->headers)
		goto fail;
	curl_fn.easy_setopt(h->curl, CURLOPT_URL, c->url);
	curl_fn.easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_fn.easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L); /* we run in a thread */
	curl_fn.easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_fn.easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_fn.easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_fn.easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	curl_fn.easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file)
		curl_fn.easy_setopt(h->curl, CURLOPT_CAINFO, c->ca_file);
	if (c->client_cert)
		curl_fn.easy_setopt(h->curl, CURLOPT_SSLCERT, c->client_cert);
	if (c->client_key)
		curl_fn.easy_setopt(h->curl, CURLOPT_SSLKEY, c->client_key);
	return h;
fail:
	otlp_http_free(h);
	return NULL;
}

void otlp_http_free(struct otlp_http *h)
{
	if (!h)
		return;
	curl_fn.slist_free_all(h->headers);
	if (h->curl)
		curl_fn.easy_cleanup(h->curl);
	buf_free(&h->response);
	free(h);
}

enum send_result otlp_http_send(struct otlp_http *h, const struct buf *body, uint64_t timeout_ms,
				struct send_outcome *out)
{
	bool json = h->cfg->protocol == OTLP_HTTP_JSON;
	CURLcode rc;
	long status = 0;

	memset(out, 0, sizeof(*out));
	buf_reset(&h->response);
	h->retry_after[0] = '\0';
	curl_fn.easy_setopt(h->curl, CURLOPT_POSTFIELDS, body->data);
	curl_fn.easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_fn.easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc = curl_fn.easy_perform(h->curl);
	if (rc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error), "%s", curl_fn.easy_strerror(rc));
		return SEND_RETRY; /* connection failures and timeouts are retryable */
	}
	curl_fn.easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	out->http_status = status;
	if (h->retry_after[0] &&
	    !retry_after_parse(h->retry_after, time(NULL), &out->retry_after_ms))
		out->has_retry_after = true;
	if (status >= 200 && status < 300) {
		otlp_response_parse_success(h->response.data, h->response.len, json, &out->response);
		return SEND_OK;
	}
	otlp_response_parse_status(h->response.data, h->response.len, json, &out->response);
	return retry_status_retryable(status) ? SEND_RETRY : SEND_FAIL;
}
