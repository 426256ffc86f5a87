/* SPDX-License-Identifier: MIT */
/*
 * The collection rhythm shared by `top` and `run`: a reading every
 * interval on the monotonic clock (no drift), cut short by SIGINT or SIGTERM.
 */
#ifndef INFLIGHT_TICKER_H
#define INFLIGHT_TICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ticker {
	struct timespec next;
	uint64_t interval_ms;
};

/* SIGINT and SIGTERM end the wait (no SA_RESTART) and set the stop flag. */
void ticker_catch_signals(void);
void ticker_start(struct ticker *t, uint64_t interval_ms);
/*
 * Sleeps until the next tick: 0 on time, 1 if asked to stop, a negative
 * errno on error.
 */
int ticker_wait(struct ticker *t);
/*
 * The same, but returns 2 early when one of `fds` is readable or `max_ms`
 * passed first: something else to do before the tick.
 */
int ticker_wait_or(struct ticker *t, const int *fds, size_t nfds, uint64_t max_ms);

#endif
