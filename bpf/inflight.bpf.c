// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Per-chain in-flight counting for one handle function.
 *
 * entry probe:  chain = fetch(args); pending[task].push(sp, chain); entries[chain] += 1
 * return probe: pop the frame whose entry sp matches;               exits[chain].returned += 1
 *               and its duration into                              durations[chain]
 * thread exit, exec, a later entry at or above a frame, a C++ catch above it:
 *               release the frame;                                  exits[chain].released += 1
 *
 * Go binaries (go_* programs): the same per goroutine instead of per thread,
 * frames placed by depth below the goroutine stack's top; a goroutine's end
 * and a recovered panic release frames too.
 *
 * This file holds the maps (but `pending`, shared with pending_iter.bpf.c),
 * the settings and the programs; each job is an inline helper header of its
 * own (as libbpf-tools keeps maps.bpf.h), handed the maps and settings it
 * works on, so it stays one object:
 *
 *   counters.bpf.h    per-CPU counter slots (entries, exits, durations, stats)
 *   chain_ids.bpf.h   a call's chain key and its id
 *   fetch_spec.bpf.h  the chain fetch (--chain)
 *   frames.bpf.h      the stack of pending frames: push, pop, release
 *   exit_site.bpf.h   instruction mode's exit-site decision
 *   longjmp.bpf.h     the frames a glibc longjmp unwinds
 *   go.bpf.h          goroutine keys, positions and the process-exit sweep
 *   pending_map.bpf.h the `pending` task storage (the threads' frames)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "inflight.h"
#include "counters.bpf.h"
#include "chain_ids.bpf.h"
#include "frames.bpf.h"
#include "exit_site.bpf.h"
#include "longjmp.bpf.h"
#include "go.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
/*
 * The release this object belongs to (read by nothing): every release's
 * object differs, so pinned state is matched on its layout version
 * (INFLIGHT_PIN_LAYOUT), never on the object's bytes.
 */
const volatile char inflight_release[32] = INFLIGHT_VERSION;

/* Set by the collector before load. */
const volatile struct inflight_fetch fetch = {};
const volatile __u32 filter_tgid = 0;   /* 0: every process mapping the binary */
const volatile __u32 id_space = 2;      /* chain ids per CPU in entries/exits */
const volatile __u32 ncpus = 1;         /* possible CPUs: slots per chain id */
/* series per chain and cgroup (--k8s-attributes) */
const volatile bool by_cgroup = false;
/* --chain-name, when split by cgroup (the name must go through the chain table) */
const volatile char const_chain[INFLIGHT_CHAIN_LEN] = {};
/* discovery: only processes in `watched` count (--match-cmdline) */
const volatile bool watch_by_tgid = false;
/* discovery: every exec is told to the collector, to look at at once */
const volatile bool notify_exec = false;

/*
 * Go binaries (0: not Go): where the goroutine id sits in runtime.g. The
 * Go programs below key frames by goroutine; the native ones ignore this.
 */
const volatile __u32 go_goid_off = 0;
/* false (--no-duration): a return is counted, not timed: no clock read at return */
const volatile bool time_returns = true;

/* Next chain id to hand out; 0 and 1 are reserved (overflow, constant).
 * The collector reads it (mapped .data) to know how many ids to sum. */
__u32 next_id = 2;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct inflight_chain_key);
	__type(value, __u32);
	__uint(max_entries, 1024); /* the chain cap; resized before load */
} chain_ids SEC(".maps");

/*
 * Ids of dead cgroups' series, retired by the collector for reuse: with a
 * series per container, pods come and go and the ids must not run out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, __u32);
	__uint(max_entries, 1); /* id_space; sized before load */
} free_ids SEC(".maps");

/* [chain id]: see struct inflight_id_state; mapped by the collector */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct inflight_id_state);
	__uint(max_entries, 1);
} id_states SEC(".maps");

/* [cpu * id_space + chain]; sized by the collector before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} entries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct inflight_exits);
	__uint(max_entries, 1);
} exits SEC(".maps");

/* [cpu * id_space + chain]: returned calls' durations; sized like exits */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct inflight_duration);
	__uint(max_entries, 1);
} durations SEC(".maps");

/* `pending`, here so the maps keep their order in the object (pinning walks it) */
#include "pending_map.bpf.h"

/*
 * Go: the calls pending per goroutine, only while it has any (an entry
 * goes when its last frame does), so the size bounds goroutines in calls.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct inflight_go_key);
	__type(value, struct inflight_pending);
	__uint(max_entries, 1); /* 65536 for a Go target; sized before load */
} go_pending SEC(".maps");

/* A goroutine's first frame starts from this (never written). */
static const struct inflight_pending go_empty;

/* [cpu * INFLIGHT_STAT__COUNT + stat] */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct inflight_exit_site);
	__uint(max_entries, 1);
} exit_sites SEC(".maps");

/*
 * Written only by the collector, kept here so they can be pinned with the
 * rest: each series' start time (by chain id), and the pinned state's
 * identity.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} series_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct inflight_meta);
	__uint(max_entries, 1);
} meta SEC(".maps");

/*
 * Discovery by command line: the processes that matched. A process forked
 * from one is in too (a pre-fork server's workers) before any rescan.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 65536);
} watched SEC(".maps");

/* Discovery: tgids that exec'd, so a new worker is attached within a tick. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} execs SEC(".maps");

/*
 * What the helpers work on: this object's maps and settings, handed over as
 * libbpf-tools' maps.bpf.h takes its map. Constant and only ever passed to
 * inlined helpers, so each field folds to the map or global itself and no
 * copy of these is emitted.
 */
static const struct counters counters = {
	.stats = &stats,
	.entries = &entries,
	.exits = &exits,
	.id_space = &id_space,
	.durations = &durations,
	.time_returns = &time_returns,
};

static const struct chain_table chains = {
	.ids = &chain_ids,
	.free_ids = &free_ids,
	.id_states = &id_states,
	.next_id = &next_id,
	.fetch = &fetch,
	.by_cgroup = &by_cgroup,
	.const_chain = const_chain,
	.counters = &counters,
};

static __always_inline struct inflight_pending *thread_state(bool create)
{
	return bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline bool process_observed(void)
{
	if (filter_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) != filter_tgid)
		return false;
	if (watch_by_tgid) {
		__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);

		if (!bpf_map_lookup_elem(&watched, &tgid))
			return false;
	}
	return true;
}

static __always_inline int on_entry(struct pt_regs *ctx, bool usdt)
{
	struct inflight_pending *p;
	__u64 sp = ctx->sp;

	if (!process_observed())
		return 0;
	p = thread_state(true);
	if (!p) {
		counters_stat_inc(&counters, INFLIGHT_STAT_THREADS_FULL);
		return 0;
	}
	return frames_push(&chains, ctx, usdt, p, sp);
}

static __always_inline int on_return(__u64 entry_sp)
{
	frames_pop_returning(&counters, thread_state(false), entry_sp);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(handle_entry)
{
	return on_entry(ctx, false);
}

/* After the return: sp has moved past the popped return address. */
SEC("uretprobe")
int BPF_KRETPROBE(handle_return)
{
	return on_return(ctx->sp - 8);
}

/*
 * Instruction mode: a uprobe on each instruction that leaves the function
 * (ret, tail jumps). sp there equals the entry sp.
 */
SEC("uprobe")
int BPF_KPROBE(handle_exit_insn)
{
	if (!exit_site_leaves(ctx, &exit_sites))
		return 0;
	return on_return(ctx->sp);
}

/*
 * __cxa_begin_catch: its entry sp sits just below the catching frame, so
 * every pending frame at or below it was unwound by the exception.
 */
SEC("uprobe")
int BPF_KPROBE(handle_catch)
{
	struct inflight_pending *p = thread_state(false);
	__u32 n;

	if (!p)
		return 0;
	n = frames_release_below(&counters, p, ctx->sp, true);
	counters_stat_add(&counters, INFLIGHT_STAT_RELEASED_CATCH, n);
	return 0;
}

/* glibc's longjmp family: frames below the setjmp's sp are gone (longjmp.bpf.h). */
SEC("uprobe")
int BPF_KPROBE(handle_longjmp)
{
	struct inflight_pending *p = thread_state(false);

	if (!p || p->depth == 0)
		return 0;
	longjmp_release(&counters, ctx, p);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt_entry)
{
	return on_entry(ctx, true);
}

/*
 * USDT return sites sit inside the function body, where sp need not equal
 * the entry site's: pop the innermost frame.
 */
SEC("usdt")
int BPF_USDT(usdt_return)
{
	struct inflight_pending *p = thread_state(false);

	if (!p || p->depth == 0) {
		counters_stat_inc(&counters, INFLIGHT_STAT_UNMATCHED);
		return 0;
	}
	frames_pop(&counters, p, true);
	return 0;
}

/* Go: frames per goroutine (go.bpf.h), in go_pending. */
SEC("uprobe")
int BPF_KPROBE(go_entry)
{
	struct inflight_go_key key;
	struct inflight_pending *p;
	__u64 pos;

	if (!process_observed())
		return 0;
	if (go_where(ctx, &go_goid_off, &key, &pos)) {
		counters_stat_inc(&counters, INFLIGHT_STAT_THREADS_FULL);
		return 0;
	}
	p = go_frames_get(&go_pending, &key, &go_empty);
	if (!p) {
		counters_stat_inc(&counters, INFLIGHT_STAT_THREADS_FULL);
		return 0;
	}
	frames_push(&chains, ctx, false, p, pos);
	go_forget_if_idle(&go_pending, &key, p);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(go_exit_insn)
{
	struct inflight_go_key key;
	struct inflight_pending *p = NULL;
	__u64 pos = 0;

	if (!exit_site_leaves(ctx, &exit_sites))
		return 0;
	if (!go_where(ctx, &go_goid_off, &key, &pos))
		p = bpf_map_lookup_elem(&go_pending, &key);
	frames_pop_returning(&counters, p, pos);
	if (p)
		go_forget_if_idle(&go_pending, &key, p);
	return 0;
}

/* runtime.goexit1: the goroutine ends (returned, or runtime.Goexit). */
SEC("uprobe")
int BPF_KPROBE(go_goexit)
{
	struct inflight_go_key key;
	struct inflight_pending *p;
	__u64 pos;

	if (go_where(ctx, &go_goid_off, &key, &pos))
		return 0;
	p = bpf_map_lookup_elem(&go_pending, &key);
	if (!p)
		return 0;
	frames_release_all(&counters, p, INFLIGHT_STAT_RELEASED_GOEXIT);
	bpf_map_delete_elem(&go_pending, &key);
	return 0;
}

/*
 * runtime.deferreturn, called by a function running its defers; after a
 * recovered panic the recovering function resumes by calling it. Frames at
 * or below its entry sp were unwound by the panic.
 */
SEC("uprobe")
int BPF_KPROBE(go_deferreturn)
{
	struct inflight_go_key key;
	struct inflight_pending *p;
	__u64 pos;

	if (go_where(ctx, &go_goid_off, &key, &pos))
		return 0;
	p = bpf_map_lookup_elem(&go_pending, &key);
	if (!p)
		return 0;
	counters_stat_add(&counters, INFLIGHT_STAT_RELEASED_RECOVER,
			  frames_release_below(&counters, p, pos, true));
	go_forget_if_idle(&go_pending, &key, p);
	return 0;
}

/*
 * bpf_for_each_map_elem's callback over go_pending: a subprogram the kernel
 * calls, with no argument to carry the maps, so it stays beside them.
 */
static long go_sweep_one(struct bpf_map *map, struct inflight_go_key *key,
			 struct inflight_pending *p, struct go_sweep *w)
{
	return go_sweep_entry(&counters, map, key, p, w);
}

/* A Go process's goroutines are gone with it (its last thread's exit, exec). */
static __always_inline void go_sweep_process(__u32 tgid, __u32 stat)
{
	struct go_sweep w = { .tgid = tgid, .stat = stat };

	if (go_goid_off)
		bpf_for_each_map_elem(&go_pending, go_sweep_one, &w, 0);
}

/* The thread's frames are gone with it (exit) or its image (exec). */
static __always_inline void release_thread(__u32 stat)
{
	struct inflight_pending *p = thread_state(false);

	if (p)
		frames_release_all(&counters, p, stat);
}

/* raw tracepoints attach by name: no tracefs to mount or to be allowed into */
SEC("raw_tp/sched_process_exit")
int handle_thread_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	release_thread(INFLIGHT_STAT_RELEASED_EXIT);
	/*
	 * The process is gone when its last thread goes, not its leader: a main
	 * thread may pthread_exit while the others work on. do_exit has counted
	 * this thread out of signal->live before the tracepoint.
	 */
	if (go_goid_off || watch_by_tgid) {
		struct task_struct *task = bpf_get_current_task_btf();
		__u32 tgid = (__u32)(id >> 32);

		if (BPF_CORE_READ(task, signal, live.counter))
			return 0;
		if (go_goid_off)
			go_sweep_process(tgid, INFLIGHT_STAT_RELEASED_EXIT);
		if (watch_by_tgid)
			bpf_map_delete_elem(&watched, &tgid);
	}
	return 0;
}

/* exec keeps the task (under the leader's pid): its storage goes with it */
SEC("raw_tp/sched_process_exec")
int handle_exec(void *ctx)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);

	release_thread(INFLIGHT_STAT_RELEASED_EXEC);
	go_sweep_process(tgid, INFLIGHT_STAT_RELEASED_EXEC);
	/* another program now: matched again (or not) by the collector */
	if (watch_by_tgid)
		bpf_map_delete_elem(&watched, &tgid);
	if (notify_exec)
		bpf_ringbuf_output(&execs, &tgid, sizeof(tgid), 0);
	return 0;
}

/* raw_tp args: (struct task_struct *parent, struct task_struct *child) */
SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* a new thread is no new process */
	if (ptgid == ctgid || !bpf_map_lookup_elem(&watched, &ptgid))
		return 0;
	bpf_map_update_elem(&watched, &ctgid, &one, BPF_ANY);
	return 0;
}
