/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The exit-site decision of instruction mode (--return insn): a uprobe sits
 * on each instruction that may leave the handle function (ret, tail jumps,
 * conditional or indirect jumps out); the ones that need a run-time look
 * carry an index into an array of struct inflight_exit_site (from the
 * collector's decoding, user/probe/exit_sites.c) as their attach cookie.
 */
#ifndef INFLIGHT_EXIT_SITE_BPF_H
#define INFLIGHT_EXIT_SITE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"
#include "user_access.bpf.h"

/* Does x86 condition code `cc` (enum inflight_cc) hold under `flags`? */
static __always_inline bool exit_site_cc_holds(__u32 cc, __u64 flags)
{
	bool cf = flags & 0x1, pf = flags & 0x4, zf = flags & 0x40;
	bool sf = flags & 0x80, of = flags & 0x800;
	bool r;

	/* Jcc's encoding: pairs of a condition and its negation (odd cc) */
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

/*
 * Does the instruction at this exit site leave the function this time?
 * `sites`: the BPF_MAP_TYPE_ARRAY of struct inflight_exit_site the attach
 * cookies index (cookie 0: always leaves, no lookup). A memory-indirect
 * jump whose slot cannot be read counts as staying: no exit is counted.
 */
static __always_inline bool exit_site_leaves(struct pt_regs *ctx, void *sites)
{
	__u32 idx = (__u32)bpf_get_attach_cookie(ctx);
	struct inflight_exit_site *s;
	__u64 target, ip = ctx->ip;

	if (idx == 0)
		return true; /* ret, or an unconditional jump out */
	s = bpf_map_lookup_elem(sites, &idx);
	if (!s)
		return true;
	switch (s->kind) {
	case INFLIGHT_SITE_JCC:
		return exit_site_cc_holds(s->cc, ctx->flags);
	case INFLIGHT_SITE_JMP_REG:
		target = user_reg(ctx, s->base);
		break;
	case INFLIGHT_SITE_JMP_MEM:
		target = s->disp;
		if (s->base == INFLIGHT_REG_IP)
			target += ip;
		else if (s->base != INFLIGHT_NO_REG)
			target += user_reg(ctx, s->base);
		if (s->index != INFLIGHT_NO_REG)
			target += user_reg(ctx, s->index) * s->scale;
		if (user_read_uint(target, 8, &target))
			return false;
		break;
	default:
		return true;
	}
	/* inside the function's own code (hot or .cold part): it stays */
	for (int i = 0; i < 2; i++)
		if (target >= ip + s->lo[i] && target < ip + s->hi[i])
			return false;
	return true;
}

#endif /* INFLIGHT_EXIT_SITE_BPF_H */
