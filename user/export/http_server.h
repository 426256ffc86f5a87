/* SPDX-License-Identifier: MIT */
/*
 * The collector's small HTTP server: the health endpoint (/healthz,
 * /readyz) and the Prometheus endpoint (/metrics) are routes on it. One
 * thread polls every listening socket and every connection, all
 * non-blocking, so no client holds up another: a connection must send its
 * request within HTTP_REQUEST_DEADLINE_MS of being accepted, a reply that
 * makes no progress for HTTP_SEND_STALL_MS is dropped, a reply larger than
 * the socket buffer is written as the client reads it (POLLOUT), and at
 * most HTTP_MAX_CONNECTIONS are held (a new one closes the oldest, one
 * still waiting for its request first). Every reply closes its connection.
 */
#ifndef INFLIGHT_HTTP_SERVER_H
#define INFLIGHT_HTTP_SERVER_H

#include <stddef.h>

/* Connections held at once, over all listeners. */
#define HTTP_MAX_CONNECTIONS 16
/* Addresses listened on: the health one and the Prometheus one. */
#define HTTP_MAX_LISTENERS 2
#define HTTP_MAX_ROUTES 4 /* per listener */
/* The request line and headers kept of a request; past it the rest is not read. */
#define HTTP_REQUEST_MAX 8192
#define HTTP_REQUEST_DEADLINE_MS 2000
#define HTTP_SEND_STALL_MS 5000

/* What a route answers. */
struct http_reply {
	int status; /* 200, 404, 503 */
	const char *content_type;
	const void *body;
	size_t len;
	/* when set, called with `release_arg` once `body` is no longer needed */
	void (*release)(void *arg);
	void *release_arg;
	char text[256]; /* room for a small body: http_reply_text */
};

/*
 * Answers `req` (the request line and headers, NUL-terminated), from the
 * server's thread. `r` comes zeroed.
 */
typedef void (*http_handler_fn)(void *ctx, const char *req, struct http_reply *r);

struct http_server;

struct http_server *http_server_new(void);
/*
 * Listens on `address` (IPv4 HOST:PORT), before the privileges are dropped
 * (a port below 1024). The same address twice shares one listener. Errors
 * name `flag` and show `example`. The listener's index, or a negative errno with `err`
 * (-EINVAL: not an IPv4 HOST:PORT, -ENOSPC: no more listeners, else the
 * socket call's).
 */
int http_server_listen(struct http_server *s, const char *flag, const char *example,
		       const char *address, char *err, size_t errlen);
/*
 * GET `path` (a query string aside) on listener `l` calls `fn`. 0, or
 * -ENOSPC when full (-EINVAL: no such listener, -ENAMETOOLONG: `path`).
 */
int http_server_route(struct http_server *s, int l, const char *path, http_handler_fn fn,
		      void *ctx);
/*
 * Starts answering, from one thread: after the capability drop, which
 * covers only the threads that exist. Nothing to serve (no listener, or
 * `s` NULL): no thread. 0, or a negative errno with `err` set.
 */
int http_server_serve(struct http_server *s, char *err, size_t errlen);
/* Stops the thread, closes every socket, releases every reply's body. */
void http_server_stop(struct http_server *s);

/* A text/plain reply with `text` (truncated to r->text) as its body. */
void http_reply_text(struct http_reply *r, int status, const char *text);

#endif
