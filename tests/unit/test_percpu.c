// SPDX-License-Identifier: MIT
/*
 * percpu_sum: a batch lookup of a per-CPU map returns, for each key, one copy
 * of the value per possible CPU, each padded to 8 bytes (percpu_stride).
 * These tests build that layout by hand and check the sums exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inflight.h"
#include "percpu.h"

/* Value of field `f` of key `k` on CPU `c`: distinct everywhere. */
static uint64_t sample(size_t k, size_t c, size_t f)
{
	return (uint64_t)(k + 1) * 1000000 + (uint64_t)(f + 1) * 1000 + c;
}

/* sum over c < ncpus of sample(k, c, f), in closed form */
static uint64_t sample_sum(size_t k, size_t ncpus, size_t f)
{
	return ncpus * ((uint64_t)(k + 1) * 1000000 + (uint64_t)(f + 1) * 1000) +
	       ncpus * (ncpus - 1) / 2;
}

/* Lays out nkeys x ncpus copies of sample() the way the kernel does. */
static unsigned char *kernel_layout(size_t nkeys, size_t ncpus, size_t nfields)
{
	size_t stride = percpu_stride(nfields * sizeof(uint64_t));
	unsigned char *buf = calloc(nkeys * ncpus, stride);

	assert_non_null(buf);
	for (size_t k = 0; k < nkeys; k++)
		for (size_t c = 0; c < ncpus; c++)
			for (size_t f = 0; f < nfields; f++) {
				uint64_t v = sample(k, c, f);

				memcpy(buf + (k * ncpus + c) * stride + f * sizeof(v), &v, sizeof(v));
			}
	return buf;
}

static void test_stride(void **state)
{
	(void)state;
	assert_int_equal(percpu_stride(0), 0);
	assert_int_equal(percpu_stride(1), 8);
	assert_int_equal(percpu_stride(4), 8);
	assert_int_equal(percpu_stride(8), 8);
	assert_int_equal(percpu_stride(12), 16);
	assert_int_equal(percpu_stride(16), 16);
	assert_int_equal(percpu_stride(sizeof(struct inflight_exits)), 16);
}

/* Runs percpu_sum over the sample layout and checks every sum. */
static void check_layout(size_t nkeys, size_t ncpus, size_t nfields)
{
	unsigned char *buf = kernel_layout(nkeys, ncpus, nfields);
	uint64_t *out = malloc(nkeys * nfields * sizeof(*out));

	assert_non_null(out);
	/* garbage in `out` must not leak into the sums */
	memset(out, 0xff, nkeys * nfields * sizeof(*out));
	percpu_sum(buf, nkeys, ncpus, nfields, out);
	for (size_t k = 0; k < nkeys; k++)
		for (size_t f = 0; f < nfields; f++)
			assert_int_equal(out[k * nfields + f], sample_sum(k, ncpus, f));
	free(out);
	free(buf);
}

static void test_one_field(void **state)
{
	static const size_t ncpus[] = { 1, 2, 3, 64 };

	(void)state;
	for (size_t i = 0; i < sizeof(ncpus) / sizeof(ncpus[0]); i++)
		check_layout(5, ncpus[i], 1);
}

static void test_two_fields(void **state)
{
	static const size_t ncpus[] = { 1, 2, 3, 64 };

	(void)state;
	for (size_t i = 0; i < sizeof(ncpus) / sizeof(ncpus[0]); i++)
		check_layout(5, ncpus[i], 2);
}

/* A few sums written out, so the closed form above is not all we trust. */
static void test_literal_sums(void **state)
{
	/* 2 keys x 3 CPUs, one field */
	static const uint64_t one[] = { 1, 2, 3, 10, 20, 30 };
	/* 2 keys x 2 CPUs, two fields: {returned, released} per CPU */
	static const uint64_t two[] = { 5, 1, 7, 0, 100, 9, 200, 11 };
	uint64_t out[4];

	(void)state;
	percpu_sum(one, 2, 3, 1, out);
	assert_int_equal(out[0], 6);
	assert_int_equal(out[1], 60);

	percpu_sum(two, 2, 2, 2, out);
	assert_int_equal(out[0], 12);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 300);
	assert_int_equal(out[3], 20);
}

/* The real consumer: the per-CPU exits map holds struct inflight_exits. */
static void test_exits_struct_layout(void **state)
{
	struct inflight_exits v[3 * 2]; /* 3 keys x 2 CPUs */
	uint64_t out[3 * 2];

	(void)state;
	for (size_t k = 0; k < 3; k++)
		for (size_t c = 0; c < 2; c++) {
			v[k * 2 + c].returned = 10 * (k + 1) + c;
			v[k * 2 + c].released = k + c;
		}
	percpu_sum(v, 3, 2, sizeof(struct inflight_exits) / sizeof(uint64_t), out);
	assert_int_equal(out[0], 21); /* key 0: returned 10 + 11 */
	assert_int_equal(out[1], 1);  /* released 0 + 1 */
	assert_int_equal(out[2], 41);
	assert_int_equal(out[3], 3);
	assert_int_equal(out[4], 61);
	assert_int_equal(out[5], 5);
}

/* Large counters: no narrowing anywhere on the way. */
static void test_large_values(void **state)
{
	const uint64_t q = UINT64_MAX / 4; /* 0x3fffffffffffffff */
	uint64_t one[4] = { q, q, q, q };
	/* one key, 3 CPUs, two fields */
	uint64_t two[6] = { q, 1, q - 1, 2, q - 2, 3 };
	uint64_t out[2];

	(void)state;
	percpu_sum(one, 1, 3, 1, out);
	assert_int_equal(out[0], 0xbffffffffffffffdULL);
	percpu_sum(one, 1, 4, 1, out);
	assert_int_equal(out[0], 0xfffffffffffffffcULL);
	/* or the same four copies as 2 keys x 2 CPUs */
	percpu_sum(one, 2, 2, 1, out);
	assert_int_equal(out[0], 0x7ffffffffffffffeULL);
	assert_int_equal(out[1], 0x7ffffffffffffffeULL);

	percpu_sum(two, 1, 3, 2, out);
	assert_int_equal(out[0], 0xbffffffffffffffaULL);
	assert_int_equal(out[1], 6);
}

/* Values read from an unaligned buffer (memcpy, no u64 loads). */
static void test_unaligned_buffer(void **state)
{
	unsigned char raw[1 + 3 * 8];
	uint64_t vals[3] = { 7, 8, 9 }, out[1];

	(void)state;
	memcpy(raw + 1, vals, sizeof(vals));
	percpu_sum(raw + 1, 1, 3, 1, out);
	assert_int_equal(out[0], 24);
}

/* No keys: out is not touched. */
static void test_no_keys(void **state)
{
	uint64_t in[1] = { 5 }, out[1] = { 0x1234 };

	(void)state;
	percpu_sum(in, 0, 1, 1, out);
	assert_int_equal(out[0], 0x1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stride),
		cmocka_unit_test(test_one_field),
		cmocka_unit_test(test_two_fields),
		cmocka_unit_test(test_literal_sums),
		cmocka_unit_test(test_exits_struct_layout),
		cmocka_unit_test(test_large_values),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_no_keys),
	};

	return cmocka_run_group_tests_name("percpu: summing per-CPU map values", tests, NULL, NULL);
}
