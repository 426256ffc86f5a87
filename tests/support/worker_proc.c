// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/worker_proc.h"

/* Generous: a failing test should fail, not hang CI. */
#define EVENT_DEADLINE_MS 20000

#define POOL 16
static struct worker_proc pool[POOL];

void worker_stop_all(void)
{
	for (int i = 0; i < POOL; i++)
		worker_stop(&pool[i]);
}

int worker_teardown(void **state)
{
	(void)state;
	worker_stop_all();
	return 0;
}

const char *workers_dir(void)
{
	const char *d = getenv("INFLIGHT_WORKERS");

	return d && *d ? d : "build/workers";
}

const char *worker_path(const char *name)
{
	static char buf[4][4096];
	static int slot;
	char *p = buf[slot++ & 3];
	char rel[4096];

	snprintf(rel, sizeof(rel), "%s/%s", workers_dir(), name);
	/* absolute, so /proc/PID/root-relative lookups and unshare agree */
	if (!realpath(rel, p))
		snprintf(p, 4096, "%s", rel);
	return p;
}

struct worker_proc *worker_start(char *const argv[])
{
	struct worker_proc *w = NULL;
	int in[2], out[2];

	for (int i = 0; i < POOL && !w; i++)
		if (!pool[i].pid)
			w = &pool[i];
	if (!w)
		fail_msg("more than %d test workers at once", POOL);
	memset(w, 0, sizeof(*w));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	w->cmd_fd = in[1];
	w->event_fd = out[0];
	return w;
}

void worker_send(struct worker_proc *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof(line) - 1);
	line[n++] = '\n';
	assert_int_equal(write(w->cmd_fd, line, (size_t)n), n);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The worker's next event byte, by `deadline`; `what` names the wait in failures. */
static unsigned char next_event(struct worker_proc *w, int64_t deadline, const char *what)
{
	for (;;) {
		struct pollfd pfd = { .fd = w->event_fd, .events = POLLIN };
		int64_t wait = deadline - now_ms();
		unsigned char c;
		ssize_t n;

		if (wait <= 0)
			fail_msg("worker %d: still waiting for %s", (int)w->pid, what);
		if (poll(&pfd, 1, (int)wait) <= 0)
			continue;
		n = read(w->event_fd, &c, 1);
		if (n == 0)
			fail_msg("worker %d exited while the test waited for %s", (int)w->pid, what);
		if (n == 1)
			return c;
	}
}

void worker_expect(struct worker_proc *w, const char *expect)
{
	size_t want[256] = { 0 }, left = strlen(expect);
	int64_t deadline = now_ms() + EVENT_DEADLINE_MS;
	char what[128];

	for (const unsigned char *p = (const unsigned char *)expect; *p; p++)
		want[*p]++;
	while (left) {
		unsigned char c;

		snprintf(what, sizeof(what), "%zu of the events '%s'", left, expect);
		c = next_event(w, deadline, what);
		if (!want[c])
			fail_msg("worker %d: unexpected event '%c' while waiting for '%s'",
				 (int)w->pid, c, expect);
		want[c]--;
		left--;
	}
}

void worker_expect_text(struct worker_proc *w, char tag, char *out, size_t size)
{
	int64_t deadline = now_ms() + EVENT_DEADLINE_MS;
	char what[32];
	size_t n = 0;
	unsigned char c;

	snprintf(what, sizeof(what), "the event '%c' and its text", tag);
	c = next_event(w, deadline, what);
	if (c != (unsigned char)tag)
		fail_msg("worker %d: unexpected event '%c' while waiting for '%c'", (int)w->pid, c,
			 tag);
	while ((c = next_event(w, deadline, what)) != '\n') {
		if (n + 1 >= size)
			fail_msg("worker %d: the text after '%c' is longer than %zu bytes", (int)w->pid,
				 tag, size - 1);
		out[n++] = (char)c;
	}
	out[n] = '\0';
}

int worker_wait(struct worker_proc *w)
{
	if (!w->reaped) {
		assert_int_equal(waitpid(w->pid, &w->status, 0), w->pid);
		w->reaped = true;
	}
	return w->status;
}

void worker_stop(struct worker_proc *w)
{
	if (!w->pid)
		return;
	if (!w->reaped) {
		kill(w->pid, SIGKILL);
		worker_wait(w);
	}
	close(w->cmd_fd);
	close(w->event_fd);
	w->pid = 0;
}
