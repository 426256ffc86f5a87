// SPDX-License-Identifier: MIT
/*
 * util/log.h beside <syslog.h>: syslog's LOG_* macros come first (the
 * order that broke before the prefix), both sets keep their own values.
 * That this file compiles is most of the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <cmocka.h>
#include "util/log.h"

static void test_both_sets_of_names(void **state)
{
	enum log_level l;
	char line[128];

	(void)state;
	/* syslog's priorities, untouched by log.h (RFC 5424 numbers) */
	assert_int_equal(LOG_ERR, 3);
	assert_int_equal(LOG_WARNING, 4);
	assert_int_equal(LOG_INFO, 6);
	assert_int_equal(LOG_DEBUG, 7);
	/* ours, in their order: a level shows what is at or above it */
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, INFLIGHT_LOG_DEBUG);
	assert_true(INFLIGHT_LOG_ERROR < INFLIGHT_LOG_WARN);
	assert_true(INFLIGHT_LOG_WARN < INFLIGHT_LOG_INFO);
	assert_true(INFLIGHT_LOG_INFO < INFLIGHT_LOG_DEBUG);
	log_format_line(INFLIGHT_LOG_FORMAT_TEXT, INFLIGHT_LOG_WARN, "", "w", line, sizeof(line));
	assert_string_equal(line, "inflight: warning: w");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_sets_of_names),
	};

	return cmocka_run_group_tests_name("log.h beside <syslog.h>", tests, NULL, NULL);
}
