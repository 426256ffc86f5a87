// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include "util/proc_mem.h"

static _Thread_local struct {
	uint64_t max, used;
	enum proc_budget_state state;
} budget;

void proc_budget_start(uint64_t max_reads)
{
	budget.max = max_reads;
	budget.used = 0;
	budget.state = PROC_BUDGET_OK;
}

void proc_budget_cycle(void)
{
	budget.state = PROC_BUDGET_CYCLE;
}

enum proc_budget_state proc_budget_end(void)
{
	enum proc_budget_state s = budget.state;

	budget.max = 0;
	budget.state = PROC_BUDGET_OK;
	return s;
}

bool list_guard_loops(struct list_guard *g, uint64_t addr)
{
	if (!g->power)
		g->power = 1;
	else if (addr == g->mark)
		return true;
	/* move the mark forward at each power of two steps */
	if (++g->steps >= g->power) {
		g->mark = addr;
		g->power *= 2;
		g->steps = 0;
	}
	return false;
}

int proc_budget_spend(void)
{
	if (budget.max) {
		if (budget.state == PROC_BUDGET_CYCLE)
			return -EAGAIN;
		if (budget.used >= budget.max) {
			budget.state = PROC_BUDGET_SPENT;
			return -EAGAIN;
		}
		budget.used++;
	}
	return 0;
}

int proc_read(struct proc_mem *m, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!addr || !len)
		return -EINVAL;
	if (proc_budget_spend())
		return -EAGAIN;
	m->reads++;
	n = process_vm_readv(m->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	/* a partial read: the range crosses into an unmapped page */
	return n == (ssize_t)len ? 0 : -EFAULT;
}

uint64_t proc_read_ptr(struct proc_mem *m, uint64_t addr)
{
	uint64_t v;

	return proc_read(m, addr, &v, sizeof(v)) ? 0 : v;
}
