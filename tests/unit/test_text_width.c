// SPDX-License-Identifier: MIT
/*
 * Display width: the text table pads chain names by the columns a terminal
 * gives them, so a CJK name (two columns a character) lines up with ASCII
 * ones, and a long one is cut without passing its column.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/render.h"
#include "util/text_width.h"

static void test_widths(void **state)
{
	(void)state;
	assert_int_equal(text_width("transcribe"), 10);
	assert_int_equal(text_width("caf\xc3\xa9"), 4);                 /* é: one */
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);     /* 日本: two each */
	assert_int_equal(text_width("\xed\x95\x9c"), 2);                 /* 한 */
	assert_int_equal(text_width("\xef\xbc\xa1"), 2);                 /* fullwidth A */
	assert_int_equal(text_width("e\xcc\x81"), 1);                    /* e + combining acute */
	assert_int_equal(text_width("\xf0\x9f\x9a\x80"), 2);             /* rocket emoji */
	assert_int_equal(text_width("\xf0\xa0\x80\x80"), 2);             /* U+20000, plane 2 */
}

/* The display column where each data row's IN FLIGHT value ends. */
static void check_aligned(const char *const *names, size_t n)
{
	struct chain_stat chains[8];
	struct snapshot s = { .chains = chains, .n = n, .gauge_only = true };
	struct target_info info = { .binary = "python", .what = "f", .mode_label = "python frames" };
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int row = 0, want = -1;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		chains[i] = (struct chain_stat){ .id = (uint32_t)i + 2, .name = names[i], .inflight = 7 };
	render_table(out, &s, NULL, &info, false, 0, NULL);
	fclose(out);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), row++) {
		char *seven;

		if (row < 2 || row >= 2 + (int)n)
			continue; /* title, header; total after */
		seven = strrchr(line, '7');
		assert_non_null(seven);
		seven[1] = '\0';
		if (want < 0)
			want = text_width(line);
		if (text_width(line) != want)
			fail_msg("row %d '%s' ends at column %d, the first at %d", row, line, text_width(line), want);
	}
	free(buf);
}

static void test_table_aligns_by_width(void **state)
{
	/* 20 CJK characters: 40 columns, cut to 16 (32 columns) */
	static const char *const names[] = {
		"transcribe",
		"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		"\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5"
		"\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac"
		"\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac",
		/* 31 ASCII columns, then a wide character that does not fit */
		"abcdefghijklmnopqrstuvwxyz01234\xe6\x97\xa5",
	};

	(void)state;
	check_aligned(names, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_table_aligns_by_width),
	};

	return cmocka_run_group_tests_name("display width of chain names", tests, NULL, NULL);
}
