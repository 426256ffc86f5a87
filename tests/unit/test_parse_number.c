// SPDX-License-Identifier: MIT
/* Durations from flags and variables: what they take and what they refuse. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "util/parse_number.h"

static void test_durations(void **state)
{
	static const struct { const char *s; uint64_t ms; } good[] = {
		{ "250ms", 250 }, { "2s", 2000 }, { "1.5s", 1500 }, { "3", 3000 },
		{ "1m", 60000 }, { "1h", 3600000 }, { "24h", 86400000 },
	};
	/* what strtod alone would take, and the plainly wrong */
	static const char *const bad[] = {
		"nan", "NaN", "inf", "infinity", "0x1p4", " 5s", "+5s", "-5s", ".5s",
		"1..5s", "1.5.s", "5e3s", "5x", "s", "", "5 s",
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_duration_ms(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_duration_ms(bad[i], &ms) != -EINVAL)
			fail_msg("'%s' taken as a duration", bad[i]);
	/* out of range: not under 1 ms, not over a day */
	assert_int_equal(parse_duration_ms("0s", &ms), -ERANGE);
	assert_int_equal(parse_duration_ms("25h", &ms), -ERANGE);
	assert_int_equal(parse_duration_ms(NULL, &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests_name("parse_number", tests, NULL, NULL);
}
