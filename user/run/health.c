// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "run/health.h"
#include "util/clock.h"

struct health {
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	uint64_t interval_ms;
	uint64_t last_tick_ms;
	bool ready;
	char why[128];
	bool running;
	volatile bool stop;
};

/* A request must be complete this long after the connection was accepted. */
#define REQUEST_DEADLINE_MS 2000

struct conn {
	int fd; /* -1: free slot */
	uint64_t accepted_ms;
	size_t len;
	char req[256];
};

static void reply(int c, int status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Service Unavailable",
			 strlen(text), text);

	/* far below a socket buffer: one non-blocking write takes it all, or the prober is gone */
	if (write(c, buf, (size_t)n) < 0)
		return;
}

/* Answers a complete request line in `req`. */
static void answer(struct health *h, int c, const char *req)
{
	char body[160];
	bool live, ready;

	pthread_mutex_lock(&h->mu);
	/* live: the loop ticked within three intervals (plus slack for exports) */
	live = clock_mono_ms() - h->last_tick_ms <= 3 * h->interval_ms + 5000;
	ready = h->ready;
	snprintf(body, sizeof(body), "%s\n", ready ? "ready" : h->why);
	pthread_mutex_unlock(&h->mu);
	if (!strncmp(req, "GET /healthz ", 13))
		reply(c, live ? 200 : 503, live ? "ok\n" : "the collection loop is stuck\n");
	else if (!strncmp(req, "GET /readyz ", 12))
		reply(c, ready ? 200 : 503, body);
	else
		reply(c, 404, "GET /healthz or /readyz\n");
}

static void conn_close(struct conn *k)
{
	close(k->fd);
	k->fd = -1;
}

/* Reads what `k` sent; answers and closes once its request line is in. */
static void conn_read(struct health *h, struct conn *k)
{
	ssize_t n = read(k->fd, k->req + k->len, sizeof(k->req) - 1 - k->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(k);
		return;
	}
	k->len += (size_t)n;
	k->req[k->len] = '\0';
	/* the request line decides; a full buffer without one is answered 404 */
	if (strstr(k->req, "\r\n") || strchr(k->req, '\n') || k->len == sizeof(k->req) - 1) {
		answer(h, k->fd, k->req);
		conn_close(k);
	}
}

/* Takes every waiting connection; when all slots are held, the oldest gives way. */
static void accept_all(struct conn *conns)
{
	for (;;) {
		int c = accept4(conns[HEALTH_MAX_CONNECTIONS].fd, NULL, NULL,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *slot = NULL;

		if (c < 0)
			return;
		for (int i = 0; i < HEALTH_MAX_CONNECTIONS; i++) {
			struct conn *k = &conns[i];

			if (k->fd < 0) {
				slot = k;
				break;
			}
			if (!slot || k->accepted_ms < slot->accepted_ms)
				slot = k;
		}
		if (slot->fd >= 0)
			conn_close(slot);
		*slot = (struct conn){ .fd = c, .accepted_ms = clock_mono_ms() };
	}
}

/*
 * One thread, never blocked by a client: every socket is non-blocking and
 * polled together, each connection has a deadline, and their number is
 * bounded (idle clients cannot starve a prober).
 */
static void *run(void *arg)
{
	struct health *h = arg;
	/* the connections, then the listening socket (its fd at the end) */
	struct conn conns[HEALTH_MAX_CONNECTIONS + 1];
	struct pollfd p[HEALTH_MAX_CONNECTIONS + 1];

	for (int i = 0; i < HEALTH_MAX_CONNECTIONS; i++)
		conns[i].fd = -1;
	conns[HEALTH_MAX_CONNECTIONS].fd = h->fd;
	while (!h->stop) {
		uint64_t now = clock_mono_ms();
		int timeout = 200; /* how soon `stop` is seen */

		for (int i = 0; i <= HEALTH_MAX_CONNECTIONS; i++) {
			struct conn *k = &conns[i];

			if (i < HEALTH_MAX_CONNECTIONS && k->fd >= 0) {
				uint64_t deadline = k->accepted_ms + REQUEST_DEADLINE_MS;

				if (now >= deadline) {
					conn_close(k);
				} else if (deadline - now < (uint64_t)timeout) {
					timeout = (int)(deadline - now);
				}
			}
			p[i] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
		}
		if (poll(p, HEALTH_MAX_CONNECTIONS + 1, timeout) <= 0)
			continue;
		for (int i = 0; i < HEALTH_MAX_CONNECTIONS; i++)
			if (conns[i].fd >= 0 && p[i].revents)
				conn_read(h, &conns[i]);
		if (p[HEALTH_MAX_CONNECTIONS].revents)
			accept_all(conns);
	}
	for (int i = 0; i < HEALTH_MAX_CONNECTIONS; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return NULL;
}

struct health *health_start(const char *address, uint64_t interval_ms, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct health *h;
	char host[64];
	const char *colon = strrchr(address, ':');
	unsigned long port;
	char *end;
	int one = 1;

	if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host)) {
		snprintf(err, errlen, "--health-address %s: expected HOST:PORT (e.g. 127.0.0.1:8686)", address);
		return NULL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port == 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--health-address %s: expected an IPv4 HOST:PORT (e.g. 127.0.0.1:8686)", address);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	h->interval_ms = interval_ms;
	h->last_tick_ms = clock_mono_ms();
	snprintf(h->why, sizeof(h->why), "not attached yet");
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(h->fd, 64)) {
		snprintf(err, errlen, "--health-address %s: cannot listen: %s", address, strerror(errno));
		goto fail;
	}
	return h;
fail:
	if (h->fd >= 0)
		close(h->fd);
	free(h);
	return NULL;
}

int health_serve(struct health *h, char *err, size_t errlen)
{
	if (!h)
		return 0;
	int rc = pthread_create(&h->thread, NULL, run, h);

	if (rc) {
		snprintf(err, errlen, "cannot start the health thread");
		return -rc;
	}
	h->running = true;
	return 0;
}

void health_tick(struct health *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->last_tick_ms = clock_mono_ms();
	pthread_mutex_unlock(&h->mu);
}

void health_set_ready(struct health *h, bool ready, const char *why)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->ready = ready;
	snprintf(h->why, sizeof(h->why), "%s", why ? why : "");
	pthread_mutex_unlock(&h->mu);
}

void health_stop(struct health *h)
{
	if (!h)
		return;
	h->stop = true;
	if (h->running)
		pthread_join(h->thread, NULL);
	close(h->fd);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
