/* SPDX-License-Identifier: MIT */
/*
 * Snapshot to OTLP points: one series per chain (attribute chain.name, or
 * otel.metric.overflow=true for the overflow series), each with the start
 * time of when it was first seen, kept for as long as the collector runs.
 * A chain once seen keeps reporting, 0 when idle.
 */
#ifndef INFLIGHT_SERIES_H
#define INFLIGHT_SERIES_H

#include <stdint.h>
#include "export/otlp_model.h"
#include "probe/snapshot.h"

/* Attributes a series carries beyond its chain: at most this many. */
#define SERIES_EXTRA_ATTRS 5

/*
 * The extra attributes of a chain's series from its cgroup (k8s.pod.name,
 * ...): fills `out`, returns how many. They must not change for a cgroup.
 */
typedef size_t (*series_attrs_fn)(void *ctx, uint64_t cgroup, struct otlp_attr *out);

struct series_table {
	uint64_t *start_ns; /* by chain id; 0: not seen yet */
	size_t nstart;
	struct otlp_point *points;
	struct otlp_point *handled; /* the same series' calls ended, beside `points` */
	struct otlp_attr *attrs; /* 1 + SERIES_EXTRA_ATTRS per point */
	size_t cap;
	uint64_t last_ns; /* the time of the last points: none go before it */
	/* set by the owner: extra attributes per series, or NULL */
	series_attrs_fn extra;
	void *extra_ctx;
	/* the same series' call durations (series_duration_points), dcap of each */
	struct otlp_point *duration;
	struct otlp_hist *duration_hist;
	uint64_t *duration_buckets; /* INFLIGHT_DURATION_BUCKETS per point */
	size_t dcap;
	/* the same series' oldest call in flight, beside `points` */
	struct otlp_point *oldest;
	size_t oldest_cap;
};

/*
 * Where series start times are kept beyond this table (pinned with the
 * probes, so they survive a collector restart): returns the start of series
 * `id`, recording `now` if it has none. NULL: this table alone keeps them.
 */
typedef uint64_t (*series_start_fn)(void *ctx, uint32_t id, uint64_t now);

/*
 * Fills `m->points` from `s` (the points and their attribute strings stay
 * valid until the next call or the next snapshot read). 0 or -ENOMEM.
 */
int series_points(struct series_table *t, const struct snapshot *s, const char *attr_key,
		  struct otlp_metric *m, series_start_fn start_of, void *ctx);
/*
 * Fills `m->points` with the calls each series of the last series_points
 * saw end (returned or released): a monotonic Sum beside the gauge, with
 * the gauge's attributes and start times. No points for a frame snapshot,
 * which sees no call end. Valid as long as the gauge's points.
 */
void series_handled_points(const struct series_table *t, const struct snapshot *s,
			   struct otlp_metric *m);
/*
 * Fills `m` with the durations of the calls each series of the last
 * series_points saw return: a cumulative explicit-bucket Histogram in
 * seconds (series_duration_bounds), with the gauge's attributes and start
 * times. No points for a frame snapshot, which times no call. Valid as long
 * as the gauge's points. 0 or -ENOMEM.
 */
int series_duration_points(struct series_table *t, const struct snapshot *s,
			   struct otlp_metric *m);
/* The histogram's bucket bounds in seconds: INFLIGHT_DURATION_BOUNDS of them. */
const double *series_duration_bounds(void);
/*
 * Fills `m->points` with the age in seconds of each series' oldest call in
 * flight at the last series_points (0 when none is): a Gauge beside the
 * in-flight one, with its attributes and times. A series with calls in
 * flight whose start is unknown has no point. Valid as long as the
 * gauge's points. 0 or -ENOMEM.
 */
int series_oldest_points(struct series_table *t, const struct snapshot *s, struct otlp_metric *m);
/* Series `id` ended (its id was retired): the next one on the id starts anew. */
void series_forget(struct series_table *t, uint32_t id);
void series_free(struct series_table *t);

#endif
