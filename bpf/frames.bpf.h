/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The stack of pending calls (struct inflight_pending: a thread's, or a Go
 * goroutine's), innermost last, each frame its entry sp and chain id:
 *
 *   entry:  frames_push     release frames at or below sp (stale), push
 *   return: frames_pop_returning  release frames below the entry sp, pop
 *           the one entered at it
 *   repair: frames_release_below / frames_release_all
 *
 * A frame that leaves is counted in exits, as returned or as released (the
 * stack was unwound past it, or its thread or goroutine is gone); a returned
 * one's duration (now - entry_ns) goes to its chain's histogram too.
 */
#ifndef INFLIGHT_FRAMES_BPF_H
#define INFLIGHT_FRAMES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"
#include "counters.bpf.h"
#include "chain_ids.bpf.h"

/* Pops the innermost frame, counting it as returned or released. */
static __always_inline void frames_pop(const struct counters *c, struct inflight_pending *p,
				       bool returned)
{
	__u32 d = p->depth;

	if (d == 0 || d > INFLIGHT_MAX_DEPTH)
		return;
	p->depth = d - 1;
	/*
	 * only a return ends a call at a known time: a released one is not
	 * timed; nor is any with --no-duration (the clock read is most of it)
	 */
	if (returned && *c->time_returns) {
		__u64 now = bpf_ktime_get_ns(), at = p->frames[d - 1].entry_ns;

		counters_returned(c, p->frames[d - 1].chain, now > at ? now - at : 0);
	} else {
		counters_exit(c, p->frames[d - 1].chain, returned);
	}
}

/*
 * Releases frames whose entry sp is below `sp` (or equal, if `inclusive`):
 * the stack has been unwound past them without a return probe seeing it.
 * Returns how many; the caller counts them under its reason.
 */
static __always_inline __u32 frames_release_below(const struct counters *c,
						  struct inflight_pending *p, __u64 sp,
						  bool inclusive)
{
	__u32 released = 0;

#pragma unroll
	for (int i = 0; i < INFLIGHT_MAX_DEPTH; i++) {
		__u32 d = p->depth;
		__u64 fsp;

		if (d == 0 || d > INFLIGHT_MAX_DEPTH)
			break;
		fsp = p->frames[d - 1].sp;
		if (fsp > sp || (fsp == sp && !inclusive))
			break;
		frames_pop(c, p, false);
		released++;
	}
	return released;
}

/* Releases every frame: the thread, goroutine or image is gone (`stat`). */
static __always_inline void frames_release_all(const struct counters *c,
					       struct inflight_pending *p, __u32 stat)
{
	__u32 released = 0;

#pragma unroll
	for (int i = 0; i < INFLIGHT_MAX_DEPTH; i++) {
		if (p->depth == 0)
			break;
		frames_pop(c, p, false);
		released++;
	}
	counters_stat_add(c, stat, released);
}

/*
 * Pushes a frame entered at `sp` onto `p`, its chain resolved through `t`
 * and counted as entered. Past INFLIGHT_MAX_DEPTH the call is not counted.
 */
static __always_inline int frames_push(const struct chain_table *t, struct pt_regs *ctx,
				       bool usdt, struct inflight_pending *p, __u64 sp)
{
	const struct counters *c = t->counters;
	__u32 d, chain, stale;

	/* a frame at or below this entry's sp can no longer be live */
	stale = frames_release_below(c, p, sp, true);
	counters_stat_add(c, INFLIGHT_STAT_RELEASED_STALE, stale);

	d = p->depth;
	if (d >= INFLIGHT_MAX_DEPTH) {
		counters_stat_inc(c, INFLIGHT_STAT_DEPTH_FULL);
		return 0;
	}

	chain = chain_ids_resolve(t, ctx, usdt, p);
	/* counted as entered before it is pushed: no slot, no frame */
	{
		__u32 slot = counters_slot(chain, *c->id_space);
		__u64 *n = bpf_map_lookup_elem(c->entries, &slot);

		if (!n)
			return 0;
		__sync_fetch_and_add(n, 1);
	}
	p->frames[d].sp = sp;
	p->frames[d].chain = chain;
	/*
	 * The fine clock even for an age alone: the tick's (ktime_get_coarse)
	 * is not NMI-safe, so tracing programs may not read it.
	 */
	p->frames[d].entry_ns = bpf_ktime_get_ns();
	p->depth = d + 1;
	return 0;
}

/*
 * A return whose function was entered with stack pointer `entry_sp`: frames
 * deeper than it were unwound without a return (longjmp, exceptions) and are
 * released; the frame at exactly entry_sp is the one returning. `p` may be
 * NULL (no frames known): the return is counted unmatched.
 */
static __always_inline void frames_pop_returning(const struct counters *c,
						 struct inflight_pending *p, __u64 entry_sp)
{
	__u32 d, stale;

	if (!p || p->depth == 0)
		goto unmatched;

	stale = frames_release_below(c, p, entry_sp, false);
	counters_stat_add(c, INFLIGHT_STAT_RELEASED_STALE, stale);

	d = p->depth;
	if (d == 0 || d > INFLIGHT_MAX_DEPTH || p->frames[d - 1].sp != entry_sp)
		goto unmatched;
	frames_pop(c, p, true);
	return;
unmatched:
	counters_stat_inc(c, INFLIGHT_STAT_UNMATCHED);
}

#endif /* INFLIGHT_FRAMES_BPF_H */
