// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "export/exporter.h"
#include "util/log.h"
#include "export/otlp_http.h"
#include "export/retry.h"
#include "util/clock.h"

struct exporter {
	const struct export_config *cfg;
	struct otlp_http *http;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct buf waiting;    /* the newest export not yet taken */
	bool has_waiting;
	bool stopping;
	uint64_t stop_deadline; /* CLOCK_MONOTONIC ms, when stopping */
	bool unsent;            /* the last export taken was given up */
	struct exporter_stats stats;
	/* failures are logged when they start or change, not every attempt */
	bool failing;
	uint64_t failures_in_row; /* HTTP attempts */
	uint64_t lost_in_row;     /* exports given up */
	uint64_t last_summary;    /* CLOCK_MONOTONIC ms of the last failure line */
	char last_error[512];
};

/*
 * Waits on the condition until `deadline_ms` (clock_mono_ms), or a signal;
 * mutex held. The condition waits on CLOCK_MONOTONIC (exporter_start), so the
 * deadline is the absolute time itself; one already past returns at once.
 */
static void wait_until(struct exporter *e, uint64_t deadline_ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ms / 1000),
		.tv_nsec = (long)(deadline_ms % 1000) * 1000000L,
	};

	pthread_cond_timedwait(&e->cv, &e->mu, &ts);
}

static void describe(const struct send_outcome *o, char *out, size_t size)
{
	if (!o->http_status)
		snprintf(out, size, "%s", o->error);
	else if (o->response.message[0])
		snprintf(out, size, "HTTP %ld: %s", o->http_status, o->response.message);
	else
		snprintf(out, size, "HTTP %ld", o->http_status);
}

/*
 * A failure is logged when a failing streak starts or its reason changes;
 * while it goes on, one summary a minute says how many exports were lost.
 * An endpoint down for an hour at a 5 s interval writes 60 lines, not 1440.
 */
#define FAILURE_SUMMARY_MS 60000

static void note_failure(struct exporter *e, const char *what, bool final)
{
	uint64_t now = clock_mono_ms();

	e->failures_in_row++;
	if (final)
		e->lost_in_row++;
	if (!e->failing || strcmp(e->last_error, what)) {
		log_warn("export to %s failed, %s: %s", e->cfg->url,
			 final ? "not retried" : "retrying", what);
		snprintf(e->last_error, sizeof(e->last_error), "%s", what);
		e->last_summary = now;
	} else if (now - e->last_summary >= FAILURE_SUMMARY_MS) {
		log_warn("export to %s still failing (%s): %llu export%s not delivered so far",
			 e->cfg->url, what, (unsigned long long)e->lost_in_row,
			 e->lost_in_row == 1 ? "" : "s");
		e->last_summary = now;
	}
	e->failing = true;
}

static void note_success(struct exporter *e, const struct send_outcome *o)
{
	if (e->failing)
		log_info("export to %s recovered after %llu failed attempt%s (%llu export%s not delivered)",
			 e->cfg->url, (unsigned long long)e->failures_in_row,
			 e->failures_in_row == 1 ? "" : "s", (unsigned long long)e->lost_in_row,
			 e->lost_in_row == 1 ? "" : "s");
	e->failing = false;
	e->failures_in_row = 0;
	e->lost_in_row = 0;
	e->last_error[0] = '\0';
	if (o->response.partial && (o->response.rejected || o->response.message[0]))
		log_warn("export to %s partly rejected: %lld data point%s rejected%s%s", e->cfg->url,
			 (long long)o->response.rejected, o->response.rejected == 1 ? "" : "s",
			 o->response.message[0] ? ": " : "", o->response.message);
}

/*
 * Sends `body` until it is accepted, refused, or the deadline passes. A newer
 * export arriving meanwhile replaces it. Called without the mutex.
 */
static void send_one(struct exporter *e, struct buf *body)
{
	uint64_t deadline = clock_mono_ms() + e->cfg->export_timeout_ms;
	struct send_outcome o;
	/* the reason given when time runs out: the last attempt's, if any */
	char what[600] = "no time left for this export";

	for (unsigned attempt = 0;; attempt++) {
		uint64_t now = clock_mono_ms(), delay, budget;
		enum send_result r;
		uint32_t rnd = 0;

		pthread_mutex_lock(&e->mu);
		if (e->stopping && e->stop_deadline < deadline)
			deadline = e->stop_deadline;
		pthread_mutex_unlock(&e->mu);
		if (now >= deadline) {
			__atomic_fetch_add(&e->stats.failed, 1, __ATOMIC_RELAXED);
			e->unsent = true;
			note_failure(e, what, true);
			return;
		}
		budget = deadline - now;
		r = otlp_http_send(e->http, body,
				   budget < e->cfg->timeout_ms ? budget : e->cfg->timeout_ms, &o);
		e->stats.attempts++;
		if (r == SEND_OK) {
			e->stats.sent++;
			e->unsent = false;
			note_success(e, &o);
			return;
		}
		describe(&o, what, sizeof(what));
		if (r == SEND_FAIL) {
			__atomic_fetch_add(&e->stats.failed, 1, __ATOMIC_RELAXED);
			e->unsent = false; /* refused for good: sending it again would not help */
			note_failure(e, what, true);
			return;
		}
		note_failure(e, what, false);
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)now * 2654435761u;
		delay = o.has_retry_after ? o.retry_after_ms : retry_backoff_ms(attempt, rnd);
		if (clock_mono_ms() + delay >= deadline) {
			/* the next try would pass the export deadline: give this one up */
			__atomic_fetch_add(&e->stats.failed, 1, __ATOMIC_RELAXED);
			e->unsent = true;
			note_failure(e, what, true);
			return;
		}
		log_debug("export retry %u in %llu ms%s", attempt + 1, (unsigned long long)delay,
			  o.has_retry_after ? " (Retry-After)" : "");
		pthread_mutex_lock(&e->mu);
		{
			uint64_t until = clock_mono_ms() + delay;

			/* the receiver asked for this pause: newer values wait it out too */
			while (clock_mono_ms() < until && !(e->stopping && e->stop_deadline <= until))
				wait_until(e, until);
			if (e->has_waiting) {
				/* newer values supersede these: send those instead */
				struct buf t = *body;

				*body = e->waiting;
				e->waiting = t;
				e->has_waiting = false;
				e->stats.superseded++;
			}
		}
		pthread_mutex_unlock(&e->mu);
	}
}

static void *run(void *arg)
{
	struct exporter *e = arg;
	struct buf body = { 0 };

	pthread_mutex_lock(&e->mu);
	for (;;) {
		struct buf t;

		while (!e->has_waiting && !e->stopping)
			pthread_cond_wait(&e->cv, &e->mu);
		if (!e->has_waiting)
			break;
		t = body;
		body = e->waiting;
		e->waiting = t;
		e->has_waiting = false;
		pthread_mutex_unlock(&e->mu);
		send_one(e, &body);
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	buf_free(&body);
	return NULL;
}

struct exporter *exporter_start(const struct export_config *c, char *err, size_t errlen)
{
	struct exporter *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->cfg = c;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	e->http = otlp_http_new(c);
	if (!e->http) {
		snprintf(err, errlen, "cannot set up libcurl for %s", c->url);
		goto fail;
	}
	if (pthread_create(&e->thread, NULL, run, e)) {
		snprintf(err, errlen, "cannot start the export thread");
		goto fail;
	}
	return e;
fail:
	otlp_http_free(e->http);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
	return NULL;
}

void exporter_submit(struct exporter *e, struct buf *payload)
{
	struct buf t;

	pthread_mutex_lock(&e->mu);
	if (e->has_waiting)
		e->stats.superseded++;
	t = e->waiting;
	e->waiting = *payload;
	*payload = t;
	buf_reset(payload);
	e->has_waiting = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

uint64_t exporter_failed(struct exporter *e)
{
	/* written by the sending thread alone, read by the collector: atomics suffice */
	return __atomic_load_n(&e->stats.failed, __ATOMIC_RELAXED);
}

bool exporter_healthy(struct exporter *e, char *why, size_t size)
{
	bool ok;

	pthread_mutex_lock(&e->mu);
	/* `failing` and `last_error` belong to the sending thread: a racy read is fine here */
	ok = !e->failing;
	snprintf(why, size, "exports failing: %s", e->last_error);
	pthread_mutex_unlock(&e->mu);
	return ok;
}

int exporter_stop(struct exporter *e, uint64_t timeout_ms, struct exporter_stats *stats)
{
	int rc;

	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	e->stop_deadline = clock_mono_ms() + timeout_ms;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	rc = e->unsent || e->has_waiting ? -ETIMEDOUT : 0;
	if (stats)
		*stats = e->stats;
	otlp_http_free(e->http);
	buf_free(&e->waiting);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
	return rc;
}
