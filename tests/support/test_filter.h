/* SPDX-License-Identifier: MIT */
/* TEST_FILTER=pattern runs only the matching tests of a binary (cmocka). */
#ifndef INFLIGHT_TEST_FILTER_H
#define INFLIGHT_TEST_FILTER_H

#include <stdlib.h>

static inline void apply_test_filter(void)
{
	const char *f = getenv("TEST_FILTER");

	if (f && *f)
		cmocka_set_test_filter(f);
}

#endif
