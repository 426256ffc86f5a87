/* SPDX-License-Identifier: MIT */
/*
 * The optional health endpoint (off unless --health-address is given):
 * GET /healthz answers 200 while the collection loop keeps ticking,
 * GET /readyz 200 once attached and while exports are not failing.
 */
#ifndef INFLIGHT_HEALTH_H
#define INFLIGHT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections held at once; past it the oldest is closed for the new one. */
#define HEALTH_MAX_CONNECTIONS 16

struct health;

/*
 * Listens on HOST:PORT (e.g. 127.0.0.1:8686), before the privileges are
 * dropped (a port below 1024). NULL with `err` set.
 */
struct health *health_start(const char *address, uint64_t interval_ms, char *err, size_t errlen);
/*
 * Starts answering, from a thread of its own: after the capability drop,
 * which covers only the threads that exist. 0, or a negative errno with
 * `err` set.
 */
int health_serve(struct health *h, char *err, size_t errlen);
/* The collection loop ticked (liveness). */
void health_tick(struct health *h);
/* Ready or not, and why not (a short reason, kept). */
void health_set_ready(struct health *h, bool ready, const char *why);
void health_stop(struct health *h);

#endif
