/* SPDX-License-Identifier: MIT */
/*
 * `inflight stuck` on native targets: the calls the BPF side holds pending
 * (probe/pending_calls.h), aged from their entry time, each with its
 * thread's user stack where frame pointers give it (probe/stack_walk.h).
 */
#ifndef INFLIGHT_STUCK_NATIVE_H
#define INFLIGHT_STUCK_NATIVE_H

#include <stdint.h>
#include "cli/stuck_report.h"
#include "observe/observer.h"

/*
 * Adds every pending call at least r->older_than_ns old at `now_ns`
 * (CLOCK_MONOTONIC) to `r`, its chain named from a reading taken now.
 * 0, or a negative errno (-ENODEV: the pending calls cannot be read).
 */
int stuck_native_report(struct observer *o, uint64_t now_ns, struct stuck_report *r);

#endif
