// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <string.h>
#include <sys/uio.h>
#include "proc_mem.h"

int proc_read(struct proc_mem *m, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	if (!addr || !len)
		return -1;
	m->reads++;
	return process_vm_readv(m->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

uint64_t proc_read_ptr(struct proc_mem *m, uint64_t addr)
{
	uint64_t v;

	return proc_read(m, addr, &v, sizeof(v)) ? 0 : v;
}
