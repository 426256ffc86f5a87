// SPDX-License-Identifier: MIT
/*
 * The location-table decoder against real interpreters: for functions of
 * every shape (tools/pylinetable/fixture.py), each CPython 3.10+ at hand
 * gave its co_linetable and the line of every instruction
 * (co_positions(), co_lines()); the decoder must give the same line for
 * every instruction, and refuse an offset past the end or a torn table.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "python/py_linetable.h"
#include "py_linetable_fixture.h"

#define NCASES (sizeof(linetable_cases) / sizeof(linetable_cases[0]))

static int decode(const struct linetable_case *c, const uint8_t *table, size_t len, uint32_t unit,
		  int *line)
{
	return c->minor >= 11 ? py_linetable_line(table, len, c->firstlineno, unit, line)
			      : py_linetable310_line(table, len, c->firstlineno, unit, line);
}

static void test_every_instruction(void **state)
{
	size_t checked = 0, none = 0, minors = 0;
	int seen[16] = { 0 };

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct linetable_case *c = &linetable_cases[i];

		for (uint32_t u = 0; u < c->units; u++) {
			int line = -2;
			int rc = decode(c, c->table, c->len, u, &line);

			if (rc || line != c->lines[u])
				fail_msg("3.%d %s: instruction %u: got line %d (rc %d), CPython says %d",
					 c->minor, c->func, u, line, rc, c->lines[u]);
			checked++;
			none += line == -1;
		}
		/* the table ends with the bytecode */
		{
			int line;

			assert_int_equal(decode(c, c->table, c->len, (uint32_t)c->units + 64, &line),
					 -EINVAL);
		}
		if (c->minor < 16 && !seen[c->minor]++)
			minors++;
	}
	printf("%zu instructions of %zu functions on %zu CPython minor versions (%zu without a line)\n",
	       checked, NCASES, minors, none);
	/* the fixture covers what it claims: far lines, and some instruction without a line */
	assert_true(minors >= 2);
	assert_true(checked > 1000);
}

/* A table cut short or not starting at an entry is refused, never read past its end. */
static void test_torn(void **state)
{
	uint8_t buf[4096];

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct linetable_case *c = &linetable_cases[i];
		int line;

		if (c->minor < 11 || c->len < 4 || c->len > sizeof(buf))
			continue;
		/* every prefix: the instructions it covers decode, the rest are refused */
		for (size_t cut = 0; cut < c->len; cut++) {
			memcpy(buf, c->table, cut);
			for (uint32_t u = 0; u < c->units; u++) {
				int rc = decode(c, buf, cut, u, &line);

				assert_true(rc == -EINVAL || (rc == 0 && line == c->lines[u]));
			}
		}
		/* a continuation byte where an entry should start */
		buf[0] = 0x05;
		assert_int_equal(py_linetable_line(buf, 1, 1, 0, &line), -EINVAL);
	}
}

/* By hand: each entry kind, from the documented format. */
static void test_kinds(void **state)
{
	/*
	 * firstlineno 10: a short form over 2 units (line 10), one-line form +2
	 * over 1 (12), no location over 3 (none), no-columns with -5 (svarint
	 * 11) over 1 (7), long form +100 (svarint 200: 0x48 0x03) over 1 (107)
	 */
	static const uint8_t t[] = { 0x80 | (3 << 3) | 1, 0x12,
				     0x80 | (12 << 3) | 0, 4, 9,
				     0x80 | (15 << 3) | 2,
				     0x80 | (13 << 3) | 0, 11,
				     0x80 | (14 << 3) | 0, 0x48, 0x03, 0, 5, 9 };
	static const int want[] = { 10, 10, 12, -1, -1, -1, 7, 107 };
	int line;

	(void)state;
	for (uint32_t u = 0; u < sizeof(want) / sizeof(want[0]); u++) {
		assert_int_equal(py_linetable_line(t, sizeof(t), 10, u, &line), 0);
		assert_int_equal(line, want[u]);
	}
	assert_int_equal(py_linetable_line(t, sizeof(t), 10, 8, &line), -EINVAL);
	/* 3.10: 6 bytes at +0, 4 at no line, 2 at +3 */
	{
		static const uint8_t t10[] = { 6, 0, 4, 0x80, 2, 3 };

		assert_int_equal(py_linetable310_line(t10, sizeof(t10), 5, 2, &line), 0);
		assert_int_equal(line, 5);
		assert_int_equal(py_linetable310_line(t10, sizeof(t10), 5, 3, &line), 0);
		assert_int_equal(line, -1);
		assert_int_equal(py_linetable310_line(t10, sizeof(t10), 5, 5, &line), 0);
		assert_int_equal(line, 8);
		assert_int_equal(py_linetable310_line(t10, sizeof(t10), 5, 6, &line), -EINVAL);
	}
}

/*
 * A forged firstlineno or delta: a running line below 0 or past INT_MAX is
 * refused (it was shown as a negative line, or overflowed an int: UB).
 */
static void test_line_out_of_range(void **state)
{
	/* 3.11+: a short form (delta 0), then no-columns +1 (svarint 2) */
	static const uint8_t t[] = { 0x80 | (3 << 3) | 0, 0x12, 0x80 | (13 << 3) | 0, 2 };
	/* 3.10: 2 bytes at +0, 2 bytes at +1 */
	static const uint8_t t10[] = { 2, 0, 2, 1 };
	int line;

	(void)state;
	assert_int_equal(py_linetable_line(t, sizeof(t), -5, 0, &line), -EINVAL);
	assert_int_equal(py_linetable310_line(t10, sizeof(t10), -5, 0, &line), -EINVAL);
	/* INT_MAX itself is a line; one more is not */
	assert_int_equal(py_linetable_line(t, sizeof(t), INT_MAX, 0, &line), 0);
	assert_int_equal(line, INT_MAX);
	assert_int_equal(py_linetable_line(t, sizeof(t), INT_MAX, 1, &line), -EINVAL);
	assert_int_equal(py_linetable310_line(t10, sizeof(t10), INT_MAX, 0, &line), 0);
	assert_int_equal(line, INT_MAX);
	assert_int_equal(py_linetable310_line(t10, sizeof(t10), INT_MAX, 1, &line), -EINVAL);
	/* line 0 stands (a code object may start there) */
	assert_int_equal(py_linetable_line(t, sizeof(t), 0, 0, &line), 0);
	assert_int_equal(line, 0);
}

/*
 * A forged co_firstlineno or deltas that run the line past an int: the
 * table is refused (the sum overflowed, undefined, and came out wrapped).
 */
static void test_line_past_int(void **state)
{
	/* +1 (no-columns, svarint 2), then +2^31 - 1 twice (svarint 0xfffffffe) */
	static const uint8_t plus1[] = { 0x80 | (13 << 3) | 0, 2 };
	static const uint8_t huge[] = { 0x80 | (13 << 3) | 0, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x03,
					0x80 | (13 << 3) | 0, 0x7e, 0x7f, 0x7f, 0x7f, 0x7f, 0x03 };
	/* -1 (svarint 3) */
	static const uint8_t minus1[] = { 0x80 | (13 << 3) | 0, 3 };
	static const uint8_t t10[] = { 2, 1 }, t10_minus[] = { 2, 0xff };
	int line = 0;

	(void)state;
	assert_int_equal(py_linetable_line(plus1, sizeof(plus1), INT_MAX, 0, &line), -EINVAL);
	assert_int_equal(py_linetable_line(minus1, sizeof(minus1), INT_MIN, 0, &line), -EINVAL);
	assert_int_equal(py_linetable_line(huge, sizeof(huge), 0, 0, &line), 0);
	assert_int_equal(line, INT_MAX);
	assert_int_equal(py_linetable_line(huge, sizeof(huge), 0, 1, &line), -EINVAL);
	assert_int_equal(py_linetable310_line(t10, sizeof(t10), INT_MAX, 0, &line), -EINVAL);
	assert_int_equal(py_linetable310_line(t10_minus, sizeof(t10_minus), INT_MIN, 0, &line), -EINVAL);
	/* up to the edge is a line */
	assert_int_equal(py_linetable_line(plus1, sizeof(plus1), INT_MAX - 1, 0, &line), 0);
	assert_int_equal(line, INT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_instruction),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_line_out_of_range),
		cmocka_unit_test(test_line_past_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
