// SPDX-License-Identifier: MIT
/*
 * proc_match: which processes discovery takes. The exe glob matches the
 * whole path or the basename; the command-line regex is POSIX extended over
 * the arguments joined by spaces; both given, both must hold. Bad values are
 * refused naming the flag.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probe/proc_match.h"

static void test_exe_glob(void **state)
{
	struct proc_match m;
	char err[256];

	(void)state;
	assert_int_equal(proc_match_init(&m, "conserver-*", NULL, err, sizeof(err)), 0);
	assert_true(proc_match_text(&m, "/usr/local/bin/conserver-worker", ""));
	assert_true(proc_match_text(&m, "conserver-worker", ""));
	assert_false(proc_match_text(&m, "/usr/bin/python3", "conserver-worker"));
	proc_match_free(&m);
	assert_int_equal(proc_match_init(&m, "/opt/*/worker", NULL, err, sizeof(err)), 0);
	assert_true(proc_match_text(&m, "/opt/app/worker", ""));
	assert_false(proc_match_text(&m, "/srv/app/worker", ""));
	proc_match_free(&m);
}

static void test_cmdline_regex(void **state)
{
	struct proc_match m;
	char err[256];

	(void)state;
	assert_int_equal(proc_match_init(&m, NULL, "(^| )-m conserver( |$)", err, sizeof(err)), 0);
	assert_true(proc_match_text(&m, "/usr/bin/python3.12", "python3 -m conserver --workers 4"));
	assert_false(proc_match_text(&m, "/usr/bin/python3.12", "python3 -m conserverx"));
	proc_match_free(&m);
}

static void test_both_must_hold(void **state)
{
	struct proc_match m;
	char err[256];

	(void)state;
	assert_int_equal(proc_match_init(&m, "python3*", "main\\.py", err, sizeof(err)), 0);
	assert_true(proc_match_text(&m, "/usr/bin/python3.11", "python3 main.py"));
	assert_false(proc_match_text(&m, "/usr/bin/node", "node main.py"));
	assert_false(proc_match_text(&m, "/usr/bin/python3.11", "python3 other.py"));
	proc_match_free(&m);
}

static void test_bad_values(void **state)
{
	struct proc_match m;
	char err[256];

	(void)state;
	assert_int_equal(proc_match_init(&m, NULL, "a(b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--match-cmdline 'a(b': not a POSIX extended regular expression"));
	assert_int_equal(proc_match_init(&m, "", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--match-exe"));
	assert_int_equal(proc_match_init(&m, NULL, "", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--match-cmdline"));
}

/* Our own process, read through /proc: arguments joined by single spaces. */
static void test_reads_proc(void **state)
{
	struct proc_match m;
	struct proc_exe p;
	char err[256], cmd[4096];

	(void)state;
	proc_cmdline(getpid(), cmd, sizeof(cmd));
	assert_non_null(strstr(cmd, "test_proc_match"));
	assert_int_not_equal(cmd[strlen(cmd) - 1], ' ');
	assert_int_equal(proc_match_init(&m, "*test_proc_match", NULL, err, sizeof(err)), 0);
	assert_int_equal(proc_match_pid(&m, getpid(), &p), 1);
	assert_int_equal(p.pid, getpid());
	assert_true(p.ino != 0);
	assert_non_null(strstr(p.shown, "test_proc_match"));
	proc_match_free(&m);
	assert_int_equal(proc_match_init(&m, "*nothing-like-this", NULL, err, sizeof(err)), 0);
	assert_int_equal(proc_match_pid(&m, getpid(), &p), 0);
	/* no such process */
	assert_int_equal(proc_match_pid(&m, 0x3ffffffe, &p), -ENOENT);
	proc_match_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_glob),
		cmocka_unit_test(test_cmdline_regex),
		cmocka_unit_test(test_both_must_hold),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_reads_proc),
	};

	return cmocka_run_group_tests_name("proc_match: which processes discovery takes", tests,
					   NULL, NULL);
}
