// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include "ticker.h"

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

void ticker_start(struct ticker *t, uint64_t interval_ms)
{
	clock_gettime(CLOCK_MONOTONIC, &t->next);
	t->interval_ms = interval_ms;
}

int ticker_wait(struct ticker *t)
{
	t->next.tv_sec += (time_t)(t->interval_ms / 1000);
	t->next.tv_nsec += (long)(t->interval_ms % 1000) * 1000000L;
	if (t->next.tv_nsec >= 1000000000L) {
		t->next.tv_sec++;
		t->next.tv_nsec -= 1000000000L;
	}
	while (!stop) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t->next, NULL);

		if (rc == 0)
			return 0;
		if (rc != EINTR)
			return -1;
	}
	return 1;
}
