/* SPDX-License-Identifier: MIT */
/* One OTLP/HTTP POST with libcurl, and what came of it. */
#ifndef INFLIGHT_OTLP_HTTP_H
#define INFLIGHT_OTLP_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include "util/buf.h"
#include "export/export_config.h"
#include "export/otlp_response.h"

enum send_result {
	SEND_OK,    /* 2xx (maybe a partial success: see response) */
	SEND_RETRY, /* retryable: connection failure, 429, 502, 503, 504 */
	SEND_FAIL,  /* not retryable: any other status */
};

struct send_outcome {
	long http_status;         /* 0: no response (connection, timeout) */
	bool has_retry_after;
	uint64_t retry_after_ms;
	char error[256];          /* transport error, when http_status is 0 */
	struct otlp_response response;
};

struct otlp_http;

/* NULL if libcurl cannot be set up. The config must outlive the sender. */
struct otlp_http *otlp_http_new(const struct export_config *c);
void otlp_http_free(struct otlp_http *h);

/* POSTs `body` (already encoded, and gzipped if configured). */
enum send_result otlp_http_send(struct otlp_http *h, const struct buf *body, uint64_t timeout_ms,
				struct send_outcome *out);

#endif
