/* SPDX-License-Identifier: MIT */
/*
 * Summing counters kept per CPU: the BPF side bumps slot [cpu][id] of a
 * plain array the collector maps into its memory, and the collector adds
 * the CPUs up. Loads are atomic (aligned 8 bytes) but not a snapshot across
 * slots: callers order what they read (exits before entries).
 */
#ifndef INFLIGHT_PERCPU_H
#define INFLIGHT_PERCPU_H

#include <stddef.h>
#include <stdint.h>

/*
 * `slots` is [ncpus][stride][nfields] u64 counters. Writes the sums over
 * CPUs of the first `n` ids (n <= stride), n * nfields values, to `out`.
 */
void percpu_sum(const volatile uint64_t *slots, size_t ncpus, size_t stride, size_t nfields,
		size_t n, uint64_t *out);

#endif
