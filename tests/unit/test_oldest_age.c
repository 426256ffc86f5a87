// SPDX-License-Identifier: MIT
/*
 * Native targets: a chain's oldest call in flight is its earliest entry
 * among the calls pending, aged at the reading; unknown where the counters
 * say calls are in flight but none is pending any more, and for an idle
 * chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probe/oldest_age.h"
#include "probe/pending_calls.h"

#define SEC 1000000000ull

static void test_earliest_per_chain(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .inflight = 3 },
		{ .id = 7, .name = "beta", .inflight = 1 },
		{ .id = 3, .name = "gone", .inflight = 1 },  /* ended between the two reads */
		{ .id = 4, .name = "idle", .inflight = 0, .oldest_known = true, .oldest_age_ns = 5 },
		{ .id = 0, .name = "(overflow)", .overflow = true, .inflight = 1 },
	};
	/* by pid and depth, as the reader gives them: the chains interleave */
	struct pending_call calls[] = {
		{ .pid = 10, .tid = 10, .chain = 2, .entry_ns = 95 * SEC },
		{ .pid = 10, .tid = 11, .chain = 7, .entry_ns = 99 * SEC },
		{ .pid = 10, .tid = 11, .chain = 2, .depth = 1, .entry_ns = 58 * SEC },
		{ .pid = 12, .tid = 12, .chain = 2, .entry_ns = 70 * SEC },
		{ .pid = 12, .tid = 13, .chain = 0, .entry_ns = 100 * SEC + 1 }, /* after `now` */
		{ .pid = 12, .tid = 14, .chain = 4, .entry_ns = 90 * SEC }, /* began after the counters */
	};
	struct snapshot s = { .chains = c, .n = 5 };

	(void)state;
	oldest_age_fill(&s, calls, 6, 100 * SEC);
	assert_true(c[0].oldest_known);
	assert_int_equal(c[0].oldest_age_ns, 42 * SEC);
	assert_true(c[1].oldest_known);
	assert_int_equal(c[1].oldest_age_ns, 1 * SEC);
	assert_false(c[2].oldest_known);
	assert_int_equal(c[2].oldest_age_ns, 0);
	/* idle by its counters: no age, whatever was there */
	assert_false(c[3].oldest_known);
	assert_int_equal(c[3].oldest_age_ns, 0);
	/* an entry stamped after the reading's clock: 0, never a wrapped age */
	assert_true(c[4].oldest_known);
	assert_int_equal(c[4].oldest_age_ns, 0);
}

/* Nothing pending, or the calls could not be read: no chain's age is known. */
static void test_none_pending(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .inflight = 3, .oldest_known = true, .oldest_age_ns = 9 },
	};
	struct snapshot s = { .chains = c, .n = 1 };

	(void)state;
	oldest_age_fill(&s, NULL, 0, 100 * SEC);
	assert_false(c[0].oldest_known);
	assert_int_equal(c[0].oldest_age_ns, 0);
}

/*
 * A walk of Go's goroutine map may meet a call twice (it starts over when
 * its key is deleted meanwhile): the calls come out sorted, once each.
 */
static void test_calls_once_each(void **state)
{
	struct pending_call v[] = {
		{ .pid = 20, .tid = 0, .goid = 7, .depth = 1, .entry_ns = 3 },
		{ .pid = 20, .tid = 0, .goid = 7, .depth = 0, .entry_ns = 2 },
		{ .pid = 10, .tid = 11, .goid = -1, .depth = 0, .entry_ns = 1 },
		{ .pid = 20, .tid = 0, .goid = 7, .depth = 0, .entry_ns = 2 }, /* met again */
		{ .pid = 20, .tid = 0, .goid = 9, .depth = 0, .entry_ns = 4 },
		{ .pid = 20, .tid = 0, .goid = 7, .depth = 1, .entry_ns = 3 }, /* met again */
	};
	static const struct { pid_t pid; int64_t goid; uint32_t depth; } want[] = {
		{ 10, -1, 0 }, { 20, 7, 0 }, { 20, 7, 1 }, { 20, 9, 0 },
	};
	size_t n;

	(void)state;
	n = pending_calls_sort_unique(v, 6);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].pid, want[i].pid);
		assert_int_equal(v[i].goid, want[i].goid);
		assert_int_equal(v[i].depth, want[i].depth);
	}
	assert_int_equal(pending_calls_sort_unique(v, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_earliest_per_chain),
		cmocka_unit_test(test_none_pending),
		cmocka_unit_test(test_calls_once_each),
	};

	return cmocka_run_group_tests_name("native: each chain's oldest call from the pending calls",
					   tests, NULL, NULL);
}
