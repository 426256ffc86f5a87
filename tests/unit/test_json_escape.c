// SPDX-License-Identifier: MIT
/*
 * The one JSON string escaper, through both of its outlets (a buffer for
 * log lines, a stream for `top --json` and the console exporter): the same
 * exact bytes from each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "util/buf.h"
#include "util/json_escape.h"

/* `s` through the stream outlet, as a string the caller frees. */
static char *via_stream(const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	json_write_string(f, s);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Asserts both outlets write exactly `want` for `s`. */
static void check(const char *s, const char *want)
{
	struct buf b = { 0 };
	char *streamed = via_stream(s);

	buf_json_string(&b, s);
	buf_putc(&b, '\0');
	assert_false(b.oom);
	assert_string_equal((char *)b.data, want);
	assert_string_equal(streamed, want);
	free(streamed);
	buf_free(&b);
}

static void test_plain_and_short_escapes(void **state)
{
	(void)state;
	check("", "\"\"");
	check("chain-a", "\"chain-a\"");
	check("\"a\\b\"", "\"\\\"a\\\\b\\\"\"");
	check("x\ny\rz\tw", "\"x\\ny\\rz\\tw\"");
}

/* Other control bytes and DEL as \u00XX; bytes from 0x80 (UTF-8) as they are. */
static void test_control_and_utf8(void **state)
{
	(void)state;
	check("\x01", "\"\\u0001\"");
	check("a\x1f" "b\x7f", "\"a\\u001fb\\u007f\"");
	check("\x08\x0c", "\"\\u0008\\u000c\"");
	check("caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");
	check("\xff", "\"\xff\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_short_escapes),
		cmocka_unit_test(test_control_and_utf8),
	};

	return cmocka_run_group_tests_name("json_escape: one escaper, buffer and stream alike", tests,
					   NULL, NULL);
}
