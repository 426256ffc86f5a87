// SPDX-License-Identifier: MIT
/*
 * config_file: the --config targets file. What parses (sections, comments,
 * values with blanks and '#' and '='), and that every mistake is refused
 * with the file and line: unknown keys, keys outside a section, duplicate
 * keys and targets, bad headers, empty targets, no targets.
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

#include "run/config_file.h"

static int known(const char *key)
{
	static const char *const keys[] = { "func", "chain", "pid", "match-cmdline", "python" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i], key))
			return 1;
	return 0;
}

static int repeatable(const char *key)
{
	return !strcmp(key, "pid");
}

static int parse(const char *text, struct config_file *c, char *err, size_t errlen)
{
	return config_parse("t.conf", text, strlen(text), c, known, repeatable, err, errlen);
}

static void test_two_targets(void **state)
{
	struct config_file c;
	char err[512] = "";

	(void)state;
	assert_int_equal(parse("# the node's workers\n"
			       "\n"
			       "[target conserver]\n"
			       "  python = true\n"
			       "match-cmdline = -m conserver( |$)  \n"
			       "pid = 10\n"
			       "pid = 11\n"
			       "[ target  native ]\r\n"
			       "func=handle\n"
			       "chain = +0(%di):string # not a comment\n",
			       &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.targets[0].name, "conserver");
	assert_int_equal(c.targets[0].line, 3);
	assert_int_equal(c.targets[0].n, 4);
	assert_string_equal(c.targets[0].entries[1].key, "match-cmdline");
	assert_string_equal(c.targets[0].entries[1].value, "-m conserver( |$)");
	assert_int_equal(c.targets[0].entries[1].line, 5);
	assert_string_equal(c.targets[1].name, "native");
	assert_string_equal(c.targets[1].entries[0].value, "handle");
	assert_string_equal(c.targets[1].entries[1].value, "+0(%di):string # not a comment");
	config_free(&c);
}

static void expect_error(const char *text, const char *msg)
{
	struct config_file c;
	char err[512] = "";

	if (parse(text, &c, err, sizeof(err)) != -EINVAL)
		fail_msg("parsed, expected '%s'", msg);
	if (strcmp(err, msg))
		fail_msg("error '%s', expected '%s'", err, msg);
}

static void test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("func = f\n", "t.conf:1: 'func' outside a [target NAME] section");
	expect_error("[target a]\nfunk = f\n",
		     "t.conf:2: unknown key 'funk' (the keys are the long options of a target, e.g. func, chain, match-exe)");
	expect_error("[target a]\nfunc = f\nfunc = g\n",
		     "t.conf:3: func given twice in target 'a' (first at line 2)");
	expect_error("[target a]\nfunc = f\n[target a]\nfunc = g\n",
		     "t.conf:3: target 'a' already defined at line 1");
	expect_error("[targets a]\n", "t.conf:1: expected '[target NAME]', got '[targets a]'");
	expect_error("[target a\n", "t.conf:1: expected '[target NAME]'");
	expect_error("[target a] x\n", "t.conf:1: expected '[target NAME]'");
	expect_error("[target a/b]\n", "t.conf:1: target name 'a/b': expected letters, digits, '_', '-' or '.'");
	expect_error("[target a]\nfunc\n", "t.conf:2: expected 'key = value' or '[target NAME]'");
	expect_error("[target a]\nfunc =   \n", "t.conf:2: func: no value");
	expect_error("[target a]\n[target b]\nfunc = f\n", "t.conf:1: target 'a' is empty");
	expect_error("# nothing\n\n", "t.conf:2: no [target NAME] section");
}

static void test_limits(void **state)
{
	struct config_file c;
	char err[512] = "", big[8192];
	char many[4096] = "";

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:1: line longer than"));
	for (int i = 0; i <= CONFIG_MAX_TARGETS; i++) {
		char s[64];

		snprintf(s, sizeof(s), "[target t%d]\nfunc = f\n", i);
		strcat(many, s);
	}
	assert_int_equal(parse(many, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 16 targets"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_targets),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("config_file: the --config targets file", tests, NULL,
					   NULL);
}
