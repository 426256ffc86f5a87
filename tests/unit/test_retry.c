// SPDX-License-Identifier: MIT
/*
 * retry: which OTLP/HTTP answers are retried, how long Retry-After says to
 * wait (delta-seconds and the three HTTP-date forms of RFC 9110), and the
 * jittered exponential backoff used otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "export/retry.h"

/* Sun, 06 Nov 1994 08:49:37 GMT (date -u -d "1994-11-06 08:49:37" +%s) */
#define RFC_DATE ((time_t)784111777)

static void test_retryable_statuses(void **state)
{
	static const long yes[] = { 429, 502, 503, 504 };
	static const long no[] = { 200, 204, 400, 401, 403, 404, 408, 413, 500, 501, 505, 0, -1 };

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(retry_status_retryable(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(retry_status_retryable(no[i]));
}

/* Parses `v` at `now`; returns the delay, or the negative errno (and the output untouched). */
static int64_t after(const char *v, time_t now)
{
	uint64_t ms = 0xdeadbeef;
	int rc = retry_after_parse(v, now, &ms);

	if (rc) {
		assert_true(ms == 0xdeadbeef);
		return rc;
	}
	return (int64_t)ms;
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	assert_int_equal(after("0", RFC_DATE), 0);
	assert_int_equal(after("7", RFC_DATE), 7000);
	assert_int_equal(after(" 120 ", RFC_DATE), 120000);
	assert_int_equal(after("\t3\r\n", RFC_DATE), 3000);
	assert_int_equal(after("007", RFC_DATE), 7000);
	/* one year is the most accepted */
	assert_int_equal(after("31536000", RFC_DATE), 31536000000ll);
	assert_int_equal(after("31536001", RFC_DATE), -ERANGE);
	assert_int_equal(after("99999999999999999999999", RFC_DATE), -ERANGE); /* ERANGE */
}

static void test_retry_after_rejects(void **state)
{
	(void)state;
	assert_int_equal(after("abc", RFC_DATE), -EINVAL);
	assert_int_equal(after("-1", RFC_DATE), -EINVAL);
	assert_int_equal(after("+5", RFC_DATE), -EINVAL);
	assert_int_equal(after("", RFC_DATE), -EINVAL);
	assert_int_equal(after("   ", RFC_DATE), -EINVAL);
	assert_int_equal(after("1.5", RFC_DATE), -EINVAL);
	assert_int_equal(after("7s", RFC_DATE), -EINVAL);
	assert_int_equal(after("7 8", RFC_DATE), -EINVAL);
	/* dates: not GMT, trailing garbage, cut short */
	assert_int_equal(after("Sun, 06 Nov 1994 08:49:37 UTC", RFC_DATE), -EINVAL);
	assert_int_equal(after("Sun, 06 Nov 1994 08:49:37 GMT x", RFC_DATE), -EINVAL);
	assert_int_equal(after("Sun, 06 Nov 1994 08:49", RFC_DATE), -EINVAL);
}

/* The three HTTP-date forms, all naming the same instant, 30 s from now. */
static void test_retry_after_dates(void **state)
{
	time_t now = RFC_DATE - 30;

	(void)state;
	assert_int_equal(after("Sun, 06 Nov 1994 08:49:37 GMT", now), 30000);      /* IMF-fixdate */
	assert_int_equal(after("Sunday, 06-Nov-94 08:49:37 GMT", now), 30000);     /* RFC 850 */
	assert_int_equal(after("Sun Nov  6 08:49:37 1994", now), 30000);           /* asctime */
	assert_int_equal(after("  Sun, 06 Nov 1994 08:49:37 GMT  ", now), 30000);  /* padded */
	/* a whole day ahead */
	assert_int_equal(after("Mon, 07 Nov 1994 08:49:37 GMT", now), 30000 + 86400000ll);
}

/* A date now or in the past means: retry at once. */
static void test_retry_after_past_date(void **state)
{
	(void)state;
	assert_int_equal(after("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE), 0);
	assert_int_equal(after("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE + 3600), 0);
	assert_int_equal(after("Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE + 1), 0);
	assert_int_equal(after("Sun Nov  6 08:49:37 1994", RFC_DATE + 1), 0);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	/* attempt 0: within [500, 1000) */
	assert_int_equal(retry_backoff_ms(0, 0), 500);
	assert_int_equal(retry_backoff_ms(0, 0x80000000u), 750);
	assert_int_equal(retry_backoff_ms(0, UINT32_MAX), 999);
	for (uint64_t r = 1; r <= UINT32_MAX; r = r * 3 + 1) {
		uint64_t d = retry_backoff_ms(0, (uint32_t)r);

		assert_true(d >= 500 && d < 1000);
	}
}

/* The base doubles: 1 s, 2 s, 4 s, 8 s, 16 s, then stays at RETRY_MAX_MS. */
static void test_backoff_doubling_and_cap(void **state)
{
	static const uint64_t base[] = { 1000, 2000, 4000, 8000, 16000, 16000, 16000 };

	(void)state;
	assert_int_equal(RETRY_INITIAL_MS, 1000);
	assert_int_equal(RETRY_MAX_MS, 16000);
	for (unsigned a = 0; a < sizeof(base) / sizeof(base[0]); a++) {
		/* random 0: exactly half; random max: one short of the full delay */
		assert_int_equal(retry_backoff_ms(a, 0), base[a] / 2);
		assert_int_equal(retry_backoff_ms(a, UINT32_MAX), base[a] - 1);
	}
	/* far attempts neither overflow nor loop for long */
	assert_int_equal(retry_backoff_ms(64, 0), RETRY_MAX_MS / 2);
	assert_int_equal(retry_backoff_ms(1000, UINT32_MAX), RETRY_MAX_MS - 1);
	assert_int_equal(retry_backoff_ms(UINT32_MAX, 0), RETRY_MAX_MS / 2);
	assert_int_equal(retry_backoff_ms(UINT32_MAX, UINT32_MAX), RETRY_MAX_MS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retryable_statuses),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_rejects),
		cmocka_unit_test(test_retry_after_dates),
		cmocka_unit_test(test_retry_after_past_date),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_doubling_and_cap),
	};

	return cmocka_run_group_tests_name("retry: retryable statuses, Retry-After, backoff", tests,
					   NULL, NULL);
}
