// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "health.h"

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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void reply(int c, int status, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Service Unavailable",
			 strlen(text), text);

	if (write(c, buf, (size_t)n) < 0)
		return; /* the prober went away: nothing to do */
}

static void serve(struct health *h, int c)
{
	struct timeval tv = { .tv_sec = 1 };
	char req[512], body[160];
	ssize_t n;
	bool live, ready;

	/* a client that never sends cannot hold the thread */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(c, req, sizeof(req) - 1);
	if (n <= 0)
		return;
	req[n] = '\0';
	pthread_mutex_lock(&h->mu);
	/* live: the loop ticked within three intervals (plus slack for exports) */
	live = now_ms() - h->last_tick_ms <= 3 * h->interval_ms + 5000;
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

static void *run(void *arg)
{
	struct health *h = arg;

	while (!h->stop) {
		struct pollfd p = { h->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 200) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(h, c);
		close(c);
	}
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
	h->last_tick_ms = now_ms();
	snprintf(h->why, sizeof(h->why), "not attached yet");
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(h->fd, 8)) {
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
	if (pthread_create(&h->thread, NULL, run, h)) {
		snprintf(err, errlen, "cannot start the health thread");
		return -1;
	}
	h->running = true;
	return 0;
}

void health_tick(struct health *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->last_tick_ms = now_ms();
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
