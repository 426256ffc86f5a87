/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The calls pending now, for their age (the oldest_age gauge) and for
 * `inflight stuck`: a task iterator over the main object's `pending` task
 * storage (reused by fd, so it reads the live frames), writing one
 * inflight_pending_record per thread that holds any. Task storage cannot be
 * walked from user space without a pidfd per thread; one read() of this
 * iterator replaces a /proc walk and a syscall per thread.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "inflight.h"
#include "pending_map.bpf.h" /* inflight.bpf.c's, reused by fd */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Too large for the 512-byte stack: built in a per-CPU scratch slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct inflight_pending_record);
	__uint(max_entries, 1);
} scratch SEC(".maps");

SEC("iter/task")
int dump_pending(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct inflight_pending_record *r;
	struct inflight_pending *p;
	struct pt_regs *regs;
	__u32 zero = 0;

	if (!task)
		return 0;
	p = bpf_task_storage_get(&pending, task, 0, 0);
	if (!p || p->depth == 0)
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	r->tgid = task->tgid;
	r->tid = task->pid;
	r->depth = p->depth > INFLIGHT_MAX_DEPTH ? INFLIGHT_MAX_DEPTH : p->depth;
	__builtin_memcpy(r->frames, p->frames, sizeof(r->frames));
	/* the registers saved at its last kernel entry: exact for a blocked thread */
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	r->ip = regs ? BPF_CORE_READ(regs, ip) : 0;
	r->sp = regs ? BPF_CORE_READ(regs, sp) : 0;
	r->bp = regs ? BPF_CORE_READ(regs, bp) : 0;
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}
