// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "inflight.h"
#include "support/timed_calls.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* `c` n times, for worker_expect. */
static void events(char *out, size_t size, char c, int n)
{
	assert_true(n > 0 && (size_t)n < size);
	memset(out, c, (size_t)n);
	out[n] = '\0';
}

struct timed_calls timed_burst(struct worker_proc *w, const char *chain, int n)
{
	char text[32], *end;
	long long longest;

	worker_send(w, "timedburst %s %d", chain, n);
	worker_expect_text(w, 'B', text, sizeof(text));
	longest = strtoll(text, &end, 10);
	if (end == text || *end || longest < 0)
		fail_msg("timedburst: '%s' is no duration in ns", text);
	/* a call takes time: two probe hits are microseconds apart at least */
	return (struct timed_calls){ .n = n, .lo_ns = 1, .hi_ns = longest };
}

struct timed_calls timed_park(struct worker_proc *w, const char *chain, int n, int hold_ms)
{
	struct timespec hold = { hold_ms / 1000, (long)(hold_ms % 1000) * 1000000 };
	int64_t sent, entered, released;
	char ev[64];

	events(ev, sizeof(ev), 'E', n);
	sent = mono_ns();
	worker_send(w, "park %s %d", chain, n);
	worker_expect(w, ev);
	entered = mono_ns();
	/* the hold is the duration itself: nothing is waited for here */
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &hold, &hold))
		;
	released = mono_ns();
	worker_send(w, "release");
	events(ev, sizeof(ev), 'R', n);
	worker_expect(w, ev);
	/* entered before its E, returned after the release was sent and before its R */
	return (struct timed_calls){ .n = n, .lo_ns = released - entered,
				     .hi_ns = mono_ns() - sent };
}

int timed_bucket_of(int64_t ns)
{
	static const uint64_t bound[INFLIGHT_DURATION_BOUNDS] = INFLIGHT_DURATION_BOUNDS_NS;
	int i = 0;

	while (i < INFLIGHT_DURATION_BOUNDS && (uint64_t)ns > bound[i])
		i++;
	return i;
}

int timed_bucket(const struct timed_calls *t)
{
	int lo = timed_bucket_of(t->lo_ns), hi = timed_bucket_of(t->hi_ns);

	if (lo != hi)
		fail_msg("calls known to take %lld..%lld ns straddle a bucket bound (buckets %d, %d): the machine was too slow for the hold chosen",
			 (long long)t->lo_ns, (long long)t->hi_ns, lo, hi);
	return lo;
}
