// SPDX-License-Identifier: MIT
/* log lines: text for people, one JSON object per line for log pipelines. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "util/log.h"

static void test_text(void **state)
{
	char line[256];

	(void)state;
	log_format_line(INFLIGHT_LOG_FORMAT_TEXT, INFLIGHT_LOG_WARN, "", "export failed", line, sizeof(line));
	assert_string_equal(line, "inflight: warning: export failed");
	log_format_line(INFLIGHT_LOG_FORMAT_TEXT, INFLIGHT_LOG_INFO, "", "attached", line, sizeof(line));
	assert_string_equal(line, "inflight: attached");
	log_format_line(INFLIGHT_LOG_FORMAT_TEXT, INFLIGHT_LOG_DEBUG, "libbpf: ", "x", line, sizeof(line));
	assert_string_equal(line, "inflight: debug: libbpf: x");
}

/* {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ","level":"...","msg":"..."}, escaped. */
static void test_json(void **state)
{
	char line[512];
	const char *p;

	(void)state;
	log_format_line(INFLIGHT_LOG_FORMAT_JSON, INFLIGHT_LOG_ERROR, "", "--chain '\"a\\b': bad\nline\x01", line,
			sizeof(line));
	assert_true(!strncmp(line, "{\"ts\":\"", 7));
	p = line + 7;
	/* 2026-11-25T16:07:16.343Z */
	assert_int_equal(strlen(p) > 24, 1);
	assert_int_equal(p[4], '-');
	assert_int_equal(p[10], 'T');
	assert_int_equal(p[19], '.');
	assert_int_equal(p[23], 'Z');
	assert_string_equal(p + 24,
			    "\",\"level\":\"error\",\"msg\":\"--chain '\\\"a\\\\b': bad\\nline\\u0001\"}");
	log_format_line(INFLIGHT_LOG_FORMAT_JSON, INFLIGHT_LOG_DEBUG, "libbpf: ", "v", line, sizeof(line));
	assert_non_null(strstr(line, "\"level\":\"debug\",\"msg\":\"libbpf: v\"}"));
}

static void test_parse(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	assert_int_equal(log_parse_level("warn", &l), 0);
	assert_int_equal(l, INFLIGHT_LOG_WARN);
	assert_int_equal(log_parse_level("warning", &l), 0);
	assert_int_equal(l, INFLIGHT_LOG_WARN);
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, INFLIGHT_LOG_DEBUG);
	assert_int_equal(log_parse_level("loud", &l), -EINVAL);
	assert_int_equal(log_parse_format("json", &f), 0);
	assert_int_equal(f, INFLIGHT_LOG_FORMAT_JSON);
	assert_int_equal(log_parse_format("xml", &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("log: text and JSON lines", tests, NULL, NULL);
}
