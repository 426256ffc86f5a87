// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "probe/preflight.h"
#include "support/bpf_env.h"

/* The one message either way, so a suite-wide check reads as a per-test one did. */
static bool not_ready(const char *why)
{
	const char *ci = getenv("CI");

	if (ci && !strcmp(ci, "true"))
		fail_msg("CI=true: BPF tests must run here, but: %s", why);
	printf("SKIP: BPF tests need a kernel and privileges this machine lacks: %s\n", why);
	return false;
}

bool bpf_env_ready(void)
{
	char why[256];

	if (!preflight_check(why, sizeof(why)))
		return true;
	return not_ready(why);
}

/* Why the suite's check failed, for the tests that stand in for its BPF tests. */
static char suite_why[256];

/* In place of a BPF test where BPF cannot run: what REQUIRE_BPF() did there. */
static void bpf_unavailable(void **state)
{
	(void)state;
	if (!not_ready(suite_why))
		skip();
}

static bool listed(const CMUnitTestFunction *fns, CMUnitTestFunction fn)
{
	for (size_t i = 0; fns && fns[i]; i++)
		if (fns[i] == fn)
			return true;
	return false;
}

int bpf_run_group_tests(const char *name, const struct CMUnitTest *tests, size_t n,
			const CMUnitTestFunction *bpf_free, CMFixtureFunction group_setup,
			CMFixtureFunction group_teardown)
{
	struct CMUnitTest *stand_in;
	int rc;

	/* nothing a test does changes the answer: the capabilities and sysfs are the process's */
	if (!preflight_check(suite_why, sizeof(suite_why)))
		return _cmocka_run_group_tests(name, tests, n, group_setup, group_teardown);
	stand_in = calloc(n, sizeof(*stand_in));
	if (!stand_in) {
		fprintf(stderr, "%s: out of memory\n", name);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		stand_in[i] = tests[i];
		if (listed(bpf_free, tests[i].test_func))
			continue;
		stand_in[i].test_func = bpf_unavailable;
		stand_in[i].setup_func = NULL;
	}
	rc = _cmocka_run_group_tests(name, stand_in, n, group_setup, group_teardown);
	free(stand_in);
	return rc;
}
