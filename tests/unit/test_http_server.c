// SPDX-License-Identifier: MIT
/*
 * http_server: the one thread serving the health and Prometheus endpoints.
 * Routes belong to their listener; the same address twice is one listener;
 * a reply far larger than the socket buffers goes out as the client reads
 * it, while other clients are answered; a flood of idle connections closes
 * idle ones, not a reply under way; a reader that stops is dropped after
 * HTTP_SEND_STALL_MS; every reply's body is released exactly once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/net.h"

#include "export/http_server.h"

#define IDLE 50
#define PROBE_TIMEOUT_MS 5000
/* far beyond what a socket's buffers hold (tcp_wmem and tcp_rmem top out at a few MB) */
#define BIG (32u << 20)

static char *big;
static int released[2] = { -1, -1 }; /* a pipe: one byte per release of the big body */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_req(int fd, const char *line)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	char req[256];
	int n = snprintf(req, sizeof(req), "%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", line);

	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);
	assert_int_equal(write(fd, req, (size_t)n), n);
}

/*
 * Reads until the server closes `fd` (within PROBE_TIMEOUT_MS of the last
 * byte), closes it: the status, the body's length, its first bytes in `text`.
 */
static int read_all(int fd, size_t *body_len, char *text, size_t text_size)
{
	static char buf[1 << 16];
	char head[512] = "";
	size_t got = 0, hl = 0;
	bool in_body = false;
	int status = 0;
	ssize_t n;

	*body_len = 0;
	text[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, PROBE_TIMEOUT_MS) != 1)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (!in_body) {
				if (hl < sizeof(head) - 1)
					head[hl++] = buf[i];
				head[hl] = '\0';
				in_body = hl >= 4 && !strcmp(head + hl - 4, "\r\n\r\n");
				continue;
			}
			if (got < text_size - 1) {
				text[got] = buf[i];
				text[got + 1] = '\0';
			}
			got++;
		}
	}
	close(fd);
	*body_len = got;
	if (in_body && sscanf(head, "HTTP/1.1 %d", &status) == 1) {
		const char *cl = strstr(head, "Content-Length: ");

		assert_non_null(cl);
		/* the whole body, as announced */
		if (strtoull(cl + 16, NULL, 10) != got)
			return -1;
	}
	return status;
}

static int get(int port, const char *line, char *text, size_t size)
{
	size_t len;
	int fd = connect_nb(port, 0);

	send_req(fd, line);
	return read_all(fd, &len, text, size);
}

static void reply_small(void *ctx, const char *req, struct http_reply *r)
{
	(void)req;
	http_reply_text(r, 200, ctx);
}

static void release_big(void *arg)
{
	(void)arg;
	assert_int_equal(write(released[1], "r", 1), 1);
}

static void reply_big(void *ctx, const char *req, struct http_reply *r)
{
	(void)ctx;
	(void)req;
	r->status = 200;
	r->body = big;
	r->len = BIG;
	r->release = release_big;
}

/* Releases of the big body seen within `ms`. */
static int releases_within(int ms)
{
	struct pollfd p = { released[0], POLLIN, 0 };
	char c[8];
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return 0;
	n = read(released[0], c, sizeof(c));
	return n > 0 ? (int)n : 0;
}

static int setup(void **state)
{
	(void)state;
	big = malloc(BIG);
	assert_non_null(big);
	memset(big, 'x', BIG);
	assert_int_equal(pipe2(released, O_CLOEXEC), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(big);
	close(released[0]);
	close(released[1]);
	return 0;
}

/* One thread, two listeners, each with its own routes; the same address twice is one. */
static void test_routes_per_listener(void **state)
{
	char a[32], b[32], err[256], text[128];
	int pa = free_port(), pb = free_port(), la, lb;
	struct http_server *s = http_server_new();

	(void)state;
	assert_non_null(s);
	snprintf(a, sizeof(a), "127.0.0.1:%d", pa);
	snprintf(b, sizeof(b), "127.0.0.1:%d", pb);
	la = http_server_listen(s, "--a", "127.0.0.1:1", a, err, sizeof(err));
	lb = http_server_listen(s, "--b", "127.0.0.1:1", b, err, sizeof(err));
	assert_int_equal(la, 0);
	assert_int_equal(lb, 1);
	assert_int_equal(http_server_listen(s, "--c", "127.0.0.1:1", a, err, sizeof(err)), la);
	assert_int_equal(http_server_listen(s, "--d", "127.0.0.1:1", "nowhere", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--d nowhere: expected HOST:PORT (e.g. 127.0.0.1:1)");
	assert_int_equal(http_server_route(s, la, "/one", reply_small, "one\n"), 0);
	assert_int_equal(http_server_route(s, la, "/three", reply_small, "three\n"), 0);
	assert_int_equal(http_server_route(s, lb, "/two", reply_small, "two\n"), 0);
	assert_int_equal(http_server_serve(s, err, sizeof(err)), 0);

	assert_int_equal(get(pa, "GET /one", text, sizeof(text)), 200);
	assert_string_equal(text, "one\n");
	assert_int_equal(get(pa, "GET /three?x=1", text, sizeof(text)), 200);
	assert_string_equal(text, "three\n");
	assert_int_equal(get(pb, "GET /two", text, sizeof(text)), 200);
	assert_string_equal(text, "two\n");
	/* another listener's route, a longer path, another method: not found here */
	assert_int_equal(get(pa, "GET /two", text, sizeof(text)), 404);
	assert_string_equal(text, "GET /one, /three\n");
	assert_int_equal(get(pa, "GET /oneX", text, sizeof(text)), 404);
	assert_int_equal(get(pb, "POST /two", text, sizeof(text)), 404);
	assert_string_equal(text, "GET /two\n");
	http_server_stop(s);
}

/*
 * A 32 MB reply under way while its client waits: other requests are
 * answered, 50 idle connections close idle ones (not the reply), and the
 * client then reads the whole body; it is released once.
 */
static void test_large_reply_beside_others(void **state)
{
	char addr[32], err[256], text[64];
	int port = free_port(), idle[IDLE], l, slow, closed = 0;
	struct http_server *s = http_server_new();
	struct pollfd p;
	size_t len;

	(void)state;
	assert_non_null(s);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	l = http_server_listen(s, "--a", "127.0.0.1:1", addr, err, sizeof(err));
	assert_int_equal(l, 0);
	assert_int_equal(http_server_route(s, l, "/big", reply_big, NULL), 0);
	assert_int_equal(http_server_route(s, l, "/small", reply_small, "small\n"), 0);
	assert_int_equal(http_server_serve(s, err, sizeof(err)), 0);

	slow = connect_nb(port, 0);
	send_req(slow, "GET /big");
	p = (struct pollfd){ slow, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);
	assert_int_equal(get(port, "GET /small", text, sizeof(text)), 200);
	assert_string_equal(text, "small\n");

	for (int i = 0; i < IDLE; i++)
		idle[i] = connect_nb(port, 0);
	assert_int_equal(get(port, "GET /small", text, sizeof(text)), 200);
	for (int i = 0; i < IDLE; i++) {
		char c;

		p = (struct pollfd){ idle[i], POLLIN, 0 };
		if (poll(&p, 1, 0) == 1 && read(idle[i], &c, 1) == 0)
			closed++;
		close(idle[i]);
	}
	/* the reply held a slot; the idle ones shared the rest */
	assert_true(closed >= IDLE - (HTTP_MAX_CONNECTIONS - 1));
	assert_int_equal(releases_within(0), 0);

	assert_int_equal(read_all(slow, &len, text, sizeof(text)), 200);
	assert_int_equal(len, BIG);
	assert_int_equal(releases_within(PROBE_TIMEOUT_MS), 1);
	http_server_stop(s);
	assert_int_equal(releases_within(0), 0);
}

/*
 * A reader that stops is dropped HTTP_SEND_STALL_MS after its last
 * progress; a reply under way when the server stops is released by the stop.
 */
static void test_stalled_reader_dropped(void **state)
{
	char addr[32], err[256];
	int port = free_port(), l, slow;
	struct http_server *s = http_server_new();
	struct pollfd p;
	int64_t t0;

	(void)state;
	assert_non_null(s);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	l = http_server_listen(s, "--a", "127.0.0.1:1", addr, err, sizeof(err));
	assert_int_equal(http_server_route(s, l, "/big", reply_big, NULL), 0);
	assert_int_equal(http_server_serve(s, err, sizeof(err)), 0);

	slow = connect_nb(port, 0);
	send_req(slow, "GET /big");
	p = (struct pollfd){ slow, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);
	t0 = now_ms();
	assert_int_equal(releases_within(HTTP_SEND_STALL_MS + PROBE_TIMEOUT_MS), 1);
	/* not before the stall deadline (its last write came after t0 at the latest) */
	assert_true(now_ms() - t0 >= HTTP_SEND_STALL_MS - 100);
	close(slow);

	slow = connect_nb(port, 0);
	send_req(slow, "GET /big");
	p = (struct pollfd){ slow, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);
	http_server_stop(s);
	assert_int_equal(releases_within(0), 1);
	close(slow);
}

/* A connection that never sends its request is closed HTTP_REQUEST_DEADLINE_MS after accept. */
static void test_request_deadline(void **state)
{
	char addr[32], err[256], c;
	int port = free_port(), l, fd;
	struct http_server *s = http_server_new();
	struct pollfd p;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	l = http_server_listen(s, "--a", "127.0.0.1:1", addr, err, sizeof(err));
	assert_int_equal(http_server_route(s, l, "/x", reply_small, "x\n"), 0);
	assert_int_equal(http_server_serve(s, err, sizeof(err)), 0);
	fd = connect_nb(port, 0);
	p = (struct pollfd){ fd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, HTTP_REQUEST_DEADLINE_MS + PROBE_TIMEOUT_MS), 1);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
	http_server_stop(s);
}

static int64_t cpu_ms(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/*
 * Out of fds, accept fails and the connection stays queued: the server
 * rests instead of spinning on its readable listener, and takes the
 * connection once fds are back.
 */
static void test_out_of_fds_no_spin(void **state)
{
	char addr[32], err[256], text[64];
	int port = free_port(), l, fd, next;
	struct http_server *s = http_server_new();
	struct rlimit old, low;
	int64_t cpu0;
	size_t len;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	l = http_server_listen(s, "--a", "127.0.0.1:1", addr, err, sizeof(err));
	assert_int_equal(http_server_route(s, l, "/x", reply_small, "x\n"), 0);
	assert_int_equal(http_server_serve(s, err, sizeof(err)), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* the lowest free fd number becomes the limit: no new fd can be made */
	next = dup(0);
	assert_true(next >= 0);
	close(next);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = (struct rlimit){ .rlim_cur = (rlim_t)next, .rlim_max = old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
			fail_msg("connect: %s", strerror(errno));
	}
	send_req(fd, "GET /x");
	/* half a second out of fds: a spinning thread would burn about all of it */
	cpu0 = cpu_ms();
	poll(NULL, 0, 500);
	if (cpu_ms() - cpu0 > 200)
		fail_msg("%lld ms of CPU in 500 ms out of fds", (long long)(cpu_ms() - cpu0));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(read_all(fd, &len, text, sizeof(text)), 200);
	assert_string_equal(text, "x\n");
	http_server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_per_listener),
		cmocka_unit_test(test_large_reply_beside_others),
		cmocka_unit_test(test_stalled_reader_dropped),
		cmocka_unit_test(test_request_deadline),
		cmocka_unit_test(test_out_of_fds_no_spin),
	};

	return cmocka_run_group_tests_name("http server", tests, setup, teardown);
}
