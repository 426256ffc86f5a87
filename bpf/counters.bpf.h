/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The counters the collector reads: a slot per CPU and chain id (entries,
 * exits) or per CPU and stat, in plain arrays it maps into its memory, so a
 * collection makes no syscall. Bumped atomically: uprobe programs run with
 * migration disabled but may be preempted, so a plain ++ could be lost to
 * another task on the same CPU.
 */
#ifndef INFLIGHT_COUNTERS_BPF_H
#define INFLIGHT_COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"

/*
 * The object's counter maps and the chain ids per CPU in entries/exits
 * (a read-only setting, read where it is used). The includer fills one
 * constant instance; inlined, its fields fold to the maps themselves.
 */
struct counters {
	void *stats;   /* [cpu * INFLIGHT_STAT__COUNT + stat] of __u64 */
	void *entries; /* [cpu * id_space + chain] of __u64 */
	void *exits;   /* [cpu * id_space + chain] of struct inflight_exits */
	const volatile __u32 *id_space;
	void *durations; /* [cpu * id_space + chain] of struct inflight_duration */
	const volatile bool *time_returns; /* returns go into durations too */
};

/* This CPU's slot for chain `id` (or stat `id`, with `per_cpu` stats). */
static __always_inline __u32 counters_slot(__u32 id, __u32 per_cpu)
{
	return bpf_get_smp_processor_id() * per_cpu + id;
}

static __always_inline void counters_stat_add(const struct counters *c, __u32 which, __u64 n)
{
	__u32 slot = counters_slot(which, INFLIGHT_STAT__COUNT);
	__u64 *v;

	if (!n)
		return;
	v = bpf_map_lookup_elem(c->stats, &slot);
	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline void counters_stat_inc(const struct counters *c, __u32 which)
{
	counters_stat_add(c, which, 1);
}

/* A call of chain `chain` left: returned, or released (never seen returning). */
static __always_inline void counters_exit(const struct counters *c, __u32 chain, bool returned)
{
	__u32 slot = counters_slot(chain, *c->id_space);
	struct inflight_exits *e = bpf_map_lookup_elem(c->exits, &slot);

	if (!e)
		return;
	if (returned)
		__sync_fetch_and_add(&e->returned, 1);
	else
		__sync_fetch_and_add(&e->released, 1);
}

/* The duration bounds in ns, sorted (see struct inflight_duration). */
static const __u64 counters_duration_bound[INFLIGHT_DURATION_BOUNDS] = INFLIGHT_DURATION_BOUNDS_NS;

/*
 * The bucket of a duration: the first i with d <= bound[i], 15 past the
 * last bound. A binary search of 4 compares over the 16 buckets.
 */
static __always_inline __u32 counters_duration_bucket(__u64 d)
{
	__u32 i = 0;

#pragma unroll
	for (__u32 step = INFLIGHT_DURATION_BUCKETS / 2; step; step /= 2)
		if (d > counters_duration_bound[(i + step - 1) & (INFLIGHT_DURATION_BUCKETS - 1)])
			i += step;
	return i;
}

/*
 * A call of chain `chain` returned after `ns`: into its histogram, then
 * counted as returned (so a reading that sees the return finds its
 * duration), on one slot for both.
 */
static __always_inline void counters_returned(const struct counters *c, __u32 chain, __u64 ns)
{
	__u32 slot = counters_slot(chain, *c->id_space);
	struct inflight_duration *h = bpf_map_lookup_elem(c->durations, &slot);
	struct inflight_exits *e;

	if (h) {
		__sync_fetch_and_add(&h->bucket[counters_duration_bucket(ns) &
						(INFLIGHT_DURATION_BUCKETS - 1)], 1);
		__sync_fetch_and_add(&h->sum_ns, ns);
	}
	e = bpf_map_lookup_elem(c->exits, &slot);
	if (e)
		__sync_fetch_and_add(&e->returned, 1);
}

#endif /* INFLIGHT_COUNTERS_BPF_H */
