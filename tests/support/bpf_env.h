/* SPDX-License-Identifier: MIT */
/*
 * Can this machine load and attach our BPF? Under CI=true it must.
 * Include after <cmocka.h>.
 */
#ifndef INFLIGHT_TEST_BPF_ENV_H
#define INFLIGHT_TEST_BPF_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include "util/array_size.h"

/*
 * Returns true when BPF tests can run. Otherwise: under CI=true the test
 * fails; elsewhere the reason is printed and the caller must skip().
 */
bool bpf_env_ready(void);

#define REQUIRE_BPF()                 \
	do {                          \
		if (!bpf_env_ready()) \
			skip();       \
	} while (0)

/*
 * _cmocka_run_group_tests for a suite of BPF tests, the check made once
 * for the suite instead of a REQUIRE_BPF() opening each test. Where BPF can
 * run, the tests run as given. Where it cannot, each test is reported as if
 * it began with REQUIRE_BPF(): skipped with the reason printed, or under
 * CI=true failed; its setup is not run (a per-test setup may then load BPF
 * or start what a BPF test needs), its teardown is, as after a skip. The
 * tests in bpf_free (NULL-terminated, or NULL for none) need no BPF and
 * run either way.
 *
 * cmocka 1.1 reports a skip() in a setup, per test or per group, as an
 * error, so the check cannot live in a setup without turning a machine's
 * skips into failures.
 */
int bpf_run_group_tests(const char *name, const struct CMUnitTest *tests, size_t n,
			const CMUnitTestFunction *bpf_free, CMFixtureFunction group_setup,
			CMFixtureFunction group_teardown);

#define bpf_run_group_tests_name(name, tests, bpf_free, group_setup, group_teardown)    \
	bpf_run_group_tests(name, tests, ARRAY_SIZE(tests), bpf_free, \
			    group_setup, group_teardown)

#endif
