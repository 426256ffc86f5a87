/* SPDX-License-Identifier: MIT */
/*
 * Layouts shared by the BPF programs (bpf/inflight.bpf.c) and the collector
 * (user/). Everything here crosses the kernel/user boundary, so fields are
 * fixed-width and padding is explicit.
 */
#ifndef INFLIGHT_H
#define INFLIGHT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* A chain name as the BPF side captures it: NUL-padded, at most 63 bytes. */
#define INFLIGHT_CHAIN_LEN 64
/* Frames one thread may have pending at once (nesting/recursion depth). */
#define INFLIGHT_MAX_DEPTH 16
/* Dereference steps a fetch spec may take: +8(+0(+16(%di))) is three. */
#define INFLIGHT_MAX_DEREF 8

/* Chain id 0 is the overflow series (the chain cap was reached). */
#define INFLIGHT_OVERFLOW_ID 0
/* Chain id used when a constant chain name is configured. */
#define INFLIGHT_CONST_ID 1

/*
 * Special chain keys: a real chain name never starts with NUL followed by a
 * non-NUL byte, so these cannot collide with the empty name (all zeroes).
 */
#define INFLIGHT_KEY_UNREADABLE 1 /* the fetch spec faulted on user memory */

struct inflight_chain_key {
	char name[INFLIGHT_CHAIN_LEN];
	/*
	 * The caller's cgroup (v2 id) when series are split by container
	 * (--k8s-attributes), else 0: one series per chain and container.
	 */
	__u64 cgroup;
};

/* Where the fetch spec's first value comes from. */
enum inflight_fetch_base {
	INFLIGHT_BASE_CONST = 0, /* no fetch: constant chain name */
	INFLIGHT_BASE_REG = 1,   /* a pt_regs register */
	INFLIGHT_BASE_STACK = 2, /* the 8-byte word at sp + base_off */
	INFLIGHT_BASE_USDT = 3,  /* USDT argument number `reg` (0-based) */
};

/* Registers by the uprobe_events names (%ax, %di, ...), x86-64 pt_regs. */
enum inflight_reg {
	INFLIGHT_REG_AX, INFLIGHT_REG_BX, INFLIGHT_REG_CX, INFLIGHT_REG_DX,
	INFLIGHT_REG_SI, INFLIGHT_REG_DI, INFLIGHT_REG_BP, INFLIGHT_REG_SP,
	INFLIGHT_REG_R8, INFLIGHT_REG_R9, INFLIGHT_REG_R10, INFLIGHT_REG_R11,
	INFLIGHT_REG_R12, INFLIGHT_REG_R13, INFLIGHT_REG_R14, INFLIGHT_REG_R15,
	INFLIGHT_REG_IP, INFLIGHT_REG_FLAGS,
	INFLIGHT_REG__COUNT,
};

/* The type of the fetched value; it decides how the chain name is made. */
enum inflight_fetch_type {
	INFLIGHT_T_STRING = 0, /* NUL-terminated string at the address */
	INFLIGHT_T_U8, INFLIGHT_T_U16, INFLIGHT_T_U32, INFLIGHT_T_U64,
	INFLIGHT_T_S8, INFLIGHT_T_S16, INFLIGHT_T_S32, INFLIGHT_T_S64,
	INFLIGHT_T_X8, INFLIGHT_T_X16, INFLIGHT_T_X32, INFLIGHT_T_X64,
	/*
	 * A Go string, (pointer, length), not NUL-terminated: in a register and
	 * `len_reg` with no deref, in two stack words for $stackN, else the
	 * 16-byte string header at the address.
	 */
	INFLIGHT_T_GOSTRING,
};

/*
 * A parsed fetch spec, e.g. "+8(+0(%si)):string":
 *   v = regs[base reg]; for each deref but the last: v = *(u64 *)(v + off[i]);
 *   the last deref reads the final type at v + off[n-1].
 * With no deref, a numeric type truncates v and :string reads a string at v.
 */
struct inflight_fetch {
	__u8 base;   /* enum inflight_fetch_base */
	__u8 reg;    /* enum inflight_reg, or USDT argument index */
	__u8 type;   /* enum inflight_fetch_type */
	__u8 nderef; /* number of valid entries in off[] */
	__s32 base_off;
	__s64 off[INFLIGHT_MAX_DEREF];
	__u8 len_reg; /* :gostring in registers: where the length is */
	__u8 _pad[7];
};

/* One call in flight on a thread. */
struct inflight_frame {
	__u64 sp;   /* stack pointer at entry (points at the return address) */
	__u32 chain;
	__u32 _pad;
	/*
	 * CLOCK_MONOTONIC (bpf_ktime_get_ns) at entry: a call's age while it is
	 * pending, its duration when it returns.
	 */
	__u64 entry_ns;
};

/*
 * Go binaries: frames are kept per goroutine, not per thread (goroutines
 * move between threads). goid is unique in its process, so a g struct
 * reused by a new goroutine starts with no frames.
 */
struct inflight_go_key {
	__u32 tgid;
	__u32 _pad;
	__s64 goid;
};

/* The chain key as captured: NUL-padded name and cgroup, compared as words. */
#define INFLIGHT_KEY_WORDS (INFLIGHT_CHAIN_LEN / 8 + 1)

/* Chains a thread remembers: comparing 64 bytes beats hashing them. */
#define INFLIGHT_THREAD_CHAINS 4

struct inflight_recent_chain {
	__u64 key[INFLIGHT_KEY_WORDS];
	__u32 id;
	__u32 valid;
};

/*
 * One thread's state, in its task-local storage: the calls pending on it,
 * innermost last, and the chains it entered last.
 */
struct inflight_pending {
	__u32 depth;
	__u32 next_recent; /* the recent slot to overwrite next */
	struct inflight_frame frames[INFLIGHT_MAX_DEPTH];
	struct inflight_recent_chain recent[INFLIGHT_THREAD_CHAINS];
};

/*
 * What the pending-calls iterator (bpf/pending_iter.bpf.c) writes per
 * thread holding frames: who it is, its user registers as they were when it
 * last entered the kernel (where a blocked call sits), and its frames.
 */
struct inflight_pending_record {
	__u32 tgid;
	__u32 tid;
	__u32 depth;
	__u32 _pad;
	__u64 ip, sp, bp;
	struct inflight_frame frames[INFLIGHT_MAX_DEPTH];
};

/*
 * Exit-side counters per chain. Kept in a map separate from entries so the
 * collector can read every exit before any entry: an exit it sees always
 * has its entry seen too, so a snapshot never goes negative.
 */
struct inflight_exits {
	__u64 returned; /* seen by a return probe */
	__u64 released; /* repaired: thread exit, exec, stale frame, catch */
};

/*
 * Call durations per chain, from the return probe (a released call has no
 * end to time): an explicit-bucket histogram with the OpenTelemetry SDK's
 * default bounds, in ns. bucket[i] counts durations d with
 * bound[i-1] < d <= bound[i] (bucket 0: d <= 0, the last: d > 10 s).
 */
#define INFLIGHT_DURATION_BOUNDS 15
#define INFLIGHT_DURATION_BUCKETS (INFLIGHT_DURATION_BOUNDS + 1)
#define INFLIGHT_DURATION_BOUNDS_NS                                                  \
	{ 0ULL, 5000000ULL, 10000000ULL, 25000000ULL, 50000000ULL, 75000000ULL,      \
	  100000000ULL, 250000000ULL, 500000000ULL, 750000000ULL, 1000000000ULL,     \
	  2500000000ULL, 5000000000ULL, 7500000000ULL, 10000000000ULL }

struct inflight_duration {
	__u64 bucket[INFLIGHT_DURATION_BUCKETS];
	__u64 sum_ns;
};

/*
 * Per chain id, for ids handed out again (--k8s-attributes): when the
 * collector retires the id of a dead cgroup's series it records the id's
 * counts then (entered == returned + released: nothing in flight) and sets
 * `retired`; the entry probe that takes the id from the free queue clears
 * it. The id's counts from then on are the new series', less these.
 */
struct inflight_id_state {
	__u64 retired;
	__u64 entered;
	__u64 returned;
	__u64 released;
};

/* How an instruction-mode exit site decides whether it leaves the function. */
enum inflight_site_kind {
	INFLIGHT_SITE_RET = 0,     /* ret, or an unconditional jump out */
	INFLIGHT_SITE_JCC = 1,     /* conditional jump out: leaves if cc holds */
	INFLIGHT_SITE_JMP_REG = 2, /* jmp *%reg: leaves if the target is outside */
	INFLIGHT_SITE_JMP_MEM = 3, /* jmp *disp(base,index,scale): likewise */
};

/* x86 condition codes, in the encoding order of Jcc (0x70 + cc). */
enum inflight_cc {
	INFLIGHT_CC_O, INFLIGHT_CC_NO, INFLIGHT_CC_B, INFLIGHT_CC_AE,
	INFLIGHT_CC_E, INFLIGHT_CC_NE, INFLIGHT_CC_BE, INFLIGHT_CC_A,
	INFLIGHT_CC_S, INFLIGHT_CC_NS, INFLIGHT_CC_P, INFLIGHT_CC_NP,
	INFLIGHT_CC_L, INFLIGHT_CC_GE, INFLIGHT_CC_LE, INFLIGHT_CC_G,
};

#define INFLIGHT_NO_REG 0xff

/*
 * Per exit site that needs a run-time decision; the uprobe's attach cookie
 * is the index into the exit_sites map. Ranges are the function's own code
 * (hot and .cold parts), relative to the site's address.
 */
struct inflight_exit_site {
	__u8 kind;  /* enum inflight_site_kind */
	__u8 cc;    /* enum inflight_cc, for JCC */
	__u8 base;  /* enum inflight_reg or INFLIGHT_NO_REG */
	__u8 index; /* enum inflight_reg or INFLIGHT_NO_REG */
	__u8 scale; /* 1, 2, 4, 8 */
	__u8 _pad[3];
	__s64 disp; /* for JMP_MEM; rip-relative already resolved to site-relative */
	__s64 lo[2], hi[2];
};

/*
 * The layout of the pinned state: every pinned map's key and value types,
 * sizes and meaning (this header's structs, the counters' [cpu][chain]
 * arrangement, the .data variables read through `inflight_data`) and the
 * pin names. Bump it with any change to them: a collector adopts pinned
 * state of its own layout only (another release of the same layout keeps
 * every count), and says what it lost otherwise.
 */
#ifndef INFLIGHT_PIN_LAYOUT
#define INFLIGHT_PIN_LAYOUT 2 /* 2: inflight_frame.entry_ns */
#endif

/*
 * Pinned state's identity (map `meta`): a new collector reuses pinned maps
 * and probes when the layout and the target are the same. The fields up to
 * created_ns never move (a build before versioned pins wrote only those: it
 * reads as layout 0).
 */
struct inflight_meta {
	char identity[68]; /* hex SHA-256 of the resolved target */
	__u32 id_space;
	__u64 created_ns;  /* CLOCK_REALTIME when first attached */
	__u32 layout;      /* INFLIGHT_PIN_LAYOUT of the writer */
	char version[28];  /* the writer's release, for the operator */
};

/* Counters about the observer itself, shown to the operator. */
enum inflight_stat {
	INFLIGHT_STAT_OVERFLOW,        /* calls counted under the overflow chain */
	INFLIGHT_STAT_THREADS_FULL,    /* calls not counted: no per-thread storage */
	INFLIGHT_STAT_DEPTH_FULL,      /* calls not counted: deeper than MAX_DEPTH */
	INFLIGHT_STAT_FETCH_FAULT,     /* chain could not be read */
	INFLIGHT_STAT_UNMATCHED,       /* returns with no matching entry */
	INFLIGHT_STAT_RELEASED_STALE,  /* frames released by a later entry */
	INFLIGHT_STAT_RELEASED_EXIT,   /* frames released at thread exit */
	INFLIGHT_STAT_RELEASED_EXEC,   /* frames released at exec */
	INFLIGHT_STAT_RELEASED_CATCH,  /* frames released at a C++ catch */
	INFLIGHT_STAT_RELEASED_LONGJMP, /* frames released at a longjmp past them */
	INFLIGHT_STAT_RELEASED_GOEXIT, /* frames released: their goroutine ended */
	INFLIGHT_STAT_RELEASED_RECOVER, /* frames released: a Go panic was recovered above */
	INFLIGHT_STAT__COUNT,
};

#endif /* INFLIGHT_H */
