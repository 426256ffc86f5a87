// SPDX-License-Identifier: MIT
/*
 * series: snapshot to OTLP points. Each chain is one cumulative series, so
 * its start time must be when it was first seen and never move, otherwise
 * backends see a counter reset every export; the overflow series is marked
 * with otel.metric.overflow=true instead of a chain name; idle chains
 * still report 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "run/series.h"

#define T0 1700000000000000000ull

static struct snapshot snap(uint64_t ts, struct chain_stat *chains, size_t n)
{
	struct snapshot s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.chains = chains;
	s.n = n;
	return s;
}

static void assert_chain_point(const struct otlp_point *p, const char *key, const char *name,
			       uint64_t start, uint64_t time, int64_t value)
{
	assert_int_equal(p->nattrs, 1);
	assert_non_null(p->attrs);
	assert_string_equal(p->attrs[0].key, key);
	assert_int_equal(p->attrs[0].type, OTLP_STRING);
	assert_string_equal(p->attrs[0].s, name);
	assert_true(p->start_ns == start);
	assert_true(p->time_ns == time);
	assert_int_equal(p->value, value);
}

static void assert_overflow_point(const struct otlp_point *p, uint64_t start, uint64_t time,
				  int64_t value)
{
	assert_int_equal(p->nattrs, 1);
	assert_non_null(p->attrs);
	assert_string_equal(p->attrs[0].key, "otel.metric.overflow");
	assert_int_equal(p->attrs[0].type, OTLP_BOOL);
	assert_true(p->attrs[0].b);
	assert_true(p->start_ns == start);
	assert_true(p->time_ns == time);
	assert_int_equal(p->value, value);
}

/* One snapshot: a point per chain, in snapshot order, all started now. */
static void test_first_snapshot(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 10, .returned = 7, .inflight = 3 },
		{ .id = 3, .name = "beta", .entered = 5, .returned = 5, .inflight = 0 }, /* idle */
		{ .id = 0, .name = "(overflow)", .overflow = true, .inflight = 4 },
	};
	struct snapshot s = snap(T0, c, 3);
	struct series_table t = { 0 };
	struct otlp_metric m = { .name = "x", .points = (void *)1, .npoints = 99 };

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 3);
	assert_chain_point(&m.points[0], "chain.name", "alpha", T0, T0, 3);
	assert_chain_point(&m.points[1], "chain.name", "beta", T0, T0, 0);
	assert_overflow_point(&m.points[2], T0, T0, 4);
	/* the metric's own fields are not touched */
	assert_string_equal(m.name, "x");
	series_free(&t);
}

/* The attribute key is the configured one. */
static void test_attribute_key(void **state)
{
	struct chain_stat c[] = { { .id = 1, .name = "GET /x", .inflight = 1 } };
	struct snapshot s = snap(T0, c, 1);
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 };

	(void)state;
	assert_int_equal(series_points(&t, &s, "http.route", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 1);
	assert_chain_point(&m.points[0], "http.route", "GET /x", T0, T0, 1);
	series_free(&t);
}

/*
 * Start times stay where they were first set; a chain first seen later
 * gets its own, later start; values and times follow each snapshot.
 */
static void test_start_times_kept(void **state)
{
	struct chain_stat first[] = {
		{ .id = 2, .name = "alpha", .inflight = 3 },
		{ .id = 3, .name = "beta", .inflight = 1 },
		{ .id = 0, .name = "", .overflow = true, .inflight = 0 },
	};
	struct chain_stat second[] = {
		{ .id = 2, .name = "alpha", .inflight = 0 },
		{ .id = 3, .name = "beta", .inflight = 5 },
		{ .id = 5, .name = "gamma", .inflight = 2 }, /* new */
		{ .id = 0, .name = "", .overflow = true, .inflight = -1 },
	};
	struct chain_stat third[] = {
		{ .id = 2, .name = "alpha", .inflight = 1 },
		{ .id = 3, .name = "beta", .inflight = 0 },
		{ .id = 5, .name = "gamma", .inflight = 0 },
		{ .id = 0, .name = "", .overflow = true, .inflight = 7 },
	};
	const uint64_t t1 = T0, t2 = T0 + 60000000000ull, t3 = T0 + 120000000000ull;
	struct snapshot s;
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 };

	(void)state;
	s = snap(t1, first, 3);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 3);

	s = snap(t2, second, 4);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 4);
	assert_chain_point(&m.points[0], "chain.name", "alpha", t1, t2, 0);
	assert_chain_point(&m.points[1], "chain.name", "beta", t1, t2, 5);
	assert_chain_point(&m.points[2], "chain.name", "gamma", t2, t2, 2);
	assert_overflow_point(&m.points[3], t1, t2, -1);

	s = snap(t3, third, 4);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 4);
	assert_chain_point(&m.points[0], "chain.name", "alpha", t1, t3, 1);
	assert_chain_point(&m.points[1], "chain.name", "beta", t1, t3, 0);
	assert_chain_point(&m.points[2], "chain.name", "gamma", t2, t3, 0);
	assert_overflow_point(&m.points[3], t1, t3, 7);
	series_free(&t);
}

/* A chain missing from one snapshot keeps its start when it is back. */
static void test_start_kept_across_absence(void **state)
{
	struct chain_stat both[] = { { .id = 1, .name = "a", .inflight = 1 }, { .id = 2, .name = "b", .inflight = 1 } };
	struct chain_stat only_b[] = { { .id = 2, .name = "b", .inflight = 2 } };
	struct snapshot s;
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 };

	(void)state;
	s = snap(T0 + 1, both, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	s = snap(T0 + 2, only_b, 1);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 1);
	assert_chain_point(&m.points[0], "chain.name", "b", T0 + 1, T0 + 2, 2);
	s = snap(T0 + 3, both, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 2);
	assert_chain_point(&m.points[0], "chain.name", "a", T0 + 1, T0 + 3, 1);
	assert_chain_point(&m.points[1], "chain.name", "b", T0 + 1, T0 + 3, 1);
	series_free(&t);
}

/* Ids far apart (the table grows) and snapshots growing past the table's capacity. */
static void test_growth(void **state)
{
	enum { N = 300 };
	static struct chain_stat many[N];
	static char names[N][16];
	struct chain_stat one[] = { { .id = 4000, .name = "far", .inflight = 9 } };
	struct snapshot s;
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 };

	(void)state;
	s = snap(T0, one, 1);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_chain_point(&m.points[0], "chain.name", "far", T0, T0, 9);

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		many[i] = (struct chain_stat){ .id = (uint32_t)(i * 17), .name = names[i], .inflight = i };
	}
	s = snap(T0 + 5, many, N);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, N);
	for (int i = 0; i < N; i++)
		assert_chain_point(&m.points[i], "chain.name", names[i], T0 + 5, T0 + 5, i);

	/* the far chain kept its start through all the growth */
	s = snap(T0 + 9, one, 1);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 1);
	assert_chain_point(&m.points[0], "chain.name", "far", T0, T0 + 9, 9);
	series_free(&t);
	assert_null(t.start_ns);
	assert_null(t.points);
	assert_int_equal(t.cap, 0);
}

/* An empty snapshot (nothing seen yet) gives no points, and no error. */
static void test_empty_snapshot(void **state)
{
	struct snapshot s = snap(T0, NULL, 0);
	struct series_table t = { 0 };
	struct otlp_metric m = { .points = (void *)1, .npoints = 7 };

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 0);
	series_free(&t);
}

static size_t pod_of(void *ctx, uint64_t cgroup, struct otlp_attr *out)
{
	(void)ctx;
	if (cgroup != 77)
		return 0;
	out[0] = (struct otlp_attr){ .key = "k8s.pod.name", .type = OTLP_STRING, .s = "web-1" };
	out[1] = (struct otlp_attr){ .key = "k8s.namespace.name", .type = OTLP_STRING, .s = "shop" };
	return 2;
}

/* Split by cgroup: the same chain twice, one with its pod's attributes. */
static void test_extra_attributes(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .cgroup = 77, .entered = 2, .inflight = 2 },
		{ .id = 3, .name = "alpha", .cgroup = 5, .entered = 1, .inflight = 1 },
		{ .id = 4, .name = "alpha", .entered = 1, .inflight = 1 },
	};
	struct snapshot s = snap(T0, c, 3);
	struct series_table t = { .extra = pod_of };
	struct otlp_metric m = { 0 };

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(m.npoints, 3);
	assert_int_equal(m.points[0].nattrs, 3);
	assert_string_equal(m.points[0].attrs[0].s, "alpha");
	assert_string_equal(m.points[0].attrs[1].key, "k8s.pod.name");
	assert_string_equal(m.points[0].attrs[2].s, "shop");
	assert_int_equal(m.points[0].value, 2);
	/* a cgroup that is no pod, and no cgroup at all: the chain alone */
	assert_chain_point(&m.points[1], "chain.name", "alpha", T0, T0, 1);
	assert_chain_point(&m.points[2], "chain.name", "alpha", T0, T0, 1);
	series_free(&t);
}

/* A start kept beyond the table (pinned by an earlier collector). */
static uint64_t pinned_start(void *ctx, uint32_t id, uint64_t now)
{
	(void)id;
	(void)now;
	return *(const uint64_t *)ctx;
}

/*
 * CLOCK_REALTIME stepped backwards (the snapshot's clock is the injected
 * one here): no point goes before its series' start, nor before a point
 * already exported; once the clock is past both again, points follow it.
 */
static void test_clock_stepped_back(void **state)
{
	struct chain_stat alpha[] = { { .id = 2, .name = "alpha", .inflight = 1 } };
	struct chain_stat both[] = {
		{ .id = 2, .name = "alpha", .inflight = 2 },
		{ .id = 4, .name = "beta", .inflight = 1 },
	};
	const uint64_t t1 = T0 + 60000000000ull, back = T0, t3 = T0 + 120000000000ull;
	const uint64_t later = T0 + 90000000000ull;
	struct snapshot s;
	struct series_table t = { 0 }, u = { 0 };
	struct otlp_metric m = { 0 };

	(void)state;
	s = snap(t1, alpha, 1);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_chain_point(&m.points[0], "chain.name", "alpha", t1, t1, 1);
	/* stepped back a minute: alpha stays at its last time; beta starts now */
	s = snap(back, both, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	for (size_t i = 0; i < m.npoints; i++)
		assert_true(m.points[i].time_ns >= m.points[i].start_ns);
	assert_chain_point(&m.points[0], "chain.name", "alpha", t1, t1, 2);
	assert_true(m.points[1].time_ns >= t1);
	/* the clock is past it again */
	s = snap(t3, both, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_chain_point(&m.points[0], "chain.name", "alpha", t1, t3, 2);
	series_free(&t);

	/* a start pinned by an earlier collector, later than this clock */
	s = snap(t1, alpha, 1);
	assert_int_equal(series_points(&u, &s, "chain.name", &m, pinned_start, (void *)&later), 0);
	assert_chain_point(&m.points[0], "chain.name", "alpha", later, later, 1);
	series_free(&u);
}

/*
 * The handled calls beside the gauge: returned + released per series, the
 * gauge's attributes and start; a series on a forgotten (retired) id
 * starts anew; a frame snapshot (CPython) has none.
 */
static void test_handled_points(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 5, .returned = 2, .released = 1, .inflight = 2 },
		{ .id = 3, .name = "beta", .entered = 4, .returned = 4, .inflight = 0 },
	};
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 }, h = { 0 };
	struct snapshot s = snap(T0, c, 2);

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	series_handled_points(&t, &s, &h);
	assert_int_equal(h.npoints, 2);
	assert_chain_point(&h.points[0], "chain.name", "alpha", T0, T0, 3);
	assert_chain_point(&h.points[1], "chain.name", "beta", T0, T0, 4);
	/* the gauge is left as it was */
	assert_chain_point(&m.points[0], "chain.name", "alpha", T0, T0, 2);

	/* later: the counts go on, the start stays */
	c[0].returned = 5;
	c[0].inflight = 0;
	s = snap(T0 + 1000, c, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	series_handled_points(&t, &s, &h);
	assert_chain_point(&h.points[0], "chain.name", "alpha", T0, T0 + 1000, 6);

	/* beta's id retired and reused: the reader bases the counts, a new start */
	series_forget(&t, 3);
	c[1] = (struct chain_stat){ .id = 3, .name = "gamma", .entered = 1, .returned = 1 };
	s = snap(T0 + 2000, c, 2);
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	series_handled_points(&t, &s, &h);
	assert_chain_point(&h.points[1], "chain.name", "gamma", T0 + 2000, T0 + 2000, 1);

	/* a frame snapshot sees no call end: no points */
	s.gauge_only = true;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	series_handled_points(&t, &s, &h);
	assert_int_equal(h.npoints, 0);
	assert_null(h.points);
	assert_int_equal(m.npoints, 2);
	series_free(&t);
}

/* The duration bounds in seconds are the BPF side's in ns. */
static void test_duration_bounds(void **state)
{
	static const uint64_t ns[INFLIGHT_DURATION_BOUNDS] = INFLIGHT_DURATION_BOUNDS_NS;
	const double *b = series_duration_bounds();

	(void)state;
	for (int i = 0; i < INFLIGHT_DURATION_BOUNDS; i++)
		if (b[i] != (double)ns[i] / 1e9)
			fail_msg("bound %d: %.17g s, %llu ns", i, b[i], (unsigned long long)ns[i]);
	assert_true(b[1] == 0.005 && b[14] == 10);
}

/* <metric>.duration: the gauge's series, count, sum in s and the buckets as read. */
static void test_duration_points(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 5, .returned = 4, .inflight = 1,
		  .duration_bucket = { [1] = 3, [8] = 1 }, .duration_count = 4,
		  .duration_sum_ns = 301500000 },
		{ .id = 3, .name = "beta", .entered = 1, .released = 1 },
	};
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 }, d = { 0 };
	struct snapshot s = snap(T0, c, 2);

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(series_duration_points(&t, &s, &d), 0);
	assert_int_equal(d.npoints, 2);
	assert_non_null(d.hist);
	assert_int_equal(d.nbounds, INFLIGHT_DURATION_BOUNDS);
	assert_true(d.bounds == series_duration_bounds());
	assert_chain_point(&d.points[0], "chain.name", "alpha", T0, T0, 4);
	assert_int_equal(d.hist[0].count, 4);
	assert_true(d.hist[0].sum == 0.3015);
	for (int b = 0; b < INFLIGHT_DURATION_BUCKETS; b++)
		assert_int_equal(d.hist[0].bucket_counts[b], b == 1 ? 3 : b == 8 ? 1 : 0);
	/* released only: a series with an empty histogram */
	assert_chain_point(&d.points[1], "chain.name", "beta", T0, T0, 0);
	assert_int_equal(d.hist[1].count, 0);
	assert_true(d.hist[1].sum == 0);

	/* more series than before: the arrays grow */
	{
		struct chain_stat more[3] = { c[0], c[1], { .id = 4, .name = "gamma" } };

		more[2].duration_bucket[15] = 2;
		more[2].duration_count = 2;
		more[2].duration_sum_ns = 30000000000ull;
		s = snap(T0 + 1000, more, 3);
		assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
		assert_int_equal(series_duration_points(&t, &s, &d), 0);
		assert_int_equal(d.npoints, 3);
		assert_chain_point(&d.points[2], "chain.name", "gamma", T0 + 1000, T0 + 1000, 2);
		assert_int_equal(d.hist[2].bucket_counts[15], 2);
		assert_true(d.hist[2].sum == 30);
		assert_int_equal(d.hist[0].bucket_counts[8], 1);
	}

	/* a frame snapshot times no call: no points */
	s = snap(T0 + 2000, c, 2);
	s.gauge_only = true;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(series_duration_points(&t, &s, &d), 0);
	assert_int_equal(d.npoints, 0);
	assert_null(d.points);
	assert_null(d.hist);
	series_free(&t);
}

/*
 * The oldest call's age beside the gauge: seconds, a Gauge with the
 * gauge's attributes and times; 0 for an idle chain; no point for a chain
 * with calls in flight whose start is unknown; CPython frame snapshots too.
 */
static void test_oldest_points(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 5, .returned = 2, .inflight = 3,
		  .oldest_known = true, .oldest_age_ns = 42500000000ull },
		{ .id = 3, .name = "beta", .entered = 4, .returned = 4, .inflight = 0 },
		{ .id = 4, .name = "gamma", .entered = 1, .inflight = 1 }, /* start unknown */
		{ .id = 0, .name = "(overflow)", .overflow = true, .entered = 2, .inflight = 2,
		  .oldest_known = true, .oldest_age_ns = 1 },
	};
	struct series_table t = { 0 };
	struct otlp_metric m = { 0 }, o = { 0 };
	struct snapshot s = snap(T0, c, 4);

	(void)state;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(series_oldest_points(&t, &s, &o), 0);
	assert_true(o.gauge);
	assert_int_equal(o.npoints, 3);
	assert_chain_point(&o.points[0], "chain.name", "alpha", T0, T0, 0);
	assert_true(o.points[0].dvalue == 42.5);
	assert_chain_point(&o.points[1], "chain.name", "beta", T0, T0, 0);
	assert_true(o.points[1].dvalue == 0);
	assert_overflow_point(&o.points[2], T0, T0, 0);
	assert_true(o.points[2].dvalue == 1e-9);
	/* the in-flight gauge is left as it was */
	assert_int_equal(m.npoints, 4);
	assert_chain_point(&m.points[0], "chain.name", "alpha", T0, T0, 3);

	/* later: alpha's calls ended (0), gamma's start now known, a frame snapshot */
	c[0].inflight = 0;
	c[0].oldest_known = false;
	c[2].oldest_known = true;
	c[2].oldest_age_ns = 3000000000ull;
	s = snap(T0 + 1000, c, 3);
	s.gauge_only = true;
	assert_int_equal(series_points(&t, &s, "chain.name", &m, NULL, NULL), 0);
	assert_int_equal(series_oldest_points(&t, &s, &o), 0);
	assert_int_equal(o.npoints, 3);
	assert_chain_point(&o.points[0], "chain.name", "alpha", T0, T0 + 1000, 0);
	assert_true(o.points[0].dvalue == 0);
	assert_chain_point(&o.points[2], "chain.name", "gamma", T0, T0 + 1000, 0);
	assert_true(o.points[2].dvalue == 3.0);
	series_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_snapshot),
		cmocka_unit_test(test_attribute_key),
		cmocka_unit_test(test_start_times_kept),
		cmocka_unit_test(test_start_kept_across_absence),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_empty_snapshot),
		cmocka_unit_test(test_extra_attributes),
		cmocka_unit_test(test_clock_stepped_back),
		cmocka_unit_test(test_handled_points),
		cmocka_unit_test(test_duration_bounds),
		cmocka_unit_test(test_duration_points),
		cmocka_unit_test(test_oldest_points),
	};

	return cmocka_run_group_tests_name("series: snapshot to cumulative OTLP points", tests, NULL,
					   NULL);
}
