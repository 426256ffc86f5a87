/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Evaluating a chain fetch spec (struct inflight_fetch, parsed by the
 * collector from --chain) at a probe: a register, stack word or USDT
 * argument, up to INFLIGHT_MAX_DEREF dereferences, then a C string, a Go
 * string or a number formatted as the chain name.
 *
 * The spec is the caller's read-only global (.rodata, set before load and
 * frozen): the verifier knows its fields and prunes the paths of the other
 * kinds of spec.
 */
#ifndef INFLIGHT_FETCH_SPEC_BPF_H
#define INFLIGHT_FETCH_SPEC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "inflight.h"
#include "user_access.bpf.h"

static const char fetch_spec_fmt_u[] = "%llu";
static const char fetch_spec_fmt_s[] = "%lld";
static const char fetch_spec_fmt_x[] = "0x%llx";

/* Bytes a numeric fetch type reads (8 for the 64-bit and string types). */
static __always_inline __u32 fetch_spec_type_size(__u32 type)
{
	switch (type) {
	case INFLIGHT_T_U8: case INFLIGHT_T_S8: case INFLIGHT_T_X8: return 1;
	case INFLIGHT_T_U16: case INFLIGHT_T_S16: case INFLIGHT_T_X16: return 2;
	case INFLIGHT_T_U32: case INFLIGHT_T_S32: case INFLIGHT_T_X32: return 4;
	}
	return 8;
}

/* Formats a numeric fetch result as the chain name. */
static __always_inline void fetch_spec_format_number(const volatile struct inflight_fetch *spec,
						     struct inflight_chain_key *key, __u64 v)
{
	__u32 type = spec->type;
	__u32 bits = fetch_spec_type_size(type) * 8;
	__u64 data;

	if (bits < 64)
		v &= (1ULL << bits) - 1;
	if (type >= INFLIGHT_T_X8) {
		bpf_snprintf(key->name, sizeof(key->name), fetch_spec_fmt_x, &v, sizeof(v));
	} else if (type >= INFLIGHT_T_S8) {
		/* sign-extend from the type's width */
		data = bits < 64 ? (__u64)(((__s64)(v << (64 - bits))) >> (64 - bits)) : v;
		bpf_snprintf(key->name, sizeof(key->name), fetch_spec_fmt_s, &data, sizeof(data));
	} else {
		bpf_snprintf(key->name, sizeof(key->name), fetch_spec_fmt_u, &v, sizeof(v));
	}
}

/*
 * A Go string: (pointer, length), not NUL-terminated. With no deref the
 * pointer is `v` and the length is in the next register or stack word;
 * else `addr` is the 16-byte string header.
 */
static __always_inline int fetch_spec_gostring(struct pt_regs *ctx,
					       const volatile struct inflight_fetch *spec,
					       __u64 v, __u64 addr, __u32 n,
					       struct inflight_chain_key *key)
{
	__u64 ptr = v, len;
	__u32 size;

	if (n > 0) {
		if (user_read_uint(addr, 8, &ptr) || user_read_uint(addr + 8, 8, &len))
			return -1;
	} else if (spec->base == INFLIGHT_BASE_STACK) {
		if (user_read_uint(ctx->sp + spec->base_off + 8, 8, &len))
			return -1;
	} else {
		len = user_reg(ctx, spec->len_reg);
	}
	size = len < INFLIGHT_CHAIN_LEN - 1 ? (__u32)len : INFLIGHT_CHAIN_LEN - 1;
	if (size && bpf_probe_read_user(key->name, size & (INFLIGHT_CHAIN_LEN - 1), (void *)ptr))
		return -1;
	return 0;
}

/*
 * Evaluates `spec` into `key` (which the caller zeroed); `usdt`: ctx is a
 * USDT probe's, whose arguments bpf_usdt_arg can read. Not for
 * INFLIGHT_BASE_CONST, which fetches nothing. Returns 0, or -1 when user
 * memory could not be read.
 */
static __always_inline int fetch_spec_eval(struct pt_regs *ctx,
					   const volatile struct inflight_fetch *spec, bool usdt,
					   struct inflight_chain_key *key)
{
	__u32 n = spec->nderef;
	__u64 v = 0, addr;
	long arg;

	if (spec->base == INFLIGHT_BASE_USDT) {
		if (!usdt || bpf_usdt_arg(ctx, spec->reg, &arg))
			return -1;
		v = arg;
	} else if (spec->base == INFLIGHT_BASE_STACK) {
		if (user_read_uint(ctx->sp + spec->base_off, 8, &v))
			return -1;
	} else {
		v = user_reg(ctx, spec->reg);
	}

	/* every deref but the last loads a pointer */
#pragma unroll
	for (int i = 0; i < INFLIGHT_MAX_DEREF - 1; i++) {
		if (i + 1 >= n)
			break;
		if (user_read_uint(v + spec->off[i], 8, &v))
			return -1;
	}

	if (n > 0 && n <= INFLIGHT_MAX_DEREF)
		addr = v + spec->off[(n - 1) & (INFLIGHT_MAX_DEREF - 1)];
	else
		addr = v;

	if (spec->type == INFLIGHT_T_STRING) {
		if (bpf_probe_read_user_str(key->name, sizeof(key->name), (void *)addr) < 0)
			return -1;
		return 0;
	}
	if (spec->type == INFLIGHT_T_GOSTRING)
		return fetch_spec_gostring(ctx, spec, v, addr, n, key);
	if (n > 0 && user_read_uint(addr, fetch_spec_type_size(spec->type), &v))
		return -1;
	fetch_spec_format_number(spec, key, v);
	return 0;
}

#endif /* INFLIGHT_FETCH_SPEC_BPF_H */
