// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util/buf.h"
#include "export/prom_encode.h"
#include "export/prom_server.h"

struct prom_server {
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	struct buf body[2]; /* by enum prom_format, under mu */
	struct buf scratch[2];
	bool running; /* its thread started */
	volatile bool stop;
};

int prom_accepts_openmetrics(const char *accept)
{
	const char *r = accept;

	/* media ranges split by ',', parameters by ';': any openmetrics range not refused with q=0 */
	while (r && *r) {
		const char *end = strchr(r, ',');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		char range[256];
		const char *q;

		snprintf(range, sizeof(range), "%.*s", (int)len, r);
		q = strstr(range, "q=");
		if (strstr(range, "application/openmetrics-text") &&
		    !(q && strtod(q + 2, NULL) <= 0.0))
			return 1;
		r = end ? end + 1 : NULL;
	}
	return 0;
}

/* The value of header `name` in `req` (a copy, up to the line's end), or "". */
static void header_value(const char *req, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *l = strstr(req, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, n) || v[n] != ':')
			continue;
		v += n + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return;
	}
}

int prom_request_format(const char *req, enum prom_format *f)
{
	char accept[1024];

	if (strncmp(req, "GET /metrics ", 13) && strncmp(req, "GET /metrics?", 13))
		return -1;
	header_value(req, "Accept", accept, sizeof(accept));
	*f = prom_accepts_openmetrics(accept) ? PROM_OPENMETRICS : PROM_TEXT_004;
	return 0;
}

static void send_all(int c, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(c, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the scraper went away or stalled past SO_SNDTIMEO */
		s += w;
		n -= (size_t)w;
	}
}

static void reply(int c, const char *status, const char *ctype, const void *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, ctype, len);

	send_all(c, head, (size_t)n);
	send_all(c, body, len);
}

static void serve(struct prom_server *s, int c)
{
	struct timeval tv = { .tv_sec = 1 };
	char req[8192];
	size_t n = 0;
	enum prom_format f;
	struct buf *out;

	/* a client that never sends (or never reads) cannot hold the thread */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < sizeof(req) - 1) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = '\0';
	if (prom_request_format(req, &f)) {
		static const char msg[] = "GET /metrics\n";

		reply(c, "404 Not Found", "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	/* copied out, so a slow scraper never holds up the collection loop */
	out = &s->scratch[f];
	buf_reset(out);
	pthread_mutex_lock(&s->mu);
	buf_append(out, s->body[f].data, s->body[f].len);
	pthread_mutex_unlock(&s->mu);
	if (out->oom) {
		static const char msg[] = "out of memory\n";

		reply(c, "503 Service Unavailable", "text/plain", msg, sizeof(msg) - 1);
		return;
	}
	reply(c, "200 OK", prom_content_type(f), out->data, out->len);
}

static void *run(void *arg)
{
	struct prom_server *s = arg;

	while (!s->stop) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 200) <= 0)
			continue;
		c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(s, c);
		close(c);
	}
	return NULL;
}

struct prom_server *prom_server_start(const char *address, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(address, ':');
	struct prom_server *s;
	unsigned long port;
	char host[64], *end;
	int one = 1;

	if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host)) {
		snprintf(err, errlen, "--prometheus-address %s: expected HOST:PORT (e.g. 0.0.0.0:9464)",
			 address);
		return NULL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen,
			 "--prometheus-address %s: expected an IPv4 HOST:PORT (e.g. 0.0.0.0:9464)",
			 address);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 16)) {
		snprintf(err, errlen, "--prometheus-address %s: cannot listen: %s%s", address,
			 strerror(errno),
			 errno == EADDRINUSE ? " (the health endpoint needs a port of its own)" : "");
		goto fail;
	}
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return NULL;
}

int prom_server_serve(struct prom_server *s, char *err, size_t errlen)
{
	if (!s)
		return 0;
	int rc = pthread_create(&s->thread, NULL, run, s);

	if (rc) {
		snprintf(err, errlen, "cannot start the Prometheus endpoint's thread");
		return -rc;
	}
	s->running = true;
	return 0;
}

int prom_server_publish(struct prom_server *s, const struct otlp_export *e)
{
	struct buf next[2] = { { 0 } };
	int rc = 0;

	if (!s)
		return 0;
	/* rendered outside the lock; swapped in whole, so a scrape sees one collection */
	for (int f = 0; f < 2 && !rc; f++)
		rc = prom_encode(e, (enum prom_format)f, &next[f]);
	if (!rc) {
		pthread_mutex_lock(&s->mu);
		for (int f = 0; f < 2; f++) {
			struct buf old = s->body[f];

			s->body[f] = next[f];
			next[f] = old;
		}
		pthread_mutex_unlock(&s->mu);
	}
	buf_free(&next[0]);
	buf_free(&next[1]);
	return rc;
}

void prom_server_stop(struct prom_server *s)
{
	if (!s)
		return;
	s->stop = true;
	if (s->running)
		pthread_join(s->thread, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->mu);
	for (int f = 0; f < 2; f++) {
		buf_free(&s->body[f]);
		buf_free(&s->scratch[f]);
	}
	free(s);
}
