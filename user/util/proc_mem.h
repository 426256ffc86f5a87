/* SPDX-License-Identifier: MIT */
/*
 * Reading another process's memory (process_vm_readv): never stops, writes
 * to or slows the process. Every read can fail (the memory went away): the
 * callers treat that as "not there", never as data.
 */
#ifndef INFLIGHT_PROC_MEM_H
#define INFLIGHT_PROC_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_mem {
	pid_t pid;
	uint64_t reads; /* syscalls made, for the cost figures */
};

/*
 * A budget of remote reads for one reading of one process: a forged or
 * corrupted process (a frame list that loops, absurd counts) must cost a
 * bounded amount of work. It is kept per thread, so the walkers, which are
 * specific to each CPython layout, need not carry it: every proc_read on
 * this thread between start and end counts against it, and past it fails
 * (no syscall) as if the memory were unreadable.
 */
enum proc_budget_state {
	PROC_BUDGET_OK,
	PROC_BUDGET_SPENT, /* a read was refused: more than `max_reads` */
	PROC_BUDGET_CYCLE, /* a walker found a list that loops */
};
/* Starts a budget of `max_reads` (0: none) on this thread. */
void proc_budget_start(uint64_t max_reads);
/* A walker found a cycle: the rest of this budget is refused. */
void proc_budget_cycle(void);
/*
 * Work done without a read (memory a walker had already copied) spends
 * one read of the budget: 0, or -EAGAIN as proc_read when it is spent.
 */
int proc_budget_spend(void);
/* Ends the budget: how it went. */
enum proc_budget_state proc_budget_end(void);

/*
 * Cycle detection in a linked list walked from outside (Brent's): call
 * with each node's address; true once an address comes back, within about
 * twice the loop's length after entering it. Zero-initialise per list.
 */
struct list_guard {
	uint64_t mark, power, steps;
};
bool list_guard_loops(struct list_guard *g, uint64_t addr);

/*
 * Reads exactly `len` bytes at `addr`; 0, or a negative errno if any byte
 * is unreadable: -EINVAL for a null address or length, -EAGAIN when the
 * read budget is spent (or the cycle was seen), -EFAULT for a partial read,
 * else process_vm_readv's errno.
 */
int proc_read(struct proc_mem *m, uint64_t addr, void *buf, size_t len);
/* Reads a pointer-sized word; 0 on failure (a NULL is never followed). */
uint64_t proc_read_ptr(struct proc_mem *m, uint64_t addr);

#endif
