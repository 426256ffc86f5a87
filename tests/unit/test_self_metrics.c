// SPDX-License-Identifier: MIT
/*
 * self_metrics: the collector's own counters as monotonic Sums. A healthy
 * collector must add nothing (so the export stays the gauge alone); each
 * counter appears once non-zero, under its metric, with a `reason` where
 * one metric has several causes, all with the same start time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "run/self_metrics.h"

#define T0 1700000000000000000ull
#define T1 (T0 + 5000000000ull)

static const struct otlp_metric *find(const struct self_metrics *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m->metrics[i].name, name))
			return &m->metrics[i];
	return NULL;
}

static int64_t value_of(const struct otlp_metric *m, const char *reason)
{
	for (size_t i = 0; i < m->npoints; i++) {
		const struct otlp_point *p = &m->points[i];

		if (!reason && !p->nattrs)
			return p->value;
		if (reason && p->nattrs == 1 && !strcmp(p->attrs[0].key, "reason") &&
		    !strcmp(p->attrs[0].s, reason))
			return p->value;
	}
	return -1;
}

static void test_all_zero_adds_nothing(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 };
	struct self_metrics m;

	(void)state;
	assert_int_equal(self_metrics_build(&m, stats, NULL, 0, 0, T0, T1), 0);
}

static void test_only_nonzero_series(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 };
	struct self_metrics m;
	const struct otlp_metric *u;
	size_t n;

	(void)state;
	stats[INFLIGHT_STAT_DEPTH_FULL] = 3;
	n = self_metrics_build(&m, stats, NULL, 0, 0, T0, T1);
	assert_int_equal(n, 1);
	u = find(&m, n, "inflight.calls.uncounted");
	assert_non_null(u);
	assert_true(u->monotonic);
	assert_string_equal(u->unit, "{call}");
	assert_non_null(u->description);
	/* threads_full is still 0: no point for it */
	assert_int_equal(u->npoints, 1);
	assert_int_equal(value_of(u, "depth"), 3);
	assert_true(u->points[0].start_ns == T0);
	assert_true(u->points[0].time_ns == T1);
}

static void test_every_counter(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT];
	struct self_metrics m;
	const struct otlp_metric *x;
	size_t n, points = 0;

	(void)state;
	for (int k = 0; k < INFLIGHT_STAT__COUNT; k++)
		stats[k] = 10 + (uint64_t)k;
	n = self_metrics_build(&m, stats, NULL, 5, 7, T0, T1);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		points += m.metrics[i].npoints;
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(m.metrics[i].name, m.metrics[j].name);
	}
	/* every stat once, plus the attach and exporter counts */
	assert_int_equal(points, INFLIGHT_STAT__COUNT + 2);

	x = find(&m, n, "inflight.calls.overflowed");
	assert_int_equal(value_of(x, NULL), 10 + INFLIGHT_STAT_OVERFLOW);
	x = find(&m, n, "inflight.calls.uncounted");
	assert_int_equal(value_of(x, "threads_full"), 10 + INFLIGHT_STAT_THREADS_FULL);
	assert_int_equal(value_of(x, "depth"), 10 + INFLIGHT_STAT_DEPTH_FULL);
	x = find(&m, n, "inflight.chains.unreadable");
	assert_int_equal(value_of(x, NULL), 10 + INFLIGHT_STAT_FETCH_FAULT);
	x = find(&m, n, "inflight.calls.released");
	assert_int_equal(x->npoints, 7);
	assert_int_equal(value_of(x, "stale_frame"), 10 + INFLIGHT_STAT_RELEASED_STALE);
	assert_int_equal(value_of(x, "thread_exit"), 10 + INFLIGHT_STAT_RELEASED_EXIT);
	assert_int_equal(value_of(x, "exec"), 10 + INFLIGHT_STAT_RELEASED_EXEC);
	assert_int_equal(value_of(x, "exception"), 10 + INFLIGHT_STAT_RELEASED_CATCH);
	assert_int_equal(value_of(x, "longjmp"), 10 + INFLIGHT_STAT_RELEASED_LONGJMP);
	assert_int_equal(value_of(x, "goroutine_exit"), 10 + INFLIGHT_STAT_RELEASED_GOEXIT);
	assert_int_equal(value_of(x, "go_recover"), 10 + INFLIGHT_STAT_RELEASED_RECOVER);
	x = find(&m, n, "inflight.returns.unmatched");
	assert_int_equal(value_of(x, NULL), 10 + INFLIGHT_STAT_UNMATCHED);
	x = find(&m, n, "inflight.attach.failed");
	assert_string_equal(x->unit, "{process}");
	assert_int_equal(value_of(x, NULL), 5);
	x = find(&m, n, "inflight.exports.failed");
	assert_string_equal(x->unit, "{export}");
	assert_int_equal(value_of(x, NULL), 7);
}

/* The CPython reader's counters: readings given up by reason, calls capped. */
static void test_python_reader(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 };
	uint64_t py[PY_STAT__COUNT] = { [PY_STAT_OVER_BUDGET_READS] = 3,
					[PY_STAT_OVER_BUDGET_CYCLE] = 1,
					[PY_STAT_CHAINS_CAPPED] = 9 };
	struct self_metrics m;
	const struct otlp_metric *x;
	size_t n;

	(void)state;
	n = self_metrics_build(&m, stats, py, 0, 0, T0, T1);
	assert_int_equal(n, 2);
	x = find(&m, n, "inflight.processes.over_budget");
	assert_int_equal(x->npoints, 2);
	assert_int_equal(value_of(x, "reads"), 3);
	assert_int_equal(value_of(x, "cycle"), 1);
	x = find(&m, n, "inflight.chains.capped");
	assert_int_equal(value_of(x, NULL), 9);
}

/* A second build replaces the first: nothing accumulates between calls. */
static void test_rebuild(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 };
	struct self_metrics m;
	size_t n;

	(void)state;
	stats[INFLIGHT_STAT_RELEASED_EXIT] = 1;
	n = self_metrics_build(&m, stats, NULL, 0, 2, T0, T0);
	assert_int_equal(n, 2);
	stats[INFLIGHT_STAT_RELEASED_EXIT] = 4;
	n = self_metrics_build(&m, stats, NULL, 0, 0, T0, T1);
	assert_int_equal(n, 1);
	assert_int_equal(m.metrics[0].npoints, 1);
	assert_int_equal(value_of(&m.metrics[0], "thread_exit"), 4);
}

/* The clock stepped back below the counters' start: no point before it. */
static void test_clock_stepped_back(void **state)
{
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 };
	struct self_metrics m;
	size_t n;

	(void)state;
	stats[INFLIGHT_STAT_OVERFLOW] = 3;
	n = self_metrics_build(&m, stats, NULL, 1, 0, T1, T0);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < m.metrics[i].npoints; k++)
			assert_true(m.metrics[i].points[k].time_ns >= m.metrics[i].points[k].start_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_zero_adds_nothing),
		cmocka_unit_test(test_only_nonzero_series),
		cmocka_unit_test(test_every_counter),
		cmocka_unit_test(test_python_reader),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_clock_stepped_back),
	};

	return cmocka_run_group_tests_name("self_metrics: the collector's own counters", tests, NULL,
					   NULL);
}
