// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include "util/ticker.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

void ticker_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void add_ms(struct timespec *t, uint64_t ms)
{
	t->tv_sec += (time_t)(ms / 1000);
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int64_t diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000LL + (a->tv_nsec - b->tv_nsec);
}

void ticker_start(struct ticker *t, uint64_t interval_ms)
{
	clock_gettime(CLOCK_MONOTONIC, &t->next);
	t->interval_ms = interval_ms;
	add_ms(&t->next, interval_ms);
}

int ticker_wait(struct ticker *t)
{
	return ticker_wait_or(t, NULL, 0, UINT64_MAX);
}

#define MAX_WAIT_FDS 32

int ticker_wait_or(struct ticker *t, const int *fds, size_t nfds, uint64_t max_ms)
{
	struct pollfd pfd[MAX_WAIT_FDS];
	nfds_t n = 0;

	for (size_t i = 0; i < nfds && n < MAX_WAIT_FDS; i++)
		if (fds[i] >= 0)
			pfd[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	while (!stop) {
		struct timespec now, wait;
		int64_t left;
		bool capped;
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = diff_ns(&t->next, &now);
		if (left <= 0) {
			/* on the monotonic clock from the start: no drift */
			add_ms(&t->next, t->interval_ms);
			return 0;
		}
		if (!n && max_ms == UINT64_MAX) {
			rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t->next, NULL);
			if (rc && rc != EINTR)
				return -rc; /* clock_nanosleep returns the errno */
			continue;
		}
		capped = max_ms < (uint64_t)left / 1000000;
		if (capped)
			left = (int64_t)max_ms * 1000000;
		wait.tv_sec = (time_t)(left / 1000000000LL);
		wait.tv_nsec = (long)(left % 1000000000LL);
		rc = ppoll(pfd, n, &wait, NULL);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0 || (rc == 0 && capped))
			return 2;
	}
	return 1;
}
