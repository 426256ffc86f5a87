/* SPDX-License-Identifier: MIT */
/*
 * Native targets: each chain's oldest call in flight, from the calls
 * pending at the reading (probe/pending_calls.h) and their entry times.
 */
#ifndef INFLIGHT_OLDEST_AGE_H
#define INFLIGHT_OLDEST_AGE_H

#include <stddef.h>
#include <stdint.h>
#include "probe/pending_calls.h"
#include "probe/snapshot.h"

/*
 * Sets oldest_known and oldest_age_ns of every chain of `s`: `now_ns`
 * (CLOCK_MONOTONIC, taken after `calls` were read) less the earliest entry
 * among the chain's pending calls. Known only for a chain with calls in
 * flight by its counters and at least one among `calls` (none when they
 * could not be read: NULL, 0). Sorts `calls` (by chain, then entry).
 */
void oldest_age_fill(struct snapshot *s, struct pending_call *calls, size_t n, uint64_t now_ns);

#endif
