// SPDX-License-Identifier: MIT
/*
 * `inflight top`'s RATE: calls ended (returned or released) per second
 * between two readings, per chain; unknown at the first reading, for a
 * frame snapshot and when the clock went back; and how the table and the
 * JSON lines show it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/rate.h"
#include "cli/render.h"

#define T0 1700000000000000000ull
#define SEC 1000000000ull

static struct snapshot snap(uint64_t ts, struct chain_stat *chains, size_t n)
{
	struct snapshot s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = ts;
	s.chains = chains;
	s.n = n;
	return s;
}

static void test_rates(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 12, .returned = 10, .released = 0 },
		{ .id = 3, .name = "beta", .entered = 3, .returned = 1, .released = 1 },
		{ .id = 200, .name = "late", .entered = 4, .returned = 4 },
	};
	struct rate_table t = { 0 };
	struct snapshot s = snap(T0, c, 2);

	(void)state;
	/* the first reading: no interval */
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == RATE_UNKNOWN);
	assert_true(t.rate[1] == RATE_UNKNOWN);

	/* 2 s later: alpha ended 10 more (5/s), beta one released (0.5/s), late is new (2/s) */
	c[0].returned = 20;
	c[1].released = 2;
	s = snap(T0 + 2 * SEC, c, 3);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == 5.0);
	assert_true(t.rate[1] == 0.5);
	assert_true(t.rate[2] == 2.0);

	/* idle for 1 s: 0, not unknown */
	s = snap(T0 + 3 * SEC, c, 3);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == 0.0 && t.rate[1] == 0.0 && t.rate[2] == 0.0);

	/* beta's id retired and reused: the new series counts from 0 */
	c[1] = (struct chain_stat){ .id = 3, .name = "gamma", .entered = 1, .returned = 1 };
	s = snap(T0 + 4 * SEC, c, 2);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[1] == 1.0);
	/* late was absent: back now, as a new series from 0 */
	c[2].returned = 4;
	s = snap(T0 + 5 * SEC, c, 3);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[2] == 4.0);

	/* the clock stepped back: no interval, then on from there */
	s = snap(T0 + 1 * SEC, c, 3);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == RATE_UNKNOWN);
	c[0].returned = 21;
	s = snap(T0 + 5 * SEC / 4, c, 3);
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == 4.0);

	/* a frame snapshot: in flight only, no rate */
	s = snap(T0 + 2 * SEC, c, 3);
	s.gauge_only = true;
	assert_int_equal(rate_update(&t, &s), 0);
	assert_true(t.rate[0] == RATE_UNKNOWN && t.rate[2] == RATE_UNKNOWN);
	rate_free(&t);
}

/* An empty reading, first or later: nothing to rate, nothing to fail. */
static void test_empty(void **state)
{
	struct rate_table t = { 0 };
	struct snapshot s = snap(T0, NULL, 0);

	(void)state;
	assert_int_equal(rate_update(&t, &s), 0);
	s.ts_ns += SEC;
	assert_int_equal(rate_update(&t, &s), 0);
	rate_free(&t);
}

static char *render(bool json, const struct snapshot *s, const double *rates)
{
	struct target_info info = { .binary = "w", .what = "f", .mode_label = "uprobes" };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	if (json)
		render_json(out, s, rates, NULL);
	else
		render_table(out, s, rates, &info, false, 0, NULL);
	fclose(out);
	return buf;
}

static void test_json_rate(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 3, .returned = 2, .released = 1 },
		{ .id = 3, .name = "beta", .entered = 1, .inflight = 1 },
	};
	struct snapshot s = snap(T0, c, 2);
	double rates[] = { 2.5, RATE_UNKNOWN };
	char *out;

	(void)state;
	out = render(true, &s, rates);
	assert_non_null(strstr(out, "{\"chain\": \"alpha\", \"inflight\": 0, \"entered\": 3, \"exited\": 3, \"released\": 1, \"rate\": 2.500, \"oldest_age\": null, \"history\": []}"));
	assert_non_null(strstr(out, "{\"chain\": \"beta\", \"inflight\": 1, \"entered\": 1, \"exited\": 0, \"released\": 0, \"rate\": null, \"oldest_age\": null, \"history\": []}"));
	free(out);
	/* no call ended in the interval: 0, not unknown */
	rates[0] = 0;
	out = render(true, &s, rates);
	assert_non_null(strstr(out, "\"released\": 1, \"rate\": 0.000, "));
	free(out);
	rates[0] = 2.5;
	/* no rates at all (the first reading): null for each */
	out = render(true, &s, NULL);
	assert_non_null(strstr(out, "\"released\": 1, \"rate\": null, "));
	free(out);
	/* a frame snapshot, and the overflow marker after the rate */
	s.gauge_only = true;
	c[0].overflow = true;
	out = render(true, &s, NULL);
	assert_non_null(strstr(out, "\"released\": null, \"rate\": null, \"oldest_age\": null, \"history\": [], \"overflow\": true}"));
	free(out);
}

/* The RATE column: one decimal, "-" when unknown, the rows ending in the same column. */
static void test_table_rate(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 3, .returned = 3 },
		{ .id = 3, .name = "\xe6\x97\xa5\xe6\x9c\xac", .entered = 1, .inflight = 1 },
	};
	struct snapshot s = snap(T0, c, 2);
	double rates[] = { 12.5, RATE_UNKNOWN };
	char *out, *line, *save = NULL;
	int row = 0;
	size_t end = 0;

	(void)state;
	out = render(false, &s, rates);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
		if (row == 1) {
			assert_non_null(strstr(line, "EXITED       RATE  OLDEST  HISTORY"));
		} else if (row == 2) {
			/* no history kept (NULL): the column is blank */
			assert_non_null(strstr(line, " 3       12.5       -  "));
			end = strlen(line);
		} else if (row == 3) {
			/* 2 characters of 3 bytes, 2 columns each: 2 bytes more than columns */
			assert_int_equal(strlen(line), end + 2);
			assert_non_null(strstr(line, "          -       -  "));
		}
	}
	assert_true(row >= 4);
	free(out);
	/* no call ended in the interval: 0.0, not "-" */
	rates[0] = 0;
	out = render(false, &s, rates);
	assert_non_null(strstr(out, " 3        0.0       -  "));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_json_rate),
		cmocka_unit_test(test_table_rate),
	};

	return cmocka_run_group_tests_name("top's rate", tests, NULL, NULL);
}
