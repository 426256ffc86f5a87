// SPDX-License-Identifier: MIT
/*
 * target_maps_line: /proc/PID/maps lines as the kernel writes them, names
 * the process chose included (spaces, " (deleted)", a '/' inside an
 * anonymous mapping's name, which is no file).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "probe/target.h"

static struct maps_line parse_ok(const char *text)
{
	static char line[512];
	struct maps_line m;

	snprintf(line, sizeof(line), "%s", text);
	assert_int_equal(target_maps_line(line, &m), 0);
	return m;
}

static void test_file_mapping(void **state)
{
	struct maps_line m = parse_ok(
		"00400000-0041f000 r-xp 0001f000 fe:00 247970                             /usr/bin/python3.11\n");

	(void)state;
	assert_int_equal(m.start, 0x400000);
	assert_int_equal(m.end, 0x41f000);
	assert_int_equal(m.offset, 0x1f000);
	assert_string_equal(m.perms, "r-xp");
	assert_string_equal(m.file, "/usr/bin/python3.11");
}

static void test_names_the_process_chose(void **state)
{
	(void)state;
	assert_string_equal(parse_ok("7f00-7f01 r-xp 00000000 00:1f 42 /tmp/a b (deleted)\n").file,
			    "/tmp/a b (deleted)");
	assert_null(parse_ok("7f00-7f01 rw-p 00000000 00:00 0 [anon:x/y]\n").file);
	assert_null(parse_ok("7f00-7f01 rw-p 00000000 00:00 0 [heap]\n").file);
	assert_null(parse_ok("7f00-7f01 rw-p 00000000 00:00 0\n").file);
	assert_null(parse_ok("7f00-7f01 rw-p 00000000 00:00 0").file);
}

static void test_not_maps_lines(void **state)
{
	static const char *const bad[] = {
		"", "\n", "garbage", "7f00 r-xp 0 fe:00 1 /x", "7f01-7f00 r-xp 0 fe:00 1 /x",
		"7f00-7f01 r-xp zz fe:00 1 /x", "7f00-7f01 r-xp 0 fe00 1 /x",
	};
	char line[128];
	struct maps_line m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (!target_maps_line(line, &m))
			fail_msg("'%s' parsed", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_mapping),
		cmocka_unit_test(test_names_the_process_chose),
		cmocka_unit_test(test_not_maps_lines),
	};

	return cmocka_run_group_tests_name("maps lines", tests, NULL, NULL);
}
