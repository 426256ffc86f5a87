/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * glibc's longjmp, siglongjmp, _longjmp and __longjmp_chk (env in %di): the
 * stack goes back to the sp saved by setjmp, so every pending frame entered
 * below it is gone. glibc stores that sp mangled (PTR_MANGLE: xor with the
 * thread's pointer guard, tcbhead_t.pointer_guard at %fs:0x30, then rol
 * 0x11); it is unmangled here with the guard read from the thread's TCB.
 * x86-64 only, as the probes are.
 */
#ifndef INFLIGHT_LONGJMP_BPF_H
#define INFLIGHT_LONGJMP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "inflight.h"
#include "counters.bpf.h"
#include "frames.bpf.h"

/* glibc x86-64: the saved sp's word in a jmp_buf; the guard's offset in the TCB */
#define JB_RSP 6
#define TCB_POINTER_GUARD 0x30

/*
 * Releases the frames of `p` that the longjmp entered now unwinds, those
 * entered below the sp it returns to, counted as RELEASED_LONGJMP. Nothing
 * if the jmp_buf or the guard cannot be read.
 */
static __always_inline void longjmp_release(const struct counters *c, struct pt_regs *ctx,
					    struct inflight_pending *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mangled, guard, sp, fsbase;
	__u32 n;

	fsbase = BPF_CORE_READ(task, thread.fsbase);
	if (bpf_probe_read_user(&mangled, sizeof(mangled), (void *)(ctx->di + JB_RSP * 8)) ||
	    bpf_probe_read_user(&guard, sizeof(guard), (void *)(fsbase + TCB_POINTER_GUARD)))
		return;
	sp = ((mangled >> 0x11) | (mangled << (64 - 0x11))) ^ guard;
	/* the target must lie above this call: else it is no jmp_buf of ours */
	if (sp <= ctx->sp)
		return;
	n = frames_release_below(c, p, sp, false);
	counters_stat_add(c, INFLIGHT_STAT_RELEASED_LONGJMP, n);
}

#endif /* INFLIGHT_LONGJMP_BPF_H */
