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

/*
 * Handlers whose exits are not all `ret`, for instruction mode:
 * a direct tail call, an indirect tail call through memory, and a switch
 * compiled to a jump table (an indirect jump that stays inside).
 */
__attribute__((noinline)) int worker_tail_target(const char *chain, struct job *job)
{
	return job->body(job, chain) + 1;
}

__attribute__((noinline)) int worker_handle_tail(const char *chain, struct job *job)
{
	if (!chain[0])
		return -1; /* an early ret */
	return worker_tail_target(chain, job); /* jmp worker_tail_target */
}

__attribute__((noinline)) int worker_handle_indirect(const char *chain, struct job *job)
{
	return job->body(job, chain); /* jmp *0x8(%rsi) */
}

static volatile int sink;

__attribute__((noinline)) int worker_handle_switch(const char *chain, struct job *job)
{
	/* distinct side effects per case keep it a jump table: jmp *%rax inside */
	switch (chain[0] & 15) {
	case 0: sink += 3; break;
	case 1: sink *= 5; break;
	case 2: sink ^= 7; break;
	case 3: sink -= 9; break;
	case 4: sink <<= 2; break;
	case 5: sink >>= 1; break;
	case 6: sink |= 64; break;
	case 7: sink &= 0x55; break;
	case 8: sink = -sink; break;
	default: sink = 0; break;
	}
	return job->body(job, chain) + sink;
}
