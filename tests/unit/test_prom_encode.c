// SPDX-License-Identifier: MIT
/*
 * prom_encode: an OTLP export as a Prometheus scrape body, named by the
 * OpenTelemetry-to-Prometheus rules. Whole bodies are compared byte for
 * byte, so any change of name, label order, escaping or metadata shows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/prom_encode.h"
#include "export/prom_server.h"

static const struct otlp_attr resource[] = {
	{ .key = "service.name", .type = OTLP_STRING, .s = "conserver" },
	{ .key = "host.name", .type = OTLP_STRING, .s = "node-7" },
};

static char *encode(const struct otlp_export *e, enum prom_format f)
{
	struct buf b = { 0 };
	char *s;

	assert_int_equal(prom_encode(e, f, &b), 0);
	buf_putc(&b, '\0');
	s = strdup((const char *)b.data);
	buf_free(&b);
	return s;
}

static void expect_body(const struct otlp_export *e, enum prom_format f, const char *want)
{
	char *got = encode(e, f);

	if (strcmp(got, want))
		fail_msg("got:\n%s\nexpected:\n%s", got, want);
	free(got);
}

static const struct otlp_attr chain_alpha = { .key = "chain.name", .type = OTLP_STRING, .s = "alpha" };
/* UTF-8 passes as is: Prometheus label values are UTF-8 */
static const struct otlp_attr chain_cafe = { .key = "chain.name", .type = OTLP_STRING, .s = "caf\xc3\xa9" };

static const struct otlp_point gauge_points[] = {
	{ .attrs = &chain_alpha, .nattrs = 1, .value = 3 },
	{ .attrs = &chain_cafe, .nattrs = 1, .value = 0 },
};

static const struct otlp_metric gauge = {
	.name = "conserver.vcons.inflight",
	.description = "Calls in flight, per chain",
	.unit = "{vcon}",
	.monotonic = false,
	.points = gauge_points,
	.npoints = 2,
};

static const struct otlp_attr reason_depth = { .key = "reason", .type = OTLP_STRING, .s = "depth" };

static const struct otlp_point counter_points[] = {
	{ .attrs = &reason_depth, .nattrs = 1, .value = 7 },
};

static const struct otlp_metric counter = {
	.name = "inflight.calls.uncounted",
	.description = "Calls not counted",
	.unit = "{call}",
	.monotonic = true,
	.points = counter_points,
	.npoints = 1,
};

/* The gauge: an UpDownCounter (non-monotonic cumulative Sum) is a gauge, {vcon} adds no suffix. */
static void test_gauge_text(void **state)
{
	const struct otlp_export e = { .resource = resource, .nresource = 2, .scope_name = "inflight",
				       .scope_version = "0.1.0", .metrics = &gauge, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# HELP target_info Target metadata\n"
		    "# TYPE target_info gauge\n"
		    "target_info{host_name=\"node-7\",service_name=\"conserver\"} 1\n"
		    "# HELP conserver_vcons_inflight Calls in flight, per chain\n"
		    "# TYPE conserver_vcons_inflight gauge\n"
		    "conserver_vcons_inflight{chain_name=\"alpha\",otel_scope_name=\"inflight\",otel_scope_version=\"0.1.0\"} 3\n"
		    "conserver_vcons_inflight{chain_name=\"caf\xc3\xa9\",otel_scope_name=\"inflight\",otel_scope_version=\"0.1.0\"} 0\n");
}

/* A monotonic Sum is a counter: _total on the samples, the family without it in OpenMetrics. */
static void test_counter_both_formats(void **state)
{
	const struct otlp_export e = { .metrics = &counter, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# HELP inflight_calls_uncounted_total Calls not counted\n"
		    "# TYPE inflight_calls_uncounted_total counter\n"
		    "inflight_calls_uncounted_total{reason=\"depth\"} 7\n");
	expect_body(&e, PROM_OPENMETRICS,
		    "# HELP inflight_calls_uncounted Calls not counted\n"
		    "# TYPE inflight_calls_uncounted counter\n"
		    "inflight_calls_uncounted_total{reason=\"depth\"} 7\n"
		    "# EOF\n");
}

/*
 * A Gauge of doubles (<metric>.oldest_age, unit s): a gauge family named
 * with its unit's suffix, each value in the shortest text that reads back
 * the same; OpenMetrics adds the UNIT.
 */
static void test_double_gauge(void **state)
{
	static const struct otlp_point points[] = {
		{ .attrs = &chain_alpha, .nattrs = 1, .dvalue = 1.25 },
		{ .attrs = &chain_cafe, .nattrs = 1, .dvalue = 0 },
		{ .attrs = &reason_depth, .nattrs = 1, .dvalue = 3723.000000001 },
	};
	static const struct otlp_metric age = {
		.name = "conserver.vcons.inflight.oldest_age",
		.description = "Age of the oldest call in flight",
		.unit = "s",
		.gauge = true,
		.points = points,
		.npoints = 3,
	};
	const struct otlp_export e = { .metrics = &age, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# HELP conserver_vcons_inflight_oldest_age_seconds Age of the oldest call in flight\n"
		    "# TYPE conserver_vcons_inflight_oldest_age_seconds gauge\n"
		    "conserver_vcons_inflight_oldest_age_seconds{chain_name=\"alpha\"} 1.25\n"
		    "conserver_vcons_inflight_oldest_age_seconds{chain_name=\"caf\xc3\xa9\"} 0\n"
		    "conserver_vcons_inflight_oldest_age_seconds{reason=\"depth\"} 3723.000000001\n");
	expect_body(&e, PROM_OPENMETRICS,
		    "# HELP conserver_vcons_inflight_oldest_age_seconds Age of the oldest call in flight\n"
		    "# TYPE conserver_vcons_inflight_oldest_age_seconds gauge\n"
		    "# UNIT conserver_vcons_inflight_oldest_age_seconds seconds\n"
		    "conserver_vcons_inflight_oldest_age_seconds{chain_name=\"alpha\"} 1.25\n"
		    "conserver_vcons_inflight_oldest_age_seconds{chain_name=\"caf\xc3\xa9\"} 0\n"
		    "conserver_vcons_inflight_oldest_age_seconds{reason=\"depth\"} 3723.000000001\n"
		    "# EOF\n");
}

/* OpenMetrics: target is an info family, the body ends with # EOF. */
static void test_openmetrics_target_info(void **state)
{
	const struct otlp_export e = { .resource = resource, .nresource = 1 };

	(void)state;
	expect_body(&e, PROM_OPENMETRICS,
		    "# HELP target Target metadata\n"
		    "# TYPE target info\n"
		    "target_info{service_name=\"conserver\"} 1\n"
		    "# EOF\n");
}

/* Label values: backslash, double quote and newline escaped, nothing else. */
static void test_label_value_escaping(void **state)
{
	const struct otlp_attr a = { .key = "chain.name", .type = OTLP_STRING, .s = "a\\b\"c\nd\te" };
	const struct otlp_point p = { .attrs = &a, .nattrs = 1, .value = -2 };
	const struct otlp_metric m = { .name = "g", .points = &p, .npoints = 1 };
	const struct otlp_export e = { .metrics = &m, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# TYPE g gauge\n"
		    "g{chain_name=\"a\\\\b\\\"c\\nd\te\"} -2\n");
}

/* HELP: 0.0.4 escapes backslash and newline only, OpenMetrics the quote as well. */
static void test_help_escaping(void **state)
{
	const struct otlp_metric m = { .name = "g", .description = "a\\b\"c\nd" };
	const struct otlp_export e = { .metrics = &m, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004, "# HELP g a\\\\b\"c\\nd\n# TYPE g gauge\n");
	expect_body(&e, PROM_OPENMETRICS, "# HELP g a\\\\b\\\"c\\nd\n# TYPE g gauge\n# EOF\n");
}

static void expect_label(const char *key, const char *want)
{
	char out[64];

	prom_label_name(key, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("label %s: got %s, expected %s", key, out, want);
}

static void test_label_names(void **state)
{
	(void)state;
	expect_label("chain.name", "chain_name");
	expect_label("otel.metric.overflow", "otel_metric_overflow");
	expect_label("k8s.pod.name", "k8s_pod_name");
	expect_label("a-b/c d", "a_b_c_d");
	expect_label("caf\xc3\xa9", "caf__");
	expect_label("1st", "key_1st");
	expect_label("_private", "key_private");
	expect_label("__name__", "key__name__");
	expect_label("", "key");
}

/* Keys equal once sanitised share one label, values joined with ';' in key order. */
static void test_label_collisions(void **state)
{
	const struct otlp_attr attrs[] = {
		{ .key = "team_name", .type = OTLP_STRING, .s = "y" },
		{ .key = "team.name", .type = OTLP_STRING, .s = "x" },
		{ .key = "shards", .type = OTLP_INT, .i = 12 },
		{ .key = "otel.metric.overflow", .type = OTLP_BOOL, .b = true },
	};
	const struct otlp_point p = { .attrs = attrs, .nattrs = 4, .value = 1 };
	const struct otlp_metric m = { .name = "g", .points = &p, .npoints = 1 };
	const struct otlp_export e = { .metrics = &m, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# TYPE g gauge\n"
		    "g{otel_metric_overflow=\"true\",shards=\"12\",team_name=\"x;y\"} 1\n");
}

static void expect_name(const char *name, const char *unit, bool monotonic, const char *want)
{
	char out[128];

	prom_metric_name(name, unit, monotonic, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("%s in '%s'%s: got %s, expected %s", name, unit ? unit : "(none)",
			 monotonic ? " (counter)" : "", out, want);
}

static void test_metric_names(void **state)
{
	(void)state;
	expect_name("conserver.vcons.inflight", "{vcon}", false, "conserver_vcons_inflight");
	expect_name("conserver.vcons.inflight", NULL, false, "conserver_vcons_inflight");
	expect_name("inflight.calls.released", "{call}", true, "inflight_calls_released");
	expect_name("http.server.duration", "s", false, "http_server_duration_seconds");
	expect_name("rpc.duration", "ms", false, "rpc_duration_milliseconds");
	expect_name("io.read", "By", true, "io_read_bytes");
	expect_name("io.rate", "By/s", false, "io_rate_bytes_per_second");
	expect_name("req.rate", "{request}/s", false, "req_rate_per_second");
	expect_name("cpu.utilization", "1", false, "cpu_utilization_ratio");
	expect_name("events", "1", true, "events");
	/* a suffix already there is not doubled; a counter's _total comes back once */
	expect_name("latency_seconds", "s", false, "latency_seconds");
	expect_name("jobs.total", "{job}", true, "jobs");
	/* nothing but _total: not stripped to an empty name (found by fuzz_prom) */
	expect_name("\xff\xfftotal", NULL, true, "_total");
	expect_name("weird..name--x", "furlongs", false, "weird_name_x_furlongs");
	expect_name("9lives", NULL, false, "_9lives");
	expect_name("a:b", NULL, false, "a:b");
}

/* Two OTLP metrics that map to one name are one family, not two (which a scrape rejects). */
static void test_one_family_per_name(void **state)
{
	const struct otlp_point p1 = { .value = 1 }, p2 = { .value = 2 };
	const struct otlp_metric m[] = {
		{ .name = "jobs.inflight", .points = &p1, .npoints = 1 },
		{ .name = "jobs_inflight", .points = &p2, .npoints = 1 },
	};
	const struct otlp_export e = { .metrics = m, .nmetrics = 2 };

	(void)state;
	expect_body(&e, PROM_TEXT_004, "# TYPE jobs_inflight gauge\njobs_inflight 1\njobs_inflight 2\n");
}

/* What Prometheus 2.42 sends gets OpenMetrics; plain text or a refused range does not. */
static void test_accept_negotiation(void **state)
{
	(void)state;
	assert_true(prom_accepts_openmetrics(
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
		"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
	assert_true(prom_accepts_openmetrics("application/openmetrics-text"));
	assert_false(prom_accepts_openmetrics(""));
	assert_false(prom_accepts_openmetrics("text/plain;version=0.0.4"));
	assert_false(prom_accepts_openmetrics("*/*"));
	assert_false(prom_accepts_openmetrics("application/openmetrics-text;q=0,text/plain"));
}

static const double bounds[] = { 0, 0.005, 0.25, 10 };
static const uint64_t alpha_buckets[] = { 0, 3, 0, 1, 2 };

static const struct otlp_point hist_points[] = {
	{ .attrs = &chain_alpha, .nattrs = 1, .value = 6 },
};

static const struct otlp_hist hist_values[] = {
	{ .count = 6, .sum = 31.5105, .bucket_counts = alpha_buckets },
};

static const struct otlp_metric histogram = {
	.name = "conserver.vcons.inflight.duration",
	.description = "How long calls took",
	.unit = "s",
	.points = hist_points,
	.npoints = 1,
	.hist = hist_values,
	.bounds = bounds,
	.nbounds = 4,
};

/* A Histogram: _bucket cumulative by le (+Inf last), _sum, _count; the unit's suffix. */
static void test_histogram_both_formats(void **state)
{
	const struct otlp_export e = { .scope_name = "inflight", .metrics = &histogram, .nmetrics = 1 };

	(void)state;
	expect_body(&e, PROM_TEXT_004,
		    "# HELP conserver_vcons_inflight_duration_seconds How long calls took\n"
		    "# TYPE conserver_vcons_inflight_duration_seconds histogram\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0\",otel_scope_name=\"inflight\"} 0\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0.005\",otel_scope_name=\"inflight\"} 3\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0.25\",otel_scope_name=\"inflight\"} 3\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"10\",otel_scope_name=\"inflight\"} 4\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"+Inf\",otel_scope_name=\"inflight\"} 6\n"
		    "conserver_vcons_inflight_duration_seconds_sum{chain_name=\"alpha\",otel_scope_name=\"inflight\"} 31.5105\n"
		    "conserver_vcons_inflight_duration_seconds_count{chain_name=\"alpha\",otel_scope_name=\"inflight\"} 6\n");
	/* OpenMetrics: a UNIT line, and le in the canonical float form */
	expect_body(&e, PROM_OPENMETRICS,
		    "# HELP conserver_vcons_inflight_duration_seconds How long calls took\n"
		    "# TYPE conserver_vcons_inflight_duration_seconds histogram\n"
		    "# UNIT conserver_vcons_inflight_duration_seconds seconds\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0.0\",otel_scope_name=\"inflight\"} 0\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0.005\",otel_scope_name=\"inflight\"} 3\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"0.25\",otel_scope_name=\"inflight\"} 3\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"10.0\",otel_scope_name=\"inflight\"} 4\n"
		    "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"alpha\",le=\"+Inf\",otel_scope_name=\"inflight\"} 6\n"
		    "conserver_vcons_inflight_duration_seconds_sum{chain_name=\"alpha\",otel_scope_name=\"inflight\"} 31.5105\n"
		    "conserver_vcons_inflight_duration_seconds_count{chain_name=\"alpha\",otel_scope_name=\"inflight\"} 6\n"
		    "# EOF\n");
}

/* Two targets' histograms of one name: one family; a gauge beside them keeps its own. */
static void test_histogram_one_family(void **state)
{
	static const struct otlp_attr beta = { .key = "chain.name", .type = OTLP_STRING, .s = "beta" };
	static const uint64_t beta_buckets[] = { 1, 0, 0, 0, 0 };
	static const struct otlp_point beta_point = { .attrs = &beta, .nattrs = 1, .value = 1 };
	static const struct otlp_hist beta_hist = { .count = 1, .sum = 0, .bucket_counts = beta_buckets };
	struct otlp_metric m[3] = { histogram, gauge, histogram };
	const struct otlp_export e = { .metrics = m, .nmetrics = 3 };
	char *got;

	(void)state;
	m[2].points = &beta_point;
	m[2].hist = &beta_hist;
	got = encode(&e, PROM_TEXT_004);
	assert_non_null(strstr(got, "# TYPE conserver_vcons_inflight gauge\n"));
	assert_non_null(strstr(got, "conserver_vcons_inflight_duration_seconds_count{chain_name=\"beta\"} 1\n"));
	assert_non_null(strstr(got, "conserver_vcons_inflight_duration_seconds_bucket{chain_name=\"beta\",le=\"0\"} 1\n"));
	/* one TYPE line for the histogram family, both series under it */
	{
		const char *first = strstr(got, "# TYPE conserver_vcons_inflight_duration_seconds");

		assert_non_null(first);
		assert_null(strstr(first + 1, "# TYPE conserver_vcons_inflight_duration_seconds"));
		/* the gauge family is not interleaved with the histogram's samples */
		assert_true(strstr(got, "_duration_seconds_count{chain_name=\"beta\"}") <
			    strstr(got, "# TYPE conserver_vcons_inflight gauge"));
	}
	free(got);
}

/* Two histograms of two names: each family holds its own series only. */
static void test_histogram_two_names(void **state)
{
	static const struct otlp_attr beta = { .key = "chain.name", .type = OTLP_STRING, .s = "beta" };
	static const uint64_t beta_buckets[] = { 1, 0, 0, 0, 0 };
	static const struct otlp_point beta_point = { .attrs = &beta, .nattrs = 1, .value = 1 };
	static const struct otlp_hist beta_hist = { .count = 1, .sum = 0, .bucket_counts = beta_buckets };
	struct otlp_metric m[2] = { histogram, histogram };
	const struct otlp_export e = { .metrics = m, .nmetrics = 2 };
	char *got;

	(void)state;
	m[1].name = "other.duration";
	m[1].points = &beta_point;
	m[1].hist = &beta_hist;
	got = encode(&e, PROM_TEXT_004);
	assert_non_null(strstr(got, "# TYPE other_duration_seconds histogram\n"));
	assert_non_null(strstr(got, "other_duration_seconds_count{chain_name=\"beta\"} 1\n"));
	assert_null(strstr(got, "conserver_vcons_inflight_duration_seconds_count{chain_name=\"beta\"}"));
	assert_null(strstr(got, "other_duration_seconds_count{chain_name=\"alpha\"}"));
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gauge_text),
		cmocka_unit_test(test_counter_both_formats),
		cmocka_unit_test(test_double_gauge),
		cmocka_unit_test(test_openmetrics_target_info),
		cmocka_unit_test(test_label_value_escaping),
		cmocka_unit_test(test_help_escaping),
		cmocka_unit_test(test_label_names),
		cmocka_unit_test(test_label_collisions),
		cmocka_unit_test(test_metric_names),
		cmocka_unit_test(test_one_family_per_name),
		cmocka_unit_test(test_accept_negotiation),
		cmocka_unit_test(test_histogram_both_formats),
		cmocka_unit_test(test_histogram_one_family),
		cmocka_unit_test(test_histogram_two_names),
	};

	return cmocka_run_group_tests_name("prom_encode: OTLP to the Prometheus exposition", tests,
					   NULL, NULL);
}
