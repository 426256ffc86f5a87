// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export/otlp_response.h"
#include "export/protobuf.h"
#include "util/utf8.h"

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

/* Appends code point `cp` as UTF-8 if it fits. */
static size_t put_utf8(char *out, size_t o, size_t size, unsigned cp)
{
	char tmp[4];
	size_t n = utf8_encode(cp, tmp);

	if (o + n >= size)
		return o;
	memcpy(out + o, tmp, n);
	return o + n;
}

/* Exactly four hex digits at p (the caller has checked they are there). */
static bool hex4(const char *p, unsigned *cp)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*cp = v;
	return true;
}

/*
 * The value of "key" in a small JSON object, as text: strings unescaped,
 * numbers as written. The key must stand where a key can (after '{' or
 * ','), so a string value that happens to read "key" is not taken for it.
 * Enough for the two small messages a receiver answers with.
 */
static bool json_value(const char *body, size_t len, const char *key, char *out, size_t size)
{
	const char *end = body + len, *p = body;
	char pat[64];
	size_t o = 0, plen;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	plen = strlen(pat);
	for (;; p++) {
		const char *q;

		p = memmem(p, (size_t)(end - p), pat, plen);
		if (!p)
			return false;
		for (q = p; q > body && (q[-1] == ' ' || q[-1] == '\n' || q[-1] == '\t' || q[-1] == '\r'); q--)
			;
		if (q > body && (q[-1] == '{' || q[-1] == ','))
			break;
	}
	p += plen;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= end || *p++ != ':')
		return false;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"' && o + 1 < size; p++) {
			unsigned cp;

			if (*p != '\\' || p + 1 >= end) {
				out[o++] = *p;
				continue;
			}
			switch (*++p) {
			case 'n': out[o++] = '\n'; break;
			case 't': out[o++] = '\t'; break;
			case 'r': out[o++] = '\r'; break;
			case 'b': out[o++] = '\b'; break;
			case 'f': out[o++] = '\f'; break;
			case 'u':
				/* Four hex digits, read by hand: the body is not
				 * NUL-terminated, so sscanf would run past it. */
				if (p + 4 < end && hex4(p + 1, &cp)) {
					unsigned lo;

					p += 4;
					/* A surrogate pair is one code point; a lone
					 * surrogate is not UTF-8 and becomes U+FFFD. */
					if (cp >= 0xd800 && cp < 0xdc00 && p + 6 < end &&
					    p[1] == '\\' && p[2] == 'u' && hex4(p + 3, &lo) &&
					    lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						p += 6;
					} else if (cp >= 0xd800 && cp < 0xe000) {
						cp = 0xfffd;
					}
					o = put_utf8(out, o, size, cp);
				}
				break;
			default: out[o++] = *p; break; /* \" \\ \/ */
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
			return rc;
	}
	return rc < 0 ? rc : 0;
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
	return rc < 0 ? rc : 0;
}
