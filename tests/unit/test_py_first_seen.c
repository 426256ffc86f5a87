// SPDX-License-Identifier: MIT
/*
 * A CPython call's first sighting: kept while the same frame, code and
 * argument are seen at consecutive readings; a call missing from a reading
 * is forgotten and counts anew; a changed code or argument at the same
 * address is another call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "python/py_first_seen.h"

#define SEC 1000000000ull

/* One reading at `now` of the calls `k[0..n)`: their first sightings in `first`. */
static void reading(struct py_first_seen *t, uint64_t now, const struct py_call_key *k, size_t n,
		    uint64_t *first)
{
	py_first_seen_begin(t);
	for (size_t i = 0; i < n; i++)
		first[i] = py_first_seen_mark(t, &k[i], now);
	py_first_seen_end(t);
}

static void test_kept_while_seen(void **state)
{
	struct py_first_seen t = { 0 };
	struct py_call_key a = { 0x7f0010, 0x5000, 0x6000, 0 }, b = { 0x7f0080, 0x5000, 0x6100, 0 };
	struct py_call_key both[] = { a, b }, ba[] = { b, a };
	uint64_t first[2];

	(void)state;
	/* a fresh table, an idle process: nothing held */
	reading(&t, 9 * SEC, NULL, 0, first);
	assert_int_equal(t.nlast, 0);
	reading(&t, 10 * SEC, &a, 1, first);
	assert_int_equal(first[0], 10 * SEC);
	/* b is new at 11 s, a goes on from 10 s (the order of the walk does not matter) */
	reading(&t, 11 * SEC, both, 2, first);
	assert_int_equal(first[0], 10 * SEC);
	assert_int_equal(first[1], 11 * SEC);
	reading(&t, 12 * SEC, ba, 2, first);
	assert_int_equal(first[0], 11 * SEC);
	assert_int_equal(first[1], 10 * SEC);
	/* a returned: gone; b stays */
	reading(&t, 13 * SEC, &b, 1, first);
	assert_int_equal(first[0], 11 * SEC);
	/* a's key back after a reading without it: a new call */
	reading(&t, 14 * SEC, both, 2, first);
	assert_int_equal(first[0], 14 * SEC);
	assert_int_equal(first[1], 11 * SEC);
	/* nothing in flight, then the same keys: all new */
	reading(&t, 15 * SEC, NULL, 0, first);
	reading(&t, 16 * SEC, both, 2, first);
	assert_int_equal(first[0], 16 * SEC);
	assert_int_equal(first[1], 16 * SEC);
	py_first_seen_free(&t);
}

/* Same address, another code object, argument or argument values: another call. */
static void test_same_frame_other_call(void **state)
{
	struct py_first_seen t = { 0 };
	struct py_call_key a = { 0x7f0010, 0x5000, 0x6000, 0 };
	struct py_call_key other_code = { 0x7f0010, 0x5040, 0x6000, 0 };
	struct py_call_key other_arg = { 0x7f0010, 0x5000, 0x6040, 0 };
	/* the same chain object, another vcon_id: the next call of a serial worker */
	struct py_call_key other_values = { 0x7f0010, 0x5000, 0x6040, 0x1234 };
	/* only the chain argument's object differs from a */
	struct py_call_key arg_only = { 0x7f0010, 0x5000, 0x6080, 0 };
	uint64_t first;

	(void)state;
	reading(&t, 1 * SEC, &a, 1, &first);
	reading(&t, 2 * SEC, &other_code, 1, &first);
	assert_int_equal(first, 2 * SEC);
	reading(&t, 3 * SEC, &other_arg, 1, &first);
	assert_int_equal(first, 3 * SEC);
	reading(&t, 4 * SEC, &other_arg, 1, &first);
	assert_int_equal(first, 3 * SEC);
	reading(&t, 5 * SEC, &other_values, 1, &first);
	assert_int_equal(first, 5 * SEC);
	reading(&t, 6 * SEC, &a, 1, &first);
	reading(&t, 7 * SEC, &arg_only, 1, &first);
	assert_int_equal(first, 7 * SEC);
	py_first_seen_free(&t);
}

/* A key marked twice in a reading keeps its earliest sighting once. */
static void test_duplicate_marks(void **state)
{
	struct py_first_seen t = { 0 };
	struct py_call_key a = { 0x10, 0x20, 0x30, 0 }, b = { 0x11, 0x20, 0x30, 0 };
	struct py_call_key twice[] = { a, a, b };
	uint64_t first[3];

	(void)state;
	reading(&t, 1 * SEC, &a, 1, first);
	reading(&t, 2 * SEC, twice, 3, first);
	assert_int_equal(first[0], 1 * SEC);
	assert_int_equal(first[1], 1 * SEC);
	assert_int_equal(first[2], 2 * SEC);
	assert_int_equal(t.nlast, 2);
	reading(&t, 3 * SEC, twice, 3, first);
	assert_int_equal(first[0], 1 * SEC);
	assert_int_equal(first[2], 2 * SEC);
	py_first_seen_free(&t);
}

/* Many calls (a forged process): each found again by its key. */
static void test_many(void **state)
{
	enum { N = 5000 };
	struct py_first_seen t = { 0 };
	struct py_call_key *k = calloc(N, sizeof(*k));
	uint64_t *first = calloc(N, sizeof(*first));

	(void)state;
	assert_non_null(k);
	assert_non_null(first);
	for (size_t i = 0; i < N; i++)
		k[i] = (struct py_call_key){ 0x100000 - i * 0x40, 0x5000 + (i % 7), 0x9000 + (i % 3), 0 };
	reading(&t, 1 * SEC, k, N / 2, first);
	reading(&t, 2 * SEC, k, N, first);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(first[i], i < N / 2 ? 1 * SEC : 2 * SEC);
	py_first_seen_free(&t);
	free(k);
	free(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_while_seen),
		cmocka_unit_test(test_same_frame_other_call),
		cmocka_unit_test(test_duplicate_marks),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests_name("python: a call's first sighting across readings", tests,
					   NULL, NULL);
}
