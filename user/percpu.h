/* SPDX-License-Identifier: MIT */
/* Summing the per-CPU copies of BPF map values, as the kernel lays them out. */
#ifndef INFLIGHT_PERCPU_H
#define INFLIGHT_PERCPU_H

#include <stddef.h>
#include <stdint.h>

/* The kernel pads each CPU's copy of a per-CPU value to 8 bytes. */
static inline size_t percpu_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;
}

/*
 * `values` holds nkeys * ncpus copies (key-major, each `percpu_stride`
 * bytes) of a value made of `nfields` u64 counters. Writes nkeys * nfields
 * sums to `out`.
 */
void percpu_sum(const void *values, size_t nkeys, size_t ncpus, size_t nfields,
		uint64_t *out);

#endif
