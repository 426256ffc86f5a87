/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The probed thread's registers by inflight's own numbering (enum
 * inflight_reg, the one the collector writes into fetch specs and exit
 * sites) and its memory read as an unsigned integer: what both the chain
 * fetch (fetch_spec.bpf.h) and the exit-site decision (exit_site.bpf.h)
 * are made of. Static inline: one object, inlined into each program.
 */
#ifndef INFLIGHT_USER_ACCESS_BPF_H
#define INFLIGHT_USER_ACCESS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"

/*
 * Each case loads at a constant offset: the verifier refuses a load through
 * a ctx pointer with a computed offset, which is what the compiler makes of
 * a plain switch when it merges the cases' loads. The empty asm after each
 * load keeps them apart.
 */
#define USER_REG_CASE(id, field)                     \
	case id:                                     \
		v = ctx->field;                      \
		asm volatile("" : "+r"(v));          \
		break

/* Register `reg` (enum inflight_reg) of the probed thread; 0 if unknown. */
static __always_inline __u64 user_reg(struct pt_regs *ctx, __u32 reg)
{
	__u64 v = 0;

	switch (reg) {
	USER_REG_CASE(INFLIGHT_REG_AX, ax);
	USER_REG_CASE(INFLIGHT_REG_BX, bx);
	USER_REG_CASE(INFLIGHT_REG_CX, cx);
	USER_REG_CASE(INFLIGHT_REG_DX, dx);
	USER_REG_CASE(INFLIGHT_REG_SI, si);
	USER_REG_CASE(INFLIGHT_REG_DI, di);
	USER_REG_CASE(INFLIGHT_REG_BP, bp);
	USER_REG_CASE(INFLIGHT_REG_SP, sp);
	USER_REG_CASE(INFLIGHT_REG_R8, r8);
	USER_REG_CASE(INFLIGHT_REG_R9, r9);
	USER_REG_CASE(INFLIGHT_REG_R10, r10);
	USER_REG_CASE(INFLIGHT_REG_R11, r11);
	USER_REG_CASE(INFLIGHT_REG_R12, r12);
	USER_REG_CASE(INFLIGHT_REG_R13, r13);
	USER_REG_CASE(INFLIGHT_REG_R14, r14);
	USER_REG_CASE(INFLIGHT_REG_R15, r15);
	USER_REG_CASE(INFLIGHT_REG_IP, ip);
	USER_REG_CASE(INFLIGHT_REG_FLAGS, flags);
	}
	return v;
}

#undef USER_REG_CASE

/*
 * Reads `size` bytes (1, 2, 4, else 8) of user memory at `addr` as an
 * unsigned integer into `out` (0 on a fault). A constant size per call to
 * the helper: the verifier wants the read's length bounded.
 */
static __always_inline int user_read_uint(__u64 addr, __u32 size, __u64 *out)
{
	__u64 v = 0;
	int err;

	switch (size) {
	case 1: err = bpf_probe_read_user(&v, 1, (void *)addr); break;
	case 2: err = bpf_probe_read_user(&v, 2, (void *)addr); break;
	case 4: err = bpf_probe_read_user(&v, 4, (void *)addr); break;
	default: err = bpf_probe_read_user(&v, 8, (void *)addr); break;
	}
	*out = v;
	return err;
}

#endif /* INFLIGHT_USER_ACCESS_BPF_H */
