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

/* Reads exactly `len` bytes at `addr`; 0, or -1 if any byte is unreadable. */
int proc_read(struct proc_mem *m, uint64_t addr, void *buf, size_t len);
/* Reads a pointer-sized word; 0 on failure (a NULL is never followed). */
uint64_t proc_read_ptr(struct proc_mem *m, uint64_t addr);

#endif
