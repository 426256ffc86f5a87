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

bool bpf_env_ready(void)
{
	const char *ci = getenv("CI");
	char why[256];

	if (!preflight_check(why, sizeof(why)))
		return true;
	if (ci && !strcmp(ci, "true"))
		fail_msg("CI=true: BPF tests must run here, but: %s", why);
	printf("SKIP: BPF tests need a kernel and privileges this machine lacks: %s\n", why);
	return false;
}
