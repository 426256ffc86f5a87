// SPDX-License-Identifier: MIT
/*
 * The calls of one walk, kept for `inflight stuck`: each call's stack and
 * chain are its own copies (the walker's are reused as it goes on), a call
 * met twice is given once, and the set empties for the next walk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "python/py_call_set.h"

/* Call `i`: frame address from i, a stack of i % 7 + 1 frames, a chain unless i % 5 == 0. */
static void add_call(struct py_call_set *s, unsigned i, uint64_t frame)
{
	struct py_frame_ref stack[8];
	char chain[32];
	struct py_call c = { .tid = 100 + i, .frame = frame, .code = 0x5000, .arg = 0x6000 + i,
			     .args = i * 3, .depth = i % 7 + 1, .stack = stack };

	for (size_t d = 0; d < c.depth; d++)
		stack[d] = (struct py_frame_ref){ .code = 0x9000 + i, .instr = d };
	snprintf(chain, sizeof(chain), "chain-%u", i);
	c.chain = i % 5 ? chain : NULL;
	py_call_set_add(s, &c);
	/* the walker's buffers are reused: nothing may point into them */
	memset(stack, 0xee, sizeof(stack));
	memset(chain, 'x', sizeof(chain) - 1);
}

static void expect_call(const struct py_call *c, unsigned i)
{
	char chain[32];

	assert_int_equal(c->tid, 100 + i);
	assert_int_equal(c->arg, 0x6000 + i);
	assert_int_equal(c->depth, i % 7 + 1);
	for (size_t d = 0; d < c->depth; d++) {
		assert_int_equal(c->stack[d].code, 0x9000 + i);
		assert_int_equal(c->stack[d].instr, d);
	}
	snprintf(chain, sizeof(chain), "chain-%u", i);
	if (i % 5)
		assert_string_equal(c->chain, chain);
	else
		assert_null(c->chain);
}

/* 300 calls added in reverse key order (arrays grow many times): sorted, each whole. */
static void test_calls_kept_whole(void **state)
{
	struct py_call_set s = { 0 };

	(void)state;
	for (unsigned i = 300; i-- > 0;)
		add_call(&s, i, 0x7f0000 + 0x100 * i);
	assert_false(s.oom);
	assert_int_equal(py_call_set_finish(&s), 300);
	for (unsigned i = 0; i < 300; i++)
		expect_call(py_call_set_get(&s, i), i);
	py_call_set_free(&s);
}

/* A frame list that loops back: the calls it met twice come once, the others stay. */
static void test_repeats_given_once(void **state)
{
	struct py_call_set s = { 0 };

	(void)state;
	for (int round = 0; round < 3; round++)
		for (unsigned i = 0; i < 10; i++)
			if (round == 0 || i % 2)
				add_call(&s, i, 0x7f0000 + 0x100 * i);
	assert_int_equal(py_call_set_finish(&s), 10);
	for (unsigned i = 0; i < 10; i++)
		expect_call(py_call_set_get(&s, i), i);
	py_call_set_free(&s);
}

/* Cleared for the next walk: none of the last one's calls, and none at all from an empty walk. */
static void test_cleared(void **state)
{
	struct py_call_set s = { 0 };

	(void)state;
	assert_int_equal(py_call_set_finish(&s), 0);
	add_call(&s, 3, 0x7f0300);
	add_call(&s, 4, 0x7f0400);
	assert_int_equal(py_call_set_finish(&s), 2);
	py_call_set_clear(&s);
	assert_int_equal(py_call_set_finish(&s), 0);
	add_call(&s, 6, 0x7f0600);
	assert_int_equal(py_call_set_finish(&s), 1);
	expect_call(py_call_set_get(&s, 0), 6);
	py_call_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_kept_whole),
		cmocka_unit_test(test_repeats_given_once),
		cmocka_unit_test(test_cleared),
	};

	return cmocka_run_group_tests_name("python call set", tests, NULL, NULL);
}
