/* SPDX-License-Identifier: MIT */
/*
 * The optional health endpoint (off unless --health-address is given):
 * GET /healthz answers 200 while the collection loop keeps ticking,
 * GET /readyz 200 once attached and while exports are not failing. Two
 * routes on the collector's HTTP server (http_server.h), which answers
 * them while idle clients hold connections open.
 */
#ifndef INFLIGHT_HEALTH_H
#define INFLIGHT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "export/http_server.h"

struct health;

/*
 * Listens on HOST:PORT (e.g. 127.0.0.1:8686) with `srv`, before the
 * privileges are dropped (a port below 1024), and routes /healthz and
 * /readyz there; http_server_serve starts answering. NULL with `err` set.
 */
struct health *health_start(struct http_server *srv, const char *address, uint64_t interval_ms,
			    char *err, size_t errlen);
/* The collection loop ticked (liveness). */
void health_tick(struct health *h);
/* Ready or not, and why not (a short reason, kept). */
void health_set_ready(struct health *h, bool ready, const char *why);
/* After http_server_stop: the routes use it until then. */
void health_stop(struct health *h);

#endif
