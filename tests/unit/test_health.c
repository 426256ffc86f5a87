// SPDX-License-Identifier: MIT
/*
 * health: the liveness and readiness endpoint must answer while clients
 * that connect and never send hold connections open (a kubelet restarts a
 * collector whose /healthz does not answer within its probe timeout).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/net.h"

#include "run/health.h"

#define IDLE 50
/* the kubelet's probe timeout is 1 s by default; this leaves room for a loaded machine */
#define PROBE_TIMEOUT_MS 5000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * GET `path` as a prober does, within PROBE_TIMEOUT_MS: the status line's
 * code, or 0 if no answer came in time.
 */
static int probe(int port, const char *path)
{
	int64_t deadline = now_ms() + PROBE_TIMEOUT_MS;
	int fd = connect_nb(port, 0), code = 0;
	char req[128], resp[512];
	size_t got = 0;
	bool sent = false;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	while (now_ms() < deadline) {
		struct pollfd p = { fd, sent ? POLLIN : POLLOUT, 0 };
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			continue;
		if (!sent) {
			assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
			sent = true;
			continue;
		}
		n = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	resp[got] = '\0';
	close(fd);
	if (sscanf(resp, "HTTP/1.1 %d", &code) != 1)
		return 0;
	return code;
}

/* Connections the server has closed (EOF waiting on our side). */
static int closed_by_server(const int *fds, int n)
{
	int closed = 0;

	for (int i = 0; i < n; i++) {
		struct pollfd p = { fds[i], POLLIN, 0 };
		char c;

		if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) == 0)
			closed++;
	}
	return closed;
}

static void test_answers_with_idle_connections(void **state)
{
	char addr[32], err[256];
	int idle[IDLE], port = free_port();
	struct http_server *srv = http_server_new();
	struct health *h;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_non_null(srv);
	h = health_start(srv, addr, 1000, err, sizeof(err));
	if (!h)
		fail_msg("%s", err);
	assert_int_equal(http_server_serve(srv, err, sizeof(err)), 0);
	health_set_ready(h, true, NULL);
	health_tick(h);
	assert_int_equal(probe(port, "/healthz"), 200);

	/* 50 clients connect and send nothing */
	for (int i = 0; i < IDLE; i++)
		idle[i] = connect_nb(port, 0);
	assert_int_equal(probe(port, "/healthz"), 200);
	assert_int_equal(probe(port, "/readyz"), 200);
	assert_int_equal(probe(port, "/nothing"), 404);
	/* the oldest idle ones made room: at most HTTP_MAX_CONNECTIONS stay open */
	assert_true(closed_by_server(idle, IDLE) >= IDLE - HTTP_MAX_CONNECTIONS);
	for (int i = 0; i < IDLE; i++)
		close(idle[i]);
	health_set_ready(h, false, "exports failing: HTTP 503");
	assert_int_equal(probe(port, "/readyz"), 503);
	http_server_stop(srv);
	health_stop(h);
}

/*
 * A client that sends part of a request and then nothing is closed at its
 * deadline (2 s after it was accepted), not held until 16 newer ones push
 * it out: its slot and descriptor are freed. Waits on the server's EOF,
 * bounded by the probe timeout.
 */
static void test_partial_request_closed_at_deadline(void **state)
{
	char addr[32], err[256];
	int port = free_port(), fd;
	int64_t start, deadline;
	struct http_server *srv = http_server_new();
	struct health *h;
	bool closed = false;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_non_null(srv);
	h = health_start(srv, addr, 1000, err, sizeof(err));
	if (!h)
		fail_msg("%s", err);
	assert_int_equal(http_server_serve(srv, err, sizeof(err)), 0);
	health_set_ready(h, true, NULL);
	health_tick(h);

	fd = connect_nb(port, 0);
	start = now_ms();
	deadline = start + PROBE_TIMEOUT_MS;
	while (!closed && now_ms() < deadline) {
		struct pollfd p = { fd, POLLOUT, 0 };

		if (poll(&p, 1, (int)(deadline - now_ms())) == 1)
			break;
	}
	assert_int_equal(write(fd, "GET /hea", 8), 8);
	while (!closed && now_ms() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;

		if (poll(&p, 1, (int)(deadline - now_ms())) == 1)
			closed = read(fd, &c, 1) <= 0;
	}
	if (!closed)
		fail_msg("the partial request's connection is still open after %d ms",
			 PROBE_TIMEOUT_MS);
	/* the server's deadline, not an error: it did not close at once */
	assert_true(now_ms() - start >= 1000);
	assert_int_equal(probe(port, "/healthz"), 200);
	close(fd);
	http_server_stop(srv);
	health_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_with_idle_connections),
		cmocka_unit_test(test_partial_request_closed_at_deadline),
	};

	return cmocka_run_group_tests_name("health endpoint", tests, NULL, NULL);
}
