// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "support/oldest_age.h"

void expect_oldest_age(const char *what, double age, uint64_t reading_ns, uint64_t sent_ns,
		       uint64_t parked_ns, double rounding, const char *context)
{
	double lo = (double)(reading_ns - parked_ns) / 1e9 - rounding;
	double hi = (double)(reading_ns - sent_ns + READING_SLACK_NS) / 1e9 + rounding;

	printf("%s: oldest_age %.6f s, expected in [%.6f, %.6f]\n", what, age, lo, hi);
	if (age < lo || age > hi || age < 1.0 - rounding)
		fail_msg("%s: oldest_age %.6f s, expected in [%.6f, %.6f]%s%s", what, age, lo,
			 hi, context ? ": " : "", context ? context : "");
}
