// SPDX-License-Identifier: MIT
/*
 * The probed handle function, in its own file so it can also be built into
 * a shared library. USDT probes mark its entry and return for --usdt tests.
 */
#include <sys/sdt.h>
#include "worker.h"

__attribute__((noinline)) int worker_handle(const char *chain, struct job *job)
{
	int r;

	STAP_PROBE1(inflight_test, handle_entry, chain);
	if (job->depth > 1) {
		job->depth--;
		r = worker_handle(chain, job);
		/* work after the call keeps it a real call, not a tail jump */
		job->depth++;
	} else {
		r = job->body(job, chain);
	}
	STAP_PROBE1(inflight_test, handle_return, chain);
	return r;
}
