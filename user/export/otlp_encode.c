// SPDX-License-Identifier: MIT
/*
 * Field numbers from opentelemetry-proto (collector/metrics/v1,
 * metrics/v1, common/v1, resource/v1).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "export/otlp_encode.h"
#include "export/protobuf.h"
#include "util/double_text.h"

enum {
	EXPORT_REQUEST_RESOURCE_METRICS = 1,
	RESOURCE_METRICS_RESOURCE = 1,
	RESOURCE_METRICS_SCOPE_METRICS = 2,
	RESOURCE_ATTRIBUTES = 1,
	SCOPE_METRICS_SCOPE = 1,
	SCOPE_METRICS_METRICS = 2,
	SCOPE_NAME = 1,
	SCOPE_VERSION = 2,
	METRIC_NAME = 1,
	METRIC_DESCRIPTION = 2,
	METRIC_UNIT = 3,
	METRIC_GAUGE = 5,
	METRIC_SUM = 7,
	GAUGE_DATA_POINTS = 1,
	SUM_DATA_POINTS = 1,
	SUM_AGGREGATION_TEMPORALITY = 2,
	SUM_IS_MONOTONIC = 3,
	POINT_START_TIME = 2,
	POINT_TIME = 3,
	POINT_AS_DOUBLE = 4,
	POINT_AS_INT = 6,
	POINT_ATTRIBUTES = 7,
	KEY_VALUE_KEY = 1,
	KEY_VALUE_VALUE = 2,
	ANY_STRING = 1,
	ANY_BOOL = 2,
	ANY_INT = 3,
	METRIC_HISTOGRAM = 9,
	HISTOGRAM_DATA_POINTS = 1,
	HISTOGRAM_AGGREGATION_TEMPORALITY = 2,
	HPOINT_START_TIME = 2,
	HPOINT_TIME = 3,
	HPOINT_COUNT = 4,
	HPOINT_SUM = 5,
	HPOINT_BUCKET_COUNTS = 6,
	HPOINT_EXPLICIT_BOUNDS = 7,
	HPOINT_ATTRIBUTES = 9,
};

static void pb_attr(struct buf *b, uint32_t field, const struct otlp_attr *a)
{
	size_t kv = pb_begin(b, field), v;

	pb_string(b, KEY_VALUE_KEY, a->key);
	v = pb_begin(b, KEY_VALUE_VALUE);
	switch (a->type) {
	case OTLP_STRING: pb_string(b, ANY_STRING, a->s); break;
	case OTLP_BOOL: pb_uint(b, ANY_BOOL, a->b); break;
	case OTLP_INT: pb_uint(b, ANY_INT, (uint64_t)a->i); break;
	}
	pb_end(b, v);
	pb_end(b, kv);
}

/* Metric.histogram: cumulative, one HistogramDataPoint per point (no min/max). */
static void pb_histogram(struct buf *b, const struct otlp_metric *m)
{
	size_t h = pb_begin(b, METRIC_HISTOGRAM);

	for (size_t i = 0; i < m->npoints; i++) {
		const struct otlp_point *p = &m->points[i];
		const struct otlp_hist *d = &m->hist[i];
		size_t pt = pb_begin(b, HISTOGRAM_DATA_POINTS);

		pb_fixed64(b, HPOINT_START_TIME, p->start_ns);
		pb_fixed64(b, HPOINT_TIME, p->time_ns);
		pb_fixed64(b, HPOINT_COUNT, d->count);
		/* optional: written even at 0, as an SDK's histogram does */
		pb_double(b, HPOINT_SUM, d->sum);
		pb_packed_fixed64(b, HPOINT_BUCKET_COUNTS, d->bucket_counts, m->nbounds + 1);
		pb_packed_double(b, HPOINT_EXPLICIT_BOUNDS, m->bounds, m->nbounds);
		for (size_t a = 0; a < p->nattrs; a++)
			pb_attr(b, HPOINT_ATTRIBUTES, &p->attrs[a]);
		pb_end(b, pt);
	}
	pb_uint(b, HISTOGRAM_AGGREGATION_TEMPORALITY, OTLP_TEMPORALITY_CUMULATIVE);
	pb_end(b, h);
}

/* A Gauge: its points' as_double, no temporality. */
static void pb_gauge(struct buf *b, const struct otlp_metric *m)
{
	size_t gauge = pb_begin(b, METRIC_GAUGE);

	for (size_t i = 0; i < m->npoints; i++) {
		const struct otlp_point *p = &m->points[i];
		size_t pt = pb_begin(b, GAUGE_DATA_POINTS);
		uint64_t bits;

		memcpy(&bits, &p->dvalue, sizeof(bits));
		pb_fixed64(b, POINT_START_TIME, p->start_ns);
		pb_fixed64(b, POINT_TIME, p->time_ns);
		pb_fixed64(b, POINT_AS_DOUBLE, bits);
		for (size_t a = 0; a < p->nattrs; a++)
			pb_attr(b, POINT_ATTRIBUTES, &p->attrs[a]);
		pb_end(b, pt);
	}
	pb_end(b, gauge);
}

static void pb_metric(struct buf *b, const struct otlp_metric *m)
{
	size_t metric = pb_begin(b, SCOPE_METRICS_METRICS), sum;

	pb_string(b, METRIC_NAME, m->name);
	if (m->description && *m->description)
		pb_string(b, METRIC_DESCRIPTION, m->description);
	if (m->unit && *m->unit)
		pb_string(b, METRIC_UNIT, m->unit);
	if (m->hist) {
		pb_histogram(b, m);
		pb_end(b, metric);
		return;
	}
	if (m->gauge) {
		pb_gauge(b, m);
		pb_end(b, metric);
		return;
	}
	sum = pb_begin(b, METRIC_SUM);
	for (size_t i = 0; i < m->npoints; i++) {
		const struct otlp_point *p = &m->points[i];
		size_t pt = pb_begin(b, SUM_DATA_POINTS);

		pb_fixed64(b, POINT_START_TIME, p->start_ns);
		pb_fixed64(b, POINT_TIME, p->time_ns);
		pb_fixed64(b, POINT_AS_INT, (uint64_t)p->value);
		for (size_t a = 0; a < p->nattrs; a++)
			pb_attr(b, POINT_ATTRIBUTES, &p->attrs[a]);
		pb_end(b, pt);
	}
	pb_uint(b, SUM_AGGREGATION_TEMPORALITY, OTLP_TEMPORALITY_CUMULATIVE);
	/* proto3 omits false; is_monotonic=false is the default */
	if (m->monotonic)
		pb_uint(b, SUM_IS_MONOTONIC, 1);
	pb_end(b, sum);
	pb_end(b, metric);
}

int otlp_encode_protobuf(const struct otlp_export *e, struct buf *out)
{
	size_t rm = pb_begin(out, EXPORT_REQUEST_RESOURCE_METRICS), res, sm, scope;

	res = pb_begin(out, RESOURCE_METRICS_RESOURCE);
	for (size_t i = 0; i < e->nresource; i++)
		pb_attr(out, RESOURCE_ATTRIBUTES, &e->resource[i]);
	pb_end(out, res);
	sm = pb_begin(out, RESOURCE_METRICS_SCOPE_METRICS);
	scope = pb_begin(out, SCOPE_METRICS_SCOPE);
	pb_string(out, SCOPE_NAME, e->scope_name);
	if (e->scope_version)
		pb_string(out, SCOPE_VERSION, e->scope_version);
	pb_end(out, scope);
	for (size_t i = 0; i < e->nmetrics; i++)
		pb_metric(out, &e->metrics[i]);
	pb_end(out, sm);
	pb_end(out, rm);
	return out->oom ? -ENOMEM : 0;
}

static void json_attrs(struct buf *b, const struct otlp_attr *attrs, size_t n)
{
	buf_puts(b, "\"attributes\":[");
	for (size_t i = 0; i < n; i++) {
		const struct otlp_attr *a = &attrs[i];

		buf_puts(b, i ? ",{\"key\":" : "{\"key\":");
		buf_json_string(b, a->key);
		buf_puts(b, ",\"value\":{");
		switch (a->type) {
		case OTLP_STRING:
			buf_puts(b, "\"stringValue\":");
			buf_json_string(b, a->s);
			break;
		case OTLP_BOOL:
			buf_printf(b, "\"boolValue\":%s", a->b ? "true" : "false");
			break;
		case OTLP_INT:
			buf_printf(b, "\"intValue\":\"%" PRId64 "\"", a->i);
			break;
		}
		buf_puts(b, "}}");
	}
	buf_putc(b, ']');
}

static void json_double(struct buf *b, double v)
{
	char num[DOUBLE_TEXT_MAX];

	double_text(v, num, sizeof(num));
	buf_puts(b, num);
}

/* "histogram":{...}: counts as strings (64-bit), sum and bounds as numbers. */
static void json_histogram(struct buf *b, const struct otlp_metric *m)
{
	buf_puts(b, ",\"histogram\":{\"dataPoints\":[");
	for (size_t p = 0; p < m->npoints; p++) {
		const struct otlp_point *pt = &m->points[p];
		const struct otlp_hist *d = &m->hist[p];

		buf_puts(b, p ? ",{" : "{");
		json_attrs(b, pt->attrs, pt->nattrs);
		buf_printf(b,
			   ",\"startTimeUnixNano\":\"%" PRIu64 "\",\"timeUnixNano\":\"%" PRIu64
			   "\",\"count\":\"%" PRIu64 "\",\"sum\":",
			   pt->start_ns, pt->time_ns, d->count);
		json_double(b, d->sum);
		buf_puts(b, ",\"bucketCounts\":[");
		for (size_t i = 0; i <= m->nbounds; i++)
			buf_printf(b, "%s\"%" PRIu64 "\"", i ? "," : "", d->bucket_counts[i]);
		buf_puts(b, "],\"explicitBounds\":[");
		for (size_t i = 0; i < m->nbounds; i++) {
			if (i)
				buf_putc(b, ',');
			json_double(b, m->bounds[i]);
		}
		buf_puts(b, "]}");
	}
	buf_printf(b, "],\"aggregationTemporality\":%d}}", OTLP_TEMPORALITY_CUMULATIVE);
}

/* A Gauge's points, asDouble as a JSON number, then the metric's closing brace. */
static void json_gauge(struct buf *out, const struct otlp_metric *m)
{
	buf_puts(out, ",\"gauge\":{\"dataPoints\":[");
	for (size_t p = 0; p < m->npoints; p++) {
		const struct otlp_point *pt = &m->points[p];
		char v[DOUBLE_TEXT_MAX];

		double_text(pt->dvalue, v, sizeof(v));
		buf_puts(out, p ? ",{" : "{");
		json_attrs(out, pt->attrs, pt->nattrs);
		buf_printf(out,
			   ",\"startTimeUnixNano\":\"%" PRIu64 "\",\"timeUnixNano\":\"%" PRIu64
			   "\",\"asDouble\":%s}",
			   pt->start_ns, pt->time_ns, v);
	}
	buf_puts(out, "]}}");
}

int otlp_encode_json(const struct otlp_export *e, struct buf *out)
{
	buf_puts(out, "{\"resourceMetrics\":[{\"resource\":{");
	json_attrs(out, e->resource, e->nresource);
	buf_puts(out, "},\"scopeMetrics\":[{\"scope\":{\"name\":");
	buf_json_string(out, e->scope_name);
	if (e->scope_version) {
		buf_puts(out, ",\"version\":");
		buf_json_string(out, e->scope_version);
	}
	buf_puts(out, "},\"metrics\":[");
	for (size_t i = 0; i < e->nmetrics; i++) {
		const struct otlp_metric *m = &e->metrics[i];

		buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		buf_json_string(out, m->name);
		if (m->description && *m->description) {
			buf_puts(out, ",\"description\":");
			buf_json_string(out, m->description);
		}
		if (m->unit && *m->unit) {
			buf_puts(out, ",\"unit\":");
			buf_json_string(out, m->unit);
		}
		if (m->hist) {
			json_histogram(out, m);
			continue;
		}
		if (m->gauge) {
			json_gauge(out, m);
			continue;
		}
		buf_puts(out, ",\"sum\":{\"dataPoints\":[");
		for (size_t p = 0; p < m->npoints; p++) {
			const struct otlp_point *pt = &m->points[p];

			buf_puts(out, p ? ",{" : "{");
			json_attrs(out, pt->attrs, pt->nattrs);
			buf_printf(out,
				   ",\"startTimeUnixNano\":\"%" PRIu64 "\",\"timeUnixNano\":\"%" PRIu64
				   "\",\"asInt\":\"%" PRId64 "\"}",
				   pt->start_ns, pt->time_ns, pt->value);
		}
		buf_printf(out, "],\"aggregationTemporality\":%d,\"isMonotonic\":%s}}",
			   OTLP_TEMPORALITY_CUMULATIVE, m->monotonic ? "true" : "false");
	}
	buf_puts(out, "]}]}]}");
	return out->oom ? -ENOMEM : 0;
}
