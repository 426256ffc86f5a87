// SPDX-License-Identifier: MIT
/* double_text: the shortest text that reads back as the same double. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/double_text.h"

static void expect(double v, const char *want)
{
	char got[DOUBLE_TEXT_MAX];

	double_text(v, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_shortest(void **state)
{
	(void)state;
	expect(0, "0");
	expect(1.5, "1.5");
	expect(0.1, "0.1"); /* not 0.10000000000000001 */
	expect(42, "42");
	/* an age of whole nanoseconds, as oldest_age carries them */
	expect(3723000000001 / 1e9, "3723.000000001");
	expect(1e-9, "1e-09");
	expect(-2.5, "-2.5");
}

/* Values 15 digits cannot say get 16 or 17, and read back exactly. */
static void test_round_trip(void **state)
{
	char t[DOUBLE_TEXT_MAX];
	double v = 0.1 + 0.2;

	(void)state;
	double_text(v, t, sizeof(t));
	assert_string_equal(t, "0.30000000000000004");
	for (uint64_t ns = 1; ns < 1000000000000000ull; ns = ns * 7 + 3) {
		double_text((double)ns / 1e9, t, sizeof(t));
		assert_true(strtod(t, NULL) == (double)ns / 1e9);
	}
}

/* NaN and infinities have no JSON form: "0". */
static void test_not_finite(void **state)
{
	(void)state;
	expect(NAN, "0");
	expect(INFINITY, "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortest),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_not_finite),
	};

	return cmocka_run_group_tests_name("double_text", tests, NULL, NULL);
}
