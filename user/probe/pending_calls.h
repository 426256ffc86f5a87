/* SPDX-License-Identifier: MIT */
/*
 * The native calls pending now, one by one: for each, who holds it (thread,
 * or Go goroutine), its chain id and entry time, and where the thread is.
 * Read from the BPF side's frames (the `pending` task storage through a task
 * iterator, bpf/pending_iter.bpf.c; Go's `go_pending` map directly). A
 * reader is made while the collector still has its privileges (it loads a
 * program); reading needs none.
 */
#ifndef INFLIGHT_PENDING_CALLS_H
#define INFLIGHT_PENDING_CALLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pending_call {
	pid_t pid, tid;    /* tid 0: a Go goroutine's call */
	int64_t goid;      /* Go: its goroutine, else -1 */
	uint32_t chain;    /* chain id, as struct chain_stat.id */
	uint32_t depth;    /* 0: the thread's outermost pending call */
	uint64_t entry_ns; /* CLOCK_MONOTONIC at entry */
	uint64_t sp;       /* sp at entry */
	/* the thread's user registers at its last kernel entry; 0: unknown (Go) */
	uint64_t ip, usp, bp;
};

struct probe;
struct pending_reader;

/*
 * Loads the iterator over `p`'s frames. 0, or a negative errno with `err`
 * saying what failed (the kernel lacks task iterators, no privilege).
 */
int pending_reader_new(struct pending_reader **out, const struct probe *p, char *err,
		       size_t errlen);
/*
 * The calls pending now, in `*calls` (malloc'd, the caller frees it; NULL
 * when none), ordered by pid, tid (goroutine) and depth. 0 or -errno.
 */
int pending_reader_read(struct pending_reader *r, struct pending_call **calls, size_t *n);
void pending_reader_free(struct pending_reader *r);
/*
 * Sorts `v` by pid, tid, goroutine and depth, keeping one of each: a walk
 * of Go's hash map starts over when the key it stands on is deleted (that
 * goroutine's call returned meanwhile), so it may meet calls twice. Returns
 * how many are kept, at the front.
 */
size_t pending_calls_sort_unique(struct pending_call *v, size_t n);

#endif
