// SPDX-License-Identifier: MIT
/*
 * The return probe's duration bucket and sum (bpf/counters.bpf.h),
 * compiled here as plain C: a live call cannot be made to last exactly a
 * bound, so the bounds themselves are checked here. A duration equal to a
 * bound lands in that bound's bucket (upper bound inclusive), one ns more
 * in the next; 0 in bucket 0, past 10 s in the last.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

/* The BPF headers' own includes, stood in for: the types and the two helpers used. */
#define __VMLINUX_H__
#define __BPF_HELPERS__

static struct inflight_duration *the_durations;
static struct inflight_exits *the_exits;
static void *durations_map = &durations_map, *exits_map = &exits_map;

static unsigned int bpf_get_smp_processor_id(void)
{
	return 0;
}

/* Slot 0 of the one map asked for (one CPU, chain 0, an id space of 1). */
static void *bpf_map_lookup_elem(void *map, const void *key)
{
	if (*(const __u32 *)key)
		return NULL;
	return map == durations_map ? (void *)the_durations : map == exits_map ? (void *)the_exits : NULL;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the BPF side's #pragma unroll */
#include "../../bpf/counters.bpf.h"
#pragma GCC diagnostic pop

#define MS 1000000ull
#define SEC 1000000000ull

static void test_bounds_inclusive(void **state)
{
	static const __u64 bound[INFLIGHT_DURATION_BOUNDS] = INFLIGHT_DURATION_BOUNDS_NS;

	(void)state;
	assert_int_equal(counters_duration_bucket(0), 0);
	assert_int_equal(counters_duration_bucket(1), 1);
	assert_int_equal(counters_duration_bucket(5 * MS), 1);
	assert_int_equal(counters_duration_bucket(5 * MS + 1), 2);
	assert_int_equal(counters_duration_bucket(35 * MS), 4);
	assert_int_equal(counters_duration_bucket(10 * SEC), 14);
	assert_int_equal(counters_duration_bucket(10 * SEC + 1), 15);
	assert_int_equal(counters_duration_bucket(UINT64_MAX), 15);
	/* every bound, and either side of it */
	for (int i = 0; i < INFLIGHT_DURATION_BOUNDS; i++) {
		assert_int_equal(counters_duration_bucket(bound[i]), i);
		assert_int_equal(counters_duration_bucket(bound[i] + 1), i + 1);
		if (bound[i])
			assert_int_equal(counters_duration_bucket(bound[i] - 1), i);
	}
}

/* A return: one in its bucket, its ns in the sum, one returned. */
static void test_returned(void **state)
{
	static const volatile __u32 id_space = 1;
	static const volatile bool timed = true;
	const struct counters c = { .exits = exits_map, .durations = durations_map,
				    .id_space = &id_space, .time_returns = &timed };
	struct inflight_duration d;
	struct inflight_exits e;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	the_durations = &d;
	the_exits = &e;
	counters_returned(&c, 0, 5 * MS);
	counters_returned(&c, 0, 300 * MS);
	counters_returned(&c, 0, 11 * SEC);
	assert_int_equal(d.bucket[1], 1);
	assert_int_equal(d.bucket[8], 1);
	assert_int_equal(d.bucket[15], 1);
	assert_int_equal(d.sum_ns, 5 * MS + 300 * MS + 11 * SEC);
	assert_int_equal(e.returned, 3);
	assert_int_equal(e.released, 0);
	/* no histogram slot: still counted as returned */
	the_durations = NULL;
	counters_returned(&c, 0, 1 * MS);
	assert_int_equal(e.returned, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_inclusive),
		cmocka_unit_test(test_returned),
	};

	return cmocka_run_group_tests_name("bpf: a returned call's duration bucket and sum", tests,
					   NULL, NULL);
}
