// SPDX-License-Identifier: MIT
/*
 * go_binary: the Go version from .go.buildinfo, the goid offset per Go
 * release (read from each release's DWARF), and the stack-check prologue
 * the entry probe skips. Byte sequences are the ones go1.19-go1.23 emit
 * (objdump of build/workers/go_worker_*).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/go_binary.h"

/* A .go.buildinfo of Go 1.18+: 32-byte header, varint length, version. */
static size_t make_buildinfo(uint8_t *buf, size_t size, uint8_t flags, const char *version)
{
	size_t n = strlen(version);

	memset(buf, 0, size);
	memcpy(buf, "\xff Go buildinf:", 14);
	buf[14] = 8;
	buf[15] = flags;
	buf[32] = (uint8_t)n;
	memcpy(buf + 33, version, n);
	return 33 + n;
}

static void test_buildinfo_version(void **state)
{
	uint8_t buf[128], *exact;
	char v[32];
	size_t n;

	(void)state;
	n = make_buildinfo(buf, sizeof(buf), 2, "go1.22.12");
	/* an exactly-sized copy: ASan sees any read past the section */
	exact = malloc(n);
	assert_non_null(exact);
	memcpy(exact, buf, n);
	assert_int_equal(go_buildinfo_version(exact, n, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.22.12");
	/* cut short: the version's bytes are not all there */
	assert_int_equal(go_buildinfo_version(exact, n - 1, v, sizeof(v)), -EINVAL);
	free(exact);
	/* before Go 1.18 the strings are behind pointers: not read */
	make_buildinfo(buf, sizeof(buf), 0, "go1.17.13");
	assert_int_equal(go_buildinfo_version(buf, sizeof(buf), v, sizeof(v)), -EINVAL);
	/* not a buildinfo */
	make_buildinfo(buf, sizeof(buf), 2, "go1.22.12");
	buf[1] = 'X';
	assert_int_equal(go_buildinfo_version(buf, sizeof(buf), v, sizeof(v)), -EINVAL);
	/* too long for the caller's buffer */
	make_buildinfo(buf, sizeof(buf), 2, "go1.22.12");
	assert_int_equal(go_buildinfo_version(buf, sizeof(buf), v, 9), -ERANGE);
	/* a varint that never ends */
	memset(buf + 32, 0xff, sizeof(buf) - 32);
	assert_int_equal(go_buildinfo_version(buf, sizeof(buf), v, sizeof(v)), -EINVAL);
}

static void test_goid_offsets(void **state)
{
	(void)state;
	assert_int_equal(go_goid_offset("go1.19.8"), 152);
	assert_int_equal(go_goid_offset("go1.21.13"), 152);
	assert_int_equal(go_goid_offset("go1.22.12"), 152);
	assert_int_equal(go_goid_offset("go1.22"), 152);
	assert_int_equal(go_goid_offset("go1.22rc1"), 152);
	assert_int_equal(go_goid_offset("go1.23.5"), 160);
	/* unknown: refused, never guessed */
	assert_int_equal(go_goid_offset("go1.18.10"), 0);
	assert_int_equal(go_goid_offset("go1.20.14"), 0);
	assert_int_equal(go_goid_offset("go1.2"), 0);
	assert_int_equal(go_goid_offset("go1.190"), 0);
	assert_int_equal(go_goid_offset("go1.99.1"), 0);
	assert_int_equal(go_goid_offset("devel go1.23-abc"), 0);
	assert_int_equal(go_goid_offset(""), 0);
}

static void test_prologue(void **state)
{
	static const struct {
		const char *what;
		uint8_t code[20];
		size_t size, want;
	} cases[] = {
		{ "cmp rsp; jbe rel32 (go1.19-1.22 main.handle)",
		  { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x9c, 0x01, 0x00, 0x00, 0x55 }, 11, 10 },
		{ "cmp rsp; jbe rel8 (runtime.goexit1)",
		  { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x7d, 0x55 }, 7, 6 },
		{ "lea disp8 r12; cmp r12; jbe rel8 (runtime.deferreturn)",
		  { 0x4c, 0x8d, 0x64, 0x24, 0xf8, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x67, 0x55 }, 12, 11 },
		{ "lea disp32 r12; cmp r12; jbe rel32",
		  { 0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xfe, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10,
		    0x0f, 0x86, 0x10, 0x00, 0x00, 0x00, 0x55 }, 19, 18 },
		{ "no stack check (a leaf)", { 0x55, 0x48, 0x89, 0xe5 }, 4, 0 },
		{ "cmp without jbe", { 0x49, 0x3b, 0x66, 0x10, 0x90, 0x90 }, 6, 0 },
		{ "lea without cmp", { 0x4c, 0x8d, 0x64, 0x24, 0xf8, 0x90, 0x90, 0x90, 0x90 }, 9, 0 },
		{ "cut short", { 0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x9c }, 7, 0 },
		{ "empty", { 0 }, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = go_prologue_len(cases[i].code, cases[i].size);

		if (got != cases[i].want)
			fail_msg("%s: %zu bytes, expected %zu", cases[i].what, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buildinfo_version),
		cmocka_unit_test(test_goid_offsets),
		cmocka_unit_test(test_prologue),
	};

	return cmocka_run_group_tests_name("go_binary: version, g layout, prologue", tests, NULL,
					   NULL);
}
