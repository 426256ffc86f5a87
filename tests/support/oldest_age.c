// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>
#include "support/oldest_age.h"
#include "support/worker_proc.h"

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void park_alpha_a_second(struct worker_proc *w, uint64_t *sent, uint64_t *parked)
{
	*sent = realtime_ns();
	worker_send(w, "park alpha 1");
	worker_expect(w, "E");
	*parked = realtime_ns();
	while (realtime_ns() < *parked + 1000000000ull)
		poll(NULL, 0, 10);
}

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
