// SPDX-License-Identifier: MIT
/* grow_array: room as asked, the contents kept, and a size too big refused with the array intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/grow.h"

static void test_grows_and_keeps(void **state)
{
	int *v = NULL, *p;
	size_t cap = 0;

	(void)state;
	for (size_t n = 0; n < 1000; n++) {
		p = grow_array(v, &cap, n + 1, sizeof(*v));
		assert_non_null(p);
		assert_true(cap >= n + 1);
		v = p;
		v[n] = (int)n;
	}
	assert_int_equal(cap, 1024); /* doubling from 16 */
	for (size_t n = 0; n < 1000; n++)
		assert_int_equal(v[n], (int)n);
	/* room enough: the same block */
	assert_ptr_equal(grow_array(v, &cap, 1024, sizeof(*v)), v);
	/* a jump past doubling */
	p = grow_array(v, &cap, 5000, sizeof(*v));
	assert_non_null(p);
	assert_int_equal(cap, 8192);
	free(p);
}

static void test_too_big_refused(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	v = grow_array(v, &cap, 4, sizeof(*v));
	assert_non_null(v);
	v[0] = 42;
	/* the element count times its size would wrap: refused, not a small block */
	assert_null(grow_array(v, &cap, SIZE_MAX / 2, sizeof(*v)));
	assert_int_equal(cap, 16);
	assert_null(grow_array(v, &cap, SIZE_MAX, 1));
	assert_int_equal(cap, 16);
	assert_int_equal(v[0], 42);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps),
		cmocka_unit_test(test_too_big_refused),
	};

	return cmocka_run_group_tests_name("grow_array", tests, NULL, NULL);
}
