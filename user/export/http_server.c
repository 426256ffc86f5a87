// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "export/http_server.h"
#include "util/clock.h"
#include "util/errmsg.h"

/* How long a listener rests when accept runs out of fds or memory. */
#define HTTP_ACCEPT_PAUSE_MS 100

struct route {
	char path[32];
	http_handler_fn fn;
	void *ctx;
};

struct listener {
	int fd;
	struct sockaddr_in sa;
	const char *flag; /* the option that asked for it, for errors */
	uint64_t paused_until_ms; /* out of fds: not polled until then */
	int nroutes;
	struct route routes[HTTP_MAX_ROUTES];
};

struct conn {
	int fd; /* -1: a free slot */
	int listener;
	uint64_t accepted_ms;
	uint64_t deadline_ms; /* closed when reached */
	bool replying;
	size_t len; /* of req */
	size_t head_len, sent; /* the reply: head, then body; what went out of both */
	struct http_reply reply;
	char head[256];
	char req[HTTP_REQUEST_MAX];
};

struct http_server {
	int nl;
	struct listener l[HTTP_MAX_LISTENERS];
	int wake; /* eventfd: written to stop the thread */
	pthread_t thread;
	bool running;
	struct conn conns[HTTP_MAX_CONNECTIONS];
};

void http_reply_text(struct http_reply *r, int status, const char *text)
{
	r->status = status;
	r->content_type = "text/plain";
	snprintf(r->text, sizeof(r->text), "%s", text);
	r->body = r->text;
	r->len = strlen(r->text);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	default:
		return "Service Unavailable";
	}
}

static void conn_close(struct conn *k)
{
	if (k->reply.release)
		k->reply.release(k->reply.release_arg);
	close(k->fd);
	k->fd = -1;
}

/* The route of listener `l` that `req`'s request line asks for, or NULL. */
static const struct route *find_route(const struct listener *l, const char *req)
{
	size_t n;

	if (strncmp(req, "GET ", 4))
		return NULL;
	req += 4;
	/* the path: up to the query string or the protocol version */
	n = strcspn(req, "? \r\n");
	for (int i = 0; i < l->nroutes; i++)
		if (strlen(l->routes[i].path) == n && !strncmp(req, l->routes[i].path, n))
			return &l->routes[i];
	return NULL;
}

/*
 * Sends what `k` has not yet sent of its reply, as much as the socket
 * takes now; the rest waits for POLLOUT. Closes `k` once all is out, or
 * when the client is gone.
 */
static void conn_write(struct conn *k, uint64_t now)
{
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov };
	size_t total = k->head_len + k->reply.len;
	ssize_t w;

	if (k->sent < k->head_len) {
		iov[0] = (struct iovec){ k->head + k->sent, k->head_len - k->sent };
		iov[1] = (struct iovec){ (void *)k->reply.body, k->reply.len };
		msg.msg_iovlen = 2;
	} else {
		size_t off = k->sent - k->head_len;

		iov[0] = (struct iovec){ (char *)k->reply.body + off, k->reply.len - off };
		msg.msg_iovlen = 1;
	}
	w = sendmsg(k->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(k);
		return;
	}
	k->sent += (size_t)w;
	/* a reader that keeps reading keeps its connection; one that stops loses it */
	k->deadline_ms = now + HTTP_SEND_STALL_MS;
	if (k->sent == total)
		conn_close(k);
}

/* `k`'s request is in: routes it and starts the reply. */
static void conn_answer(struct http_server *s, struct conn *k, uint64_t now)
{
	const struct listener *l = &s->l[k->listener];
	const struct route *rt = find_route(l, k->req);
	int n;

	k->reply = (struct http_reply){ 0 };
	if (rt) {
		rt->fn(rt->ctx, k->req, &k->reply);
	} else {
		char paths[128] = "GET";

		for (int i = 0; i < l->nroutes; i++)
			snprintf(paths + strlen(paths), sizeof(paths) - strlen(paths), "%s %s",
				 i ? "," : "", l->routes[i].path);
		snprintf(paths + strlen(paths), sizeof(paths) - strlen(paths), "\n");
		http_reply_text(&k->reply, 404, paths);
	}
	n = snprintf(k->head, sizeof(k->head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     k->reply.status, status_text(k->reply.status),
		     k->reply.content_type ? k->reply.content_type : "text/plain", k->reply.len);
	k->head_len = n < (int)sizeof(k->head) ? (size_t)n : sizeof(k->head) - 1;
	k->sent = 0;
	k->replying = true;
	conn_write(k, now);
}

/* Reads what `k` sent; answers once its headers are in (or its buffer is full). */
static void conn_read(struct http_server *s, struct conn *k, uint64_t now)
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
	if (strstr(k->req, "\r\n\r\n") || strstr(k->req, "\n\n") || k->len == sizeof(k->req) - 1)
		conn_answer(s, k, now);
}

/*
 * A slot for a new connection: a free one, else the oldest still waiting
 * for its request (an idle client), else the oldest reply.
 */
static struct conn *take_slot(struct http_server *s)
{
	struct conn *idle = NULL, *any = NULL;

	for (int i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
		struct conn *k = &s->conns[i];

		if (k->fd < 0)
			return k;
		if (!k->replying && (!idle || k->accepted_ms < idle->accepted_ms))
			idle = k;
		if (!any || k->accepted_ms < any->accepted_ms)
			any = k;
	}
	any = idle ? idle : any;
	conn_close(any);
	return any;
}

/* Takes every connection waiting on listener `li`. */
static void accept_all(struct http_server *s, int li, uint64_t now)
{
	for (;;) {
		int c = accept4(s->l[li].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *k;

		if (c < 0) {
			/*
			 * Out of fds or memory: the connection stays queued and the
			 * listener readable; polling it again at once would spin.
			 */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				s->l[li].paused_until_ms = now + HTTP_ACCEPT_PAUSE_MS;
			return;
		}
		k = take_slot(s);
		k->fd = c;
		k->listener = li;
		k->accepted_ms = now;
		k->deadline_ms = now + HTTP_REQUEST_DEADLINE_MS;
		k->replying = false;
		k->len = 0;
		k->reply = (struct http_reply){ 0 };
	}
}

static void *run(void *arg)
{
	struct http_server *s = arg;
	/* the wake-up eventfd, the listeners, then the connections */
	struct pollfd p[1 + HTTP_MAX_LISTENERS + HTTP_MAX_CONNECTIONS];
	int slot[HTTP_MAX_CONNECTIONS]; /* p[1 + nl + i] is conns[slot[i]] */

	for (;;) {
		uint64_t now = clock_mono_ms();
		int timeout = -1, np = 0, nc = 0;

		p[np++] = (struct pollfd){ .fd = s->wake, .events = POLLIN };
		for (int i = 0; i < s->nl; i++) {
			struct listener *l = &s->l[i];
			bool paused = l->paused_until_ms > now;

			/* a negative fd: poll skips it */
			p[np++] = (struct pollfd){ .fd = paused ? -1 : l->fd, .events = POLLIN };
			if (paused && (timeout < 0 || l->paused_until_ms - now < (uint64_t)timeout))
				timeout = (int)(l->paused_until_ms - now);
		}
		for (int i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
			struct conn *k = &s->conns[i];

			if (k->fd < 0)
				continue;
			if (now >= k->deadline_ms) {
				conn_close(k);
				continue;
			}
			if (timeout < 0 || k->deadline_ms - now < (uint64_t)timeout)
				timeout = (int)(k->deadline_ms - now);
			slot[nc++] = i;
			p[np++] = (struct pollfd){ .fd = k->fd,
						   .events = k->replying ? POLLOUT : POLLIN };
		}
		if (poll(p, (nfds_t)np, timeout) <= 0)
			continue; /* a deadline passed (closed above), or EINTR */
		if (p[0].revents)
			break;
		now = clock_mono_ms();
		for (int i = 0; i < nc; i++) {
			struct conn *k = &s->conns[slot[i]];

			if (!p[1 + s->nl + i].revents || k->fd < 0)
				continue;
			if (k->replying)
				conn_write(k, now);
			else
				conn_read(s, k, now);
		}
		/* after the connections: a slot taken now has no stale revents */
		for (int i = 0; i < s->nl; i++)
			if (p[1 + i].revents)
				accept_all(s, i, now);
	}
	return NULL;
}

struct http_server *http_server_new(void)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	for (int i = 0; i < HTTP_MAX_CONNECTIONS; i++)
		s->conns[i].fd = -1;
	s->wake = -1;
	return s;
}

int http_server_listen(struct http_server *s, const char *flag, const char *example,
		       const char *address, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(address, ':');
	struct listener *l;
	unsigned long port;
	char host[64], *end;
	int one = 1, e;

	if (!colon || colon == address || (size_t)(colon - address) >= sizeof(host)) {
		return errmsg(err, errlen, "%s %s: expected HOST:PORT (e.g. %s)", flag, address,
			      example);
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return errmsg(err, errlen, "%s %s: expected an IPv4 HOST:PORT (e.g. %s)", flag,
			      address, example);
	sa.sin_port = htons((uint16_t)port);
	/* the same address again: its routes join the listener already there */
	for (int i = 0; i < s->nl; i++)
		if (s->l[i].sa.sin_port == sa.sin_port &&
		    s->l[i].sa.sin_addr.s_addr == sa.sin_addr.s_addr)
			return i;
	if (s->nl == HTTP_MAX_LISTENERS)
		return errmsg_errno(err, errlen, ENOSPC, "%s %s: no more addresses can be listened on",
				    flag, address);
	l = &s->l[s->nl];
	*l = (struct listener){ .sa = sa, .flag = flag };
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(l->fd, 64)) {
		const struct listener *other = NULL;

		e = errno;
		for (int i = 0; i < s->nl; i++)
			if (s->l[i].sa.sin_port == sa.sin_port)
				other = &s->l[i];
		/* 0.0.0.0:P beside 127.0.0.1:P: one socket could serve both, two cannot bind */
		if (e == EADDRINUSE && other)
			snprintf(err, errlen,
				 "%s %s: cannot listen: %s (%s listens on that port: give both the same HOST:PORT, or each its own port)",
				 flag, address, strerror(e), other->flag);
		else
			snprintf(err, errlen, "%s %s: cannot listen: %s", flag, address, strerror(e));
		if (l->fd >= 0)
			close(l->fd);
		return -e;
	}
	return s->nl++;
}

int http_server_route(struct http_server *s, int l, const char *path, http_handler_fn fn,
		      void *ctx)
{
	struct listener *ln;

	if (l < 0 || l >= s->nl)
		return -EINVAL;
	ln = &s->l[l];
	if (strlen(path) >= sizeof(ln->routes[0].path))
		return -ENAMETOOLONG;
	if (ln->nroutes == HTTP_MAX_ROUTES)
		return -ENOSPC;
	ln->routes[ln->nroutes] = (struct route){ .fn = fn, .ctx = ctx };
	snprintf(ln->routes[ln->nroutes].path, sizeof(ln->routes[0].path), "%s", path);
	ln->nroutes++;
	return 0;
}

int http_server_serve(struct http_server *s, char *err, size_t errlen)
{
	int rc;

	if (!s || !s->nl)
		return 0;
	s->wake = eventfd(0, EFD_CLOEXEC);
	if (s->wake < 0) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "cannot start the HTTP server: eventfd: %s",
				    strerror(e));
	}
	rc = pthread_create(&s->thread, NULL, run, s);
	if (rc) {
		snprintf(err, errlen, "cannot start the HTTP server's thread");
		close(s->wake);
		s->wake = -1;
		return -rc; /* pthread_create returns the errno */
	}
	s->running = true;
	return 0;
}

void http_server_stop(struct http_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->running) {
		/* an eventfd write of 1 cannot fail short of a counter overflow */
		if (write(s->wake, &one, sizeof(one)) != sizeof(one))
			abort();
		pthread_join(s->thread, NULL);
	}
	if (s->wake >= 0)
		close(s->wake);
	for (int i = 0; i < HTTP_MAX_CONNECTIONS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	for (int i = 0; i < s->nl; i++)
		close(s->l[i].fd);
	free(s);
}
