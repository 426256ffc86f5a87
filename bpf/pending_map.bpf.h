/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The `pending` task storage: per thread, its stack of pending calls
 * (struct inflight_pending), freed by the kernel with the task, so there is
 * no table to fill and no leak. Defined by inflight.bpf.c; pending_iter.bpf.c
 * declares it alike to reuse it by fd (never creating its own).
 */
#ifndef INFLIGHT_PENDING_MAP_BPF_H
#define INFLIGHT_PENDING_MAP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight_pending);
} pending SEC(".maps");

#endif
