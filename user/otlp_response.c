// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_response.h"
#include "protobuf.h"

/* ExportMetricsServiceResponse / ExportMetricsPartialSuccess / google.rpc.Status */
enum {
	RESPONSE_PARTIAL_SUCCESS = 1,
	PARTIAL_REJECTED = 1,
	PARTIAL_MESSAGE = 2,
	STATUS_CODE = 1,
	STATUS_MESSAGE = 2,
};

static void copy_text(char *dst, size_t size, const void *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * The value of "key" in a small JSON object, as text: strings unescaped
 * (\" \\ \n only), numbers as written. Enough for the two messages here.
 */
static bool json_value(const char *body, size_t len, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p, *end = body + len;
	size_t o = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = memmem(body, len, pat, strlen(pat));
	if (!p)
		return false;
	p += strlen(pat);
	while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n'))
		p++;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"' && o + 1 < size; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				out[o++] = *p == 'n' ? '\n' : *p;
			} else {
				out[o++] = *p;
			}
		}
	} else {
		while (p < end && (*p == '-' || (*p >= '0' && *p <= '9')) && o + 1 < size)
			out[o++] = *p++;
	}
	out[o] = '\0';
	return o > 0;
}

int otlp_response_parse_success(const void *body, size_t len, bool json, struct otlp_response *r)
{
	struct pb_reader rd = { body, (const uint8_t *)body + len };
	struct pb_field f;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!len)
		return 0;
	if (json) {
		char num[32];

		if (!memmem(body, len, "\"partialSuccess\"", 16))
			return 0;
		r->partial = true;
		if (json_value(body, len, "rejectedDataPoints", num, sizeof(num)))
			r->rejected = strtoll(num, NULL, 10);
		json_value(body, len, "errorMessage", r->message, sizeof(r->message));
		return 0;
	}
	while ((rc = pb_next(&rd, &f)) > 0) {
		struct pb_reader in;
		struct pb_field g;

		if (f.number != RESPONSE_PARTIAL_SUCCESS || f.wire != PB_LEN)
			continue;
		r->partial = true;
		in = (struct pb_reader){ f.data, f.data + f.len };
		while ((rc = pb_next(&in, &g)) > 0) {
			if (g.number == PARTIAL_REJECTED && g.wire == PB_VARINT)
				r->rejected = (int64_t)g.varint;
			else if (g.number == PARTIAL_MESSAGE && g.wire == PB_LEN)
				copy_text(r->message, sizeof(r->message), g.data, g.len);
		}
		if (rc < 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

int otlp_response_parse_status(const void *body, size_t len, bool json, struct otlp_response *r)
{
	struct pb_reader rd = { body, (const uint8_t *)body + len };
	struct pb_field f;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!len)
		return 0;
	if (json) {
		char num[32];

		if (json_value(body, len, "code", num, sizeof(num)))
			r->code = (int32_t)strtol(num, NULL, 10);
		json_value(body, len, "message", r->message, sizeof(r->message));
		return 0;
	}
	while ((rc = pb_next(&rd, &f)) > 0) {
		if (f.number == STATUS_CODE && f.wire == PB_VARINT)
			r->code = (int32_t)f.varint;
		else if (f.number == STATUS_MESSAGE && f.wire == PB_LEN)
			copy_text(r->message, sizeof(r->message), f.data, f.len);
	}
	return rc < 0 ? -1 : 0;
}
