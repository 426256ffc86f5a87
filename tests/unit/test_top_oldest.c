// SPDX-License-Identifier: MIT
/*
 * `inflight top`'s OLDEST and HISTORY: an age in a few characters, the
 * last readings' in-flight counts per chain and their sparkline, scaled to
 * the largest; ASCII when the locale is not UTF-8; the table's columns and
 * the JSON fields.
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

#include "cli/age_text.h"
#include "cli/history.h"
#include "cli/render.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void expect_age(uint64_t ns, const char *want)
{
	char got[AGE_TEXT_MAX];

	age_text(ns, true, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_age_text(void **state)
{
	char got[AGE_TEXT_MAX];

	(void)state;
	expect_age(0, "0.0s");
	expect_age(400 * MS, "0.4s");
	expect_age(999 * MS, "0.9s"); /* rounded down: never older than it is */
	expect_age(9 * SEC + 999 * MS, "9.9s");
	expect_age(10 * SEC, "10s");
	expect_age(42 * SEC + 900 * MS, "42s");
	expect_age(59 * SEC + 999 * MS, "59s");
	expect_age(60 * SEC, "1m00s");
	expect_age(185 * SEC, "3m05s");
	expect_age(3599 * SEC, "59m59s");
	expect_age(3600 * SEC, "1h00m");
	expect_age(2 * 3600 * SEC + 61 * SEC, "2h01m");
	expect_age(250 * 3600 * SEC, "250h00m");
	age_text(5 * SEC, false, got, sizeof(got));
	assert_string_equal(got, "-");
}

static void expect_spark(const int64_t *v, size_t n, size_t width, bool ascii, const char *want)
{
	char got[3 * HISTORY_LEN + 1];

	sparkline(v, n, width, ascii, got, sizeof(got));
	assert_string_equal(got, want);
}

#define B1 "\xe2\x96\x81"
#define B2 "\xe2\x96\x82"
#define B4 "\xe2\x96\x84"
#define B5 "\xe2\x96\x85"
#define B8 "\xe2\x96\x88"

/* Scaled to the largest: it is a full block, 0 the lowest, any other at least the second. */
static void test_sparkline_scaling(void **state)
{
	static const int64_t ramp[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const int64_t spike[] = { 0, 1, 100, 50, 0 };
	static const int64_t flat[] = { 3, 3 };
	static const int64_t idle[] = { 0, 0, 0 };
	/* a gauge below 0 (returns of calls begun before attach) draws as 0 */
	static const int64_t negative[] = { -2, 4 };
	char small[9];

	(void)state;
	expect_spark(ramp, 8, 8, false,
		     B1 B2 "\xe2\x96\x83" B4 B5 "\xe2\x96\x86\xe2\x96\x87" B8);
	expect_spark(ramp, 8, 8, true, "_.:-=+*#");
	/* 1 of 100 still shows; 50 rounds up to the 5th of 8 */
	expect_spark(spike, 5, 5, false, B1 B2 B8 B5 B1);
	expect_spark(spike, 5, 5, true, "_.#=_");
	expect_spark(flat, 2, 2, true, "##");
	expect_spark(idle, 3, 3, false, B1 B1 B1);
	/* fewer readings than the width: padded on the left, so columns line up */
	expect_spark(flat, 2, 5, true, "   ##");
	expect_spark(NULL, 0, 4, false, "    ");
	expect_spark(negative, 2, 2, true, "_#");
	expect_spark(negative, 2, 2, false, B1 B8);
	/* a short buffer: whole bars only, and the terminator inside it */
	memset(small, 'x', sizeof(small));
	sparkline(ramp, 3, 3, false, small, sizeof(small));
	assert_string_equal(small, B1 B5);
}

/* The ring: the last HISTORY_LEN readings per chain id, oldest first. */
static void test_history(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha" },
		{ .id = 300, .name = "beta" },
	};
	struct snapshot s = { .chains = c, .n = 2 };
	struct history_table t = { 0 };
	int64_t h[HISTORY_LEN];

	(void)state;
	assert_int_equal(history_of(&t, 2, h), 0);
	for (int i = 0; i < 25; i++) {
		c[0].inflight = i;
		c[1].inflight = 100 + i;
		/* beta is in every other reading only */
		s.n = i % 2 ? 1 : 2;
		assert_int_equal(history_update(&t, &s), 0);
	}
	assert_int_equal(history_of(&t, 2, h), HISTORY_LEN);
	for (int k = 0; k < HISTORY_LEN; k++)
		assert_int_equal(h[k], 5 + k);
	assert_int_equal(history_of(&t, 300, h), 13);
	assert_int_equal(h[0], 100);
	assert_int_equal(h[12], 124);
	assert_int_equal(history_of(&t, 7, h), 0);
	assert_int_equal(history_of(&t, 100000, h), 0);
	history_free(&t);
	/* an id just past the table's end grows it */
	c[0].id = 0;
	s.n = 1;
	assert_int_equal(history_update(&t, &s), 0);
	c[0].id = (uint32_t)t.nids;
	c[0].inflight = 9;
	assert_int_equal(history_update(&t, &s), 0);
	assert_int_equal(history_of(&t, c[0].id, h), 1);
	assert_int_equal(h[0], 9);
	history_free(&t);
}

static void test_locale(void **state)
{
	(void)state;
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	unsetenv("LANG");
	assert_false(locale_is_utf8());
	setenv("LANG", "en_US.UTF-8", 1);
	assert_true(locale_is_utf8());
	setenv("LC_CTYPE", "C.utf8", 1);
	assert_true(locale_is_utf8());
	/* LC_ALL wins over the others */
	setenv("LC_ALL", "C", 1);
	assert_false(locale_is_utf8());
	setenv("LC_ALL", "", 1);
	setenv("LC_CTYPE", "de_DE.ISO-8859-1", 1);
	assert_false(locale_is_utf8());
	/* an empty LC_ALL is unset: LC_CTYPE decides */
	setenv("LC_CTYPE", "C.utf8", 1);
	assert_true(locale_is_utf8());
	unsetenv("LC_ALL");
	unsetenv("LC_CTYPE");
	unsetenv("LANG");
}

static char *render(bool json, const struct snapshot *s, const struct render_extra *x)
{
	struct target_info info = { .binary = "w", .what = "f", .mode_label = "uprobes" };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	if (json)
		render_json(out, s, NULL, x);
	else
		render_table(out, s, NULL, &info, false, 0, x);
	fclose(out);
	return buf;
}

/* The table's OLDEST and HISTORY, and the JSON's oldest_age and history. */
static void test_render(void **state)
{
	struct chain_stat c[] = {
		{ .id = 2, .name = "alpha", .entered = 3, .inflight = 3, .oldest_known = true,
		  .oldest_age_ns = 185 * SEC + 250 * MS },
		/* idle: no age, whatever oldest_known says */
		{ .id = 3, .name = "beta", .entered = 1, .returned = 1, .oldest_known = true,
		  .oldest_age_ns = 5 * SEC },
		{ .id = 4, .name = "gamma", .entered = 1, .inflight = 1 }, /* age unknown */
	};
	struct snapshot s = { .chains = c, .n = 3 };
	struct history_table t = { 0 };
	struct render_extra x = { .history = &t, .ascii = true };
	char *out;

	(void)state;
	c[0].inflight = 1;
	assert_int_equal(history_update(&t, &s), 0);
	c[0].inflight = 3;
	assert_int_equal(history_update(&t, &s), 0);
	out = render(false, &s, &x);
	/* alpha read 1 then 3: 1 of 3 rounds up to the 4th of 8 levels */
	assert_non_null(strstr(out, "RATE  OLDEST  HISTORY\n"));
	assert_non_null(strstr(out, "  -   3m05s                    -#\n"));
	assert_non_null(strstr(out, "  -       -                    __\n"));
	assert_non_null(strstr(out, "  -       -                    ##\n"));
	free(out);
	x.ascii = false;
	out = render(false, &s, &x);
	assert_non_null(strstr(out, "  -   3m05s                    " B4 B8 "\n"));
	free(out);
	out = render(true, &s, &x);
	assert_non_null(strstr(out, "\"chain\": \"alpha\", \"inflight\": 3, \"entered\": 3, \"exited\": 0, \"released\": 0, \"rate\": null, \"oldest_age\": 185.250, \"history\": [1, 3]}"));
	assert_non_null(strstr(out, "\"chain\": \"beta\", \"inflight\": 0, \"entered\": 1, \"exited\": 1, \"released\": 0, \"rate\": null, \"oldest_age\": null, \"history\": [0, 0]}"));
	assert_non_null(strstr(out, "\"chain\": \"gamma\", \"inflight\": 1, \"entered\": 1, \"exited\": 0, \"released\": 0, \"rate\": null, \"oldest_age\": null, \"history\": [1, 1]}"));
	free(out);
	history_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_text),
		cmocka_unit_test(test_sparkline_scaling),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_locale),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests_name("top's OLDEST and HISTORY", tests, NULL, NULL);
}
