// SPDX-License-Identifier: MIT
/*
 * otlp_response: what a receiver answers is untrusted input, and what the
 * collector logs about rejected points comes from it. Bodies are parsed
 * from exactly-sized heap copies so ASan catches any read past them.
 *
 * The partial-success bytes match the official encoder:
 *   node -e 'const R=require("/work/main/tests/receiver/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root").opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse; console.log(Buffer.from(R.encode(R.fromObject({partialSuccess:{rejectedDataPoints:2,errorMessage:"too old"}})).finish()).toString("hex"))'
 * prints 0a0b08021207746f6f206f6c64.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/otlp_response.h"

enum kind { SUCCESS, STATUS };

/* Parses `len` bytes into `r` (pre-filled with garbage) from a heap copy. */
static int parse(enum kind k, const void *body, size_t len, bool json, struct otlp_response *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, body, len);
	memset(r, 0x5a, sizeof(*r));
	rc = k == SUCCESS ? otlp_response_parse_success(copy, len, json, r)
			  : otlp_response_parse_status(copy, len, json, r);
	free(copy);
	return rc;
}

#define PB(k, r, ...) parse(k, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), false, r)
#define JSON(k, r, s) parse(k, s, strlen(s), true, r)

static void test_pb_partial_success(void **state)
{
	struct otlp_response r;

	(void)state;
	/* partial_success (1) { rejected_data_points (1) = 2, error_message (2) = "too old" } */
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x0b, 0x08, 0x02, 0x12, 0x07, 't', 'o', 'o', ' ', 'o', 'l', 'd'), 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 2);
	assert_string_equal(r.message, "too old");
	assert_int_equal(r.code, 0);
}

/* A present but empty partial_success is still reported as present. */
static void test_pb_partial_success_empty(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x00), 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 0);
	assert_string_equal(r.message, "");
}

/* Unknown fields (a newer receiver) are skipped, in and around partial_success. */
static void test_pb_unknown_fields_skipped(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(PB(SUCCESS, &r,
			    0x10, 0x07,                   /* field 2 varint */
			    0x0a, 0x0f,                   /* partial_success [15] */
			    0x19, 1, 2, 3, 4, 5, 6, 7, 8, /* field 3 fixed64 */
			    0x08, 0xac, 0x02,             /* rejected 300 */
			    0x12, 0x01, 'x',              /* message "x" */
			    0x1a, 0x00),                  /* field 3 bytes, empty */
			 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 300);
	assert_string_equal(r.message, "x");
}

/* An empty body is a plain success, in either encoding. */
static void test_empty_body(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(parse(SUCCESS, "", 0, false, &r), 0);
	assert_false(r.partial);
	assert_int_equal(r.rejected, 0);
	assert_string_equal(r.message, "");
	assert_int_equal(parse(SUCCESS, "", 0, true, &r), 0);
	assert_false(r.partial);
	assert_int_equal(parse(STATUS, "", 0, false, &r), 0);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.message, "");
	/* a JSON success without partialSuccess */
	assert_int_equal(JSON(SUCCESS, &r, "{}"), 0);
	assert_false(r.partial);
	assert_string_equal(r.message, "");
}

static void test_pb_status(void **state)
{
	struct otlp_response r;

	(void)state;
	/* google.rpc.Status { code (1) = 3, message (2) = "bad request" } */
	assert_int_equal(PB(STATUS, &r, 0x08, 0x03, 0x12, 0x0b, 'b', 'a', 'd', ' ', 'r', 'e', 'q', 'u',
			    'e', 's', 't'),
			 0);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.message, "bad request");
	assert_false(r.partial);
	/* details (3, repeated Any) are skipped */
	assert_int_equal(PB(STATUS, &r, 0x1a, 0x02, 0x0a, 0x00, 0x08, 0x0e, 0x12, 0x01, 'u'), 0);
	assert_int_equal(r.code, 14);
	assert_string_equal(r.message, "u");
}

static void test_json_partial_success(void **state)
{
	struct otlp_response r;

	(void)state;
	/* int64 as a string, as the OTLP JSON mapping writes it */
	assert_int_equal(JSON(SUCCESS, &r,
			      "{\"partialSuccess\":{\"rejectedDataPoints\":\"2\",\"errorMessage\":\"too old\"}}"),
			 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 2);
	assert_string_equal(r.message, "too old");
	/* as a bare number, pretty-printed */
	assert_int_equal(JSON(SUCCESS, &r,
			      "{\n  \"partialSuccess\": {\n    \"rejectedDataPoints\": 17,\n"
			      "    \"errorMessage\": \"a\\nb\"\n  }\n}"),
			 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 17);
	assert_string_equal(r.message, "a\nb");
	/* present but empty */
	assert_int_equal(JSON(SUCCESS, &r, "{\"partialSuccess\":{}}"), 0);
	assert_true(r.partial);
	assert_int_equal(r.rejected, 0);
	assert_string_equal(r.message, "");
}

static void test_json_status(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(JSON(STATUS, &r, "{\"code\":3,\"message\":\"bad \\\"x\\\"\"}"), 0);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.message, "bad \"x\"");
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"back\\\\slash\", \"code\": 8}"), 0);
	assert_int_equal(r.code, 8);
	assert_string_equal(r.message, "back\\slash");
	/* no code, no message */
	assert_int_equal(JSON(STATUS, &r, "{}"), 0);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.message, "");
}

/* A JSON string cut short (no closing quote) ends at the body's end. */
static void test_json_unterminated(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(JSON(STATUS, &r, "{\"code\":5,\"message\":\"cut"), 0);
	assert_int_equal(r.code, 5);
	assert_string_equal(r.message, "cut");
	assert_int_equal(JSON(STATUS, &r, "{\"code\":5,\"message\":\"cut\\"), 0);
	assert_string_equal(r.message, "cut\\");
}

/*
 * \u escapes: exactly four hex digits, read within the body (found by
 * fuzz_otlp_response: sscanf ran past a body ending in "\ude").
 */
static void test_json_unicode_escapes(void **state)
{
	struct otlp_response r;

	(void)state;
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"caf\\u00e9 \\u20ac\"}"), 0);
	assert_string_equal(r.message, "caf\xc3\xa9 \xe2\x82\xac");
	/* a surrogate pair is one 4-byte code point */
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"\\ud83d\\ude00\"}"), 0);
	assert_string_equal(r.message, "\xf0\x9f\x98\x80");
	/* a lone surrogate is replaced */
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"\\ude00x\"}"), 0);
	assert_string_equal(r.message, "\xef\xbf\xbdx");
	/* not four hex digits: dropped, the rest kept */
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"a\\u+12fb\"}"), 0);
	assert_string_equal(r.message, "a+12fb");
	/* cut short at the body's end */
	assert_int_equal(JSON(STATUS, &r, "{\"message\":\"a\\ude"), 0);
	assert_string_equal(r.message, "ade");
}

static void test_pb_malformed(void **state)
{
	struct otlp_response r;

	(void)state;
	/* partial_success length past the end */
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x05, 0x08), -EBADMSG);
	/* inside partial_success: truncated varint */
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x02, 0x08, 0x80), -EBADMSG);
	/* inside partial_success: message length past its end */
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x03, 0x12, 0x05, 'x'), -EBADMSG);
	/* a group wire type */
	assert_int_equal(PB(SUCCESS, &r, 0x0b), -EBADMSG);
	/* trailing garbage after a good field */
	assert_int_equal(PB(SUCCESS, &r, 0x0a, 0x00, 0xff), -EBADMSG);
	/* Status: truncated code, message past the end, 11-byte varint */
	assert_int_equal(PB(STATUS, &r, 0x08, 0x80), -EBADMSG);
	assert_int_equal(PB(STATUS, &r, 0x08, 0x03, 0x12, 0x0b, 'b', 'a', 'd'), -EBADMSG);
	assert_int_equal(PB(STATUS, &r, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0x01),
			 -EBADMSG);
	/* HTML error page sent as if protobuf */
	assert_int_equal(parse(STATUS, "<html>", 6, false, &r), -EBADMSG);
}

/* A message longer than the 511 bytes kept is cut, NUL-terminated, in every form. */
static void test_long_message_truncated(void **state)
{
	enum { LONG = 600 };
	struct otlp_response r;
	uint8_t pb[4 + LONG + 3];
	char *json = malloc(LONG + 64);
	char expected[512];

	(void)state;
	assert_non_null(json);
	memset(expected, 'm', 511);
	expected[511] = '\0';

	/* Status: code 2, message of 600 bytes (length d8 04) */
	pb[0] = 0x08, pb[1] = 0x02, pb[2] = 0x12, pb[3] = 0xd8, pb[4] = 0x04;
	memset(pb + 5, 'm', LONG);
	assert_int_equal(parse(STATUS, pb, 5 + LONG, false, &r), 0);
	assert_int_equal(r.code, 2);
	assert_int_equal(strlen(r.message), 511);
	assert_string_equal(r.message, expected);

	/* partial_success [603] { message (2) [600] }: 0a db 04 12 d8 04 */
	pb[0] = 0x0a, pb[1] = 0xdb, pb[2] = 0x04, pb[3] = 0x12, pb[4] = 0xd8, pb[5] = 0x04;
	memset(pb + 6, 'm', LONG);
	assert_int_equal(parse(SUCCESS, pb, 6 + LONG, false, &r), 0);
	assert_true(r.partial);
	assert_string_equal(r.message, expected);

	/* exactly 511 bytes fit whole; 512 lose one */
	pb[0] = 0x12, pb[1] = 0xff, pb[2] = 0x03; /* 511 */
	memset(pb + 3, 'm', 511);
	assert_int_equal(parse(STATUS, pb, 3 + 511, false, &r), 0);
	assert_string_equal(r.message, expected);
	pb[1] = 0x80, pb[2] = 0x04; /* 512 */
	memset(pb + 3, 'm', 512);
	assert_int_equal(parse(STATUS, pb, 3 + 512, false, &r), 0);
	assert_string_equal(r.message, expected);

	/* JSON, both messages */
	strcpy(json, "{\"code\":4,\"message\":\"");
	memset(json + strlen(json), 'm', LONG);
	strcpy(json + 21 + LONG, "\"}");
	assert_int_equal(JSON(STATUS, &r, json), 0);
	assert_int_equal(r.code, 4);
	assert_string_equal(r.message, expected);
	strcpy(json, "{\"partialSuccess\":{\"errorMessage\":\"");
	memset(json + strlen(json), 'm', LONG);
	strcpy(json + 35 + LONG, "\"}}");
	assert_int_equal(JSON(SUCCESS, &r, json), 0);
	assert_true(r.partial);
	assert_string_equal(r.message, expected);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pb_partial_success),
		cmocka_unit_test(test_pb_partial_success_empty),
		cmocka_unit_test(test_pb_unknown_fields_skipped),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_pb_status),
		cmocka_unit_test(test_json_partial_success),
		cmocka_unit_test(test_json_status),
		cmocka_unit_test(test_json_unterminated),
		cmocka_unit_test(test_json_unicode_escapes),
		cmocka_unit_test(test_pb_malformed),
		cmocka_unit_test(test_long_message_truncated),
	};

	return cmocka_run_group_tests_name("otlp_response: partial success and Status parsing", tests,
					   NULL, NULL);
}
