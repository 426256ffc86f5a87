// SPDX-License-Identifier: MIT
/*
 * percpu_sum: counters the BPF side keeps in slot [cpu][id][field] of a
 * mapped array, summed over CPUs for the ids in use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "probe/percpu.h"

/* Fills [ncpus][stride][nfields] with a value that names its place. */
static uint64_t *make_slots(size_t ncpus, size_t stride, size_t nfields)
{
	uint64_t *s = calloc(ncpus * stride * nfields, sizeof(*s));

	assert_non_null(s);
	for (size_t c = 0; c < ncpus; c++)
		for (size_t i = 0; i < stride; i++)
			for (size_t f = 0; f < nfields; f++)
				s[(c * stride + i) * nfields + f] = (c + 1) * 1000000 + i * 10 + f;
	return s;
}

static void check(size_t ncpus, size_t stride, size_t nfields, size_t n)
{
	uint64_t *s = make_slots(ncpus, stride, nfields);
	uint64_t *out = malloc((n ? n : 1) * nfields * sizeof(*out));

	assert_non_null(out);
	/* garbage in out must not leak into the sums */
	memset(out, 0xab, (n ? n : 1) * nfields * sizeof(*out));
	percpu_sum(s, ncpus, stride, nfields, n, out);
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < nfields; f++) {
			uint64_t want = 0;

			for (size_t c = 0; c < ncpus; c++)
				want += (c + 1) * 1000000 + i * 10 + f;
			assert_int_equal(out[i * nfields + f], want);
		}
	}
	free(out);
	free(s);
}

static void test_one_field(void **state)
{
	(void)state;
	check(1, 8, 1, 8);
	check(2, 8, 1, 8);
	check(3, 2050, 1, 2050);
	check(64, 100, 1, 100);
}

static void test_two_fields(void **state)
{
	(void)state;
	check(1, 8, 2, 8);
	check(2, 2050, 2, 2050);
	check(64, 16, 2, 16);
}

/* Only the ids handed out are read: the rest of each CPU's row is skipped. */
static void test_prefix(void **state)
{
	(void)state;
	check(2, 2050, 2, 3);
	check(4, 2050, 1, 1);
	check(2, 10, 2, 0);
}

static void test_large_values(void **state)
{
	uint64_t s[4] = { UINT64_MAX / 4, UINT64_MAX / 4, UINT64_MAX / 4, UINT64_MAX / 4 };
	uint64_t out;

	(void)state;
	percpu_sum(s, 4, 1, 1, 1, &out);
	assert_int_equal(out, (UINT64_MAX / 4) * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_field),
		cmocka_unit_test(test_two_fields),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_large_values),
	};

	return cmocka_run_group_tests_name("percpu: summing [cpu][id] counter slots", tests, NULL, NULL);
}
