// SPDX-License-Identifier: MIT
/*
 * utf8_sanitize: chain names are read from worker memory and end up in JSON
 * and on terminals, so whatever the bytes are the output must be valid UTF-8,
 * fit the buffer, and be NUL-terminated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/utf8.h"

#define R "\xef\xbf\xbd" /* U+FFFD REPLACEMENT CHARACTER */

/*
 * Sanitizes `len` bytes of `in` into an exactly `outsz`-byte heap buffer (so
 * ASan sees any overrun), checks the return value against strlen and the
 * expected text.
 */
static void check(const char *in, size_t len, size_t outsz, const char *expected)
{
	char *out = malloc(outsz);
	size_t n;

	assert_non_null(out);
	memset(out, 'Z', outsz);
	n = utf8_sanitize(in, len, out, outsz);
	assert_string_equal(out, expected);
	assert_int_equal(n, strlen(out));
	free(out);
}

/* Sanitizes with a buffer large enough for anything. */
static void check_full(const char *in, size_t len, const char *expected)
{
	check(in, len, UTF8_SANITIZED_MAX(len), expected);
}

static void test_ascii_unchanged(void **state)
{
	const char *s = "GET /api/v1/orders?id=42 \t~!";

	(void)state;
	check_full(s, strlen(s), s);
	check_full("x", 1, "x");
	/* every printable and control ASCII byte but NUL passes through */
	{
		char all[128];

		for (int i = 1; i < 128; i++)
			all[i - 1] = (char)i;
		all[127] = '\0';
		check_full(all, 127, all);
	}
}

static void test_valid_multibyte_unchanged(void **state)
{
	static const char *const valid[] = {
		"caf\xc3\xa9",                /* 2-byte: cafe with e-acute */
		"\xe6\x97\xa5\xe6\x9c\xac",   /* 3-byte: two CJK characters */
		"\xf0\x9f\x98\x80",           /* 4-byte: U+1F600 */
		"\xc2\x80", "\xdf\xbf",       /* U+0080, U+07FF: 2-byte bounds */
		"\xe0\xa0\x80", "\xef\xbf\xbf", /* U+0800, U+FFFF: 3-byte bounds */
		"\xed\x9f\xbf", "\xee\x80\x80", /* U+D7FF, U+E000: around surrogates */
		"\xf0\x90\x80\x80",           /* U+10000: smallest 4-byte */
		"\xf4\x8f\xbf\xbf",           /* U+10FFFF: largest code point */
		R,                            /* U+FFFD itself is valid */
		"a\xc3\xa9z\xf0\x9f\x98\x80!", /* mixed widths */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check_full(valid[i], strlen(valid[i]), valid[i]);
}

/* Each byte that does not start a valid sequence becomes one U+FFFD. */
static void test_invalid_bytes_replaced(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\x80", R },                          /* lone continuation */
		{ "a\x80z", "a" R "z" },
		{ "\xbf\xbf", R R },                    /* two lone continuations */
		{ "\xc0\xaf", R R },                    /* overlong '/' (2-byte) */
		{ "\xc1\xbf", R R },                    /* overlong, 0xc1 lead */
		{ "\xe0\x80\xaf", R R R },              /* overlong '/' (3-byte) */
		{ "\xf0\x80\x80\xaf", R R R R },        /* overlong '/' (4-byte) */
		{ "\xed\xa0\x80", R R R },              /* U+D800 high surrogate */
		{ "\xed\xbf\xbf", R R R },              /* U+DFFF low surrogate */
		{ "\xf4\x90\x80\x80", R R R R },        /* U+110000, > U+10FFFF */
		{ "\xf5\x80\x80\x80", R R R R },        /* lead byte beyond 0xf4 */
		{ "\xff", R },
		{ "\xfe", R },
		/* a bad continuation: only the lead byte goes, the ASCII survives */
		{ "\xc3(", R "(" },
		{ "\xe6\x97(", R R "(" },
		{ "ok\xff" "caf\xc3\xa9", "ok" R "caf\xc3\xa9" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_full(cases[i].in, strlen(cases[i].in), cases[i].out);
}

/*
 * A character cut off by `len` (the BPF side truncates names at 63 bytes):
 * the implementation replaces each leftover byte, not the sequence as one.
 */
static void test_truncated_at_length(void **state)
{
	(void)state;
	check_full("ab\xe6\x97", 4, "ab" R R);
	/* the same, with the rest of the character present beyond len */
	check_full("ab\xe6\x97\xa5", 4, "ab" R R);
	check_full("\xf0\x9f\x98\x80", 3, R R R);
	check_full("x\xc3\xa9", 2, "x" R);
}

/* NUL ends the input even when len says there is more. */
static void test_stops_at_nul(void **state)
{
	(void)state;
	check_full("ab\0cd", 5, "ab");
	check_full("\0abc", 4, "");
	/* NUL inside a multi-byte sequence: the lead byte alone is invalid */
	check_full("\xe6\x00\x97", 3, R);
	check_full("", 0, "");
	check_full("abc", 0, "");
}

/* The buffer cuts between characters, never inside one. */
static void test_small_buffer(void **state)
{
	(void)state;
	check("caf\xc3\xa9", 5, 5, "caf");       /* e-acute needs 2 + NUL */
	check("caf\xc3\xa9", 5, 6, "caf\xc3\xa9");
	check("\xf0\x9f\x98\x80", 4, 4, "");
	check("\xf0\x9f\x98\x80", 4, 5, "\xf0\x9f\x98\x80");
	check("a\xff", 2, 4, "a");              /* U+FFFD needs 3 + NUL */
	check("a\xff", 2, 5, "a" R);
	check("abc", 3, 1, "");
	/* stops at the first character that does not fit: output is a prefix */
	check("a\xc3\xa9" "b", 4, 3, "a");
}

/* outsz 0: nothing is written at all. */
static void test_zero_size_buffer(void **state)
{
	char out = 'Z';

	(void)state;
	assert_int_equal(utf8_sanitize("abc", 3, &out, 0), 0);
	assert_int_equal(out, 'Z');
}

/* Length in bytes of the UTF-8 character starting with `c`. */
static size_t char_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/*
 * For every buffer size, the output is the longest whole-character prefix
 * of the full output that fits with its NUL.
 */
static void test_every_buffer_size(void **state)
{
	static const char in[] = "k\xff\xc3\xa9\xe6\x97\xa5\x80\xf0\x9f\x98\x80z\xed\xa0\x80";
	char full[UTF8_SANITIZED_MAX(sizeof(in))];
	size_t full_len;

	(void)state;
	full_len = utf8_sanitize(in, sizeof(in) - 1, full, sizeof(full));
	assert_string_equal(full, "k" R "\xc3\xa9\xe6\x97\xa5" R "\xf0\x9f\x98\x80z" R R R);
	for (size_t outsz = 1; outsz <= full_len + 1; outsz++) {
		char *out = malloc(outsz);
		size_t n;

		assert_non_null(out);
		n = utf8_sanitize(in, sizeof(in) - 1, out, outsz);
		assert_int_equal(n, strlen(out));
		assert_true(n < outsz);
		assert_memory_equal(out, full, n);
		/* ends on a character boundary of the full output */
		assert_true(n == full_len || ((unsigned char)full[n] & 0xc0) != 0x80);
		/* and the next character really did not fit */
		assert_true(n == full_len || n + char_len((unsigned char)full[n]) >= outsz);
		free(out);
	}
}

/* utf8_encode: each length at its boundaries, and valid to utf8_sanitize. */
static void test_encode(void **state)
{
	static const struct {
		uint32_t cp;
		const char *want;
	} cases[] = {
		{ 0x41, "A" },		     { 0x7f, "\x7f" },
		{ 0x80, "\xc2\x80" },	     { 0xe9, "\xc3\xa9" },
		{ 0x7ff, "\xdf\xbf" },	     { 0x800, "\xe0\xa0\x80" },
		{ 0x20ac, "\xe2\x82\xac" },   { 0xfffd, "\xef\xbf\xbd" },
		{ 0x10000, "\xf0\x90\x80\x80" }, { 0x1f600, "\xf0\x9f\x98\x80" },
		{ 0x10ffff, "\xf4\x8f\xbf\xbf" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char enc[4], out[16];
		size_t n = utf8_encode(cases[i].cp, enc);

		assert_int_equal(n, strlen(cases[i].want));
		assert_memory_equal(enc, cases[i].want, n);
		assert_int_equal(utf8_sanitize(enc, n, out, sizeof(out)), n);
	}
}

/* UTF8_SANITIZED_MAX is enough for the worst case: every byte replaced. */
static void test_worst_case_size(void **state)
{
	char in[63], *out;
	size_t n;

	(void)state;
	memset(in, 0xff, sizeof(in));
	out = malloc(UTF8_SANITIZED_MAX(sizeof(in)));
	assert_non_null(out);
	n = utf8_sanitize(in, sizeof(in), out, UTF8_SANITIZED_MAX(sizeof(in)));
	assert_int_equal(n, 3 * sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		assert_memory_equal(out + 3 * i, R, 3);
	assert_int_equal(out[n], '\0');
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_unchanged),
		cmocka_unit_test(test_valid_multibyte_unchanged),
		cmocka_unit_test(test_invalid_bytes_replaced),
		cmocka_unit_test(test_truncated_at_length),
		cmocka_unit_test(test_stops_at_nul),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_zero_size_buffer),
		cmocka_unit_test(test_every_buffer_size),
		cmocka_unit_test(test_worst_case_size),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests_name("utf8: sanitizing chain names", tests, NULL, NULL);
}
