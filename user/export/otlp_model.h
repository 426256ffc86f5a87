/* SPDX-License-Identifier: MIT */
/*
 * One OTLP metrics export, as the encoders see it: a resource, one scope,
 * metrics with integer data points (Sums), floating-point ones (Gauges) or
 * explicit-bucket histograms. Nothing here owns memory.
 */
#ifndef INFLIGHT_OTLP_MODEL_H
#define INFLIGHT_OTLP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum otlp_value_type { OTLP_STRING, OTLP_BOOL, OTLP_INT };

struct otlp_attr {
	const char *key;
	enum otlp_value_type type;
	const char *s;
	bool b;
	int64_t i;
};

struct otlp_point {
	const struct otlp_attr *attrs;
	size_t nattrs;
	uint64_t start_ns;
	uint64_t time_ns;
	int64_t value; /* as_int */
	double dvalue; /* as_double: a gauge's value */
};

/* AggregationTemporality, as in metrics.proto */
#define OTLP_TEMPORALITY_CUMULATIVE 2

/*
 * A histogram point's distribution, beside its otlp_point (which carries
 * the attributes and times; its value is the count).
 */
struct otlp_hist {
	uint64_t count;
	double sum;
	const uint64_t *bucket_counts; /* the metric's nbounds + 1, per bucket (not cumulative) */
};

struct otlp_metric {
	const char *name;
	const char *description;
	const char *unit;
	bool monotonic;
	const struct otlp_point *points;
	size_t npoints;
	/*
	 * Set: an explicit-bucket Histogram (cumulative) instead of a Sum,
	 * hist[i] the distribution of points[i], `bounds` its nbounds bucket
	 * bounds (upper, inclusive). NULL: a Sum.
	 */
	const struct otlp_hist *hist;
	const double *bounds;
	size_t nbounds;
	/* a Gauge of doubles (points' dvalue; `monotonic` unused), not a Sum */
	bool gauge;
};

struct otlp_export {
	const struct otlp_attr *resource;
	size_t nresource;
	const char *scope_name;
	const char *scope_version;
	const struct otlp_metric *metrics;
	size_t nmetrics;
};

#endif
