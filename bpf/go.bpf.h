/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Go (amd64 ABIInternal): %r14 holds the current g at function entry and at
 * every return. Frames are kept per goroutine, in a hash keyed by (tgid,
 * goid) that holds only goroutines with calls pending, and placed by their
 * depth below the goroutine stack's top, g.stack.hi - sp, which a stack
 * copy keeps: "sp" in a Go frame is GO_TOP - depth, ordered as sp is, so
 * the frame stack's logic (frames.bpf.h: stale frames, matching returns)
 * applies unchanged.
 */
#ifndef INFLIGHT_GO_BPF_H
#define INFLIGHT_GO_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"
#include "counters.bpf.h"
#include "user_access.bpf.h"

#define GO_STACK_HI_OFF 8 /* g.stack is g's first field: {lo, hi} */
#define GO_TOP (1ULL << 62)

/*
 * The current goroutine's key, and `sp` as a depth-based position.
 * `goid_off`: where the goroutine id sits in runtime.g (a read-only setting).
 */
static __always_inline int go_where(struct pt_regs *ctx, const volatile __u32 *goid_off,
				    struct inflight_go_key *key, __u64 *pos)
{
	__u64 g = ctx->r14, hi, goid, sp = ctx->sp;

	if (user_read_uint(g + GO_STACK_HI_OFF, 8, &hi) ||
	    user_read_uint(g + *goid_off, 8, &goid))
		return -1;
	/* not on this goroutine's stack (a system stack): not a goroutine's frame */
	if (sp > hi || hi - sp >= GO_TOP)
		return -1;
	key->tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	key->_pad = 0;
	key->goid = (__s64)goid;
	*pos = GO_TOP - (hi - sp);
	return 0;
}

/*
 * The goroutine's frames in `goroutines`, created from `empty` (a zeroed
 * struct inflight_pending) at its first call; NULL when the map is full.
 */
static __always_inline struct inflight_pending *go_frames_get(void *goroutines,
							      struct inflight_go_key *key,
							      const struct inflight_pending *empty)
{
	struct inflight_pending *p = bpf_map_lookup_elem(goroutines, key);

	if (p)
		return p;
	bpf_map_update_elem(goroutines, key, empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(goroutines, key);
}

/* The goroutine's entry goes with its last frame: the map holds only live calls. */
static __always_inline void go_forget_if_idle(void *goroutines, struct inflight_go_key *key,
					      struct inflight_pending *p)
{
	if (p->depth == 0)
		bpf_map_delete_elem(goroutines, key);
}

/* What a sweep of the goroutine map (bpf_for_each_map_elem) is after. */
struct go_sweep {
	__u32 tgid; /* the process gone */
	__u32 stat; /* its release reason */
};

/*
 * One goroutine entry of a sweep: if it belongs to the process gone, its
 * frames are released. Several of a dying process's threads may find it
 * dead (signal->live is read, not decremented, there): whoever deletes an
 * entry releases its frames, from a copy taken before, so none is released
 * twice.
 */
static __always_inline long go_sweep_entry(const struct counters *c, struct bpf_map *map,
					   struct inflight_go_key *key,
					   struct inflight_pending *p, struct go_sweep *w)
{
	__u32 chains[INFLIGHT_MAX_DEPTH], d = p->depth, n = 0;

	if (key->tgid != w->tgid)
		return 0;
#pragma unroll
	for (int i = 0; i < INFLIGHT_MAX_DEPTH; i++)
		chains[i] = p->frames[i].chain;
	if (bpf_map_delete_elem(map, key))
		return 0;
#pragma unroll
	for (int i = 0; i < INFLIGHT_MAX_DEPTH; i++) {
		if (i >= d)
			break;
		counters_exit(c, chains[i], false);
		n++;
	}
	counters_stat_add(c, w->stat, n);
	return 0;
}

#endif /* INFLIGHT_GO_BPF_H */
