// SPDX-License-Identifier: MIT
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/clock.h"
#include "run/health.h"

struct health {
	pthread_mutex_t mu;
	uint64_t interval_ms;
	uint64_t last_tick_ms;
	bool ready;
	char why[128];
};

static void healthz(void *ctx, const char *req, struct http_reply *r)
{
	struct health *h = ctx;
	bool live;

	(void)req;
	pthread_mutex_lock(&h->mu);
	/* live: the loop ticked within three intervals (plus slack for exports) */
	live = clock_mono_ms() - h->last_tick_ms <= 3 * h->interval_ms + 5000;
	pthread_mutex_unlock(&h->mu);
	http_reply_text(r, live ? 200 : 503, live ? "ok\n" : "the collection loop is stuck\n");
}

static void readyz(void *ctx, const char *req, struct http_reply *r)
{
	struct health *h = ctx;
	char body[160];
	bool ready;

	(void)req;
	pthread_mutex_lock(&h->mu);
	ready = h->ready;
	snprintf(body, sizeof(body), "%s\n", ready ? "ready" : h->why);
	pthread_mutex_unlock(&h->mu);
	http_reply_text(r, ready ? 200 : 503, body);
}

struct health *health_start(struct http_server *srv, const char *address, uint64_t interval_ms,
			    char *err, size_t errlen)
{
	struct health *h = calloc(1, sizeof(*h));
	int l;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	h->interval_ms = interval_ms;
	h->last_tick_ms = clock_mono_ms();
	snprintf(h->why, sizeof(h->why), "not attached yet");
	l = http_server_listen(srv, "--health-address", "127.0.0.1:8686", address, err, errlen);
	if (l < 0)
		goto fail;
	if (http_server_route(srv, l, "/healthz", healthz, h) ||
	    http_server_route(srv, l, "/readyz", readyz, h)) {
		snprintf(err, errlen, "--health-address %s: no room for its routes", address);
		goto fail;
	}
	return h;
fail:
	pthread_mutex_destroy(&h->mu);
	free(h);
	return NULL;
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
	pthread_mutex_destroy(&h->mu);
	free(h);
}
