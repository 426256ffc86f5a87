/* SPDX-License-Identifier: MIT */
/* Can this machine load and attach our BPF? Under CI=true it must. */
#ifndef INFLIGHT_TEST_BPF_ENV_H
#define INFLIGHT_TEST_BPF_ENV_H

#include <stdbool.h>

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

#endif
