/* SPDX-License-Identifier: MIT */
/*
 * Calls of known durations in the native test worker, for the duration
 * histogram: each call's duration is known to lie in [lo_ns, hi_ns]. A
 * burst's calls are timed by the worker around each call (the probes fire
 * inside that bracket); a held call's bounds are the test's own, from its
 * command to the worker's event. Held calls are held by the test on
 * purpose (a sleep that makes the duration, not one that waits for
 * something); pick holds far from the bucket bounds.
 */
#ifndef INFLIGHT_TEST_TIMED_CALLS_H
#define INFLIGHT_TEST_TIMED_CALLS_H

#include <stdint.h>
#include "support/worker_proc.h"

struct timed_calls {
	int n;
	int64_t lo_ns, hi_ns; /* each call's duration lies within */
};

/* `n` calls on `chain` that return at once (the worker's `timedburst`). */
struct timed_calls timed_burst(struct worker_proc *w, const char *chain, int n);
/*
 * `n` calls parked on `chain`, held `hold_ms` after all entered, then
 * released (the worker's `release`: nothing else may be parked).
 */
struct timed_calls timed_park(struct worker_proc *w, const char *chain, int n, int hold_ms);
/* The histogram bucket of a duration (bucket i: bound[i-1] < ns <= bound[i]). */
int timed_bucket_of(int64_t ns);
/*
 * The bucket all of `t`'s calls fall in; fails the test when the bounds
 * straddle a bucket bound (a machine too slow for the chosen hold).
 */
int timed_bucket(const struct timed_calls *t);

#endif
