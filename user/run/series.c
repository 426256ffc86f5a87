// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "run/series.h"

int series_points(struct series_table *t, const struct snapshot *s, const char *attr_key,
		  struct otlp_metric *m, series_start_fn start_of, void *ctx)
{
	/*
	 * CLOCK_REALTIME can be stepped backwards: a point never goes before
	 * one already exported (nor, below, before its series' start).
	 */
	uint64_t now = s->ts_ns > t->last_ns ? s->ts_ns : t->last_ns;

	m->points = NULL;
	m->npoints = 0;
	if (s->n > t->cap) {
		struct otlp_point *p = realloc(t->points, s->n * sizeof(*p));
		struct otlp_attr *a;

		if (!p)
			return -ENOMEM;
		t->points = p;
		p = realloc(t->handled, s->n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->handled = p;
		a = realloc(t->attrs, s->n * (1 + SERIES_EXTRA_ATTRS) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		t->attrs = a;
		t->cap = s->n;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];
		struct otlp_attr *a = &t->attrs[i * (1 + SERIES_EXTRA_ATTRS)];
		size_t na = 1;

		if (c->id >= t->nstart) {
			size_t n = (size_t)c->id + 64;
			uint64_t *grown = realloc(t->start_ns, n * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			memset(grown + t->nstart, 0, (n - t->nstart) * sizeof(*grown));
			t->start_ns = grown;
			t->nstart = n;
		}
		if (!t->start_ns[c->id])
			t->start_ns[c->id] = start_of ? start_of(ctx, c->id, now) : now;
		if (c->overflow)
			*a = (struct otlp_attr){ .key = "otel.metric.overflow", .type = OTLP_BOOL, .b = true };
		else
			*a = (struct otlp_attr){ .key = attr_key, .type = OTLP_STRING, .s = c->name };
		if (t->extra && c->cgroup)
			na += t->extra(t->extra_ctx, c->cgroup, a + 1);
		t->points[i] = (struct otlp_point){
			.attrs = a,
			.nattrs = na,
			.start_ns = t->start_ns[c->id],
			.time_ns = now > t->start_ns[c->id] ? now : t->start_ns[c->id],
			.value = c->inflight,
		};
		/*
		 * Every call that ended, as the in-process counter's -1 counts
		 * them. A reused id's counts start from its base (the reader's),
		 * so a new series starts from 0 with its new start time; pinned
		 * counters carry on across a restart, with the pinned start.
		 */
		t->handled[i] = t->points[i];
		t->handled[i].value = (int64_t)(c->returned + c->released);
	}
	m->points = t->points;
	m->npoints = s->n;
	t->last_ns = now;
	return 0;
}

void series_handled_points(const struct series_table *t, const struct snapshot *s,
			   struct otlp_metric *m)
{
	m->points = s->gauge_only ? NULL : t->handled;
	m->npoints = s->gauge_only ? 0 : s->n;
}

const double *series_duration_bounds(void)
{
	/* INFLIGHT_DURATION_BOUNDS_NS in seconds (test_series checks they agree) */
	static const double bounds[INFLIGHT_DURATION_BOUNDS] = {
		0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
	};

	return bounds;
}

int series_duration_points(struct series_table *t, const struct snapshot *s,
			   struct otlp_metric *m)
{
	m->points = NULL;
	m->hist = NULL;
	m->npoints = 0;
	m->bounds = series_duration_bounds();
	m->nbounds = INFLIGHT_DURATION_BOUNDS;
	if (s->gauge_only || !s->n)
		return 0;
	if (s->n > t->dcap) {
		struct otlp_point *p = realloc(t->duration, s->n * sizeof(*p));
		struct otlp_hist *h;
		uint64_t *b;

		if (!p)
			return -ENOMEM;
		t->duration = p;
		h = realloc(t->duration_hist, s->n * sizeof(*h));
		if (!h)
			return -ENOMEM;
		t->duration_hist = h;
		b = realloc(t->duration_buckets,
			    s->n * INFLIGHT_DURATION_BUCKETS * sizeof(*b));
		if (!b)
			return -ENOMEM;
		t->duration_buckets = b;
		t->dcap = s->n;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];
		uint64_t *b = &t->duration_buckets[i * INFLIGHT_DURATION_BUCKETS];

		/*
		 * The gauge's attributes and times. A reused id's histogram was
		 * emptied when it was retired, so a new series starts from 0
		 * with its new start time; a pinned one carries on across a
		 * restart, with the pinned start.
		 */
		t->duration[i] = t->points[i];
		t->duration[i].value = (int64_t)c->duration_count;
		memcpy(b, c->duration_bucket, INFLIGHT_DURATION_BUCKETS * sizeof(*b));
		t->duration_hist[i] = (struct otlp_hist){
			.count = c->duration_count,
			.sum = (double)c->duration_sum_ns / 1e9,
			.bucket_counts = b,
		};
	}
	m->points = t->duration;
	m->hist = t->duration_hist;
	m->npoints = s->n;
	return 0;
}

int series_oldest_points(struct series_table *t, const struct snapshot *s, struct otlp_metric *m)
{
	size_t n = 0;

	m->gauge = true;
	m->points = NULL;
	m->npoints = 0;
	if (s->n > t->oldest_cap) {
		struct otlp_point *p = realloc(t->oldest, s->n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->oldest = p;
		t->oldest_cap = s->n;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];

		/* no call in flight: 0, as an idle chain's gauge says; unknown: no point */
		if (c->inflight > 0 && !c->oldest_known)
			continue;
		t->oldest[n] = t->points[i];
		t->oldest[n].value = 0;
		t->oldest[n].dvalue = c->inflight > 0 ? (double)c->oldest_age_ns / 1e9 : 0;
		n++;
	}
	m->points = t->oldest;
	m->npoints = n;
	return 0;
}

void series_forget(struct series_table *t, uint32_t id)
{
	if (id < t->nstart)
		t->start_ns[id] = 0;
}

void series_free(struct series_table *t)
{
	free(t->start_ns);
	free(t->points);
	free(t->handled);
	free(t->oldest);
	free(t->attrs);
	free(t->duration);
	free(t->duration_hist);
	free(t->duration_buckets);
	memset(t, 0, sizeof(*t));
}
