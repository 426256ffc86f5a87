/* SPDX-License-Identifier: MIT */
/*
 * The chaos test's shared memory: the test creates it, each chaos_worker
 * process keeps its own accounting in a slot of it (C and C++ alike).
 */
#ifndef INFLIGHT_CHAOS_SHM_H
#define INFLIGHT_CHAOS_SHM_H

#include <stdint.h>

#define CHAOS_MAGIC 0x736f616863666c69ull /* "iflchaos" */
#define CHAOS_MAX_CHAINS 8

struct chaos_slot {
	int64_t inside[CHAOS_MAX_CHAINS]; /* calls inside the handler now, per chain */
	uint64_t calls, throws, thread_exits, proc_exit;
};

struct chaos_shm_header {
	uint64_t magic, slot_size, nslots, pad;
};

#endif
