/* SPDX-License-Identifier: MIT */
/* A call parked a known second, and the bounds its oldest_age must lie in. */
#ifndef INFLIGHT_TEST_OLDEST_AGE_H
#define INFLIGHT_TEST_OLDEST_AGE_H

#include <stdint.h>

struct worker_proc;

/*
 * How late a reading's age is taken after the reading's timestamp: the
 * counters, then the task iterator over every task on the machine, then
 * the clock. Milliseconds; 250 ms allows for a 2-core machine under load
 * (the suite's BPF tests run one at a time, builds may not).
 */
#define READING_SLACK_NS 250000000ull

/*
 * Parks one call of chain alpha in `w` and returns once it has been inside
 * a second by the test's clock: *sent taken just before the send, *parked
 * once the worker said it entered (CLOCK_REALTIME ns, the readings' clock).
 */
void park_alpha_a_second(struct worker_proc *w, uint64_t *sent, uint64_t *parked);

/*
 * Fails the test unless `age` (seconds), read at a reading stamped
 * `reading_ns`, of a call the test sent at `sent_ns` and saw parked at
 * `parked_ns` (all CLOCK_REALTIME), is at least the reading less the park,
 * at most the reading less the send plus READING_SLACK_NS, and at least
 * 1 s (the test waited that long); each bound widened by `rounding` (half
 * the last digit printed, for an age read from text). `what` names the
 * reader in the messages; `context`, if not NULL, ends a failure's.
 */
void expect_oldest_age(const char *what, double age, uint64_t reading_ns, uint64_t sent_ns,
		       uint64_t parked_ns, double rounding, const char *context);

#endif
