// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli/stuck_native.h"
#include "probe/pending_calls.h"
#include "probe/stack_walk.h"
#include "util/clock.h"
#include "util/log.h"

/* The chain's name by id, from the reading; "(overflow)" and unknown ids named as such. */
static const char *chain_name(const struct snapshot *s, uint32_t id, char *buf, size_t size)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->chains[i].id == id)
			return s->chains[i].name;
	if (id == INFLIGHT_OVERFLOW_ID)
		return "(overflow)";
	snprintf(buf, size, "(chain id %u)", (unsigned)id);
	return buf;
}

/* The call's thread's stack into `c`, named; none when the registers are unknown (Go). */
static int add_stack(struct stuck_call *c, const struct pending_call *pc,
		     struct symbolizer **sym, pid_t *sym_pid)
{
	uint64_t pcs[STACK_WALK_MAX];
	size_t n;

	if (!pc->ip || !pc->usp)
		return 0;
	log_debug("stuck: pid %d tid %d: ip %#llx sp %#llx bp %#llx", (int)pc->pid, (int)pc->tid,
		  (unsigned long long)pc->ip, (unsigned long long)pc->usp, (unsigned long long)pc->bp);
	/* one process's maps and files serve all its calls, the walks and the names */
	if (!*sym || *sym_pid != pc->pid) {
		symbolizer_free(*sym);
		*sym = symbolizer_new(pc->pid);
		*sym_pid = pc->pid;
		if (!*sym)
			return -ENOMEM;
	}
	n = stack_walk(*sym, pc->ip, pc->usp, pc->bp, pcs, STACK_WALK_MAX);
	for (size_t i = 0; i < n; i++) {
		struct stack_sym s;

		symbolize(*sym, pcs[i], i > 0, &s);
		if (stuck_call_add_frame(c, s.func[0] ? s.func : NULL, s.file[0] ? s.file : NULL, -1,
					 pcs[i], s.offset))
			return -ENOMEM;
	}
	return 0;
}

int stuck_native_report(struct observer *o, uint64_t now_ns, struct stuck_report *r)
{
	struct pending_call *calls = NULL;
	struct snapshot snap = { 0 };
	struct symbolizer *sym = NULL;
	pid_t sym_pid = 0;
	size_t n = 0;
	int rc;

	rc = observer_pending_calls(o, &calls, &n);
	if (rc)
		return rc;
	/* the names of ids seen by then (a chain's id is given at its first entry) */
	rc = observer_read(o, &snap);
	if (rc)
		goto out;
	r->ts_ns = clock_realtime_ns();
	r->inflight = n;
	for (size_t i = 0; i < n; i++) {
		const struct pending_call *pc = &calls[i];
		uint64_t age = now_ns > pc->entry_ns ? now_ns - pc->entry_ns : 0;
		struct stuck_call *c;
		char buf[32];

		if (age < r->older_than_ns)
			continue;
		c = stuck_report_add(r, pc->pid, pc->tid, chain_name(&snap, pc->chain, buf, sizeof(buf)),
				     age, true);
		if (!c || add_stack(c, pc, &sym, &sym_pid)) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	symbolizer_free(sym);
	snapshot_free(&snap);
	free(calls);
	return rc;
}
