// SPDX-License-Identifier: MIT
/*
 * return_mode_choose: auto must never pick uretprobe for a binary that can
 * unwind the stack (a uretprobe frame would kill or corrupt it), and an
 * explicit --return always wins. Names round-trip through parse/name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probe/return_mode.h"

/* Facts number `bits`: bit 0 go, 1 cxx, 2 rust, 3 unwinder. */
static struct unwind_facts facts_from(unsigned bits)
{
	struct unwind_facts f = {
		.go = bits & 1, .cxx = bits & 2, .rust = bits & 4, .unwinder = bits & 8,
	};

	return f;
}

/* Explicit uretprobe or insn is returned as is, whatever the binary holds. */
static void test_explicit_always_wins(void **state)
{
	static const enum return_mode explicit[] = { RETURN_URETPROBE, RETURN_INSN };

	(void)state;
	for (size_t m = 0; m < 2; m++)
		for (unsigned bits = 0; bits < 16; bits++) {
			struct unwind_facts f = facts_from(bits);
			const char *why = NULL;

			assert_int_equal(return_mode_choose(explicit[m], &f, &why), explicit[m]);
			assert_non_null(why);
			assert_true(why[0] != '\0');
		}
}

/* auto: each fact alone forces insn, with its own reason. */
static void test_auto_each_fact_forces_insn(void **state)
{
	const char *why[4];

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		struct unwind_facts f = facts_from(1u << i);

		why[i] = NULL;
		assert_int_equal(return_mode_choose(RETURN_AUTO, &f, &why[i]), RETURN_INSN);
		assert_non_null(why[i]);
		assert_true(why[i][0] != '\0');
	}
	/* the log says which fact decided: go, cxx, rust, unwinder differ */
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			assert_string_not_equal(why[i], why[j]);
}

/* auto with nothing that unwinds: the cheap uretprobe. */
static void test_auto_plain_binary_uretprobe(void **state)
{
	struct unwind_facts f = facts_from(0);
	const char *why = NULL, *explicit_why = NULL;

	(void)state;
	assert_int_equal(return_mode_choose(RETURN_AUTO, &f, &why), RETURN_URETPROBE);
	assert_non_null(why);
	assert_true(why[0] != '\0');
	/* and it is not the "you asked for it" reason */
	return_mode_choose(RETURN_URETPROBE, &f, &explicit_why);
	assert_string_not_equal(why, explicit_why);
}

/* auto: any combination with at least one fact is insn. */
static void test_auto_any_combination(void **state)
{
	(void)state;
	for (unsigned bits = 1; bits < 16; bits++) {
		struct unwind_facts f = facts_from(bits);
		const char *why = NULL;

		assert_int_equal(return_mode_choose(RETURN_AUTO, &f, &why), RETURN_INSN);
		assert_non_null(why);
		assert_true(why[0] != '\0');
	}
}

static void test_name_parse_round_trip(void **state)
{
	static const enum return_mode modes[] = { RETURN_AUTO, RETURN_URETPROBE, RETURN_INSN };

	(void)state;
	assert_string_equal(return_mode_name(RETURN_AUTO), "auto");
	assert_string_equal(return_mode_name(RETURN_URETPROBE), "uretprobe");
	assert_string_equal(return_mode_name(RETURN_INSN), "insn");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		assert_int_equal(return_mode_parse(return_mode_name(modes[i])), modes[i]);
}

static void test_parse_rejects_bad_names(void **state)
{
	static const char *const bad[] = {
		"", "AUTO", "Insn", "uretprobes", "ins", "insn ", " auto", "uprobe", "ret",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(return_mode_parse(bad[i]), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explicit_always_wins),
		cmocka_unit_test(test_auto_each_fact_forces_insn),
		cmocka_unit_test(test_auto_plain_binary_uretprobe),
		cmocka_unit_test(test_auto_any_combination),
		cmocka_unit_test(test_name_parse_round_trip),
		cmocka_unit_test(test_parse_rejects_bad_names),
	};

	return cmocka_run_group_tests_name("return_mode: choosing uretprobe or insn", tests, NULL,
					   NULL);
}
